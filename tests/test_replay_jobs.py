"""`twitchwatch replay FILE...` with ``--jobs`` (issue #19, item 6): several files on
several cores give the same database and events file as one at a time
(host/twitchwatch/replay_jobs.py). The CLI runs as a user runs it (a subprocess): the
workers are real processes, the database a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tw_command import run_twitchwatch

from twitchwatch.formats import write_edf
from twitchwatch.sim import simulate



def tw(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_twitchwatch(*args, cwd=cwd, timeout_s=300)


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """Three small recordings with twitches, different scenarios and start times."""
    tmp = tmp_path_factory.mktemp("jobs")
    names = []
    for i, scenario in enumerate(("benign_clean", "als_like", "mixed")):
        rec = simulate(scenario, 12.0, seed=40 + i)
        path = tmp / f"r{i}.edf"
        write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), acc_mg=rec.acc_mg,
                  acc_rate_hz=rec.acc_rate_hz, start_unix_s=1_760_000_000 + 1000 * i)
        names.append(path.name)
    return tmp, names


def _rows(db: Path) -> dict[str, list]:
    """Every row of the tables a replay writes, session ids replaced by the session's
    source name and row ids left out (the merge may number them differently)."""
    con = sqlite3.connect(db)
    try:
        sessions = {sid: src for sid, src in con.execute("SELECT id, source FROM sessions")}
        out: dict[str, list] = {}
        for table in ("sessions", "events", "artefacts"):
            cur = con.execute(f"SELECT * FROM {table}")
            cols = [d[0] for d in cur.description]
            rows = []
            for r in cur:
                d = dict(zip(cols, r))
                d.pop("id")
                if "session_id" in d:
                    d["session_id"] = sessions[d["session_id"]]
                rows.append(tuple(sorted(d.items())))
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _lines(path: Path, sessions: dict[int, str]) -> list[dict]:
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for x in lines:
        x["session_id"] = sessions[x["session_id"]]
    return lines


def _sessions(db: Path) -> dict[int, str]:
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT id, source FROM sessions"))
    finally:
        con.close()


def test_three_files_on_three_cores_store_what_one_at_a_time_stores(three):
    tmp, names = three
    one = tw("replay", *names, "--db", "one.sqlite3", "--events-out", "one.jsonl", "--jobs", "1", "-q", cwd=tmp)
    assert one.returncode == 0, one.stderr
    # given in another order: the same contents, other session ids
    par = tw("replay", *reversed(names), "--db", "par.sqlite3", "--events-out", "par.jsonl", "--jobs", "3", "-q",
             cwd=tmp)
    assert par.returncode == 0, par.stderr
    a, b = _rows(tmp / "one.sqlite3"), _rows(tmp / "par.sqlite3")
    assert len(a["sessions"]) == 3 and len(a["events"]) >= 20
    assert a == b
    la = _lines(tmp / "one.jsonl", _sessions(tmp / "one.sqlite3"))
    lb = _lines(tmp / "par.jsonl", _sessions(tmp / "par.sqlite3"))
    key = lambda x: (x["session_id"], x["sample_index"], x["channel"])  # noqa: E731
    assert sorted(la, key=key) == sorted(lb, key=key)
    # stored in the order given: the parallel run's sessions come in reversed file order
    assert [s for _, s in sorted(_sessions(tmp / "par.sqlite3").items())] == [f"file:{n}" for n in reversed(names)]
    # each file's report, in file order, naming the real database
    assert par.stdout.count("logged to par.sqlite3") == 3


def test_the_same_order_gives_the_same_session_ids_and_lines(three):
    tmp, names = three
    for jobs in ("1", "2"):
        out = tw("replay", *names, "--db", f"s{jobs}.sqlite3", "--events-out", f"s{jobs}.jsonl", "--jobs", jobs, "-q",
                 cwd=tmp)
        assert out.returncode == 0, out.stderr
    assert (tmp / "s1.jsonl").read_text() == (tmp / "s2.jsonl").read_text()
    con1, con2 = sqlite3.connect(tmp / "s1.sqlite3"), sqlite3.connect(tmp / "s2.sqlite3")
    try:
        for table in ("sessions", "events", "artefacts"):
            assert con1.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() == \
                con2.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        con1.close()
        con2.close()


def test_files_already_stored_or_given_twice_or_unreadable_are_refused_and_the_rest_stored(three):
    tmp, names = three
    assert tw("replay", names[0], "--db", "d.sqlite3", "-q", cwd=tmp).returncode == 0
    (tmp / "bad.edf").write_bytes(b"0       this is not an EDF file")
    out = tw("replay", names[0], names[1], names[1], "bad.edf", names[2], "--db", "d.sqlite3", "--jobs", "2", "-q",
             cwd=tmp)
    assert out.returncode == 2
    errors = [x for x in out.stderr.splitlines() if x.startswith("twitchwatch: error:")]
    assert len(errors) == 3, out.stderr  # r0 held already, r1 the second time, bad.edf
    assert any("bad.edf" in e for e in errors)
    assert sorted(_sessions(tmp / "d.sqlite3").values()) == sorted(f"file:{n}" for n in names)


def test_realtime_takes_one_file_and_jobs_must_be_positive(three):
    tmp, names = three
    out = tw("replay", *names[:2], "--realtime", "--db", "x.sqlite3", cwd=tmp)
    assert out.returncode == 2 and "give one file" in out.stderr
    out = tw("replay", *names[:2], "--jobs", "0", "--db", "x.sqlite3", cwd=tmp)
    assert out.returncode == 2 and "--jobs" in out.stderr
    assert not (tmp / "x.sqlite3").exists()
