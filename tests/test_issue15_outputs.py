"""Issue #15: what a person is told must be right. Each test names the item it covers
and fails on the code before the fix. The commands run in-process against a real
SQLite file, at a fixed clock (``time.time`` patched; local time UTC)."""

from __future__ import annotations

import datetime
import json
import sqlite3
import time

import pytest

from twitchwatch.cli import main
from twitchwatch.causes import load_taxonomy
from twitchwatch.detect import TwitchEvent
from twitchwatch.store import Store, migrations

NOW = datetime.datetime(2026, 12, 7, 8, 43, tzinfo=datetime.timezone.utc).timestamp()
DAY = 86400.0
NEURO = {c["id"] for c in load_taxonomy()["causes"] if c["group"] == "neurological"}
NEURO_NAMES = [c["name"] for c in load_taxonomy()["causes"] if c["group"] == "neurological"]


@pytest.fixture
def clock(monkeypatch):
    """time.time() is NOW (08:43 UTC, a Monday), local time UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    now = [NOW]
    monkeypatch.setattr(time, "time", lambda: now[0])
    yield now
    monkeypatch.undo()
    time.tzset()


def _twitch(i: int, wall_s: float) -> TwitchEvent:
    return TwitchEvent(sample_index=2000 * i, t_s=float(i), channel=0, channel_label="EMG 1", amplitude_uv=150.0,
                       duration_ms=9.0, confidence=0.9, detector="test", wall_time_s=wall_s, n_phases=3,
                       polarity=1, acc_response_mg=None, unit_id=1)


@pytest.fixture
def db(tmp_path, clock):
    """A 30-minute recording two hours ago with 12 twitches."""
    path = tmp_path / "t.sqlite3"
    start = NOW - 2.5 * 3600
    with Store(path) as store:
        sid = store.start_session(device_id="d", firmware_version="0.1.0", boot_id=1, source="test",
                                  body_site="left calf", started_at=start)
        store.add_events(sid, [_twitch(i, start + 60 + 140 * i) for i in range(12)])
        store.end_session(sid, ended_at=start + 30 * 60)
    return path


def tw(capsys, db, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([*args, "--db", str(db)])
    out = capsys.readouterr()
    return rc, out.out, out.err


# ------------------------------------------------------------------ item 1
def test_item1_weakness_never_makes_a_neurological_cause_a_candidate(db, capsys):
    assert tw(capsys, db, "log", "symptom", "weakness", "--site", "left calf")[0] == 0
    rc, out, _ = tw(capsys, db, "causes")
    assert rc == 0 and "RED FLAG" in out
    rc, out, _ = tw(capsys, db, "events")
    assert rc == 0
    rows = [line for line in out.splitlines() if line.startswith("2026-")]
    assert len(rows) == 12
    assert not [r for r in rows if any(n in r for n in NEURO)], rows
    rc, out, _ = tw(capsys, db, "events", "--json")
    assert {e["top_cause"] for e in json.loads(out)} <= {None}
    with Store(db) as store:
        assert not [a for a in store.annotations() if a["cause_id"] in NEURO]
    # never confirmable, and never offered as a choice
    rc, _, err = tw(capsys, db, "causes", "--confirm", "als_mnd")
    assert rc == 2 and "never a candidate" in err
    rc, _, err = tw(capsys, db, "causes", "--confirm", "dehydration")
    assert rc == 2 and not any(n in err for n in NEURO)
    # the same sentence when nothing fits, in `causes` and in the report
    from twitchwatch.causes.annotate import NO_CANDIDATE

    rc, out, _ = tw(capsys, db, "causes")
    assert NO_CANDIDATE in out
    report = db.parent / "r.html"
    assert tw(capsys, db, "report", "--out", str(report))[0] == 0
    assert NO_CANDIDATE in report.read_text().replace("&#x27;", "'")


def test_item1_a_database_holding_neurological_candidates_loses_them_on_upgrade(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrations._ensure_table(conn)
    for m in migrations.MIGRATIONS[:5]:
        conn.execute("BEGIN")
        m.fn(conn)
        conn.execute("INSERT INTO _migrations VALUES (?, ?, 0)", (m.version, m.name))
        conn.execute(f"PRAGMA user_version = {m.version}")
        conn.execute("COMMIT")
    conn.execute("INSERT INTO annotations (target, target_id, cause_id, score, reasons_for_json, "
                 "reasons_against_json, created_at, updated_at) VALUES "
                 "('event', 1, 'als_mnd', 0.5, '[]', '[]', 0, 0), ('event', 1, 'caffeine', 0.5, '[]', '[]', 0, 0)")
    conn.close()
    with Store(path) as store:
        assert [a["cause_id"] for a in store.annotations()] == ["caffeine"]


# ------------------------------------------------------------------ item 2
@pytest.mark.parametrize("entry,rule_id", [
    (("symptom", "weakness", "--site", "left calf", "--at=-17d"), "weakness"),
    (("pesticide", "--at=-27d"), "pesticide"),
    (("pesticide", "--at=-200d"), "pesticide"),
    (("symptom", "weakness", "--at=-150d"), "weakness"),
])
def test_item2_a_red_flag_is_not_limited_by_the_span_and_is_the_same_everywhere(db, clock, capsys, entry, rule_id):
    assert tw(capsys, db, "log", *entry)[0] == 0
    rule = next(r for r in load_taxonomy()["red_flags"] if r["id"] == rule_id)
    rc, causes_out, _ = tw(capsys, db, "causes")
    rc2, events_out, _ = tw(capsys, db, "events")
    report = db.parent / "r.html"
    assert tw(capsys, db, "report", "--out", str(report))[0] == 0
    html = report.read_text().replace("&#x27;", "'")
    for text in (causes_out, events_out, html):
        assert rule["message"] in text
    # the same lines in the text views
    flag_lines = [line for line in causes_out.splitlines() if line.startswith(("RED FLAG", "  "))][:3]
    assert all(line in events_out for line in flag_lines)
    # it stays until a doctor has seen it ...
    rc, out, _ = tw(capsys, db, "log", "seen-doctor", rule_id)
    assert rc == 0 and rule_id in out
    for cmd in (("causes",), ("events",), ("causes", "--since", "365d")):
        assert rule["message"] not in tw(capsys, db, *cmd)[1]
    # ... and comes back when something new is logged
    clock[0] += 600
    assert tw(capsys, db, "log", *[a for a in entry if not a.startswith("--at")])[0] == 0
    assert rule["message"] in tw(capsys, db, "causes")[1]


def test_item2_the_end_of_a_run_shows_the_red_flags(tmp_path, capsys, clock):
    from twitchwatch.formats import write_edf
    from twitchwatch.sim import simulate

    db = tmp_path / "t.sqlite3"
    rec = simulate("benign_clean", 20.0, seed=4)
    edf = tmp_path / "r.edf"
    write_edf(edf, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels))
    assert tw(capsys, db, "log", "symptom", "weakness", "--at=-40d")[0] == 0
    rc, out, _ = tw(capsys, db, "replay", str(edf), "-q", "--no-dashboard")
    assert rc == 0
    assert "RED FLAG: You logged weakness" in out and "40 days ago" in out


def test_item2_the_weakness_flag_claims_no_twitches(db, capsys):
    """item 12: 'together with twitches' when there were none."""
    empty = db.parent / "empty.sqlite3"
    assert tw(capsys, empty, "log", "symptom", "weakness")[0] == 0
    out = tw(capsys, empty, "causes")[1]
    assert "RED FLAG" in out and "together with twitches" not in out


# ------------------------------------------------------------------ item 3
def _flag(out_json: dict, rule_id: str) -> dict:
    return next(f for f in out_json["red_flags"] if f["rule_id"] == rule_id)


def test_item3_tests_named_as_a_doctor_would(db, capsys):
    tw(capsys, db, "log", "pesticide", "--at=-3h")
    tw(capsys, db, "log", "symptom", "weakness")
    tw(capsys, db, "log", "caffeine", "--mg", "200", "--at=-3h")
    tw(capsys, db, "log", "stress", "8", "--at=-30h", "--until=-4h")
    data = json.loads(tw(capsys, db, "causes", "--json")[1])
    pesticide = _flag(data, "pesticide")
    assert any(t.startswith("a blood cholinesterase test") for t in pesticide["tests"])
    assert not any("electrolyte" in t or "vitamin D" in t for t in pesticide["tests"])
    weakness = _flag(data, "weakness")
    blood = [t for t in weakness["tests"] if t.startswith("blood tests")]
    assert blood and all(t.endswith("to look for other causes") for t in blood)
    text = tw(capsys, db, "causes")[1]
    assert "rule out" not in text.lower() and "ruled out" not in text.lower()
    causes = {c["cause_id"]: c for c in data["causes"]}
    assert causes["caffeine"]["tests"] == [] and "reflex" not in json.dumps(causes["caffeine"])
    assert causes["organophosphate_poisoning"]["tests"][0].startswith("a blood cholinesterase test")
    tax = {c["id"]: c for c in load_taxonomy()["causes"]}
    assert tax["stress"]["tests"] == [] and tax["caffeine"]["tests"] == []
    # every test named anywhere carries its source
    for where in [*tax.values(), *load_taxonomy()["red_flags"]]:
        for test in where["tests"]:
            assert test["source"] and test["why"], (where["id"], test)


def test_item3_the_statistics_row_names_the_exposure_not_a_poisoning(tmp_path, clock):
    from twitchwatch.causes import trigger_stats

    sessions = [{"id": 1, "started_at": NOW - 10 * 3600, "ended_at": NOW - 3600, "body_site": None}]
    context = [{"kind": "pesticide", "start_unix_s": NOW - 8 * 3600, "detail": {"organophosphate": "unknown"}}]
    (stat,) = [s for s in trigger_stats([], sessions, context, now_unix_s=NOW)
               if s.cause_id == "organophosphate_poisoning"]
    assert "after a pesticide exposure" in stat.message and "poisoning" not in stat.message


# ------------------------------------------------------------------ items 4, 5, 6
def test_item5_details_given_on_the_command_line_are_kept(db, capsys):
    assert tw(capsys, db, "log", "injury", "head", "--site", "forehead", "--at=-3d")[0] == 0
    assert tw(capsys, db, "log", "pesticide", "roundup")[0] == 0
    with Store(db) as store:
        injury, pesticide = store.context()
    assert injury["detail"] == {"type": "head", "site": "forehead"}
    assert pesticide["detail"]["product"] == "roundup"
    out = tw(capsys, db, "causes")[1]
    assert "RED FLAG: You logged a head injury" in out and "pesticide exposure to roundup" in out


@pytest.mark.parametrize("hour", [0, 8, 12, 17, 19, 23])
def test_item6_entry_times_have_one_meaning_at_any_hour(tmp_path, capsys, clock, hour):
    clock[0] = datetime.datetime(2026, 12, 7, hour, 43, tzinfo=datetime.timezone.utc).timestamp()
    db = tmp_path / "t.sqlite3"
    rc, out, err = tw(capsys, db, "log", "stress", "7", "--at", "09:00", "--until", "18:00")
    assert rc == 0, err
    with Store(db) as store:
        (entry,) = store.context()
    start = datetime.datetime.fromtimestamp(entry["start_unix_s"], datetime.timezone.utc)
    end = datetime.datetime.fromtimestamp(entry["end_unix_s"], datetime.timezone.utc)
    assert (start.hour, end.hour, end - start) == (9, 18, datetime.timedelta(hours=9))
    assert entry["start_unix_s"] <= clock[0]
    # the README's and --help's own example, as written
    assert tw(capsys, db, "log", "stress", "7", "--until", "18:00")[0] == 0
    # --class: the help names only accepted classes
    from twitchwatch.cli import build_parser

    log_help = build_parser()._subparsers._group_actions[0].choices["log"].format_help()
    assert "beta-agonist" not in log_help and "statin" not in log_help


# ------------------------------------------------------------------ item 8
@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "UTC"])
def test_item8_edf_start_times_are_local_time_on_import_and_export(tmp_path, capsys, monkeypatch, zone):
    """An EDF starting at 10:00 (its header's local time) lists its twitches from 10:00
    local, and export writes 10:00 local back into the header; --tz names another zone."""
    import pyedflib

    from twitchwatch.formats import write_edf
    from twitchwatch.sim import simulate

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        import zoneinfo

        rec = simulate("benign_clean", 20.0, seed=4)
        edf = tmp_path / "r.edf"
        ten = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=zoneinfo.ZoneInfo(zone)).timestamp()
        write_edf(edf, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), start_unix_s=ten)
        with pyedflib.EdfReader(str(edf)) as r:  # the header holds local time, as EDF readers expect
            assert r.getStartdatetime().strftime("%Y-%m-%d %H:%M") == "2026-12-01 10:00"
        db = tmp_path / "t.sqlite3"
        assert tw(capsys, db, "replay", str(edf), "-q", "--no-dashboard")[0] == 0
        out = tw(capsys, db, "events", "--since", "2026-12-01 00:00")[1]
        rows = [line for line in out.splitlines() if line.startswith("2026-")]
        assert rows and all(line.startswith("2026-12-01 10:00:") for line in rows), rows[:3]
        exported = tmp_path / "x.edf"
        assert tw(capsys, db, "export", "--edf", str(exported))[0] == 0
        with pyedflib.EdfReader(str(exported)) as r:
            assert r.getStartdatetime().strftime("%H:%M") == "10:00"
        # the same file read as Tokyo time is 9 h (or so) earlier in absolute time
        db2 = tmp_path / "t2.sqlite3"
        assert tw(capsys, db2, "replay", str(edf), "-q", "--no-dashboard", "--tz", "Asia/Tokyo")[0] == 0
        with Store(db) as a, Store(db2) as b:
            shift = a.events()[0]["wall_time_s"] - b.events()[0]["wall_time_s"]
        local = datetime.datetime(2026, 12, 1, 10, 0)
        expected = (local.replace(tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")).utcoffset()
                    - local.replace(tzinfo=zoneinfo.ZoneInfo(zone)).utcoffset()).total_seconds()
        assert shift == pytest.approx(expected, abs=1.0)
        assert tw(capsys, db2, "replay", str(edf), "--tz", "Mars/Olympus")[0] == 2
    finally:
        monkeypatch.undo()
        time.tzset()


# ------------------------------------------------------------------ the README, verbatim
def _readme_block() -> list[str]:
    """The commands of the README's "Logging what may cause twitches" code block, as written."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Logging what may cause twitches"):]
    block = section[section.index("```sh") + 5:]
    block = block[:block.index("```")]
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def test_the_readme_examples_work_verbatim_at_0843(tmp_path, capsys, clock, monkeypatch):
    """Every command of the README's logging section, as written, at 08:43 (a clock time
    like --at 09:30 is still ahead then), against a database with yesterday's recording."""
    import builtins
    import os
    import shlex

    yesterday_10 = NOW - 86400 + (10 * 3600 - (8 * 3600 + 43 * 60))
    db = tmp_path / "t.sqlite3"
    with Store(db) as store:
        sid = store.start_session(device_id="d", firmware_version="0.1.0", boot_id=1, source="test",
                                  body_site="left hand", started_at=yesterday_10)
        store.add_events(sid, [_twitch(i, yesterday_10 + 60 + 300 * i) for i in range(20)])
        store.end_session(sid, ended_at=yesterday_10 + 2 * 3600)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(builtins, "input", lambda prompt="": "yes")
    commands = _readme_block()
    assert len(commands) >= 10 and all(c.startswith("twitchwatch ") for c in commands)
    for command in commands:
        argv = shlex.split(command, comments=True)[1:]  # as a shell reads it
        capsys.readouterr()
        rc = main([*argv, "--db", str(db)])
        out = capsys.readouterr()
        assert rc == 0, (command, out.out, out.err)
        if argv[:2] == ["causes", "--since"]:
            assert "RED FLAG: You logged weakness" in out.out and "caffeine" in out.out
    assert os.path.exists(tmp_path / "report.html") and os.path.exists(tmp_path / "twitches.edf")


# ------------------------------------------------------------------ item 11
def test_item11_a_silent_port_says_what_to_check_and_stream_ends_after_its_duration(tmp_path):
    """A real pty whose other end sends nothing: after a few seconds one line on what to
    check, and `stream --duration 7` ends after about 7 s of wall time with the reason."""
    import os
    import pty
    import subprocess
    import sys
    from pathlib import Path

    master, slave = pty.openpty()
    port = os.ttyname(slave)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    binary = Path(sys.executable).with_name("twitchwatch")
    try:
        t0 = time.monotonic()
        proc = subprocess.run([str(binary), "stream", "--port", port, "--duration", "7", "--no-dashboard",
                               "--db", str(tmp_path / "t.sqlite3")], capture_output=True, text=True,
                              timeout=120, env=env)
        took = time.monotonic() - t0
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    hints = [line for line in proc.stderr.splitlines() if "nothing has come from" in line]
    assert len(hints) == 1, proc.stderr
    assert "twitchwatch ports" in hints[0] and "--baud" in hints[0] and "firmware" in hints[0]
    assert "ended: no signal came from the port in 7 s" in proc.stdout
    assert took < 60  # the detector's first compile may take ~20 s; the wait itself is 7 s


# ------------------------------------------------------------------ item 9
def test_item9_the_daily_rate_plot_is_sized_to_its_data():
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    from twitchwatch.report import plots

    day = datetime.date(2026, 12, 6)
    fig = Figure()
    ax = plots.rate_by_day_axes(fig, [day], {"left calf": [4.0], "right calf": [4.0]})
    lo, hi = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
    assert lo >= datetime.datetime(2026, 12, 6) - datetime.timedelta(hours=1)
    assert hi <= datetime.datetime(2026, 12, 7) + datetime.timedelta(hours=1)
    assert ax.get_ylim()[1] > 4.0  # the point is not clipped
    xs = [line.get_xdata()[0] for line in ax.get_lines()]
    assert len(set(xs)) == 2  # two sites on one day: side by side, neither hidden
    assert len({line.get_marker() for line in ax.get_lines()}) == 2


def test_item9_empty_report_names_commands_that_exist(tmp_path, capsys, clock):
    db = tmp_path / "t.sqlite3"
    out = tmp_path / "r.html"
    assert tw(capsys, db, "report", "--out", str(out))[0] == 0
    text = out.read_text()
    assert "twitchwatch record" not in text and "twitchwatch stream" in text


def test_item9_the_exported_rate_channel_is_the_trailing_60_s_count(tmp_path, clock):
    import pyedflib

    db = tmp_path / "t.sqlite3"
    t0 = NOW - 3600
    with Store(db) as store:
        sid = store.start_session(device_id="d", firmware_version="0.1.0", boot_id=1, source="test",
                                  started_at=t0 - 100)
        store.add_events(sid, [_twitch(0, t0 - 30.0), _twitch(1, t0 + 0.5), _twitch(2, t0 + 120.5)])
        store.end_session(sid, ended_at=t0 + 200)
        store.export_edf(tmp_path / "x.edf", since_unix_s=t0)
    with pyedflib.EdfReader(str(tmp_path / "x.edf")) as r:
        rate = r.readSignal(0)
    # one twitch 30 s before the file and one in its first second: 2 in the trailing 60 s until
    # the earlier one leaves the window (29-30 s in), then 1 until 60 s in, then 0
    assert rate[0] == pytest.approx(2, abs=0.05) and rate[28] == pytest.approx(2, abs=0.05)
    assert rate[31] == pytest.approx(1, abs=0.05) and rate[59] == pytest.approx(1, abs=0.05)
    assert rate[61] == pytest.approx(0, abs=0.05)


# ------------------------------------------------------------------ item 10
@pytest.mark.parametrize("rate_hz", [250.0, 500.0])
def test_item10_below_1khz_the_band_and_its_effect_are_stated_and_true(rate_hz, tmp_path, capsys):
    """At 250 and 500 Hz the run says which band the detector can use and what that does
    to amplitudes; the numbers it quotes are what the bench measures (same seeds)."""
    import sys
    from pathlib import Path

    from scipy import signal

    from twitchwatch.detect.lowrate import MEASURED, band_note
    from twitchwatch.formats import write_edf
    from twitchwatch.sim import simulate

    assert band_note(1000.0) is None and band_note(2000.0) is None
    note = band_note(rate_hz)
    assert note and f"{0.45 * rate_hz:.0f} Hz" in note and "smaller" in note
    rec = simulate("benign_clean", 20.0, seed=4)
    q = int(rec.emg_rate_hz // rate_hz)
    edf = tmp_path / "low.edf"
    write_edf(edf, signal.resample_poly(rec.emg_uv, 1, q, axis=0), rate_hz, emg_labels=list(rec.emg_labels))
    rc, out, _ = tw(capsys, tmp_path / "t.sqlite3", "replay", str(edf), "-q", "--no-dashboard")
    assert rc == 0 and f"warning: {note}" in out
    if rate_hz == 250.0:  # the quoted numbers: one rate is enough to keep the table honest (~20 s)
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        try:
            from bench.detect.lowrate_bench import measure
        finally:
            sys.path.pop(0)
        amp, found = measure(rate_hz)
        assert (round(amp, 2), round(found, 2)) == MEASURED[int(rate_hz)]


# ------------------------------------------------------------------ item 12 (the parts in this area)
def test_item12_small_things(db, tmp_path, capsys, monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    # "11 score is outside the accepted range 0-10 score"
    rc, _, err = tw(capsys, db, "log", "stress", "11")
    assert rc == 2 and "11 is outside the accepted range 0-10" in err and "score" not in err
    # export with no twitches: refused before anything is written
    empty = tmp_path / "empty.sqlite3"
    rc, _, err = tw(capsys, empty, "export", "--json", str(tmp_path / "a.json"), "--edf", str(tmp_path / "a.edf"))
    assert rc == 2 and "nothing was written" in err and not (tmp_path / "a.json").exists()
    # ports: says when none looks like a patch
    import twitchwatch.transports as transports
    from twitchwatch.transports.serial import PortInfo

    monkeypatch.setattr(transports, "list_ports", lambda: [PortInfo("/dev/ttyS0", "n/a", None, None, None, "")])
    capsys.readouterr()
    assert main(["ports"]) == 0
    assert "none of these looks like a patch" in capsys.readouterr().out
    # `events | head -1`: no Broken pipe error
    binary = Path(sys.executable).with_name("twitchwatch")
    pipe = subprocess.run(f"'{binary}' events --db '{db}' | head -1", shell=True, capture_output=True, text=True,
                          timeout=120)
    assert pipe.stdout.strip() and "Broken pipe" not in pipe.stderr and "Error" not in pipe.stderr


# ------------------------------------------------------------------ item 12, the rest
def test_item12_the_brainflow_board_error_names_the_option(tmp_path, capsys):
    # 32 tab-separated columns fit cyton_daisy and synthetic; no timestamps to tell them apart
    path = tmp_path / "bf.csv"
    path.write_text("".join("\t".join(["0"] * 32) + "\n" for _ in range(50)))
    rc, _, err = tw(capsys, tmp_path / "t.sqlite3", "replay", str(path))
    assert rc == 2 and "--board" in err and "board=" not in err, err


@pytest.fixture(scope="module")
def named_edf(tmp_path_factory):
    """20 s of simulated twitches, two EMG channels labelled as a file would label them."""
    from twitchwatch.formats import write_edf
    from twitchwatch.sim import simulate

    rec = simulate("benign_clean", 20.0, seed=5, twitch_rate_per_min=40)
    path = tmp_path_factory.mktemp("named") / "named.edf"
    labels = ["EMG calf"] + [f"EMG shin {k}" for k in range(1, rec.emg_uv.shape[1])]
    write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=labels, start_unix_s=NOW - 3600)
    return path, labels


def test_item12_the_end_of_a_file_run_says_its_signal_time(named_edf, tmp_path, capsys, clock):
    path, _ = named_edf
    rc, out, _ = tw(capsys, tmp_path / "t.sqlite3", "replay", str(path), "-q")
    assert rc == 0
    ended = next(line for line in out.splitlines() if line.startswith("ended:"))
    assert "end of file after" in ended and "(20.0 s of signal)" in ended, ended


def test_item12_a_channel_has_one_name_everywhere_with_its_index_kept(named_edf, tmp_path, capsys, clock):
    pyedflib = pytest.importorskip("pyedflib")
    path, labels = named_edf
    db, jsonl, edf = tmp_path / "t.sqlite3", tmp_path / "e.jsonl", tmp_path / "x.edf"
    rc, out, _ = tw(capsys, db, "replay", str(path), "-q", "--events-out", str(jsonl))
    assert rc == 0
    quality = [line for line in out.splitlines() if line.startswith("signal quality")]
    assert [q.split(":")[0] for q in quality] == [f"signal quality, {label}" for label in labels]
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert lines and all(e["channel_label"] == labels[e["channel"]] for e in lines)
    rc, out, _ = tw(capsys, db, "events")
    assert rc == 0 and "EMG calf" in out
    rc, _, _ = tw(capsys, db, "export", "--edf", str(edf))
    assert rc == 0
    reader = pyedflib.EdfReader(str(edf))
    try:
        used = sorted({e["channel"] for e in lines})
        assert reader.getSignalLabels() == [labels[c] for c in used]
        assert reader.getTransducer(0) == "twitch rate" and reader.getPhysicalDimension(0) == "/min"
        _, _, texts = reader.readAnnotations()
        texts = list(texts)
        assert texts and all(t.split(" ")[0] == "twitch" for t in texts)
        assert all(any(t.startswith(f"twitch {label} ") for label in labels) for t in texts), texts[:3]
        assert not [t for t in texts if " ch" in t]
    finally:
        reader.close()


def test_item12_realtime_paces_a_recording_file_and_feeds_the_dashboard(tmp_path):
    from twitchwatch.dashboard.hub import LiveHub
    from twitchwatch.formats import open_recording, write_edf
    from twitchwatch.pipeline import Pipeline
    from twitchwatch.sim import simulate

    rec = simulate("benign_clean", 3.0, seed=2)
    path = tmp_path / "short.edf"
    write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), acc_mg=rec.acc_mg,
              acc_rate_hz=rec.acc_rate_hz, start_unix_s=1_760_000_000)
    hub, statuses = LiveHub(), []
    with open_recording(path) as recording:
        pipe = Pipeline(None, source_name="file", on_block=hub.on_block,
                        on_status=lambda st: (statuses.append(st), hub.on_status(st)))
        started = time.monotonic()
        summary = pipe.run_recording(recording, realtime=True)
        took_s = time.monotonic() - started
    assert 2.9 <= took_s < 8.0 and summary.duration_host_s >= 2.9
    assert len(statuses) >= 2 and statuses[-1].device_elapsed_s >= 1.5
    new = hub.take()
    assert new["trace"] is not None and new["hello"]["emg_labels"] == list(rec.emg_labels)
    # as fast as possible without it (the default)
    with open_recording(path) as recording:
        fast = Pipeline(None, source_name="file").run_recording(recording)
    assert fast.duration_host_s < 2.0 and fast.events == summary.events


def test_item12_replay_realtime_of_a_file_serves_the_dashboard(tmp_path, capsys):
    from twitchwatch.formats import write_edf
    from twitchwatch.sim import simulate

    rec = simulate("benign_clean", 3.0, seed=3)
    path = tmp_path / "short.edf"
    write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), start_unix_s=1_760_000_000)
    started = time.monotonic()
    rc, out, err = tw(capsys, tmp_path / "t.sqlite3", "replay", str(path), "--realtime", "--no-browser",
                      "--dashboard-port", "0", "-q")
    assert rc == 0 and "dashboard: http" in err, err
    assert time.monotonic() - started >= 2.9
    assert "applies to captures" not in err and "(3.0 s of signal)" in out
    rc, _, err = tw(capsys, tmp_path / "u.sqlite3", "replay", str(path), "--realtime", "--lsl", "--no-dashboard")
    assert rc == 2 and "not published over LSL" in err


# ------------------------------------------------------------------ every time shown says its zone
@pytest.mark.parametrize("zone,abbrev", [("America/New_York", "EST"), ("UTC", "UTC"), ("Asia/Kolkata", "IST")])
def test_every_time_shown_says_its_zone(tmp_path, capsys, monkeypatch, zone, abbrev):
    """The report's times, `log`'s confirmation line, `events`, the end of a run, a refused
    second replay and the EDF export's lines name the zone of each time they show."""
    import re

    from twitchwatch.formats import write_edf
    from twitchwatch.sim import simulate

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        clock_now = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc).timestamp()
        monkeypatch.setattr(time, "time", lambda: clock_now)
        stamp = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?)(?: ([A-Z]{3,5}|[+-]\d{4})\b)?")
        rec = simulate("benign_clean", 20.0, seed=6, twitch_rate_per_min=30)
        edf = tmp_path / "r.edf"
        write_edf(edf, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), start_unix_s=clock_now - 7200)
        db = tmp_path / "t.sqlite3"
        seen = []
        for args in (("replay", str(edf), "-q"), ("replay", str(edf), "-q"), ("log", "caffeine", "200", "--at", "-1h"),
                     ("log", "symptom", "cramps", "--at", "-30min"), ("events",), ("causes",),
                     ("export", "--edf", str(tmp_path / "x.edf"))):
            rc, out, err = tw(capsys, db, *args)
            seen += [(args[0], m) for m in stamp.findall(out + err)]
        assert len(seen) >= 6 and all(zone_shown == abbrev for _, (_, zone_shown) in seen), seen
        report = tmp_path / "r.html"
        assert tw(capsys, db, "report", "--out", str(report))[0] == 0
        html_text = report.read_text()
        shown = stamp.findall(re.sub(r"<img[^>]*>", "", html_text))
        assert len(shown) >= 4 and all(zone_shown == abbrev for _, zone_shown in shown), shown[:10]
    finally:
        monkeypatch.undo()
        time.tzset()


# ------------------------------------------------------------------ #17 item 10: text a person gives
def test_note_and_site_limits_are_one_on_the_command_line_and_the_page(db, capsys, clock):
    from twitchwatch.causes.entries import ACCEPTED, MAX_TEXT_CHARS, EntryError
    from twitchwatch.dashboard import analysis

    assert ACCEPTED["max_text_chars"] == MAX_TEXT_CHARS
    fits, too_long = "x" * MAX_TEXT_CHARS, "x" * (MAX_TEXT_CHARS + 1)
    for args in (("log", "caffeine", "100", "--note", too_long), ("log", "symptom", "cramps", "--site", too_long),
                 ("log", "symptom", "cramps", "--note", too_long), ("log", "supplement", too_long)):
        rc, _, err = tw(capsys, db, *args)
        assert rc == 2 and f"too long ({MAX_TEXT_CHARS + 1} characters; at most {MAX_TEXT_CHARS})" in err, (args, err)
    for body in ({"category": "exposure", "kind": "caffeine", "value": "100", "note": too_long},
                 {"category": "symptom", "kind": "cramps", "site": too_long}):
        with pytest.raises(EntryError, match=rf"too long \({MAX_TEXT_CHARS + 1} characters; at most {MAX_TEXT_CHARS}\)"):
            analysis.log_entry(db, body, now_unix_s=NOW)
    assert tw(capsys, db, "log", "symptom", "cramps", "--site", fits[:40], "--note", fits)[0] == 0
    analysis.log_entry(db, {"category": "symptom", "kind": "cramps", "note": fits}, now_unix_s=NOW)
    with Store(db) as store:
        assert [len(s["note"]) for s in store.symptoms()] == [MAX_TEXT_CHARS, MAX_TEXT_CHARS]


def test_terminal_escape_codes_are_never_echoed_raw(db, tmp_path, capsys, clock):
    from twitchwatch.causes.entries import EntryError
    from twitchwatch.dashboard import analysis

    red = "\x1b[31mleft\x1b[0m calf"
    for args in (("log", "symptom", "weakness", "--site", red), ("log", "caffeine", "100", "--note", red),
                 ("log", "pesticide", red), ("log", "test", "emg", red)):
        rc, out, err = tw(capsys, db, *args)
        assert rc == 2 and "control character" in err and "\x1b" not in out + err, (args, err)
    with pytest.raises(EntryError, match="control character"):
        analysis.log_entry(db, {"category": "symptom", "kind": "weakness", "site": red}, now_unix_s=NOW)
    with Store(db) as store:
        assert store.symptoms() == [] and store.context() == []
    rc, out, err = tw(capsys, tmp_path / "d.sqlite3", "demo", "--fast", "--duration", "1", "--no-dashboard",
                      "--body-site", red)
    assert rc == 2 and "--body-site" in err and "\x1b" not in out + err
    # text stored before this check (or written by another program) is shown with '?' for the codes
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET body_site = ?", (red,))
        conn.execute("INSERT INTO symptoms (kind, start_unix_s, site, created_at) VALUES ('weakness', ?, ?, ?)",
                     (NOW - 60, red, NOW))
    for args in (("events",), ("causes",)):
        rc, out, err = tw(capsys, db, *args)
        assert rc == 0 and "\x1b" not in out + err, args
        assert "?[31mleft?[0m calf" in out, (args, out)


# ------------------------------------------------------------------ #20 item 3: one verdict rule
def test_one_verdict_rule_for_the_engine_the_page_and_the_report(tmp_path, clock):
    """A cause confirmed on one session and rejected later on another: every view takes
    the latest verdict (the report used to let a confirmation win whatever came after)."""
    from twitchwatch.annotations import _history, annotate_stored
    from twitchwatch.causes.entries import parse_exposure
    from twitchwatch.dashboard import analysis
    from twitchwatch.report import build_report

    path = tmp_path / "v.sqlite3"
    with Store(path) as store:
        ids = []
        for k, start in enumerate((NOW - 26 * 3600, NOW - 1800)):
            store.add_context(parse_exposure("caffeine", "300", at=start - 3600, now_unix_s=NOW))
            sid = store.start_session(device_id="d", firmware_version="0.1.0", boot_id=k + 1, source="test",
                                      body_site="left calf", started_at=start)
            store.add_events(sid, [_twitch(i, start + 60 + 60 * i) for i in range(12)])
            if k == 0:
                store.end_session(sid, ended_at=start + 20 * 60)
            ids.append(sid)
        annotate_stored(store, now_unix_s=NOW)
        rows = {a["target_id"]: a for a in store.annotations(target="session") if a["cause_id"] == "caffeine"}
        assert set(rows) == set(ids)
        clock[0] = NOW - 600
        store.set_annotation_status(rows[ids[0]]["id"], "confirmed")
        clock[0] = NOW - 300
        store.set_annotation_status(rows[ids[1]]["id"], "rejected")
        clock[0] = NOW
        assert _history(store, set(ids)) == [{"cause_id": "caffeine", "verdict": "rejected"}]
    assert analysis.load_inputs(path, NOW).statuses == {"caffeine": "rejected"}
    report = tmp_path / "r.html"
    with Store(path) as store:
        build_report(store, NOW - 3 * DAY, report, now_unix_s=NOW)
    html_text = report.read_text()
    assert "(you rejected this)" in html_text and "(you confirmed this)" not in html_text


def test_status_words_are_said_in_one_place():
    """The verdict words are constants of twitchwatch.verdicts, not literals spread over
    the package (#20 item 3). The store's SQL is left out: its schema's CHECK and its
    queries name them as SQL must, and it validates against the same constants."""
    import re
    from pathlib import Path

    import twitchwatch

    root = Path(twitchwatch.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        if path.name == "verdicts.py" or path.parent.name == "store":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""["'](confirmed|rejected|suggested)["']""", line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert found == [], "\n".join(found)


def test_one_entry_parser_for_the_command_line_and_the_page(db, capsys, clock):
    """#20 item 3: `log` and the page's POST /api/log go through causes.entries.parse_entry:
    the same entry is stored the same, and a field the category does not take is refused
    (the page used to drop it without a word)."""
    from twitchwatch.causes.entries import EntryError
    from twitchwatch.dashboard import analysis

    assert tw(capsys, db, "log", "caffeine", "200", "--at", "-1h", "--note", "coffee")[0] == 0
    analysis.log_entry(db, {"category": "exposure", "kind": "caffeine", "value": "200", "at": "-1h",
                            "note": "coffee"}, now_unix_s=NOW)
    assert tw(capsys, db, "log", "symptom", "cramps", "--site", "Left Calf", "--severity", "mild")[0] == 0
    analysis.log_entry(db, {"category": "symptom", "kind": "cramps", "site": "Left Calf", "severity": "mild"},
                       now_unix_s=NOW)
    with Store(db) as store:
        for rows in (store.context(), store.symptoms()):
            a, b = ({k: v for k, v in r.items() if k not in ("id", "created_at")} for r in rows)
            assert a == b
    for body, wrong in (({"category": "exposure", "kind": "caffeine", "value": "200", "severity": "5"}, "severity"),
                        ({"category": "symptom", "kind": "cramps", "until": "-1h"}, "until")):
        with pytest.raises(EntryError, match=f"{wrong} does not apply to an? (exposure|symptom)"):
            analysis.log_entry(db, body, now_unix_s=NOW)
    with Store(db) as store:
        assert len(store.context()) == 2 and len(store.symptoms()) == 2


def test_item12_a_missing_port_is_said_once_with_what_to_do(tmp_path, capsys):
    rc, _, err = tw(capsys, tmp_path / "t.sqlite3", "stream", "--port", "/dev/does-not-exist")
    assert rc == 2 and "no such port" in err and "twitchwatch ports" in err, err
    assert "[Errno" not in err and err.count("/dev/does-not-exist") == 1, err
    assert not (tmp_path / "t.sqlite3").exists()
