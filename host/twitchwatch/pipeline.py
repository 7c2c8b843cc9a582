"""Wire a source to the stages: link → decode → assemble → detect → sinks.

The same code runs live (serial, virtual board), in replay of a capture, and on
recording files (EDF/BDF/CSV, :mod:`twitchwatch.formats`): byte sources go through
the frame decoder, files enter one step later as blocks of physical samples, and
from there on the path is shared. A capture replayed gives the same decoded samples
and the same events as the live run. docs/architecture.md draws the stages:

- :mod:`twitchwatch.link` — the START/HELLO handshake (what to ask the device, when);
- :class:`~twitchwatch.protocol.FrameDecoder` — bytes to messages;
- :mod:`twitchwatch.assembler` — messages to contiguous samples, gaps, run boundaries;
- :mod:`twitchwatch.detectrun` — the detector's life, wall times (the clock mapping),
  artefact and quality rows;
- :mod:`twitchwatch.sinks` — the store, the events file, callbacks, the dashboard hub
  and LSL outlet, behind one interface; cause annotation as the caller's
  end-of-session hook.

:class:`Pipeline` holds what joins them: the read loop, the run's sessions (a device
reset starts a new store session; a START that restarts the sample count, a new
detector run in the same session) and the run's summary.

A store session lasts as long as its signal (:mod:`twitchwatch.sessiontime`,
docs/store.md "Recorded time"), never the host's processing time: ``started_at`` is its
first EMG sample's wall time on the source's clock, ``ended_at`` that plus the signal's
span, and ``stats_json`` holds the recorded seconds (gaps and unusable stretches
excluded) every rate uses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from twitchwatch import TwitchwatchError
from twitchwatch.assembler import FileAssembler, Samples, assemble
from twitchwatch.detect import TwitchEvent
from twitchwatch.detectrun import DetectionRun
from twitchwatch.heap import HeapTrimmer
from twitchwatch.limits import check_hello, short
from twitchwatch.link import LinkHandshake
from twitchwatch.protocol import DeviceReset, FrameDecoder, Gap, Hello, SampleBlock, Status, StreamRestart, Text, Timing
from twitchwatch.sinks import AfterSession, CallbackSink, EventsFileSink, RunSession, SideOutput, Sink, StoreSink, \
    open_for_writing
from twitchwatch.store import Store
from twitchwatch.transports import ByteSource, CaptureWriter, TransportClosed

if TYPE_CHECKING:
    from twitchwatch.formats import RecordingFile

log = logging.getLogger(__name__)

_READ_TIMEOUT_S = 0.2
_TAIL_WAIT_S = 1.0  # after duration_s, how long the other streams' last frames are waited for
#: after this long without a sample, say once what to check (a silent or wrong port)
SILENT_HINT_S = 5.0
#: a replay as fast as possible (``detect_every_s`` > 0) hands its events, artefact
#: segments and signal quality to the outputs once per this much signal (s), and at every
#: session's end: one store transaction and one events-file write for many detector calls
WRITE_EVERY_S = 60.0
#: the device's TEXT lines, and the warnings, a run's summary keeps (the first ones); later
#: ones are counted (:attr:`RunSummary.texts_not_kept`, ``warnings_not_kept``): a device
#: that talks without end over days costs a count, not a list
MAX_LINES_KEPT = 200


def _stream_shape(hello: Hello) -> list[tuple[int, int, int, int, int]]:
    """What a run's processing depends on in a HELLO's streams (rates, formats, channels)."""
    return [(s.stream_id, s.sample_rate_mhz or round(s.sample_rate_hz * 1000), s.sample_format, s.samples_per_frame,
             len(s.channels)) for s in hello.streams]


def _rates(hello: Hello) -> str:
    """``EMG 1000 Hz, ACC 250 Hz``: each stream by its first channel's label's first word."""
    return ", ".join(f"{(s.channels[0].label.split() or ['stream'])[0] if s.channels else 'stream'} "
                     f"{s.sample_rate_hz:g} Hz" for s in hello.streams)


def stream_change_line(old: Hello, new: Hello, reason: str | None) -> str:
    """One line for people: a device that now streams at other rates, and why (its own
    ``link: ...`` TEXT, sent just before the new HELLO)."""
    lower = sum(s.sample_rate_hz for s in new.streams) < sum(s.sample_rate_hz for s in old.streams)
    verb = "lowered its stream" if lower else "changed its stream"
    why = reason if reason else "the device gave no reason"
    return f"device {short(new.device_id)} {verb} to {_rates(new)} (was {_rates(old)}): {why}"


def _keep_first(kept: list[str], line: str) -> int:
    """Append ``line`` to ``kept`` while it holds fewer than :data:`MAX_LINES_KEPT` lines;
    return 1 when it was not kept (for the caller's count), else 0."""
    if len(kept) < MAX_LINES_KEPT:
        kept.append(line)
        return 0
    return 1


@dataclasses.dataclass
class RunSummary:
    """What one run saw: counts a user can check, and why it ended."""

    ended_because: str
    duration_host_s: float = 0.0
    sessions: list[int] = dataclasses.field(default_factory=list)
    samples: dict[int, int] = dataclasses.field(default_factory=dict)  # stream_id → samples decoded
    events: int = 0  # counted twitches
    #: the detector's uncounted candidates (stored and in the events file, not shown as twitches)
    candidates: int = 0
    artefacts: dict[str, int] = dataclasses.field(default_factory=dict)  # kind → segments rejected
    quality: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # latest, per EMG channel
    resets: int = 0
    #: the device changed its streams without a reset (a BLE link that carries less or more, a new HELLO)
    stream_changes: int = 0
    samples_dropped_at_source: int = 0
    battery_pct: int | None = None  # from the device's latest STATUS; None: unknown
    decoder: dict[str, int] = dataclasses.field(default_factory=dict)
    texts: list[str] = dataclasses.field(default_factory=list)  # the device's TEXT lines
    warnings: list[str] = dataclasses.field(default_factory=list)  # what failed on this side, data kept
    #: events detected but not in the database: waiting while it is full (store.backlog), or at
    #: the end of the run, not written
    events_not_in_database: int = 0
    #: seconds of signal (docs/store.md "Recorded time"), over every session of the run: from first to
    #: last EMG sample of each run (span), received (gaps excluded), recorded (gaps and unusable excluded)
    span_s: float = 0.0
    signal_s: float = 0.0
    recorded_s: float = 0.0
    #: unix time of the first EMG sample on the source's clock (a capture's or file's, or now), None if unknown
    first_wall_s: float | None = None
    dated_by: str = ""  #: whose clock dates the samples and twitches
    #: what the source dropped or repaired before decoding (a capture's damaged bytes skipped ...)
    source_damage: dict[str, int] = dataclasses.field(default_factory=dict)
    #: a wireless link's last state (BLE: state, RSSI, MTU, interval, dropouts in unix time); None for wires
    link: dict[str, Any] | None = None
    texts_not_kept: int = 0  #: TEXT lines past MAX_LINES_KEPT (counted, not kept)
    warnings_not_kept: int = 0  #: warnings past MAX_LINES_KEPT (counted, not kept)

    def add_text(self, text: str) -> None:
        """Keep one of the device's TEXT lines (the first :data:`MAX_LINES_KEPT`; later ones counted)."""
        self.texts_not_kept += _keep_first(self.texts, text)

    def warn(self, *lines: str) -> None:
        """Keep warnings (the first :data:`MAX_LINES_KEPT`; later ones counted)."""
        for line in lines:
            self.warnings_not_kept += _keep_first(self.warnings, line)

    def problems(self) -> dict[str, int]:
        """The non-zero error counters: what was dropped or damaged, by kind."""
        keys = ("garbage_bytes", "cobs_errors", "crc_errors", "too_short", "too_long", "version_errors",
                "unknown_type", "malformed", "data_before_hello", "frames_lost", "samples_lost", "out_of_order",
                "duplicates", "late_frames")
        found = {k: v for k, v in self.decoder.items() if k in keys and v}
        found.update({k: v for k, v in self.source_damage.items() if v})
        if self.samples_dropped_at_source:
            found["samples_dropped_at_source"] = self.samples_dropped_at_source
        if self.events_not_in_database:
            found["events_not_in_database"] = self.events_not_in_database
        return found


@dataclasses.dataclass
class LiveStatus:
    """A snapshot handed to ``on_status`` about once a second."""

    host_elapsed_s: float
    device_elapsed_s: float
    events: int
    rate_per_min: float
    noise_floor_uv: list[float]
    problems: dict[str, int]
    link: str
    quality: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    battery_pct: int | None = None  # None: unknown (USB powered, simulator, no STATUS yet)


class Pipeline:
    """Runs one source to its end, feeding every stage.

    Args:
        source: a :class:`~twitchwatch.transports.ByteSource` (serial, virtual
            board, replay) for :meth:`run`; None when only :meth:`run_recording` is used.
        source_name: stored with the session (e.g. ``"serial:/dev/ttyUSB0"``).
        store: where sessions, events, artefacts and signal quality go, or None.
        events_out: JSONL file for events (one object per line), or None.
        capture: path of a new capture file to record raw received bytes to, or None.
        on_block: called with every :class:`SampleBlock` (tests, dashboard).
        on_event: called with every counted :class:`TwitchEvent`.
        on_status: called about once a second with a :class:`LiveStatus`.
        on_hello: called with every :class:`Hello` the run configures itself from
            (the device's, a reset's, a recording's) before its samples (LSL outlets).
        body_site: stored with the session.
        on_notice: called (once) with a line for the person, e.g. what to check when a
            port has sent nothing for :data:`SILENT_HINT_S`.
        source_sha256: the hex SHA-256 of the file being replayed, stored with the
            session (so the same file is recognised); a capture this run writes gets
            its own hash on the run's sessions once it is closed.
        detect_every_s: run the detector once this much EMG (s of signal) has arrived
            rather than after every read (0: after every read, as live). For a replay
            as fast as possible: fewer, larger detector calls, the same events (the
            detector is block-split invariant and wall times depend on the stream only,
            see :class:`~twitchwatch.clock.FitHistory`); events are logged up to this
            much signal later, and handed to the outputs (store, events file,
            callbacks) once per :data:`WRITE_EVERY_S` of signal and at each session's end,
            in the same order and with the same contents as one at a time.
        sinks: more outputs (:class:`~twitchwatch.sinks.Sink`: the dashboard hub, an
            LSL outlet), told after the store, the events file and the callbacks above.
        after_session: called with the store and a session's id once all of that
            session is in the database (the caller's end-of-session hook, e.g.
            :func:`~twitchwatch.sinks.annotate_session`); None: nothing runs.
        trim_heap_every_s: in :meth:`run` (a live source, hours long), hand the heap's
            free pages back to the OS this often (:class:`~twitchwatch.heap.HeapTrimmer`,
            glibc only); None: never.
    """

    def __init__(
        self,
        source: ByteSource | None,
        *,
        source_name: str,
        store: Store | None = None,
        events_out: str | Path | None = None,
        capture: str | Path | None = None,
        on_block: Callable[[SampleBlock], None] | None = None,
        on_event: Callable[[TwitchEvent], None] | None = None,
        on_status: Callable[[LiveStatus], None] | None = None,
        on_hello: Callable[[Hello], None] | None = None,
        body_site: str | None = None,
        detect_every_s: float = 0.0,
        source_sha256: str | None = None,
        on_notice: Callable[[str], None] | None = None,
        sinks: list[Sink] | None = None,
        after_session: AfterSession | None = None,
        trim_heap_every_s: float | None = None,
    ) -> None:
        if not detect_every_s >= 0:
            raise ValueError(f"detect_every_s must be >= 0, got {detect_every_s}")
        self.source = source
        self.heap_trimmer = HeapTrimmer(trim_heap_every_s) if trim_heap_every_s is not None else None
        self.detect_every_s = float(detect_every_s)
        self.source_name = source_name
        self.store = store
        self.summary = RunSummary(ended_because="running")
        # the store's writes, held while its database is full (the run goes on)
        self._store_sink = StoreSink(store, after_session) if store is not None else None
        if self._store_sink is not None:
            self.summary.sessions = self._store_sink.session_ids  # the run's sessions, as their rows are written
        self._callbacks = CallbackSink(on_block, on_event, on_hello)
        self._extra_sinks = list(sinks or [])
        self._events_sink: EventsFileSink | None = None  # opened when the run starts
        self.decoder = FrameDecoder()
        self.on_status = on_status
        self.body_site = body_site
        self.source_sha256 = source_sha256
        self.on_notice = on_notice
        self._events_path = Path(events_out) if events_out else None
        self._capture_path = Path(capture) if capture else None
        self._capture_out = SideOutput("capture", "bytes", "received after them are not in it; it reads up to its "
                                        "last whole record (the run itself went on)")
        self._hello: Hello | None = None
        self._link_text: str | None = None  # the device's latest "link: ..." TEXT (why its streams changed)
        self._link = LinkHandshake(lambda data: None)  # the link's handshake (a run makes its own)
        self._session: RunSession | None = None  # the current session (a device's run, a file)
        self._first_host_s: float | None = None
        self._last_bytes_host_s = 0.0  # host time of the last chunk read
        self._detection = DetectionRun(self.summary, on_artefacts=self._tell_artefacts,
                                       on_quality=self._tell_quality, detect_every_s=self.detect_every_s)
        self._detection.wall_offset_s = None if source is None else source.wall_clock_offset_s()
        # a fast replay's outputs, held until WRITE_EVERY_S of signal (see detect_every_s)
        self._hold = self.detect_every_s > 0
        self._held_events: list[TwitchEvent] = []
        self._held_artefacts: list[dict[str, Any]] = []
        self._held_quality: list[dict[str, Any]] | None = None
        self._written_at_s = 0.0  # device time of the last hand-over
        if self._hold:  # only the latest quality record is stored: none taken in between
            self._detection.quality_every_s = max(self._detection.quality_every_s, WRITE_EVERY_S)

    # ---- sinks -----------------------------------------------------------
    @property
    def _sinks(self) -> list[Sink]:
        """Every output, in the order they are told: store, events file, callbacks, the rest."""
        return [s for s in (self._store_sink, self._events_sink, self._callbacks) if s is not None] + self._extra_sinks

    @property
    def _store_writes(self):  # noqa: ANN202 - the store's WriteBacklog (tests set its retry interval)
        return None if self._store_sink is None else self._store_sink.backlog

    # the callbacks, settable while the run goes (tests)
    on_block = property(lambda self: self._callbacks.block_fn,
                        lambda self, f: setattr(self._callbacks, "block_fn", f))
    on_event = property(lambda self: self._callbacks.event_fn,
                        lambda self, f: setattr(self._callbacks, "event_fn", f))
    on_hello = property(lambda self: self._callbacks.hello_fn,
                        lambda self, f: setattr(self._callbacks, "hello_fn", f))

    def _take_warnings(self) -> None:
        for sink in self._sinks:
            self.summary.warn(*sink.warnings)
            sink.warnings.clear()

    # ---- lifecycle -------------------------------------------------------
    @property
    def _device_elapsed_s(self) -> float:
        """Device time streamed so far (s): the furthest stream's (a run ends when all got there)."""
        return self._detection.device_elapsed_s

    def run(self, duration_s: float | None = None, should_stop: Callable[[], bool] | None = None, *,
            silent_port: bool = False) -> RunSummary:
        """Read the byte source until it ends, ``duration_s`` of device time has
        streamed, or ``should_stop()``.

        ``silent_port`` (a serial port, as ``twitchwatch stream``): while no sample has
        come, say once after :data:`SILENT_HINT_S` what to check (``on_notice``), and end
        after ``duration_s`` of waiting if no signal ever comes.

        Never raises for bad input from the link: damaged bytes are counted in the
        summary. Raises :class:`TwitchwatchError` only for problems on this side
        (an unwritable events file, a store error).
        """
        if self.source is None:
            raise ValueError("Pipeline.run needs a byte source; use run_recording for files")
        self.summary.dated_by = self.source.clock_name
        read_ahead = getattr(self.source, "start_read_ahead", None)  # (a duck-typed source may lack it)
        if read_ahead is not None:
            read_ahead()  # the device's bytes leave the OS buffer while this loop works
        self._link = LinkHandshake(self.source.write)
        with self._running() as start_host_s:
            last_status_s = start_host_s
            hinted = False
            reached_s: float | None = None  # when the first stream reached duration_s
            while True:
                if should_stop is not None and should_stop():
                    self.summary.ended_because = "stopped"
                    break
                if duration_s is not None and self._device_elapsed_s >= duration_s:
                    # every stream's samples up to the end, not only the first stream's to get there
                    # (their last frames come in any order); a stream that stops short is waited
                    # for at most _TAIL_WAIT_S
                    reached_s = time.monotonic() if reached_s is None else reached_s
                    if (min(self._detection.stream_elapsed_s.values()) >= duration_s
                            or time.monotonic() - reached_s > _TAIL_WAIT_S):
                        self.summary.ended_because = f"duration {duration_s:g} s reached"
                        break
                try:
                    host_s, chunk = self.source.read(_READ_TIMEOUT_S)
                except TransportClosed as exc:
                    self.summary.ended_because = str(exc)
                    break
                if chunk:
                    self._feed(host_s, chunk)
                elif self.decoder.frames_waiting:  # the link went quiet with frames waiting
                    self._flush_decoder(host_s)
                self._link.tick()
                now = time.monotonic()
                if silent_port and self._device_elapsed_s == 0.0:  # no sample yet: a silent or wrong port
                    waited_s = now - start_host_s
                    if not hinted and waited_s >= SILENT_HINT_S and self.on_notice is not None:
                        hinted = True
                        self.on_notice(self._silence_hint(waited_s))
                    if duration_s is not None and waited_s >= duration_s:
                        self.summary.ended_because = (f"no signal came from the port in {duration_s:g} s ("
                                                      f"{self._silence_hint(waited_s)})")
                        break
                if now - last_status_s >= 1.0:
                    last_status_s = now
                    self._emit_status(now - start_host_s)
                    if self.heap_trimmer is not None:
                        self.heap_trimmer.tick()
            self._flush_decoder(self._last_bytes_host_s)
            self._finish_run()
        return self.summary

    def run_recording(self, recording: RecordingFile, block_s: float = 0.5,
                      on_progress: Callable[[float], None] | None = None, realtime: bool = False) -> RunSummary:
        """Run a recording file (EDF/BDF/CSV) through the same detection and logging.

        ``on_progress`` gets the seconds of signal processed so far after each block.
        ``realtime``: hand each block over when its last sample is due at the file's own
        pace (``block_s`` blocks, so at most ``block_s`` late), with ``on_status`` about
        once a second, as a live source; otherwise as fast as possible. Every block also
        goes to ``on_block`` (as a :class:`SampleBlock` of physical values, scale 1).
        Raises :class:`TwitchwatchError` (e.g. ``FormatError``) for a file that
        turns out unreadable part-way; what was processed before is logged.
        """
        self._detection.file_start_unix_s = recording.start_unix_s
        self.summary.dated_by = ("the file's start date" if recording.start_unix_s is not None else
                                 "nothing: the file has no start date (sessions are dated when replayed, "
                                 "twitches have no wall time)")
        with self._running() as start_host_s:
            last_status_s = start_host_s
            self._configure(recording.hello, started_at=recording.start_unix_s)
            blocks = FileAssembler(recording.hello)
            for stream_id, first_index, data in recording.iter_blocks(block_s):
                if realtime:  # the block's last sample is due at its time from the file's start
                    wait_s = start_host_s + (first_index + len(data)) / blocks.rates_hz[stream_id] - time.monotonic()
                    if wait_s > 0:
                        time.sleep(wait_s)
                gap, piece, block = blocks.block(stream_id, first_index, data, time.monotonic())
                if gap is not None:  # rows the file is known to miss: a gap, never filled in
                    self._log_events(self._detection.detect())
                    self._detection.gap(gap)
                    self.decoder.stats.samples_lost += gap.n_missing
                wall_s = None if recording.start_unix_s is None else \
                    recording.start_unix_s + first_index / piece.rate_hz
                self._detection.add(piece, wall_s=wall_s)
                for sink in self._sinks:  # the dashboard's trace, LSL: physical values at scale 1
                    sink.samples([block])
                # (every block, or once per detect_every_s of signal: the same events)
                self._log_events(self._detection.detect(force=False))
                if on_progress is not None:
                    on_progress(self._device_elapsed_s)
                now = time.monotonic()
                if realtime and now - last_status_s >= 1.0:
                    last_status_s = now
                    self._emit_status(now - start_host_s)
            self._finish_run()
            self.summary.ended_because = "end of file"
            if recording.skipped_rows:
                self.summary.warn(f"{recording.path.name}: {recording.skipped_rows} malformed row(s) "
                                  "skipped while reading")
            self.summary.warn(*(f"{recording.path.name}: {what}" for what in recording.unread))
        return self.summary

    @contextlib.contextmanager
    def _running(self) -> Iterator[float]:
        """What every run does around its work: open the outputs; at the end, however it
        ends, the summary's host time and counters, the last session closed, the outputs
        closed. Yields the host's monotonic time at the start (s)."""
        start_host_s = time.monotonic()
        try:
            self._open_outputs()
            yield start_host_s
        finally:
            self.summary.duration_host_s = time.monotonic() - start_host_s
            self.summary.decoder = self.decoder.stats.as_dict()
            if self.source is not None:
                self.summary.source_damage.update(self.source.damage())
            self._close_session()
            self._close_outputs()

    def _open_outputs(self) -> None:
        if self._events_path is not None:
            self._events_sink = EventsFileSink(self._events_path)
        path = self._capture_path
        if path is not None:
            capture = open_for_writing(path, CaptureWriter)
            self._capture_out.open(path, capture)
            # The wall clock a replay of this capture will use, so both agree exactly.
            self._detection.wall_offset_s = capture.created_unix_s - capture.created_monotonic_s

    def _close_outputs(self) -> None:
        """Close the events file, the capture, the store, then the other sinks; their
        warnings into the summary, in that order."""
        for sink in (self._events_sink, self._capture_out, self._store_sink, self._callbacks, *self._extra_sinks):
            if isinstance(sink, SideOutput):
                warning = sink.close()
                if warning:
                    self.summary.warn(warning)
            elif sink is not None:
                sink.close()
                self.summary.warn(*sink.warnings)
                sink.warnings.clear()
        if self._store_sink is not None:
            self.summary.events_not_in_database = self._store_sink.events_not_written
        self._hash_capture()

    def _hash_capture(self) -> None:
        """The capture this run wrote holds the run's sessions: record its SHA-256 on them,
        so replaying it into the same database is recognised (not stored twice)."""
        if self._capture_path is None or self.store is None or not self.summary.sessions:
            return
        from twitchwatch.store.sources import file_sha256

        try:
            digest = file_sha256(self._capture_path)
            for session_id in self.summary.sessions:
                self.store.set_source_sha256(session_id, digest)
        except (OSError, TwitchwatchError) as exc:
            self.summary.warn(f"the capture's fingerprint was not stored ({exc}): replaying it into "
                              "this database would store its twitches a second time")

    def _write_capture(self, host_s: float, chunk: bytes) -> None:
        self._capture_out.write(lambda c: c.write(host_s, chunk), len(chunk))

    # ---- decoding --------------------------------------------------------
    def _sane_host_s(self, host_s: float) -> float:
        """A source's receive time, kept monotonic: one that is not a number or goes back
        is replaced by the previous one (counted as ``host_times_fixed``)."""
        last = self._last_bytes_host_s if self._first_host_s is not None else None
        if host_s == host_s and abs(host_s) < 1e10 and (last is None or host_s >= last):
            return host_s
        self.summary.source_damage["host_times_fixed"] = self.summary.source_damage.get("host_times_fixed", 0) + 1
        return last if last is not None else 0.0

    def _feed(self, host_s: float, chunk: bytes) -> None:
        host_s = self._sane_host_s(host_s)
        self._write_capture(host_s, chunk)
        if self._first_host_s is None:
            self._first_host_s = host_s
        self._last_bytes_host_s = host_s
        restarts = self.decoder.stats.seq_restarts
        self._handle(self.decoder.feed(chunk, host_s), host_s)
        if self.decoder.stats.seq_restarts != restarts:  # a reset whose HELLO was lost: ask for it
            self._link.seq_restarted()

    def _flush_decoder(self, host_s: float) -> None:
        """The frames the decoder holds for a missing ``seq`` (the stream ended, or went
        quiet): handed on, the missing ones counted lost."""
        if self.decoder.frames_waiting:
            self._handle(self.decoder.flush(), host_s)

    def _handle(self, messages: list, host_s: float) -> None:
        """The decoder's messages, assembled: samples to the sinks and the detection run,
        boundaries (gap, reset, restart, HELLO) after the samples before them are detected."""
        detection = self._detection
        events: list[TwitchEvent] = []
        for item in assemble(messages):
            if isinstance(item, Samples):
                self._link.data_seen()
                for sink in self._sinks:
                    sink.samples(item.blocks)
                for blocks, pieces in item.by_stream.values():
                    detection.add_blocks(blocks, pieces)
                continue
            if isinstance(item, Timing):  # board-clock stamps: they place later blocks only
                detection.timing(item)
                continue
            events += detection.detect()
            if isinstance(item, Gap):
                detection.gap(item)
            elif isinstance(item, DeviceReset):
                self._log_events(events + detection.finish())
                events = []
                self._close_session()
                self.summary.resets += 1
                detection.new_run(self._host_elapsed_s(host_s))
                self._configure(item.hello)
                self._link.reset_seen()  # a reset device waits for START again
            elif isinstance(item, StreamRestart):
                if detection.restarts_run(item.stream_id) and self._hello is not None:
                    self._log_events(events + detection.finish())
                    events = []
                    detection.new_run(self._host_elapsed_s(host_s))
                    detection.make_detector()
                    for sink in self._sinks:
                        assert self._session is not None  # a HELLO came (self._hello)
                        sink.run_started(self._session)
            elif isinstance(item, Hello):
                if self._hello is None:
                    self._configure(item)
                elif _stream_shape(item) != _stream_shape(self._hello):
                    # the same boot describes other streams (docs/protocol.md, "When the link cannot
                    # carry the stream"): a new session at the new rates, after one line saying why
                    self._log_events(events + detection.finish())
                    events = []
                    self._close_session()
                    detection.new_run(self._host_elapsed_s(host_s))
                    line = stream_change_line(self._hello, item, self._link_text)
                    self._link_text = None
                    log.warning("%s", line)
                    self.summary.warn(line)
                    self.summary.stream_changes += 1
                    self._configure(item)
                self._link.hello_seen()  # DATA follows at once if it streams
            elif isinstance(item, Status):
                self.summary.samples_dropped_at_source = item.dropped_samples
                self.summary.battery_pct = None if item.battery_pct > 100 else item.battery_pct
            elif isinstance(item, Text):
                self.summary.add_text(item.text)
                log.info("device: %s", item.text)
                if item.text.startswith("link: "):
                    self._link_text = item.text[6:]
        self._log_events(events + detection.detect(force=False))

    def _host_elapsed_s(self, host_s: float) -> float:
        """Host time since the source's first bytes (s)."""
        return host_s - (self._first_host_s or host_s)

    def _configure(self, hello: Hello, started_at: float | None = None) -> None:
        """Set up the detector and a store session from the device's own description.
        ``started_at``: unix s; default: when the HELLO arrived, on the source's clock
        (a replayed capture's recording machine), corrected at the end to the session's
        first sample."""
        check_hello(hello, f"device {short(hello.device_id)}")  # one line for what is not supported
        self._hello = hello
        wall_offset_s = self._detection.wall_offset_s
        if started_at is None and wall_offset_s is not None and hello.host_time_s:
            started_at = hello.host_time_s + wall_offset_s
        session = RunSession(hello, self.source_name, time.time() if started_at is None else started_at,
                             body_site=self.body_site, source_sha256=self.source_sha256)
        # the outputs that may refuse a session (an LSL outlet for units it cannot publish)
        # first, then those that record it: a refused session leaves no row in the store
        recorders = (self._store_sink, self._events_sink)
        for sink in self._sinks:
            if sink not in recorders:
                sink.session_started(session)
        self._detection.configure(hello)
        self._session = session
        for recorder in recorders:
            if recorder is not None:
                recorder.session_started(session)

    def _finish_run(self) -> None:
        self._log_events(self._detection.finish())

    # ---- outputs ---------------------------------------------------------
    def _log_events(self, events: list[TwitchEvent]) -> None:
        if not events:
            if self._hold:
                self._write_held()
            return
        # every event goes to the store and the events file (with its ``counted`` flag);
        # only counted twitches to the run's count, its live rate and the dashboard
        # (docs/detection.md, *What counts*)
        counted = [e for e in events if getattr(e, "counted", True)]
        self.summary.events += len(counted)
        self.summary.candidates += len(events) - len(counted)
        if self._hold:
            self._held_events += events
            self._write_held()
            return
        for sink in self._sinks:
            sink.events(self._session, events)

    def _tell_artefacts(self, rows: list[dict[str, Any]]) -> None:
        if self._hold:
            self._held_artefacts += rows
            return
        for sink in self._sinks:
            sink.artefacts(self._session, rows)

    def _tell_quality(self, rows: list[dict[str, Any]]) -> None:
        if self._hold:
            self._held_quality = rows  # each replaces the one before (the latest is stored)
            return
        for sink in self._sinks:
            sink.quality(self._session, rows)

    def _write_held(self, now: bool = False) -> None:
        """A fast replay's held outputs to the sinks, once ``WRITE_EVERY_S`` of signal has
        passed since the last hand-over (``now``: at once; a session's end). Artefacts,
        quality, then events: the order in which one detector call hands them on."""
        if not now and self._device_elapsed_s - self._written_at_s < WRITE_EVERY_S:
            return
        self._written_at_s = self._device_elapsed_s
        artefacts, quality, events = self._held_artefacts, self._held_quality, self._held_events
        self._held_artefacts, self._held_quality, self._held_events = [], None, []
        for sink in self._sinks:
            if artefacts:
                sink.artefacts(self._session, artefacts)
            if quality is not None:
                sink.quality(self._session, quality)
            if events:
                sink.events(self._session, events)

    def _link_status(self) -> dict[str, Any] | None:
        """The source's link state with its dropouts in unix time (s), kept in the summary."""
        status = self.source.link_status() if self.source is not None else None
        if status is None:
            return None
        status = dict(status)
        offset = self._detection.wall_offset_s or 0.0
        status["dropouts"] = [
            {"start_unix_s": d["start_s"] + offset,
             "end_unix_s": None if d.get("end_s") is None else d["end_s"] + offset,
             "duration_s": None if d.get("end_s") is None else d["end_s"] - d["start_s"]}
            for d in status.get("dropouts", [])]
        self.summary.link = status
        return status

    def _close_session(self) -> None:
        self._write_held(now=True)
        session, self._session = self._session, None
        signal = self._detection.end_session()
        summary = self.summary
        summary.span_s += signal.span_s
        summary.signal_s += signal.signal_s
        summary.recorded_s += signal.recorded_s
        if summary.first_wall_s is None:
            summary.first_wall_s = signal.first_wall_s
        link = self._link_status()
        if session is not None:  # the session's stats: what the store keeps of it
            stats: dict[str, Any] = dict(self.decoder.stats.as_dict())
            stats["samples_dropped_at_source"] = self.summary.samples_dropped_at_source
            stats["artefacts"] = dict(self.summary.artefacts)
            stats.update(signal.as_stats())
            if link is not None:  # the session's own dropouts (a reset's new session: from its start)
                stats["link"] = dict(link, dropouts=[
                    d for d in link["dropouts"] if d["end_unix_s"] is None or d["end_unix_s"] >= session.started_at])
            for sink in self._sinks:
                sink.session_ended(session, stats, signal)
            self._take_warnings()

    def _silence_hint(self, waited_s: float) -> str:
        """One line on what to check when no sample has come for ``waited_s``."""
        got = self.decoder.stats.bytes_in
        if self._hello is not None:
            return (f"the patch announced itself but has sent no samples in {waited_s:.0f} s: unplug it and plug "
                    "it in again, or restart its firmware")
        if got:
            return (f"{got} bytes came from {self.source_name} in {waited_s:.0f} s but no valid frame: check the "
                    "baud rate (--baud), and that this is a patch's port (twitchwatch ports) running the firmware")
        return (f"nothing has come from {self.source_name} in {waited_s:.0f} s: check that the patch's firmware "
                "is running (unplug and plug it in), that this is its port (twitchwatch ports), and the baud "
                "rate (--baud)")

    def _emit_status(self, host_elapsed_s: float) -> None:
        if self.on_status is None:
            return
        quality = self._detection.quality_now()
        floor = [float(q["noise_floor_uv"]) for q in quality]
        dev_s = self._device_elapsed_s
        rate = self.summary.events / (dev_s / 60.0) if dev_s > 1.0 else 0.0
        link = "streaming" if self._hello is not None else "waiting for HELLO"
        wireless = self.source.describe_link() if self.source is not None else None
        if wireless:
            link = f"{link}; {wireless}"
        self.summary.decoder = self.decoder.stats.as_dict()
        if self.source is not None:
            self.summary.source_damage.update(self.source.damage())
        if self._store_sink is not None:
            self.summary.events_not_in_database = self._store_sink.events_waiting
        self.on_status(LiveStatus(
            host_elapsed_s=host_elapsed_s, device_elapsed_s=dev_s, events=self.summary.events,
            rate_per_min=rate, noise_floor_uv=floor, problems=self.summary.problems(),
            link=link, quality=quality, battery_pct=self.summary.battery_pct,
        ))
