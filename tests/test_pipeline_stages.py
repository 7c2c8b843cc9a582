"""The pipeline's stages driven by a fake byte source built from the protocol's own
synthetic frames (:mod:`twitchwatch.protocol.synthetic`, the encoder the test vectors
check): the branches a device reaches only by resetting, restarting or losing frames,
in milliseconds, without the MicroPython subprocess.

The stages: the link handshake (:mod:`twitchwatch.link`), the sinks
(:mod:`twitchwatch.sinks`) and the run that wires them (:class:`Pipeline`)."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.link import LinkHandshake
from twitchwatch.pipeline import Pipeline
from twitchwatch.protocol import Command, FrameType, encode_command, encode_frame
from twitchwatch.protocol.payloads import build_data_payload
from twitchwatch.protocol.synthetic import synthetic_stream
from twitchwatch.sinks import Sink
from twitchwatch.store import Store
from twitchwatch.transports import ByteSource, TransportClosed, TransportError


class FakeSource(ByteSource):
    """Hands out the given chunks one per read (receive times 10 ms apart), then ends as
    a pulled cable does; keeps what the host sends. ``writable=False``: a source that
    takes no commands (a replay)."""

    def __init__(self, chunks: list[bytes], writable: bool = True) -> None:
        self.chunks = list(chunks)
        self.sent = bytearray()
        self.writable = writable
        self.host_s = 100.0
        self._closed = False

    def read(self, timeout_s: float) -> tuple[float, bytes]:
        if not self.chunks:
            self._closed = True
            raise TransportClosed("the fake source ended")
        self.host_s += 0.01
        return self.host_s, self.chunks.pop(0)

    def write(self, data: bytes) -> None:
        if not self.writable:
            raise TransportError("a fake replay cannot send")
        self.sent += data

    def close(self) -> None:
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed


def frames_of(wire: bytes) -> list[bytes]:
    """Each COBS frame of ``wire`` with its delimiter (the leading 0x00 dropped)."""
    return [f + b"\0" for f in wire.split(b"\0") if f]


def commands_sent(source: FakeSource) -> list[Command]:
    """The COMMANDs the host wrote, in order: each is the encoder's frame with the next
    command sequence number."""
    out, rest = [], bytes(source.sent)
    while rest:
        seq = len(out)
        command = next(c for c in Command if rest.startswith(encode_command(c, 0, seq)))
        out.append(command)
        rest = rest[len(encode_command(command, 0, seq)):]
    return out


class Recorder(Sink):
    """A sink that keeps the order of what it was told."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def session_started(self, session):
        self.calls.append(("started", session.hello.boot_id))

    def samples(self, blocks):
        self.calls.append(("samples", sum(b.n_samples for b in blocks)))

    def events(self, session, events):
        self.calls.append(("events", len(events)))

    def artefacts(self, session, rows):
        self.calls.append(("artefacts", len(rows)))

    def quality(self, session, rows):
        self.calls.append(("quality", len(rows)))

    def session_ended(self, session, stats, signal):
        self.calls.append(("ended", session.hello.boot_id, stats["frames_ok"], round(signal.span_s, 3)))

    def close(self):
        self.calls.append(("close",))


def run(chunks: list[bytes], tmp_path, **kw):
    source = FakeSource(chunks, writable=kw.pop("writable", True))
    rec = Recorder()
    with Store(tmp_path / "s.sqlite3") as store:
        pipe = Pipeline(source, source_name="fake", store=store, events_out=tmp_path / "ev.jsonl", sinks=[rec], **kw)
        summary = pipe.run()
        sessions = store.sessions()
    return summary, rec, sessions, source


# ---- the link handshake ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_hello_is_asked_for_every_second_until_one_comes():
    clock, sent = Clock(), bytearray()
    link = LinkHandshake(sent.extend, clock=clock)
    for t in (0.5, 1.0, 1.01, 1.5, 2.0, 2.02):
        clock.now = t
        link.tick()
    assert link.sent == {Command.HELLO: 2}
    assert bytes(sent) == encode_command(Command.HELLO, 0, 0) + encode_command(Command.HELLO, 0, 1)
    link.hello_seen()
    clock.now = 10.0
    link.tick()
    assert link.sent.get(Command.HELLO) == 2  # never again once one came


def test_start_is_sent_while_a_device_that_said_hello_sends_no_data():
    clock, sent = Clock(), bytearray()
    link = LinkHandshake(sent.extend, clock=clock)
    link.hello_seen()
    for t in (0.9, 1.01, 1.5, 2.02, 2.5, 3.03):
        clock.now = t
        link.tick()
    assert link.sent == {Command.START: 3}  # at 1.01, 2.02 and 3.03 s: once a second while none comes
    link.data_seen()
    clock.now = 60.0
    link.tick()
    assert link.sent == {Command.START: 3}
    link.reset_seen()  # a reset device waits for START again
    clock.now = 61.5
    link.tick()
    assert link.sent == {Command.START: 4}
    assert link.cmd_seq == 4


def test_a_source_that_takes_no_commands_is_not_an_error():
    def refuse(data: bytes) -> None:
        raise TransportError("read-only")

    clock = Clock()
    link = LinkHandshake(refuse, clock=clock)
    clock.now = 5.0
    link.tick()
    link.seq_restarted()
    assert link.sent == {} and link.cmd_seq == 0


# ---- the run, through the fake source ----------------------------------------------------


def test_a_clean_stream_is_one_session_told_to_every_sink_in_order(tmp_path):
    s = synthetic_stream(3.0, seed=2)
    summary, rec, sessions, source = run([s.wire[i:i + 700] for i in range(0, len(s.wire), 700)], tmp_path)
    assert summary.samples == {0: 6000, 1: 3000} and summary.resets == 0 and summary.problems() == {}
    assert [c[0] for c in rec.calls if c[0] in ("started", "ended", "close")] == ["started", "ended", "close"]
    assert sum(c[1] for c in rec.calls if c[0] == "samples") == 9000
    assert rec.calls[-2] == ("ended", s.hello.boot_id, s.n_frames, 3.0)  # every frame decoded, HELLO too
    assert len(sessions) == 1 and summary.sessions == [sessions[0]["id"]]
    assert sessions[0]["ended_at"] - sessions[0]["started_at"] == pytest.approx(3.0)
    assert source.sent == b""  # DATA came at once: nothing to ask


def test_a_lost_frame_is_a_gap_counted_never_filled(tmp_path):
    s = synthetic_stream(2.0, seed=3)
    frames = frames_of(s.wire)
    lost = frames.pop(40)  # a DATA frame in the middle
    assert lost
    summary, rec, sessions, _ = run([b"\0"] + frames, tmp_path)
    assert summary.decoder["frames_lost"] == 1 and summary.decoder["samples_lost"] == 20
    assert summary.problems()["samples_lost"] == 20
    assert sum(summary.samples.values()) == 4000 + 2000 - 20
    assert sessions[0]["stats"]["samples_lost"] == 20
    # the EMG stream's gap is excluded from the recorded time (docs/store.md "Recorded time")
    if summary.samples[0] < 4000:
        assert summary.signal_s == pytest.approx(2.0 - 20 / 2000)


def test_a_device_reset_ends_the_session_and_starts_a_new_one(tmp_path):
    first = synthetic_stream(2.0, seed=4, boot_id=0x11)
    second = synthetic_stream(2.0, seed=5, boot_id=0x22)  # rebooted: counts from seq 0, new boot id
    summary, rec, sessions, source = run([first.wire, second.wire], tmp_path)
    assert summary.resets == 1 and len(sessions) == 2 and summary.sessions == [s["id"] for s in sessions]
    assert [c[:2] for c in rec.calls if c[0] in ("started", "ended")] == [
        ("started", 0x11), ("ended", 0x11), ("started", 0x22), ("ended", 0x22)]
    assert [s["boot_id"] for s in sessions] == [0x11, 0x22]
    assert summary.samples == {0: 8000, 1: 4000} and summary.span_s == pytest.approx(4.0)


def test_a_restart_of_the_sample_count_is_a_new_detector_run_in_the_same_session(tmp_path):
    first = synthetic_stream(2.0, seed=6, boot_id=0x33)
    # START again: the same boot's HELLO, the frame counter going on, sample indices from 0
    again = synthetic_stream(2.0, seed=7, boot_id=0x33, first_seq=first.n_frames)
    summary, rec, sessions, _ = run([first.wire, again.wire], tmp_path)
    assert summary.resets == 0 and summary.decoder["stream_restarts"] == 2 and len(sessions) == 1
    assert summary.samples == {0: 8000, 1: 4000}
    # the second run's time continues after the first's (t_s stays monotonic in one file)
    assert summary.span_s == pytest.approx(4.0) and rec.calls.count(("started", 0x33)) == 1


def test_a_reset_whose_hello_was_lost_makes_the_host_ask_for_hello(tmp_path):
    first = synthetic_stream(1.0, seed=8, boot_id=0x44)
    rebooted = frames_of(synthetic_stream(1.0, seed=9, boot_id=0x55).wire)[1:]  # its HELLO lost
    summary, _, _, source = run([first.wire, b"".join(rebooted)], tmp_path)
    assert summary.decoder["seq_restarts"] == 1
    assert Command.HELLO in commands_sent(source)


def test_a_device_that_waits_for_start_gets_it(monkeypatch):
    """HELLO only, then silence (each read half a second of host time): the host sends
    START after a second without DATA, and again a second after that while none comes."""
    import twitchwatch.link as link

    clock = Clock()
    monkeypatch.setitem(link.LinkHandshake.__init__.__kwdefaults__, "clock", clock)

    class Ticking(FakeSource):
        def read(self, timeout_s):
            clock.now += 0.5
            return super().read(timeout_s)

    hello = frames_of(synthetic_stream(1.0, seed=10).wire)[0]
    source = Ticking([b"\0" + hello] + [b""] * 8)  # reads at 0.5 (HELLO), 1.0, ... 4.5 s
    summary = Pipeline(source, source_name="fake").run()
    assert commands_sent(source) == [Command.START, Command.START]  # at 2.0 s and 3.5 s
    assert summary.samples == {}


def test_a_read_only_source_is_run_without_commands(tmp_path):
    first = synthetic_stream(1.0, seed=8, boot_id=0x44)
    rebooted = frames_of(synthetic_stream(1.0, seed=9, boot_id=0x55).wire)[1:]
    summary, _, _, source = run([first.wire, b"".join(rebooted)], tmp_path, writable=False)
    assert summary.decoder["seq_restarts"] == 1 and source.sent == b""


def test_samples_from_a_file_reach_the_sinks_without_a_source(tmp_path):
    from twitchwatch.formats import open_recording, write_edf

    rng = np.random.default_rng(1)
    path = tmp_path / "r.edf"
    write_edf(path, rng.normal(0, 5, size=(4000, 2)), 2000.0, emg_labels=["EMG 1", "EMG 2"])
    rec = Recorder()
    with open_recording(path) as recording:
        summary = Pipeline(None, source_name="file", sinks=[rec]).run_recording(recording)
    kinds = [c[0] for c in rec.calls]
    assert kinds[0] == "started" and kinds[-2:] == ["ended", "close"]
    assert sum(c[1] for c in rec.calls if c[0] == "samples") == 4000  # each block, as physical values
    assert summary.span_s == pytest.approx(2.0)


def test_data_frames_are_the_encoders(tmp_path):
    """The fake source's bytes are the protocol encoder's: a frame built here by hand is
    one of them (the synthetic stream is not a second, private encoding)."""
    s = synthetic_stream(1.0, seed=11)
    info = s.hello.streams[0]
    by_hand = encode_frame(FrameType.DATA, 1, build_data_payload(0, 0, 0, s.samples[0][:20], info.sample_format))
    assert by_hand in frames_of(s.wire)


def test_the_dashboard_hub_starts_a_new_run_when_the_pipeline_says_so(tmp_path):
    """The hub is a sink: a START that restarts the sample count reaches it as a run
    boundary (not guessed from indices going back), so its trace shows the new run only."""
    from twitchwatch.dashboard.hub import LiveHub

    first = synthetic_stream(3.0, seed=12, boot_id=0x66)
    again = synthetic_stream(1.0, seed=13, boot_id=0x66, first_seq=first.n_frames)
    hub = LiveHub(window_s=1.0, columns=100)
    started: list[object] = []
    real = hub.run_started
    hub.run_started = lambda session: (started.append(session), real(session))  # type: ignore[method-assign]
    Pipeline(FakeSource([first.wire, again.wire]), source_name="fake", sinks=[hub]).run()
    assert len(started) == 2  # the first HELLO's session, then the restart
    trace = hub.take()["trace"]
    assert trace["t_end_s"] == pytest.approx(1.0)  # the second run's 1 s, not the first's 3 s


def test_a_device_that_talks_without_end_costs_a_count_not_a_list(tmp_path):
    """Issue 17 (memory bounded by design): the run kept every TEXT line a device sent
    in its summary, for the run's life. Now the first MAX_LINES_KEPT are kept and the
    rest counted; the same for warnings."""
    from twitchwatch import pipeline as pipeline_module

    limit = getattr(pipeline_module, "MAX_LINES_KEPT", 200)  # (the old run had no bound)
    s = synthetic_stream(1.0, seed=14)
    talk = b"".join(encode_frame(FrameType.TEXT, s.n_frames + k, f"line {k}".encode()) for k in range(limit + 3000))
    summary = Pipeline(FakeSource([s.wire, talk]), source_name="fake").run()
    assert summary.texts == [f"line {k}" for k in range(limit)]
    assert getattr(summary, "texts_not_kept", None) == 3000
    assert not summary.problems()
    summary.warn(*(f"w {k}" for k in range(limit + 5)))
    assert len(summary.warnings) == limit and summary.warnings_not_kept == 5
