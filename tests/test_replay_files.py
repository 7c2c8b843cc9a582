"""`twitchwatch replay` on recording files (EDF+/BDF+/CSV): the same detection path as live.

The recordings are made by the host simulator (known twitches) and written with
``twitchwatch.formats.write_edf``; the CLI runs as a user runs it.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from tw_command import run_twitchwatch

from twitchwatch.demo import match_events
from twitchwatch.formats import open_recording, write_edf
from twitchwatch.pipeline import Pipeline
from twitchwatch.sim import simulate
from twitchwatch.store import Store



tw = run_twitchwatch


@pytest.fixture(scope="module")
def edf_recording(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edf")
    rec = simulate("benign_clean", 120.0, seed=21)
    path = tmp / "sim.edf"
    write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), acc_mg=rec.acc_mg,
              acc_rate_hz=rec.acc_rate_hz, start_unix_s=1_760_000_000)
    return tmp, path, rec


def test_cli_replays_an_edf_and_finds_its_twitches(edf_recording):
    tmp, path, rec = edf_recording
    out = tw("replay", path.name, "--db", "e.sqlite3", "--events-out", "e.jsonl", cwd=tmp)
    assert out.returncode == 0, out.stderr
    assert "edf" in out.stderr and "EMG" in out.stderr  # what was read, said before the run
    lines = [json.loads(x) for x in (tmp / "e.jsonl").read_text().splitlines()]
    truth = [(t.sample_index / rec.emg_rate_hz, t.channel) for t in rec.twitches]
    score = match_events(truth, [(x["t"], x["channel"]) for x in lines])
    assert len(truth) >= 10
    assert score.sensitivity >= 0.8 and score.precision >= 0.8, score
    # Wall times come from the file's start time.
    assert all(1_760_000_000 <= x["wall_time_s"] <= 1_760_000_000 + 121 for x in lines)
    con = sqlite3.connect(tmp / "e.sqlite3")
    (source, quality) = con.execute("select source, quality_json from sessions").fetchone()
    assert source == "file:sim.edf"
    assert json.loads(quality)[0]["noise_floor_uv"] > 0


def test_pipeline_on_a_file_equals_the_same_file_in_other_block_sizes(edf_recording, tmp_path):
    _, path, _ = edf_recording
    runs = []
    # (1.0 s with the detector once per second of signal: what `replay FILE` does)
    for block_s, every in ((0.05, 0.0), (0.5, 0.0), (7.0, 0.0), (1.0, 1.0)):
        got = []
        with open_recording(path) as rec, Store(tmp_path / f"{block_s}.sqlite3") as store:
            Pipeline(None, source_name="file", store=store, on_event=got.append, events_out=tmp_path / f"{block_s}.jsonl",
                     detect_every_s=every).run_recording(rec, block_s=block_s)
        runs.append(got)
    assert runs[0], "the recording has twitches"
    assert runs[0] == runs[1] == runs[2] == runs[3]
    assert (tmp_path / "1.0.jsonl").read_bytes() == (tmp_path / "0.5.jsonl").read_bytes()


@pytest.mark.parametrize("write_every_s", [5.0, 60.0])
def test_a_fast_replay_of_a_file_holds_its_writes_and_stores_the_same_rows(tmp_path, monkeypatch, write_every_s):
    """A fast replay (the detector once per second of signal) hands its events, artefact
    segments and quality to the store and the events file once per ``WRITE_EVERY_S`` of
    signal: the same rows, in the same order, as handing them on after every detector
    call (``WRITE_EVERY_S`` = 0, what a fast replay did before)."""
    import twitchwatch.pipeline as pipeline

    rec = simulate("mixed", 40.0, seed=3)  # twitches, ECG, contractions, movement, pops: artefact segments
    path = tmp_path / "mixed.edf"
    write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), acc_mg=rec.acc_mg,
              acc_rate_hz=rec.acc_rate_hz, start_unix_s=1_760_000_000)
    stored = {}
    for name, every_s in (("each", 0.0), ("held", write_every_s)):
        monkeypatch.setattr(pipeline, "WRITE_EVERY_S", every_s)
        with open_recording(path) as recording, Store(tmp_path / f"{name}.sqlite3") as store:
            Pipeline(None, source_name="file", store=store, events_out=tmp_path / f"{name}.jsonl",
                     detect_every_s=1.0).run_recording(recording, block_s=1.0)
        con = sqlite3.connect(tmp_path / f"{name}.sqlite3")
        stored[name] = [con.execute(q).fetchall() for q in ("SELECT * FROM events ORDER BY id",
                                                              "SELECT * FROM artefacts ORDER BY id",
                                                              "SELECT id, quality_json FROM sessions")]
        con.close()
    events, artefacts, quality = stored["each"]
    assert len(events) >= 5 and len(artefacts) >= 5 and quality[0][1]
    assert stored["held"] == stored["each"]
    assert (tmp_path / "held.jsonl").read_bytes() == (tmp_path / "each.jsonl").read_bytes()


def test_a_cut_off_edf_replays_its_whole_records_and_says_what_it_left_out(edf_recording, tmp_path):
    # a recording cut off mid-write: the twitches of its whole data records are found
    # exactly as in the complete file, and the run ends with a warning naming the loss
    _, path, rec = edf_recording
    data = path.read_bytes()
    header, n_records = int(data[184:192]), int(data[236:244])
    record_bytes = (len(data) - header) // n_records
    keep = n_records // 2
    cut = tmp_path / "cut.edf"
    cut.write_bytes(data[: header + keep * record_bytes + 1000])
    full = tw("replay", str(path), "--db", "f.sqlite3", "--events-out", "f.jsonl", cwd=tmp_path)
    out = tw("replay", cut.name, "--db", "c.sqlite3", "--events-out", "c.jsonl", cwd=tmp_path)
    assert out.returncode == 0 and full.returncode == 0, out.stderr
    assert "note: the file is truncated" in out.stderr
    assert f"warning: cut.edf: the file is truncated: {keep} of the {n_records} data records its header declares " \
           "are whole" in out.stdout and "the 1000 bytes after them (part of a record) are not read" in out.stdout
    events = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    before = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    seconds = float(data[244:252]) * keep
    assert events and len(events) < len(before)
    # the same events up to the last ~second before the cut (the engine flushes at the end)
    strip = lambda xs: [(x["t"], x["channel"], x["amplitude_uv"]) for x in xs if x["t"] < seconds - 1.0]  # noqa: E731
    assert strip(events) == strip(before)


def test_a_file_with_missing_rows_is_marked_as_a_gap_not_shifted(tmp_path):
    """A generic CSV with a time column that jumps: the samples after the jump keep their time."""
    rec = simulate("benign_clean", 30.0, seed=3)
    n = len(rec.emg_uv)
    keep = np.ones(n, bool)
    keep[20_000:20_400] = False  # 200 ms of rows missing
    t = np.arange(n) / rec.emg_rate_hz
    rows = np.column_stack([t, rec.emg_uv])[keep]
    path = tmp_path / "gappy.csv"
    with path.open("w") as f:
        f.write("time_s,EMG 1,EMG 2\n")
        np.savetxt(f, rows, delimiter=",", fmt="%.6f")
    out = tw("replay", path.name, "--db", "g.sqlite3", "--events-out", "g.jsonl", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "samples_lost 400" in out.stdout  # 200 ms × 2 kHz, counted and reported
    (stats_json,) = sqlite3.connect(tmp_path / "g.sqlite3").execute("select stats_json from sessions").fetchone()
    assert json.loads(stats_json)["samples_lost"] == 400  # and stored with the session
    lines = [json.loads(x) for x in (tmp_path / "g.jsonl").read_text().splitlines()]
    truth_after = [(tw_.sample_index / rec.emg_rate_hz, tw_.channel) for tw_ in rec.twitches
                   if tw_.sample_index > 20_400 + 400]
    got_after = [(x["t"], x["channel"]) for x in lines if x["t"] > 10.4]
    if truth_after:
        assert match_events(truth_after, got_after).sensitivity >= 0.8
    assert not [x for x in lines if 10.0 <= x["t"] < 10.2], "no event may sit inside the missing rows"


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"\x00\x01garbage\xff" * 50, ""),
    (b"0       " + b"x" * 100, ""),
])
def test_unreadable_files_give_one_clear_line(tmp_path, content, expected):
    path = tmp_path / "bad.edf"
    path.write_bytes(content)
    out = tw("replay", "bad.edf", "--db", "b.sqlite3", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") <= 2 and "Traceback" not in out.stderr
    assert "bad.edf" in out.stderr and expected in out.stderr.lower()


def test_a_replayed_file_records_its_own_time_and_date(edf_recording, tmp_path):
    """Issue 17, item 12: a session ran from the file's start date to the moment the replay
    ended (a 2-min file dated 2025 'recorded' for months; the report's 14 days were all
    'recorded' with no twitches in them). Now the session lasts as long as its signal,
    dated by the file's clock, and the report's rate is twitches per recorded hour."""
    from twitchwatch.report.data import gather

    _, path, rec = edf_recording
    with open_recording(path) as recording, Store(tmp_path / "t.sqlite3") as store:
        summary = Pipeline(None, source_name="file", store=store).run_recording(recording, block_s=0.5)
        (session,) = store.sessions()
        assert session["started_at"] == 1_760_000_000
        assert session["ended_at"] == pytest.approx(1_760_000_000 + 120.0, abs=1e-6)
        stats = session["stats"]
        assert stats["span_s"] == pytest.approx(120.0) and stats["signal_s"] == pytest.approx(120.0)
        assert 0.5 * 120 < stats["recorded_s"] <= 120.0  # the detector's warm-up and artefacts are not usable
        assert summary.recorded_s == pytest.approx(stats["recorded_s"])
        assert summary.first_wall_s == 1_760_000_000 and summary.dated_by == "the file's start date"
        now = 1_760_000_000 + 30 * 86400.0
        last_14_days = gather(store, now - 14 * 86400, now)
        assert last_14_days.total_recorded_h == 0 and not last_14_days.events
        around = gather(store, 1_760_000_000 - 86400, now)
        assert around.total_recorded_h == pytest.approx(stats["recorded_s"] / 3600)
        assert len(around.events) == summary.events > 0
        (site,) = around.sites
        assert site.rate_per_h == pytest.approx(summary.events / (stats["recorded_s"] / 3600))
