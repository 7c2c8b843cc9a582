"""The commands on what is stored, as library calls: ``log``, ``events``, ``causes``,
``export``, ``report`` and ``delete-all``.

Each takes plain values (the database ``db``, None for the default one; times as a
person types them, read by :mod:`twitchwatch.causes.timeparse`), writes its text to
``out`` (default: stdout at the moment of the call), returns the command's exit status,
and raises :class:`~twitchwatch.TwitchwatchError` (one line) for what it refuses, having
written nothing. The commands that only read open the database read-only.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from twitchwatch import TwitchwatchError
from twitchwatch.causes.timeparse import option_time, since_unix_s
from twitchwatch.console import print_red_flags, printable, shown_path
from twitchwatch.localtime import shown_time, zone


def _store(db: str | None, read_only: bool = False) -> Any:
    """The store at ``db`` (or the default). ``read_only``: for commands that only read
    (events, report, export): opened read-only, so a database on a read-only medium can be
    read, and a missing one is an error instead of an empty file left behind."""
    from twitchwatch.store import Store, db_path

    return Store(db_path(db), read_only=read_only)


def _out(out: TextIO | None) -> TextIO:
    return sys.stdout if out is None else out


# ------------------------------------------------------------------------- log
@dataclasses.dataclass(frozen=True)
class LogRequest:
    """``twitchwatch log WHAT VALUE... [options]`` as given (text, unparsed): ``kind`` an
    exposure (caffeine, stress ...), ``lab``, ``symptom``, ``test`` or ``seen-doctor``;
    the rest as the options of ``twitchwatch log --help`` (None: not given)."""

    kind: str
    values: tuple[str, ...] = ()
    at: str | None = None
    until: str | None = None
    mg: str | None = None
    ml: str | None = None
    minutes: str | None = None
    intensity: str | None = None
    dose: str | None = None
    unit: str | None = None
    drug_class: str | None = None
    change: str | None = None
    organophosphate: str | None = None
    ref_range: str | None = None
    site: str | None = None
    severity: str | None = None
    note: str | None = None


LOG_OPTIONS = {  # LogRequest field -> the flag, and which entries take it ("exposure", "lab", "symptom")
    "until": ("--until", "exposure"), "mg": ("--mg", "exposure"), "ml": ("--ml", "exposure"),
    "minutes": ("--minutes", "exposure"), "intensity": ("--intensity", "exposure"),
    "dose": ("--dose", "exposure"), "unit": ("--unit", "exposure"), "drug_class": ("--class", "exposure"),
    "change": ("--change", "exposure"), "organophosphate": ("--organophosphate", "exposure"),
    "ref_range": ("--range", "lab"), "site": ("--site", "symptom"), "severity": ("--severity", "symptom"),
}
#: exposure kinds whose first value is a detail, not an amount (the rest take the amount)
_NAMED_VALUE = {"supplement": "name", "medication": "name", "pesticide": "product", "injury": "type"}


def parse_log(req: LogRequest, now: float) -> tuple[str, dict]:
    """The command line's syntax mapped to :func:`~twitchwatch.causes.entries.parse_entry`'s
    fields: (store table, validated entry dict); raises TwitchwatchError (EntryError)
    naming what is accepted. Writes nothing."""
    from twitchwatch.causes.entries import parse_entry, person_text

    what = req.kind.strip().lower()
    category = what if what in ("lab", "symptom", "test") else "exposure"
    # every text given: the page's limit and check (no terminal escape codes stored or echoed)
    note = person_text(f"log {what}: --note", req.note)
    for i, given in enumerate(req.values):
        person_text(f"log {what}: value {i + 1}", given)
    for dest, (flag, applies) in LOG_OPTIONS.items():
        if dest == "site" and what == "injury":
            continue  # an injury has a site too
        if getattr(req, dest) is not None and applies != category:
            raise TwitchwatchError(f"log {what}: {flag} does not apply here; it is for "
                                   f"{'an exposure' if applies == 'exposure' else applies} entries")
    values = list(req.values)

    def take(n: int, names: str) -> list[str]:
        if len(values) != n:
            raise TwitchwatchError(f"log {what}: expected {names}, got {len(values)} value(s): {' '.join(values) or '-'}")
        return values

    if category == "lab":
        analyte, value, unit = take(3, "ANALYTE VALUE UNIT, e.g. log lab magnesium 0.62 mmol/L")
        low = high = None
        if req.ref_range is not None:
            parts = req.ref_range.replace(" ", "").split("-")
            if len(parts) != 2 or not all(parts):
                raise TwitchwatchError(f"log lab: --range {req.ref_range!r} is not LOW-HIGH, e.g. --range 0.70-1.00")
            low, high = parts
        return parse_entry("lab", analyte, {"value": value, "unit": unit, "at": req.at, "ref_low": low,
                                            "ref_high": high, "note": note}, now_unix_s=now)
    if category == "symptom":
        (kind,) = take(1, 'the symptom, e.g. log symptom weakness --site "left hand"')
        return parse_entry("symptom", kind, {"site": req.site, "severity": req.severity, "at": req.at,
                                             "note": note}, now_unix_s=now)
    if category == "test":
        from twitchwatch.store import CLINICAL_TEST_KINDS

        kind, result = take(2, 'KIND RESULT, e.g. log test emg "normal"')
        kind = kind.strip().lower()
        if kind not in CLINICAL_TEST_KINDS:
            raise TwitchwatchError(f"log test: unknown test {kind!r}; accepted: {', '.join(CLINICAL_TEST_KINDS)}")
        if not result.strip():
            raise TwitchwatchError('log test: the result is empty; write what it showed, e.g. "normal"')
        at = option_time("--at", req.at, now) if req.at is not None else now
        return "test", {"kind": kind, "result": result.strip(), "taken_unix_s": at, "note": note}

    # an exposure: the amount comes from one of --mg/--ml/--minutes/--dose or a positional value;
    # kinds with a name (supplement, medication) take the name as their positional value
    detail: dict[str, str] = {}
    named = _NAMED_VALUE.get(what.replace("-", "_"))
    if named and values:
        detail[named] = values.pop(0)
    if what == "injury" and req.site is not None:
        detail["site"] = req.site
    amounts = [(v, u) for v, u in ((req.mg, "mg"), (req.ml, "ml"), (req.minutes, "min"), (req.dose, req.unit))
               if v is not None]
    if req.unit is not None and req.dose is None:
        raise TwitchwatchError(f"log {what}: --unit goes with --dose, e.g. --dose 300 --unit mg")
    if len(values) > 1 or (values and amounts) or len(amounts) > 1:
        raise TwitchwatchError(f"log {what}: give the amount once, e.g. log caffeine --mg 200, log stress 7")
    amount: str | None = None
    amount_unit: str | None = None
    if amounts:
        amount, amount_unit = amounts[0]
    elif values:
        amount = values[0]
    for key, extra in (("intensity", req.intensity), ("class", req.drug_class), ("change", req.change),
                       ("organophosphate", req.organophosphate)):
        if extra is not None:
            detail[key] = extra
    return parse_entry("exposure", what, {"value": amount, "unit": amount_unit, "at": req.at, "until": req.until,
                                          "detail": detail or None, "note": note}, now_unix_s=now)


def log(db: str | None, req: LogRequest, out: TextIO | None = None) -> int:
    """``twitchwatch log``: validate the entry, store it, say what was logged."""
    from twitchwatch.causes.entries import describe_entry

    if req.kind.strip().lower() in ("seen-doctor", "seen_doctor"):
        return _log_seen_doctor(db, req, time.time(), _out(out))
    table, entry = parse_log(req, time.time())
    with _store(db) as store:
        add = {"exposure": store.add_context, "lab": store.add_lab, "symptom": store.add_symptom,
               "test": store.add_clinical_test}[table]
        entry_id = add(entry)
    print(printable(f"logged {describe_entry(table, entry)} (#{entry_id})"), file=_out(out))
    return 0


def _log_seen_doctor(db: str | None, req: LogRequest, now: float, out: TextIO) -> int:
    """``log seen-doctor FLAG|all``: a doctor saw this red flag; it stays away until
    something new raises it."""
    from twitchwatch.annotations import mark_seen_by_doctor

    for dest, (flag, _) in LOG_OPTIONS.items():
        if getattr(req, dest) is not None:
            raise TwitchwatchError(f"log seen-doctor: {flag} does not apply here; give the red flag, --at and --note")
    if len(req.values) != 1:
        raise TwitchwatchError("log seen-doctor: say which red flag, e.g. log seen-doctor weakness (or: all)")
    at = option_time("--at", req.at, now) if req.at is not None else now
    with _store(db) as store:
        try:
            ids = mark_seen_by_doctor(store, req.values[0], seen_unix_s=at, note=req.note)
        except ValueError as exc:
            raise TwitchwatchError(f"log seen-doctor: {exc}") from None
    if not ids:
        print("no red flag is standing: nothing to mark", file=out)
    else:
        print(f"marked seen by a doctor at {shown_time(at)}: {', '.join(ids)}; a flag comes back if something "
              "new raises it", file=out)
    return 0


# ---------------------------------------------------------------------- events
def events(db: str | None, since: str, as_json: bool = False, out: TextIO | None = None,
           err: TextIO | None = None) -> int:
    """``twitchwatch events``: the twitches since ``since`` as a table (or a JSON list),
    the standing red flags first (on ``err`` with JSON: the JSON stays a list of events)."""
    from twitchwatch.annotations import standing_red_flags

    out = _out(out)
    start = since_unix_s(since, time.time())
    with _store(db, read_only=True) as store:
        rows = store.events_between(since_unix_s=start)
        flags = standing_red_flags(store)
    if as_json:
        json.dump(rows, out, indent=1)
        out.write("\n")
        print_red_flags(flags, sys.stderr if err is None else err)  # the flags are never hidden
        return 0
    print_red_flags(flags, out)
    if flags:
        print("", file=out)
    if not rows:
        print(f"no twitches logged since {shown_time(start)}", file=out)
        return 0
    table = [("time", "site", "channel", "amplitude", "unit", "candidate cause")]
    for r in rows:
        table.append((shown_time(r["wall_time_s"]), r["body_site"] or "-", r["channel_label"],
                      f"{r['amplitude_uv']:.0f} uV", "-" if r["unit_id"] is None else str(r["unit_id"]),
                      r["top_cause"] or "-"))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print(printable("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()), file=out)
    print(f"{len(rows)} twitches since {shown_time(start)}", file=out)
    return 0


# ---------------------------------------------------------------------- causes
def causes(db: str | None, since: str, *, confirm: str | None = None, reject: str | None = None,
           as_json: bool = False, out: TextIO | None = None) -> int:
    """``twitchwatch causes``: annotate the span's twitches and sessions, record a verdict
    (``confirm`` or ``reject`` a cause id), print the red flags and the ranked candidates."""
    from twitchwatch.annotations import annotate_stored, set_verdict
    from twitchwatch.causes.annotate import NO_CANDIDATE
    from twitchwatch.verdicts import CONFIRMED, REJECTED

    out = _out(out)
    now = time.time()
    start = since_unix_s(since, now)
    with _store(db) as store:
        run = annotate_stored(store, since_unix_s=start, now_unix_s=now)
        cause_id = confirm or reject
        if cause_id:
            try:
                n = set_verdict(store, cause_id, CONFIRMED if confirm else REJECTED, since_unix_s=start)
            except ValueError as exc:
                known = ", ".join(a.cause_id for a in run.annotations) or "none yet"
                raise TwitchwatchError(f"{exc}; candidates in this span: {known}") from exc
            print(f"{cause_id}: marked {CONFIRMED if confirm else REJECTED} on {n} session(s)", file=out)
            run = annotate_stored(store, since_unix_s=start, now_unix_s=now)
    if as_json:
        json.dump({"red_flags": [dataclasses.asdict(f) for f in run.red_flags],
                   "causes": [dataclasses.asdict(a) for a in run.annotations]}, out, indent=1)
        out.write("\n")
        return 0
    print(f"{run.events_annotated} twitches in {run.sessions_annotated} session(s) since {shown_time(start)}. "
          "Not a diagnosis.", file=out)
    print_red_flags(run.red_flags, out)
    # Neurological causes are never candidates: they are only named under a red flag (above).
    ranked = run.annotations
    if not ranked:
        print(f"\n{NO_CANDIDATE}", file=out)
    for rank, a in enumerate(ranked, 1):
        line = a.summary or f"{a.cause_name} may fit"
        print(printable(f"\n{rank}. {a.cause_id} (score {a.score:.2f}): {line}"), file=out)
        for reason in a.reasons_for:
            print(printable(f"  + {reason}"), file=out)
        for reason in a.reasons_against:
            print(printable(f"  - {reason}"), file=out)
        for note in a.notes:
            print(f"  . {note}", file=out)
        if a.tests:
            print("  a doctor may check it with: " + "; ".join(a.tests), file=out)
        if a.advice:
            print(f"  {a.advice}", file=out)
    return 0


# ---------------------------------------------------------------------- export
def export(db: str | None, *, json_path: str | None = None, csv_dir: str | None = None,
           edf_path: str | None = None, since: str | None = None, tz: str | None = None,
           out: TextIO | None = None) -> int:
    """``twitchwatch export``: everything as JSON and/or CSV, the twitches as EDF+ (from
    ``since``, with its start time in zone ``tz``)."""
    from twitchwatch.session import refuse_overwriting
    from twitchwatch.store import db_path

    out = _out(out)
    if not (json_path or csv_dir or edf_path):
        raise TwitchwatchError("export: say where: --json FILE, --csv DIR and/or --edf FILE")
    refuse_overwriting({"--json": json_path, "--csv": csv_dir, "--edf": edf_path}, {"the database": db_path(db)})
    if not db_path(db).exists():
        raise TwitchwatchError(f"export: no database at {shown_path(db_path(db))} (nothing has been recorded or "
                               "logged with it); nothing was written")
    with _store(db, read_only=True) as store:
        start = since_unix_s(since, time.time()) if since and edf_path else None
        if edf_path and not store.events_between(start):
            # checked first: a refusal writes nothing rather than half of what was asked
            raise TwitchwatchError("export --edf: no twitches with a time " + ("in the chosen span" if start else
                                   "in the database") + "; nothing was written (--json and --csv work without)")
        if json_path:
            counts = store.export_all(json_path)
            print(f"wrote {json_path}: " + ", ".join(f"{n} {t}" for t, n in counts.items()), file=out)
        if csv_dir:
            paths = store.export_csv(csv_dir)
            print(f"wrote {len(paths)} CSV files to {csv_dir}: " + ", ".join(p.name for p in paths.values()),
                  file=out)
        if edf_path:
            info = store.export_edf(edf_path, since_unix_s=start, tz=zone(tz))
            print(f"wrote {edf_path}: {info['events']} twitch annotations, "
                  f"{len(info['channels'])} twitch-rate channel(s), {info['duration_s'] / 3600:.1f} h "
                  f"from {shown_time(info['start_unix_s'])}, written into the header as "
                  f"{shown_time(info['start_unix_s'], tz=zone(tz))} (an EDF header holds local time "
                  "without its zone)", file=out)
    return 0


# ---------------------------------------------------------------------- report
def report(db: str | None, since: str, out_path: str, out: TextIO | None = None) -> int:
    """``twitchwatch report``: one self-contained HTML file for ``since`` to now."""
    from twitchwatch.session import refuse_overwriting
    from twitchwatch.store import db_path

    now = time.time()
    start = since_unix_s(since, now)
    try:
        from twitchwatch.report import build_report
    except ImportError as exc:
        if exc.name is None or exc.name.startswith("twitchwatch.report") or "build_report" in str(exc):
            raise TwitchwatchError("report: not available in this build") from None
        raise TwitchwatchError(f"report: needs the Python package {exc.name!r}, which is not installed") from None
    refuse_overwriting({"--out": out_path}, {"the database": db_path(db)})
    if db_path(db).exists():
        with _store(db, read_only=True) as store:
            written = build_report(store, start, out_path, now_unix_s=now)
    else:  # nothing recorded yet: an empty report, and no database file made only to read it
        from twitchwatch.store import Store

        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "empty.sqlite3") as store:
            written = build_report(store, start, out_path, now_unix_s=now)
    print(f"wrote {written}", file=_out(out))
    return 0


# ------------------------------------------------------------------ delete-all
def delete_all(db: str | None, *, ask: Callable[[str], str] | None = None, out: TextIO | None = None) -> int:
    """``twitchwatch delete-all``: everything in the database, then compact the file.
    ``ask(prompt)`` gets the person's answer ("yes" deletes); None: no question asked."""
    from twitchwatch.store import db_path

    out = _out(out)
    path = db_path(db)
    if not path.exists():
        print(f"nothing to delete: there is no database at {path}", file=out)
        return 0
    if ask is not None:
        prompt = (f"Delete EVERYTHING in {path} (recordings, twitches, everything you logged)? "
                  "This cannot be undone. Type 'yes' to delete: ")
        try:
            answer = ask(prompt)
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            print("cancelled: nothing was deleted", file=out)
            return 1
    with _store(str(path)) as store:
        counts = store.delete_all()
    deleted = ", ".join(f"{n} {t}" for t, n in counts.items() if n) or "nothing (it was empty)"
    print(f"deleted from {path}: {deleted}; the file was compacted so no deleted data remains in it", file=out)
    return 0
