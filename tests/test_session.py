"""The library's run entry point (:class:`twitchwatch.session.Runner`), the recording
commands (:mod:`twitchwatch.runs`) and the data commands (:mod:`twitchwatch.data_commands`)
called directly, in this process: no subprocess, no argparse. The CLI's own tests
(tests/test_cli*.py) check the same behaviour through ``twitchwatch``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from twitchwatch import TwitchwatchError
from twitchwatch.console import Console
from twitchwatch.formats import open_recording, write_edf
from twitchwatch.protocol.synthetic import synthetic_stream
from twitchwatch.runs import ReplayOptions, replay_file
from twitchwatch.session import RunOptions, Runner
from twitchwatch.sim import simulate
from twitchwatch.transports import TransportClosed

sys.path.insert(0, str(Path(__file__).parent))
from test_pipeline_stages import FakeSource  # noqa: E402  (the stage tests' fake byte source)


@pytest.fixture(scope="module")
def edf(tmp_path_factory) -> Path:
    """12 s of a simulated recording with twitches, as EDF+."""
    rec = simulate("benign_clean", 12.0, seed=41)
    path = tmp_path_factory.mktemp("session") / "r.edf"
    write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), acc_mg=rec.acc_mg,
              acc_rate_hz=rec.acc_rate_hz, start_unix_s=1_760_000_000)
    return path


def _count(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_a_recording_runs_into_the_database_with_its_events_called_back(edf, tmp_path, capsys):
    db, events_out = tmp_path / "t.sqlite3", tmp_path / "ev.jsonl"
    runner = Runner(RunOptions(db=str(db), events_out=str(events_out), body_site="left calf", quiet=True))
    seen = []
    try:
        with open_recording(edf) as rec:
            summary = runner.run(None, "file:r.edf", recording=rec, live=False, on_event=seen.append)
    finally:
        runner.close()
    assert runner.dashboard is None  # not live: no dashboard
    assert summary.events > 0 and len(seen) == summary.events
    assert _count(db, "events") >= summary.events  # counted twitches (and candidates) are stored
    lines = [json.loads(x) for x in events_out.read_text().splitlines()]
    assert len(lines) >= summary.events and {x["session_id"] for x in lines} == {1}
    con = sqlite3.connect(db)
    assert con.execute("SELECT source, body_site FROM sessions").fetchall() == [("file:r.edf", "left calf")]
    con.close()
    out = capsys.readouterr()
    assert "ended: end of file" in out.out and f"logged to {db}" in out.out
    assert "events: writing" in out.err and "twitch t=" not in out.err  # quiet: no twitch lines


def test_a_byte_source_runs_through_the_same_path_and_prints_each_twitch_unless_quiet(tmp_path, capsys):
    stream = synthetic_stream(2.0)
    runner = Runner(RunOptions(db=str(tmp_path / "t.sqlite3")), console=Console(quiet=False))
    summary = runner.run(FakeSource([stream.wire]), "fake", live=False)
    runner.close()
    assert summary.samples and summary.sessions
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("ended: the fake source ended")
    assert "dropped or damaged: nothing" in out


def test_an_output_that_would_write_over_the_database_is_refused_and_no_file_is_left(tmp_path):
    db = tmp_path / "t.sqlite3"
    runner = Runner(RunOptions(db=str(db), events_out=str(db)))
    with pytest.raises(TwitchwatchError, match="--events-out .* is the same file as the database"):
        runner.run(FakeSource([]), "fake", live=False)
    assert not db.exists()


def test_a_run_refused_after_the_store_opened_leaves_no_database_it_created(tmp_path):
    class Broken(FakeSource):
        def read(self, timeout_s):
            raise TwitchwatchError("the source broke")

    db = tmp_path / "t.sqlite3"
    with pytest.raises(TwitchwatchError, match="the source broke"):
        Runner(RunOptions(db=str(db))).run(Broken([]), "broken", live=False)
    assert not db.exists()


def test_lsl_is_refused_for_a_run_that_is_not_live(tmp_path):
    runner = Runner(RunOptions(db=str(tmp_path / "t.sqlite3"), lsl=True))
    with pytest.raises(TwitchwatchError, match="--lsl needs a live source"):
        runner.run(FakeSource([]), "fake", live=False)


def test_replay_file_stores_a_file_once_and_refuses_it_again(edf, tmp_path, capsys):
    db = tmp_path / "t.sqlite3"
    runner = Runner(RunOptions(db=str(db), quiet=True))
    options = ReplayOptions(files=(str(edf),))
    assert replay_file(runner, options, str(edf)) == 0
    assert _count(db, "sessions") == 1
    with pytest.raises(TwitchwatchError, match="already"):
        replay_file(runner, options, str(edf))
    assert replay_file(runner, ReplayOptions(files=(str(edf),), again=True), str(edf)) == 0
    assert _count(db, "sessions") == 2
    with pytest.raises(TwitchwatchError, match="no such file"):
        replay_file(runner, options, str(tmp_path / "missing.edf"))


def test_the_library_imports_without_the_cli_and_no_module_imports_the_cli():
    code = ("import sys, twitchwatch.session, twitchwatch.runs, twitchwatch.data_commands, "
            "twitchwatch.device_commands, twitchwatch.demo, twitchwatch.replay_jobs; "
            "assert 'twitchwatch.cli' not in sys.modules, 'the library imported the cli'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    root = Path(__file__).resolve().parents[1] / "host" / "twitchwatch"
    importers = [p.name for p in root.rglob("*.py") if p.name != "cli.py"
                 and ("twitchwatch.cli" in p.read_text() or "from .cli" in p.read_text())]
    assert importers == []


# ---- the data commands --------------------------------------------------------------------

def test_log_then_events_and_causes_through_the_library(edf, tmp_path, capsys):
    from twitchwatch import data_commands as dc

    db = str(tmp_path / "t.sqlite3")
    runner = Runner(RunOptions(db=db, quiet=True))
    replay_file(runner, ReplayOptions(files=(str(edf),)), str(edf))
    capsys.readouterr()
    assert dc.log(db, dc.LogRequest("caffeine", mg="200", at="-1h")) == 0
    assert "logged caffeine 200 mg" in capsys.readouterr().out
    with pytest.raises(TwitchwatchError, match="--range does not apply here"):
        dc.log(db, dc.LogRequest("caffeine", mg="200", ref_range="1-2"))
    assert dc.events(db, "100000d") == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["time", "site", "channel", "amplitude", "unit", "candidate", "cause"]
    assert dc.events(db, "100000d", as_json=True) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all("amplitude_uv" in r for r in rows)
    assert dc.causes(db, "100000d", as_json=True) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"red_flags", "causes"}
    with pytest.raises(TwitchwatchError, match="--since: "):
        dc.events(db, "yesterday-ish")


def test_parse_log_maps_the_command_line_to_entries_and_writes_nothing(tmp_path):
    from twitchwatch.data_commands import LogRequest, parse_log

    now = 1_790_000_000.0
    table, entry = parse_log(LogRequest("lab", ("magnesium", "0.62", "mmol/L"), ref_range="0.70-1.00"), now)
    assert table == "lab" and entry["analyte"] == "magnesium" and entry["ref_low"] == pytest.approx(0.70)
    table, entry = parse_log(LogRequest("supplement", ("magnesium",), dose="300", unit="mg"), now)
    assert table == "exposure" and entry["detail"]["name"] == "magnesium" and entry["value"] == 300
    table, entry = parse_log(LogRequest("test", ("emg", " normal ")), now)
    assert (table, entry["kind"], entry["result"], entry["taken_unix_s"]) == ("test", "emg", "normal", now)
    with pytest.raises(TwitchwatchError, match="give the amount once"):
        parse_log(LogRequest("caffeine", ("100",), mg="200"), now)


def test_export_refuses_a_missing_database_and_delete_all_asks_first(tmp_path, capsys):
    from twitchwatch import data_commands as dc

    db = tmp_path / "t.sqlite3"
    with pytest.raises(TwitchwatchError, match="export: no database"):
        dc.export(str(db), json_path=str(tmp_path / "x.json"))
    assert not db.exists() and not (tmp_path / "x.json").exists()
    dc.log(str(db), dc.LogRequest("stress", ("7",)))
    assert dc.delete_all(str(db), ask=lambda prompt: "no") == 1
    assert "cancelled" in capsys.readouterr().out and _count(db, "context_entries") == 1
    assert dc.delete_all(str(db), ask=lambda prompt: "yes") == 0
    assert _count(db, "context_entries") == 0


def test_a_closed_source_ends_the_run_with_its_reason(tmp_path, capsys):
    class Closed(FakeSource):
        def read(self, timeout_s):
            raise TransportClosed("unplugged")

    summary = Runner(RunOptions(db=str(tmp_path / "t.sqlite3"), quiet=True)).run(Closed([]), "c", live=False)
    assert summary.ended_because == "unplugged" and not summary.sessions


def test_a_source_run_trims_its_heap_and_a_recording_does_not(edf, tmp_path, monkeypatch):
    """Issue 17: a live source (hours long) hands free heap pages back every
    LIVE_TRIM_EVERY_S; a recording's run is as long as the file and is not asked to."""
    import twitchwatch.pipeline as pipeline_module
    from twitchwatch.heap import LIVE_TRIM_EVERY_S
    from twitchwatch.pipeline import Pipeline

    asked = []

    class Recorded(Pipeline):
        def __init__(self, *args: object, **kw: object) -> None:
            asked.append(kw.get("trim_heap_every_s"))
            super().__init__(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline_module, "Pipeline", Recorded)  # the runner imports it when it runs
    runner = Runner(RunOptions(db=str(tmp_path / "t.sqlite3"), quiet=True))
    try:
        runner.run(FakeSource([synthetic_stream(duration_s=1.0).wire]), "fake", live=False)
        with open_recording(edf) as rec:
            runner.run(None, "file:r.edf", recording=rec, live=False)
    finally:
        runner.close()
    assert asked == [LIVE_TRIM_EVERY_S, None]
