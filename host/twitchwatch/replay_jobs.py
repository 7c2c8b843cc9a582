"""`twitchwatch replay FILE...` over several files, on several cores (``--jobs N``).

One file, or ``--jobs 1``: the files are replayed one after the other, each exactly as
``twitchwatch replay FILE`` replays it (into the database and events file named).

Several files and ``--jobs N`` > 1 (default: every core): **workers detect, the parent
stores.** Each file is replayed in a worker process (forked where the system can, after
the parent loaded the detector's compiled kernels, so no worker loads them again; a fresh
interpreter elsewhere) through the same replay code, into a
private SQLite file and a private events file in a temporary folder. The parent merges
each worker's results into the database and events file named, **in the order the files
were given** (file 2 waits for file 1 even if it finished first), one file per
transaction: its sessions get new ids in the database (the next free ones, as when
replayed alone), their events and artefacts follow with the new session ids, and the
events file's lines get the new ``session_id``. Only the parent ever writes the
database, so several processes never contend for one SQLite file. The result is the
same as one file at a time: the same sessions, events, artefacts and events-file lines,
apart from session ids when files are given in another order
(``tests/test_replay_jobs.py`` compares both with 3 files).

Files this database already holds (recognised by content), and a file given twice, are
refused before any worker starts (unless ``--again``), as one at a time would refuse
them. A file that fails (unreadable, damaged) gets its one-line error; the others are
still stored; the exit status is then 2. Each worker's report (the summary lines) is
printed in file order as the file is stored; the red-flag check runs once, on the whole
database, at the end.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import sys
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from twitchwatch import TwitchwatchError
from twitchwatch.session import RunOptions, Runner

if TYPE_CHECKING:
    from twitchwatch.runs import ReplayOptions

#: replays one file: ``replay_one(runner, options, file)`` (:func:`twitchwatch.runs.replay_file`)
ReplayOne = Callable[[Runner, "ReplayOptions", str], int]

#: tables a replay writes, merged in this order (a session before what refers to it)
MERGED_TABLES = ("sessions", "events", "artefacts")


def default_jobs() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def replay_files(runner: Runner, options: ReplayOptions, replay_one: ReplayOne,
                 report: Callable[[Path], None], notice: Callable[[str | None], None]) -> int:
    """Replay ``options.files``. ``replay_one(runner, options, file)`` replays one file into
    the runner's database and events file (:func:`twitchwatch.runs.replay_file`);
    ``report(db_path)`` prints what is printed after the runs (the red-flag check);
    ``notice(events_out)`` says whether the events file is started or appended to.
    Returns the exit status."""
    files = list(options.files)
    jobs = default_jobs() if options.jobs is None else options.jobs
    if jobs < 1:
        raise TwitchwatchError(f"--jobs: {jobs} is not a number of processes (1 or more)")
    if len(files) > 1 and options.realtime:
        raise TwitchwatchError("--realtime replays one capture at its recorded pace; give one file")
    if len(files) == 1 or jobs == 1:
        return _one_at_a_time(runner, options, files, replay_one)
    return _in_parallel(runner, options, files, min(jobs, len(files)), replay_one, report, notice)


def _one_at_a_time(runner: Runner, options: ReplayOptions, files: list[str], replay_one: ReplayOne) -> int:
    if len(files) == 1:
        return replay_one(runner, options, files[0])
    failed = 0
    for f in files:
        try:
            replay_one(runner, options, f)
        except (TwitchwatchError, OSError) as exc:
            failed += 1
            print(f"twitchwatch: error: {f}: {exc}", file=sys.stderr)
    return 2 if failed else 0


def _worker(replay_one: ReplayOne, run_options: RunOptions, options: ReplayOptions, file: str,
            folder: str) -> tuple[str | None, str, str]:
    """In a worker process: replay ``file`` into ``folder`` (its own database and events
    file). Returns (error or None, its stdout, its stderr)."""
    run_options = dataclasses.replace(
        run_options, db=str(Path(folder) / "replay.sqlite3"),
        events_out=str(Path(folder) / "events.jsonl") if run_options.events_out else None,
        red_flags=False,  # checked once, on the whole database, by the parent
        quiet=True)
    options = dataclasses.replace(options, files=(file,), again=True)  # the parent checked the real database already
    out, err = StringIO(), StringIO()
    error = None
    with redirect_stdout(out), redirect_stderr(err):
        runner = Runner(run_options)
        try:
            replay_one(runner, options, file)
        except (TwitchwatchError, OSError) as exc:
            error = str(exc)
        finally:
            runner.close()
    return error, out.getvalue(), err.getvalue()


def _in_parallel(runner: Runner, options: ReplayOptions, files: list[str], jobs: int, replay_one: ReplayOne,
                 report: Callable[[Path], None], notice: Callable[[str | None], None]) -> int:
    from twitchwatch.store import Store
    from twitchwatch.store import db_path as named_db
    from twitchwatch.store.sources import already_stored_message, file_sha256

    db_path = named_db(runner.options.db)
    refused: dict[int, str] = {}
    seen: dict[str, str] = {}
    held: dict[str, list] = {}
    if not options.again and db_path.exists():
        with Store(db_path) as store:
            digests = {}
            for i, f in enumerate(files):
                try:
                    digests[i] = file_sha256(Path(f))
                except OSError:
                    continue  # the worker says what is wrong with it
                held[digests[i]] = store.sessions_from_source(digests[i])
    else:
        digests = {}
        for i, f in enumerate(files):
            try:
                digests[i] = file_sha256(Path(f))
            except OSError:
                continue
    for i, d in digests.items():
        if options.again:
            break
        if held.get(d):
            refused[i] = already_stored_message(Path(files[i]).name, held[d])
        elif d in seen:
            refused[i] = f"{Path(files[i]).name}: the same content as {seen[d]}, given before it (--again stores it twice)"
        else:
            seen[d] = Path(files[i]).name
    notice(runner.options.events_out)
    failed = 0
    # fork (Linux, macOS' default is spawn for a reason we do not have: no threads run here
    # yet) shares the kernels loaded once here; spawn elsewhere
    import multiprocessing

    from twitchwatch.detect.warmup import warm_up

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and sys.platform.startswith("linux") else "spawn"
    if method == "fork":
        warm_up()
    ctx = get_context(method)
    with tempfile.TemporaryDirectory(prefix="twitchwatch-replay-") as tmp, \
            ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures: dict[int, Future] = {}
        for i, f in enumerate(files):
            if i in refused:
                continue
            folder = Path(tmp) / str(i)
            folder.mkdir()
            futures[i] = pool.submit(_worker, replay_one, runner.options, options, f, str(folder))
        for i, f in enumerate(files):
            if i in refused:
                failed += 1
                print(f"twitchwatch: error: {refused[i]}", file=sys.stderr)
                continue
            error, out, err = futures[i].result()
            folder = Path(tmp) / str(i)
            shown = out.replace(str(folder / "replay.sqlite3"), str(db_path))
            sys.stderr.write("".join(line for line in err.splitlines(keepends=True)
                                     if not line.startswith("events: ")))  # the parent's notice says it
            if error is not None:
                failed += 1
                print(f"twitchwatch: error: {f}: {error}", file=sys.stderr)
                continue
            mapping = merge_database(folder / "replay.sqlite3", db_path)
            if runner.options.events_out:
                merge_events(folder / "events.jsonl", Path(runner.options.events_out), mapping)
            sys.stdout.write(shown)
            sys.stdout.flush()
    report(db_path)
    return 2 if failed else 0


def merge_database(source: Path, target: Path) -> dict[int, int]:
    """Copy the sessions of the database ``source`` (with their events and artefacts) into
    ``target`` (created with the current schema if missing), in one transaction; returns
    {source session id: target session id}. Both must have the same schema version."""
    from twitchwatch.store import Store

    with Store(target):  # creates or migrates the target; closed before the raw connection writes
        pass
    if not source.exists():
        return {}
    conn = sqlite3.connect(target, timeout=30.0)
    try:
        conn.execute("ATTACH DATABASE ? AS src", (str(source),))
        versions = [conn.execute(f"SELECT max(version) FROM {db}._migrations").fetchone()[0] for db in ("main", "src")]
        if versions[0] != versions[1]:
            raise TwitchwatchError(f"cannot merge a replay made with schema {versions[1]} into schema {versions[0]}")
        others = [r[0] for r in conn.execute(
            "SELECT name FROM src.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != '_migrations'")]
        for table in others:
            if table not in MERGED_TABLES and conn.execute(f"SELECT count(*) FROM src.{table}").fetchone()[0]:
                raise TwitchwatchError(f"a replay wrote to table {table}, which replay --jobs does not merge")
        mapping: dict[int, int] = {}
        with conn:
            cols = [r[1] for r in conn.execute("PRAGMA main.table_info(sessions)") if r[1] != "id"]
            names = ", ".join(cols)
            for (old,) in conn.execute("SELECT id FROM src.sessions ORDER BY id").fetchall():
                cur = conn.execute(f"INSERT INTO main.sessions ({names}) SELECT {names} FROM src.sessions WHERE id = ?",
                                   (old,))
                assert cur.lastrowid is not None  # an INSERT of one row
                mapping[old] = cur.lastrowid
            for table in MERGED_TABLES[1:]:
                cols = [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})") if r[1] != "id"]
                names = ", ".join(cols)
                picked = ", ".join("? " if c == "session_id" else c for c in cols)
                for old, new in mapping.items():
                    conn.execute(f"INSERT INTO main.{table} ({names}) SELECT {picked.replace('? ', str(new))} "
                                 f"FROM src.{table} WHERE session_id = ? ORDER BY id", (old,))
        return mapping
    finally:
        conn.close()


def merge_events(source: Path, target: Path, mapping: dict[int, int]) -> None:
    """Append the events file ``source`` to ``target``, each line's ``session_id`` mapped
    (``mapping``); the rest of each line as written (JSON round trip: same text)."""
    if not source.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(encoding="utf-8") as src, target.open("a", encoding="utf-8") as dst:
        for line in src:
            if not line.strip():
                continue
            obj = json.loads(line)
            sid = obj.get("session_id")
            if sid is not None:
                obj["session_id"] = mapping.get(int(sid), sid)
            dst.write(json.dumps(obj) + "\n")
