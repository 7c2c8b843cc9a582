"""The whole path: firmware under MicroPython → pty → pyserial → decoder → detector → SQLite.

Every test here runs the real firmware (``firmware/unix_main.py``) under the real
MicroPython Unix port on a real pseudo-terminal, and checks what arrives against
the simulator's own ground truth, computed independently by importing the same
board-independent simulator module under CPython.
"""

from __future__ import annotations

import json
import random
import sqlite3

import numpy as np
import pytest

from twitchwatch.demo import load_simulator, match_events
from twitchwatch.pipeline import Pipeline
from twitchwatch.sinks import annotate_session
from twitchwatch.store import Store
from twitchwatch.transports import CaptureWriter, ReplaySource, VirtualBoard, read_capture
from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR

pytestmark = pytest.mark.slow

SIM = load_simulator(DEFAULT_FIRMWARE_DIR)
EMG_STREAM, ACC_STREAM = 0, 1


class Recorder:
    """Collects every decoded block and event of a run."""

    def __init__(self) -> None:
        self.blocks = []
        self.events = []

    def block(self, b) -> None:
        self.blocks.append(b)

    def event(self, e) -> None:
        self.events.append(e)

    def samples(self, stream_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(first indices of each block, concatenated samples) of one stream."""
        bs = [b for b in self.blocks if b.stream_id == stream_id]
        return np.array([b.first_sample_index for b in bs]), np.concatenate([b.samples for b in bs])


def run_pipeline(source, tmp_path, name: str, **kw):
    rec = Recorder()
    with Store(tmp_path / f"{name}.sqlite3") as store:
        pipe = Pipeline(source, source_name=name, store=store, events_out=tmp_path / f"{name}.jsonl",
                        on_block=rec.block, on_event=rec.event, **kw)
        summary = pipe.run()
    return summary, rec


def truth(seed: int, n_emg: int, n_acc: int):
    emg, acc, twitches = SIM.ground_truth(seed, n_emg, n_acc)
    return np.array(emg, dtype=np.int32), np.array(acc, dtype=np.int32).reshape(-1, 3), twitches


def assert_blocks_match_truth(rec: Recorder, seed: int) -> None:
    """Every sample that arrived equals the simulator's sample at the same index (gaps allowed)."""
    emg_true, acc_true, _ = truth(seed, 200_000, 100_000)
    for sid, ref in ((EMG_STREAM, emg_true), (ACC_STREAM, acc_true)):
        for b in (b for b in rec.blocks if b.stream_id == sid):
            i = b.first_sample_index
            assert np.array_equal(b.samples, ref[i:i + len(b.samples)]), f"stream {sid} wrong sample at {i}"


@pytest.fixture(scope="module")
def live_30s(tmp_path_factory):
    """30 s of the full stream (2 kHz × 2 EMG + 1 kHz × 3 ACC), captured."""
    tmp = tmp_path_factory.mktemp("live")
    with VirtualBoard(seed=11, duration_s=30) as source:
        summary, rec = run_pipeline(source, tmp, "live", capture=tmp / "live.twcap")
    return tmp, summary, rec


def test_live_stream_equals_ground_truth_bit_for_bit(live_30s):
    _, summary, rec = live_30s
    assert summary.problems() == {}, summary.problems()
    for sid, rate_hz, n_ch in ((EMG_STREAM, 2000, 2), (ACC_STREAM, 1000, 3)):
        starts, samples = rec.samples(sid)
        assert samples.shape == (30 * rate_hz, n_ch)
        assert starts[0] == 0
        lengths = np.diff(np.append(starts, len(samples)))
        assert np.array_equal(np.cumsum(lengths)[:-1], starts[1:]), "blocks are not contiguous"
    emg_true, acc_true, _ = truth(11, 60_000, 30_000)
    assert np.array_equal(rec.samples(EMG_STREAM)[1], emg_true)
    assert np.array_equal(rec.samples(ACC_STREAM)[1], acc_true)


def test_live_events_name_the_simulated_motor_units(live_30s):
    """The firmware fires 3 units per channel, each with its own shape: the engine's
    online clustering gives (nearly) every twitch of a unit the same id, and does not
    invent many more units than fired."""
    from twitchwatch.demo import score_units

    _, _, rec = live_30s
    schedule = SIM.twitch_schedule(11, 60_000)
    units = score_units([(d["peak_index"] / 2000, d["channel"], d["unit"]) for d in schedule],
                        [(e.t_s, e.channel, e.unit_id) for e in rec.events])
    assert units.matched >= 10 and units.truth_units >= 4
    assert units.agreeing >= 0.9 * units.matched, units
    assert units.detected_ids <= units.truth_units + 2, units


def test_live_events_find_the_simulated_twitches(live_30s):
    _, summary, rec = live_30s
    twitches = truth(11, 60_000, 0)[2]
    assert len(twitches) >= 10, "the default simulator should place twitches in 30 s"
    score = match_events([(idx / 2000, ch) for idx, ch, _ in twitches], [(e.t_s, e.channel) for e in rec.events])
    assert score.sensitivity >= 0.9 and score.precision >= 0.9, score


def test_events_are_logged_to_sqlite_and_jsonl(live_30s):
    tmp, summary, rec = live_30s
    lines = [json.loads(x) for x in (tmp / "live.jsonl").read_text().splitlines()]
    assert len(lines) == len(rec.events) == summary.events
    for line, ev in zip(lines, rec.events):
        assert {"t", "channel", "amplitude_uv", "duration_ms", "confidence"} <= line.keys()
        assert line["t"] == pytest.approx(ev.t_s)
    con = sqlite3.connect(tmp / "live.sqlite3")
    (n_events,) = con.execute("select count(*) from events").fetchone()
    (stats_json, ended_at) = con.execute("select stats_json, ended_at from sessions").fetchone()
    assert n_events == summary.events
    assert ended_at is not None
    assert json.loads(stats_json)["frames_ok"] > 4000


def test_replay_of_the_capture_gives_the_same_samples_and_events(live_30s, tmp_path):
    tmp, live_summary, live = live_30s
    with ReplaySource(tmp / "live.twcap") as source:
        summary, again = run_pipeline(source, tmp_path, "replay")
    assert again.blocks == live.blocks  # same samples, indices, device and host times
    assert again.events == live.events
    assert (tmp_path / "replay.jsonl").read_text() == (tmp / "live.jsonl").read_text()
    assert summary.decoder == live_summary.decoder


@pytest.mark.parametrize("detect_every_s", [0.37, 1.0])
def test_a_replay_that_runs_the_detector_less_often_logs_the_same_events(live_30s, tmp_path, detect_every_s):
    """A fast replay runs the detector once per ``detect_every_s`` of signal: the same
    events, wall times included, bit for bit. Regression: wall times came from the clock
    fit as it stood when each event was logged, so calling the detector later moved them
    (up to 0.9 s on a capture taken as fast as possible); now each sample is mapped with
    the fit recorded for its own second of signal."""
    tmp, _, live = live_30s
    with ReplaySource(tmp / "live.twcap") as source:
        _, again = run_pipeline(source, tmp_path, "batched", detect_every_s=detect_every_s)
    assert len(live.events) >= 10
    assert again.events == live.events
    assert all(e.wall_time_s is not None for e in again.events)
    assert (tmp_path / "batched.jsonl").read_text() == (tmp / "live.jsonl").read_text()


def test_a_batched_replay_of_a_damaged_capture_logs_the_same_events(live_30s, tmp_path):
    """Gaps (lost frames) end a batch: the detector is told of each gap in order."""
    tmp, _, _ = live_30s
    corrupt_capture(tmp / "live.twcap", tmp_path / "bad.twcap", seed=6)
    runs = []
    for name, every in (("each", 0.0), ("batched", 1.0)):
        with ReplaySource(tmp_path / "bad.twcap") as source:
            summary, rec = run_pipeline(source, tmp_path, name, detect_every_s=every)
        runs.append((summary, rec))
    assert runs[0][0].problems().get("samples_lost", 0) > 0
    assert runs[1][1].events == runs[0][1].events
    assert (tmp_path / "batched.jsonl").read_text() == (tmp_path / "each.jsonl").read_text()


def _stored(path) -> dict[str, list]:
    """The rows a run leaves in its database that do not depend on when it ran."""
    con = sqlite3.connect(path)
    try:
        return {
            "events": con.execute("SELECT * FROM events ORDER BY id").fetchall(),
            "artefacts": con.execute("SELECT * FROM artefacts ORDER BY id").fetchall(),
            "quality": con.execute("SELECT id, quality_json FROM sessions ORDER BY id").fetchall(),
        }
    finally:
        con.close()


@pytest.mark.parametrize("write_every_s", [5.0, 60.0])
def test_a_fast_replay_holds_its_writes_and_stores_the_same_rows(live_30s, tmp_path, monkeypatch, write_every_s):
    """A fast replay hands events, artefact segments and quality to the outputs once per
    ``WRITE_EVERY_S`` of signal (5 s: several hand-overs; 60 s: all at the session's end):
    the database holds the same rows, in the same order, as handing them on after every
    detector call, and the events file is the same byte for byte (a capture with lost
    frames; with artefact segments: test_replay_files)."""
    import twitchwatch.pipeline as pipeline

    tmp, _, _ = live_30s
    corrupt_capture(tmp / "live.twcap", tmp_path / "bad.twcap", seed=6)
    for name, every_s in (("each", 0.0), ("held", write_every_s)):  # 0: after every detector call
        monkeypatch.setattr(pipeline, "WRITE_EVERY_S", every_s)
        with ReplaySource(tmp_path / "bad.twcap") as source:
            run_pipeline(source, tmp_path, name, detect_every_s=1.0)
    each, held = _stored(tmp_path / "each.sqlite3"), _stored(tmp_path / "held.sqlite3")
    assert len(each["events"]) >= 10 and each["quality"][0][1]
    assert held == each
    assert (tmp_path / "held.jsonl").read_text() == (tmp_path / "each.jsonl").read_text()


def corrupt_capture(src, dst, seed: int) -> None:
    """Rewrite a capture with random damage: bit flips, garbage bursts, lost bytes, chunks cut anywhere."""
    rng = random.Random(seed)
    data = bytearray()
    times = []
    for rec in read_capture(src):
        times.append((len(data), rec.host_time_s))
        data += rec.data
    for _ in range(200):
        i = rng.randrange(len(data))
        kind = rng.random()
        if kind < 0.4:
            data[i] ^= 1 << rng.randrange(8)
        elif kind < 0.7:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        else:
            del data[i:i + rng.randrange(1, 400)]
    with CaptureWriter(dst) as w:
        pos, t = 0, times[0][1]
        while pos < len(data):
            n = rng.choice((1, 7, 64, 512, 4096))
            w.write(t, bytes(data[pos:pos + n]))
            pos += n
            t += 0.001


def test_corrupted_stream_is_counted_and_no_wrong_sample_is_emitted(live_30s, tmp_path):
    tmp, live_summary, _ = live_30s
    corrupt_capture(tmp / "live.twcap", tmp_path / "bad.twcap", seed=5)
    with ReplaySource(tmp_path / "bad.twcap") as source:
        summary, rec = run_pipeline(source, tmp_path, "bad")
    assert_blocks_match_truth(rec, seed=11)
    problems = summary.problems()
    assert problems.get("crc_errors", 0) + problems.get("cobs_errors", 0) > 0
    assert problems.get("samples_lost", 0) > 0
    got = sum(len(b.samples) for b in rec.blocks if b.stream_id == EMG_STREAM)
    # What arrived plus what was counted lost accounts for the stream up to its last block.
    last_end = max(b.end_sample_index for b in rec.blocks if b.stream_id == EMG_STREAM)
    emg_gaps = summary.decoder["samples_lost"]
    assert got <= last_end <= got + emg_gaps
    assert 0.5 * 60_000 < got < 60_000


def test_firmware_restart_mid_stream_starts_a_new_session(tmp_path):
    # In real time, as a device streams: a board running ahead of real time fills the
    # host's read-ahead queue (transports/readahead.py, up to 4 MB, minutes of signal), so
    # its restart would reach the pipeline only after the 6 s this run lasts.
    board = VirtualBoard(seed=4, duration_s=None, realtime=True)
    restarted = []

    def on_block(b) -> None:
        if b.stream_id == EMG_STREAM and b.first_sample_index >= 4000 and not restarted:
            restarted.append(b.first_sample_index)
            board.restart()

    rec = Recorder()
    with board as source, Store(tmp_path / "r.sqlite3") as store:
        pipe = Pipeline(source, source_name="virtual", store=store,
                        on_block=lambda b: (rec.block(b), on_block(b)), on_event=rec.event)
        summary = pipe.run(duration_s=6.0)
        sessions = store.sessions()
    assert restarted
    assert summary.resets == 1
    assert len(sessions) == 2 and all(s["ended_at"] is not None for s in sessions)
    assert sessions[0]["boot_id"] != sessions[1]["boot_id"]
    # After the reset the sample index restarts at 0; both boots' samples equal the truth.
    # Split in arrival order, not by host time: one serial read can hold the old boot's
    # last frames and the new boot's first, and its blocks share a host timestamp.
    emg = [b for b in rec.blocks if b.stream_id == EMG_STREAM]
    before, after = emg[: _reset_position(emg)], emg[_reset_position(emg) :]
    assert before and after and after[0].first_sample_index == 0
    assert_blocks_match_truth(rec, seed=4)
    times = [e.t_s for e in rec.events]
    assert times == sorted(times), "t stays monotonic across a device reset"


def _reset_position(emg: list) -> int:
    """Position (arrival order) of the first EMG block whose sample index went back."""
    for pos in range(1, len(emg)):
        if emg[pos].first_sample_index < emg[pos - 1].first_sample_index:
            return pos
    raise AssertionError("no restart of the sample index seen")


def test_firmware_dying_ends_the_run_with_a_clear_reason(tmp_path):
    board = VirtualBoard(seed=2, duration_s=None)
    killed = []

    def on_block(b) -> None:
        if b.first_sample_index > 2000 and not killed:
            killed.append(True)
            board._proc.kill()

    with board as source:
        with Store(tmp_path / "k.sqlite3") as store:
            pipe = Pipeline(source, source_name="virtual", store=store, on_block=on_block)
            summary = pipe.run(duration_s=60.0)
    assert killed
    assert "exit" in summary.ended_because or "closed" in summary.ended_because, summary.ended_because
    assert summary.samples[EMG_STREAM] < 60 * 2000


def test_realtime_events_carry_the_wall_time_of_their_peak(tmp_path):
    """In real time, each event's wall_time_s (device clock mapped to the host clock)
    lies just before the moment the host reported it: never after, and no earlier
    than the detector's latency plus the link's buffering allow."""
    import time

    seen = []
    with VirtualBoard(seed=9, duration_s=5, realtime=True, twitch_rate_per_min=60) as source:
        with Store(tmp_path / "w.sqlite3") as store:
            pipe = Pipeline(source, source_name="virtual", store=store,
                            on_event=lambda e: seen.append((e, time.time())))
            summary = pipe.run()
            stored = store.events()
    assert len(seen) >= 3, summary
    for event, reported_unix_s in seen:
        assert reported_unix_s - 0.5 < event.wall_time_s <= reported_unix_s, (event, reported_unix_s)
    walls = sorted(e.wall_time_s for e, _ in seen)
    assert sorted(r["wall_time_s"] for r in stored) == pytest.approx(walls, abs=1e-6)


def test_a_full_disk_under_the_side_outputs_stops_them_not_the_run(live_30s, tmp_path, monkeypatch):
    """The events file is /dev/full (every write fails: ENOSPC) and the capture's disk
    fills after half its chunks: both are closed, the run goes on to the end with every event
    in the database, and the summary says what each output missed."""
    import dataclasses
    import errno

    from twitchwatch.transports import capture as capture_mod

    tmp, _, live = live_30s
    real_write = capture_mod.CaptureWriter.write
    calls = {"n": 0}
    chunks = list(read_capture(tmp / "live.twcap"))
    fit = len(chunks) // 2  # how many chunks the live run read depends on the machine's load

    def filling_write(self, host_time_s, data):
        calls["n"] += 1
        if calls["n"] > fit:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, host_time_s, data)

    monkeypatch.setattr(capture_mod.CaptureWriter, "write", filling_write)
    rec = Recorder()
    with ReplaySource(tmp / "live.twcap") as source, Store(tmp_path / "full.sqlite3") as store:
        summary = Pipeline(source, source_name="full", store=store, events_out="/dev/full",
                           capture=tmp_path / "again.twcap", on_block=rec.block, on_event=rec.event).run()
        stored = store.events()
    # the run itself lost nothing (wall times differ: a new capture sets the run's wall clock)
    no_wall = lambda es: [dataclasses.replace(e, wall_time_s=None) for e in es]  # noqa: E731
    assert rec.blocks == live.blocks and no_wall(rec.events) == no_wall(live.events)
    assert len(stored) == len(live.events) > 0
    ev_warn = next(w for w in summary.warnings if w.startswith("events file /dev/full"))
    assert "No space left on device" in ev_warn and f"after 0 events; the {len(live.events)} events after" in ev_warn
    cap_warn = next(w for w in summary.warnings if w.startswith("capture "))
    kept = list(read_capture(tmp_path / "again.twcap"))
    assert fit > 0 and [c.data for c in kept] == [c.data for c in chunks[:fit]]
    kept_bytes, missed = sum(len(c.data) for c in chunks[:fit]), sum(len(c.data) for c in chunks[fit:])
    assert f"after {kept_bytes} bytes; the {missed} bytes received after" in cap_warn


def _fill_database(store: Store) -> int:
    """Make the database full as a full disk would (SQLite's SQLITE_FULL): no page may be
    added, and the pages there are filled with a dummy session's rows, so the next event,
    artefact segment or session row needs a page it cannot get. Returns the dummy's id."""
    import dataclasses

    from twitchwatch.detect import TwitchEvent
    from twitchwatch.store import StoreFullError

    dummy = store.start_session(device_id="padding", firmware_version="-", boot_id=0, source="padding")
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    event = TwitchEvent(sample_index=0, t_s=0.0, channel=0, channel_label="pad", amplitude_uv=1.0, duration_ms=1.0,
                        confidence=0.5, detector="padding")
    fills = (lambda i: store.add_events(dummy, [dataclasses.replace(event, sample_index=i)]),
             lambda i: store.add_artefacts(dummy, [dict(kind="pop", channel=0, start_index=i, end_index=i + 1,
                                                        t_start_s=0.0, t_end_s=0.0, detail="padding")]),
             lambda i: store.start_session(device_id="padding", firmware_version="-", boot_id=i, source="padding"))
    for fill in fills:
        for i in range(100_000):
            try:
                fill(i)
            except StoreFullError:
                break
        else:
            raise AssertionError("the database never became full")
    return dummy


@pytest.mark.parametrize("full_from,room_again", [(1 / 3, True), (1 / 3, False), (0.0, True)],
                         ids=["a-third-in-room-again", "a-third-in-full-to-the-end", "full-at-the-start-room-again"])
def test_a_full_database_does_not_end_the_run(live_30s, tmp_path, full_from, room_again):
    """The database is full from the start, or fills a third of the way through a replay:
    the run goes on, every event reaches the caller and the events file. With room again
    (the limit lifted) two thirds in, what waited is written: the session (with the time it
    began), every event and its end are in the database. Without, the summary says how
    many events are not in it."""
    import time

    tmp, _, live = live_30s
    rec = Recorder()
    n_blocks = len(live.blocks)
    with ReplaySource(tmp / "live.twcap") as source, Store(tmp_path / "full.sqlite3") as store:
        pipe = Pipeline(source, source_name="full", store=store, events_out=tmp_path / "ev.jsonl", on_event=rec.event,
                        after_session=annotate_session)
        pipe._store_writes.retry_every_s = 0.0  # try again at every write (a replay is over in seconds)
        if not full_from:
            _fill_database(store)

        def on_block(block):
            rec.block(block)
            if full_from and len(rec.blocks) == int(n_blocks * full_from):
                _fill_database(store)
            if room_again and len(rec.blocks) == 2 * n_blocks // 3:
                store._conn.execute("PRAGMA max_page_count = 1073741823")

        pipe.on_block = on_block
        begun = time.time()
        summary = pipe.run()
        real = [s for s in store.sessions() if s["source"] == "full"]
        stored = [e for e in store.events() if e["session_id"] in {s["id"] for s in real}]
    assert rec.blocks == live.blocks and rec.events == live.events and len(live.events) > 0
    lines = (tmp_path / "ev.jsonl").read_text().splitlines()
    assert [json.loads(x)["sample_index"] for x in lines] == [e.sample_index for e in live.events]
    warning = next(w for w in summary.warnings if "the database was full" in w)
    if room_again:
        assert [e["sample_index"] for e in stored] == [e.sample_index for e in live.events]
        assert "written once there was room" in warning and "NOT in the database" not in warning
        # its start is its first sample's, on the recording's clock (not when its row was written),
        # and it lasts as long as its signal (issue 17, item 12)
        recorded = read_capture(tmp / "live.twcap").header.created_unix_s
        assert len(real) == 1 and abs(real[0]["started_at"] - recorded) < 5 and real[0]["started_at"] < begun
        assert real[0]["ended_at"] - real[0]["started_at"] == pytest.approx(30.0)
        assert summary.sessions == [real[0]["id"]] and summary.events_not_in_database == 0
        assert not any("cause annotation" in w for w in summary.warnings)
    else:
        missing = len(live.events) - len(stored)
        assert missing > 0 and [e["sample_index"] for e in stored] == [e.sample_index for e in live.events][:len(stored)]
        assert f"NOT in the database: {missing} events" in warning
        assert summary.events_not_in_database == missing
        assert any("cause annotation of session" in w and "skipped" in w for w in summary.warnings)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MB filesystem (tmpfs), for a disk that really fills; skipped where this
    process may not mount one (needs root, as on the project's CI machine)."""
    import os
    import subprocess

    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_really_full_disk_under_the_database_waits_for_room(live_30s, tiny_disk):
    """The database on a real filesystem that a ballast file fills to the last byte
    (ENOSPC, which SQLite reports as SQLITE_FULL): the run goes on; once the ballast is
    deleted two thirds in, what waited is written and every event is in the database."""
    import errno

    tmp, _, live = live_30s
    rec = Recorder()
    n_blocks = len(live.blocks)
    with ReplaySource(tmp / "live.twcap") as source, Store(tiny_disk / "tw.sqlite3") as store:
        ballast = tiny_disk / "ballast"
        with ballast.open("wb", buffering=0) as f:  # fill the disk: write until it refuses
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        pipe = Pipeline(source, source_name="tiny", store=store, on_event=rec.event)
        pipe._store_writes.retry_every_s = 0.0

        def on_block(block):
            rec.block(block)
            if len(rec.blocks) == 2 * n_blocks // 3:
                ballast.unlink()

        pipe.on_block = on_block
        summary = pipe.run()
        stored = store.events()
    assert rec.events == live.events and len(live.events) > 0
    warning = next(w for w in summary.warnings if "the database was full" in w)
    assert "database or disk is full" in warning and "written once there was room" in warning
    assert [e["sample_index"] for e in stored] == [e.sample_index for e in live.events]
    assert summary.events_not_in_database == 0


def test_a_board_that_waits_for_start_is_started(tmp_path):
    """Real firmware (firmware/main.py) announces itself and streams only after the host's
    START; the Unix port's --wait-start does the same. The host sends START when a HELLO
    is followed by no DATA, and the samples are the simulator's from index 0."""
    import time

    rec = Recorder()
    deadline = time.monotonic() + 30.0  # without START the board would wait for ever
    with VirtualBoard(seed=11, duration_s=3, extra_args=("--wait-start",)) as source, \
            Store(tmp_path / "waiting.sqlite3") as store:
        summary = Pipeline(source, source_name="waiting", store=store, on_block=rec.block,
                           on_event=rec.event).run(should_stop=lambda: time.monotonic() > deadline)
    assert summary.ended_because != "stopped", "no START: the board never streamed"
    assert summary.problems() == {}, summary.problems()
    starts, samples = rec.samples(EMG_STREAM)
    assert starts[0] == 0 and samples.shape == (3 * 2000, 2)
    emg_true, _, _ = truth(11, 6000, 0)
    assert np.array_equal(samples, emg_true)


def test_a_duplicated_and_a_swapped_frame_shift_nothing(live_30s, tmp_path):
    """Issue 17, item 1: one frame repeated and two frames swapped early in the capture
    (as BLE does): every sample arrives once, in order; the same twitches at the same
    t_s; nothing reported lost, restarted or out of order. Before, the repeat was taken
    as a stream restart: samples twice, and every later t_s moved by the time so far."""
    tmp, live_summary, live = live_30s
    data = b"".join(rec.data for rec in read_capture(tmp / "live.twcap"))
    frames = [f + b"\0" for f in data.split(b"\0") if f]
    k = 300  # frames into the stream (about 2 s)
    damaged = frames[:k] + [frames[k - 1]] + frames[k:k + 50] + [frames[k + 51], frames[k + 50]] + frames[k + 52:]
    first_time = next(iter(read_capture(tmp / "live.twcap"))).host_time_s
    wire = b"".join(damaged)
    with CaptureWriter(tmp_path / "dup.twcap") as w:
        for n, i in enumerate(range(0, len(wire), 4096)):
            w.write(first_time + 0.02 * n, wire[i:i + 4096])
    with ReplaySource(tmp_path / "dup.twcap") as source:
        summary, rec = run_pipeline(source, tmp_path, "dup")
    for sid in (EMG_STREAM, ACC_STREAM):
        starts, samples = rec.samples(sid)
        np.testing.assert_array_equal(samples, live.samples(sid)[1])
        np.testing.assert_array_equal(starts, live.samples(sid)[0])
    assert [(e.t_s, e.channel, e.sample_index) for e in rec.events] == \
        [(e.t_s, e.channel, e.sample_index) for e in live.events]
    assert (summary.decoder["duplicates"], summary.decoder["reordered"]) == (1, 1)
    assert summary.decoder["stream_restarts"] == summary.resets == 0
    assert summary.problems() == {"duplicates": 1}


def _records(path):
    """(offset, host time, payload length) of every record of a capture."""
    return [(r.offset, r.host_time_s, len(r.data)) for r in read_capture(path)]


@pytest.mark.parametrize("where", ["payload", "time"])
def test_one_flipped_bit_in_a_capture_costs_one_record(live_30s, tmp_path, where):
    """Issue 17, items 2 and 3: a flipped payload byte in the third record dropped every
    record after it (0 of 16 twitches, exit 0, 'damaged: nothing'); a flipped bit in a
    record's time dated twitches in 1995 or NaN. Now the record is skipped, the reader
    goes on at the next one, and the summary says what was skipped."""
    from twitchwatch.transports.capture import RECORD_HEADER_BYTES

    tmp, _, live = live_30s
    raw = bytearray((tmp / "live.twcap").read_bytes())
    offset, _, n = _records(tmp / "live.twcap")[2]
    raw[offset + (RECORD_HEADER_BYTES + n // 2 if where == "payload" else 13)] ^= 0x40
    (tmp_path / "flip.twcap").write_bytes(bytes(raw))
    with ReplaySource(tmp_path / "flip.twcap") as source:
        summary, rec = run_pipeline(source, tmp_path, "flip")
    assert summary.problems().get("capture_bytes_skipped") == RECORD_HEADER_BYTES + n
    assert "damaged bytes in 1 place(s) skipped" in summary.ended_because
    live_ids = {(e.sample_index, e.channel) for e in live.events}
    got_ids = {(e.sample_index, e.channel) for e in rec.events}
    assert len(got_ids & live_ids) >= len(live_ids) - 2
    walls = [e.wall_time_s for e in rec.events]
    live_walls = [e.wall_time_s for e in live.events]
    assert all(w is not None and abs(w - live_walls[0]) < 60 for w in walls)


def test_a_run_faster_than_real_time_records_its_signal_time(live_30s):
    """Issue 17, item 12: the virtual board streams 30 s of signal in a few seconds; the
    session lasted as long as the host took (a --fast demo's 60 s counted as 0.45 s, and
    the report said 283,432 twitches per hour). Now it records its 30 s of signal."""
    tmp, summary, _ = live_30s
    assert summary.duration_host_s < 25  # the board did run faster than real time
    con = sqlite3.connect(tmp / "live.sqlite3")
    started, ended, stats_json = con.execute("select started_at, ended_at, stats_json from sessions").fetchone()
    stats = json.loads(stats_json)
    assert ended - started == pytest.approx(30.0, abs=1e-6)
    assert stats["span_s"] == pytest.approx(30.0) and stats["signal_s"] == pytest.approx(30.0)
    assert 15.0 < stats["recorded_s"] <= 30.0
    assert summary.dated_by == "this computer's clock"


def test_issue15_item7_a_stored_capture_or_file_is_not_stored_twice(live_30s, tmp_path, capsys):
    """The live run wrote a capture into live.sqlite3: replaying that capture into the
    same database is refused (its twitches would count twice) unless --again; the
    events file says it appends, and each line names its session."""
    from twitchwatch.cli import main

    tmp, live_summary, _ = live_30s
    db = tmp / "live.sqlite3"
    with Store(db) as store:
        before = len(store.events())
        assert store.sessions()[0]["source_sha256"]
    lines = (tmp / "live.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["session_id"] == live_summary.sessions[0] for line in lines)
    capsys.readouterr()
    rc = main(["replay", str(tmp / "live.twcap"), "--db", str(db), "-q", "--no-dashboard"])
    err = capsys.readouterr().err
    assert rc == 2 and "already in this database" in err and "--again" in err
    with Store(db) as store:
        assert len(store.events()) == before and len(store.sessions()) == 1
    out = tmp_path / "again.jsonl"
    out.write_text('{"old": 1}\n')
    rc = main(["replay", str(tmp / "live.twcap"), "--db", str(db), "-q", "--no-dashboard", "--again",
               "--events-out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0 and f"events: appending to {out} (it already holds 1 line(s)" in err
    with Store(db) as store:
        assert len(store.sessions()) == 2 and len(store.events()) == 2 * before
        second = store.sessions()[1]["id"]
    assert {json.loads(line).get("session_id") for line in out.read_text().splitlines()[1:]} == {second}


def test_issue15_item7_a_recording_file_is_not_stored_twice(tmp_path, capsys):
    from twitchwatch.cli import main
    from twitchwatch.formats import write_edf
    from twitchwatch.sim import simulate

    rec = simulate("benign_clean", 20.0, seed=4)
    edf = tmp_path / "r.edf"
    write_edf(edf, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels))
    db = tmp_path / "t.sqlite3"
    assert main(["replay", str(edf), "--db", str(db), "-q", "--no-dashboard"]) == 0
    with Store(db) as store:
        n = len(store.events())
    assert n > 0
    capsys.readouterr()
    assert main(["replay", str(edf), "--db", str(db), "-q", "--no-dashboard"]) == 2
    assert "r.edf is already in this database (session 1" in capsys.readouterr().err
    with Store(db) as store:
        assert len(store.events()) == n
    # a folder is not "no such file" (item 12)
    assert main(["replay", str(tmp_path), "--db", str(db)]) == 2
    assert "is a folder" in capsys.readouterr().err
