"""Wire a byte source to the stages: decode → detect → log (SQLite, JSONL, capture).

The same code runs live (serial, virtual board) and in replay, so a capture
replayed gives the same decoded samples and the same events as the live run.

Time: events carry ``t_s``, seconds from the start of the recording, computed from
the device's sample count (``sample_index / sample_rate_hz``), and ``wall_time_s``,
the unix time of the peak: the device's sample clock mapped to the host clock by a
:class:`~twitchwatch.clock.ClockMap` (robust to USB chunking and clock drift), plus
the source's unix − host clock offset (for a replay, the recording's). After a device
reset (or a START that restarts the sample count) the pipeline starts a new detector
run, and a new store session for a reset, and offsets ``t_s`` so ``t_s`` stays
monotonic in one JSONL file (it continues from the later of the last sample's
time and the host time elapsed; a run faster than real time, like a replay or the
simulator's fast mode, keeps device time).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Callable, TextIO

import numpy as np

from twitchwatch import TwitchwatchError
from twitchwatch.clock import ClockMap
from twitchwatch.detect import ThresholdDetector, TwitchEvent
from twitchwatch.protocol import (
    Command,
    DeviceReset,
    FrameDecoder,
    Gap,
    Hello,
    SampleBlock,
    Status,
    StreamRestart,
    Text,
    encode_command,
)
from twitchwatch.store import Store
from twitchwatch.transports import ByteSource, CaptureWriter, TransportClosed

log = logging.getLogger(__name__)

EMG_KIND = 1
_READ_TIMEOUT_S = 0.2
_HELLO_WAIT_S = 1.0


@dataclasses.dataclass
class RunSummary:
    """What one run saw: counts a user can check, and why it ended."""

    ended_because: str
    duration_host_s: float = 0.0
    sessions: list[int] = dataclasses.field(default_factory=list)
    samples: dict[int, int] = dataclasses.field(default_factory=dict)  # stream_id → samples decoded
    events: int = 0
    resets: int = 0
    samples_dropped_at_source: int = 0
    decoder: dict[str, int] = dataclasses.field(default_factory=dict)
    texts: list[str] = dataclasses.field(default_factory=list)

    def problems(self) -> dict[str, int]:
        """The non-zero error counters: what was dropped or damaged, by kind."""
        keys = ("garbage_bytes", "cobs_errors", "crc_errors", "too_short", "too_long", "version_errors",
                "unknown_type", "malformed", "data_before_hello", "frames_lost", "samples_lost", "out_of_order")
        found = {k: v for k, v in self.decoder.items() if k in keys and v}
        if self.samples_dropped_at_source:
            found["samples_dropped_at_source"] = self.samples_dropped_at_source
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


class Pipeline:
    """Runs one source to its end, feeding every stage.

    Args:
        source: a :class:`~twitchwatch.transports.ByteSource` (serial, virtual board, replay).
        source_name: stored with the session (e.g. ``"serial:/dev/ttyUSB0"``).
        store: where sessions and events go, or None.
        events_out: JSONL file for events (one object per line), or None.
        capture: path of a capture file to append raw received bytes to, or None.
        on_block: called with every :class:`SampleBlock` (tests, dashboard).
        on_event: called with every :class:`TwitchEvent`.
        on_status: called about once a second with a :class:`LiveStatus`.
        body_site: stored with the session.
    """

    def __init__(
        self,
        source: ByteSource,
        *,
        source_name: str,
        store: Store | None = None,
        events_out: str | Path | None = None,
        capture: str | Path | None = None,
        on_block: Callable[[SampleBlock], None] | None = None,
        on_event: Callable[[TwitchEvent], None] | None = None,
        on_status: Callable[[LiveStatus], None] | None = None,
        body_site: str | None = None,
    ) -> None:
        self.source = source
        self.source_name = source_name
        self.store = store
        self.decoder = FrameDecoder()
        self.on_block = on_block
        self.on_event = on_event
        self.on_status = on_status
        self.body_site = body_site
        self._events_path = Path(events_out) if events_out else None
        self._events_file: TextIO | None = None
        self._capture_path = Path(capture) if capture else None
        self._capture: CaptureWriter | None = None
        self._hello: Hello | None = None
        self._detector: ThresholdDetector | None = None
        self._emg_stream: int | None = None
        self._emg_cols: np.ndarray | None = None
        self._pending_emg: list[SampleBlock] = []
        self._session_id: int | None = None
        self._t_offset_s = 0.0  # added to t_s after a reset
        self._first_host_s: float | None = None
        self._boot_first_host_s: float | None = None
        self._device_elapsed_s = 0.0
        self._clock = ClockMap()
        self._wall_offset_s = source.wall_clock_offset_s()
        self._cmd_seq = 0
        self.summary = RunSummary(ended_because="running")

    # ---- lifecycle -------------------------------------------------------
    def run(self, duration_s: float | None = None, should_stop: Callable[[], bool] | None = None) -> RunSummary:
        """Read until the source ends, ``duration_s`` of device time has streamed, or ``should_stop()``.

        Never raises for bad input from the link: damaged bytes are counted in the
        summary. Raises :class:`TwitchwatchError` only for problems on this side
        (an unwritable events file, a store error).
        """
        start_host_s = time.monotonic()
        last_status_s = start_host_s
        asked_hello_s = start_host_s
        try:
            self._open_outputs()
            while True:
                if should_stop is not None and should_stop():
                    self.summary.ended_because = "stopped"
                    break
                if duration_s is not None and self._device_elapsed_s >= duration_s:
                    self.summary.ended_because = f"duration {duration_s:g} s reached"
                    break
                try:
                    host_s, chunk = self.source.read(_READ_TIMEOUT_S)
                except TransportClosed as exc:
                    self.summary.ended_because = str(exc)
                    break
                if chunk:
                    self._feed(host_s, chunk)
                now = time.monotonic()
                if self._hello is None and now - asked_hello_s > _HELLO_WAIT_S:
                    asked_hello_s = now
                    self._send(Command.HELLO)
                if now - last_status_s >= 1.0:
                    last_status_s = now
                    self._emit_status(now - start_host_s)
            self._log_events(self._finish_detector())
        finally:
            self.summary.duration_host_s = time.monotonic() - start_host_s
            self.summary.decoder = self.decoder.stats.as_dict()
            self._close_session()
            self._close_outputs()
        return self.summary

    def _open_outputs(self) -> None:
        path = self._events_path
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._events_file = path.open("a", encoding="utf-8")
            path = self._capture_path
            if path is not None:
                self._capture = CaptureWriter(path)
                # The wall clock a replay of this capture will use, so both agree exactly.
                self._wall_offset_s = self._capture.created_unix_s - self._capture.created_monotonic_s
        except OSError as exc:
            raise TwitchwatchError(f"cannot open {path} for writing: {exc.strerror or exc}") from exc

    def _close_outputs(self) -> None:
        if self._events_file is not None:
            self._events_file.close()
            self._events_file = None
        if self._capture is not None:
            self._capture.close()
            self._capture = None

    # ---- decoding --------------------------------------------------------
    def _feed(self, host_s: float, chunk: bytes) -> None:
        if self._capture is not None:
            self._capture.write(host_s, chunk)
        if self._first_host_s is None:
            self._first_host_s = host_s
        events: list[TwitchEvent] = []
        for msg in self.decoder.feed(chunk, host_s):
            if isinstance(msg, SampleBlock):
                self._on_samples(msg)
                continue
            events += self._detect_pending()
            if isinstance(msg, Gap):
                if self._detector is not None and msg.stream_id == self._emg_stream:
                    self._detector.mark_gap(msg.first_missing_index, msg.n_missing)
            elif isinstance(msg, DeviceReset):
                self._log_events(events + self._finish_detector())
                events = []
                self._close_session()
                self.summary.resets += 1
                self._new_run(host_s)
                self._configure(msg.hello, host_s)
            elif isinstance(msg, StreamRestart):
                if msg.stream_id == self._emg_stream and self._hello is not None:
                    self._log_events(events + self._finish_detector())
                    events = []
                    self._new_run(host_s)
                    self._make_detector(self._hello)
            elif isinstance(msg, Hello):
                if self._hello is None:
                    self._configure(msg, host_s)
            elif isinstance(msg, Status):
                self.summary.samples_dropped_at_source = msg.dropped_samples
            elif isinstance(msg, Text):
                self.summary.texts.append(msg.text)
                log.info("device: %s", msg.text)
        self._log_events(events + self._detect_pending())

    def _new_run(self, host_s: float) -> None:
        """The sample count restarts at 0 (device reset, or START): continue ``t_s``
        after the later of the last sample's time and the host time elapsed, and
        forget the clock fit of the previous run."""
        self._t_offset_s = max(self._device_elapsed_s, host_s - (self._first_host_s or host_s))
        self._clock.reset()

    def _make_detector(self, hello: Hello) -> None:
        self._detector = None
        self._emg_stream = None
        for stream in hello.streams:
            cols = [i for i, ch in enumerate(stream.channels) if ch.kind == EMG_KIND]
            if cols:
                self._emg_stream = stream.stream_id
                self._emg_cols = np.array(cols)
                labels = [stream.channels[i].label for i in cols]
                self._detector = ThresholdDetector(stream.sample_rate_hz, labels)
                return
        log.warning("device %s describes no EMG channel: nothing to detect", hello.device_id)

    def _configure(self, hello: Hello, host_s: float) -> None:
        """Set up the detector and a store session from the device's own description."""
        self._hello = hello
        self._boot_first_host_s = host_s
        self._make_detector(hello)
        if self.store is not None:
            self._session_id = self.store.start_session(
                device_id=hello.device_id,
                firmware_version=hello.firmware_version,
                boot_id=hello.boot_id,
                source=self.source_name,
                body_site=self.body_site,
            )
            self.summary.sessions.append(self._session_id)

    def _on_samples(self, block: SampleBlock) -> None:
        n = block.samples.shape[0]
        self.summary.samples[block.stream_id] = self.summary.samples.get(block.stream_id, 0) + n
        end_s = (block.first_sample_index + n) / block.info.sample_rate_hz
        self._device_elapsed_s = max(self._device_elapsed_s, self._t_offset_s + end_s)
        if self.on_block is not None:
            self.on_block(block)
        if self._detector is not None and block.stream_id == self._emg_stream:
            self._clock.add_block(block)
            self._pending_emg.append(block)

    def _detect_pending(self) -> list[TwitchEvent]:
        """Run the detector once over the EMG blocks that arrived together.

        The decoder reports every gap and reset as a message of its own, and this is
        called before handling one, so the pending blocks are contiguous. Batching
        them costs no latency (they arrived in the same read) and saves the
        detector's per-call overhead; the detector is chunk-size invariant, so the
        events are the same as block by block.
        """
        if not self._pending_emg or self._detector is None:
            self._pending_emg = []
            return []
        first = self._pending_emg[0].first_sample_index
        raw = np.concatenate([b.samples for b in self._pending_emg])
        info = self._pending_emg[0].info
        self._pending_emg = []
        emg_uv = raw[:, self._emg_cols] * info.scales[self._emg_cols]
        return self._timed(self._detector.process(emg_uv, first), info.sample_rate_mhz)

    def _timed(self, events: list[TwitchEvent], rate_mhz: int) -> list[TwitchEvent]:
        """Events with ``wall_time_s`` (from the clock map) and ``t_s`` offset for this run."""
        if events and self._clock.ready:
            index = np.array([e.sample_index for e in events], dtype=np.int64)
            wall_s = self._clock.to_host_s(index * 10**9 // rate_mhz) + self._wall_offset_s
            events = [dataclasses.replace(e, wall_time_s=float(w)) for e, w in zip(events, wall_s)]
        return self._shift(events)

    def _finish_detector(self) -> list[TwitchEvent]:
        if self._detector is None:
            return []
        events = self._detector.flush()
        if events and self._hello is not None and self._emg_stream is not None:
            events = self._timed(events, self._hello.stream(self._emg_stream).sample_rate_mhz)
        self._detector = None
        return events

    def _shift(self, events: list[TwitchEvent]) -> list[TwitchEvent]:
        if not self._t_offset_s:
            return events
        return [dataclasses.replace(e, t_s=e.t_s + self._t_offset_s) for e in events]

    # ---- outputs ---------------------------------------------------------
    def _log_events(self, events: list[TwitchEvent]) -> None:
        if not events:
            return
        self.summary.events += len(events)
        if self.store is not None and self._session_id is not None:
            self.store.add_events(self._session_id, events)
        if self._events_file is not None:
            for e in events:
                self._events_file.write(json.dumps(e.to_json_dict()) + "\n")
            self._events_file.flush()
        if self.on_event is not None:
            for e in events:
                self.on_event(e)

    def _close_session(self) -> None:
        if self.store is not None and self._session_id is not None:
            stats = dict(self.decoder.stats.as_dict())
            stats["samples_dropped_at_source"] = self.summary.samples_dropped_at_source
            self.store.end_session(self._session_id, stats=stats)
        self._session_id = None

    def _send(self, command: Command, arg: int = 0) -> None:
        try:
            self.source.write(encode_command(command, arg, self._cmd_seq))
            self._cmd_seq = (self._cmd_seq + 1) & 0xFFFFFFFF
        except (TransportClosed, OSError, NotImplementedError):
            pass  # read-only sources (replay) cannot take commands

    def _emit_status(self, host_elapsed_s: float) -> None:
        if self.on_status is None:
            return
        floor = [] if self._detector is None else [float(x) for x in self._detector.noise_floor_uv]
        dev_s = self._device_elapsed_s
        rate = self.summary.events / (dev_s / 60.0) if dev_s > 1.0 else 0.0
        link = "streaming" if self._hello is not None else "waiting for HELLO"
        self.on_status(LiveStatus(
            host_elapsed_s=host_elapsed_s, device_elapsed_s=dev_s, events=self.summary.events,
            rate_per_min=rate, noise_floor_uv=floor,
            problems=RunSummary(ended_because="", decoder=self.decoder.stats.as_dict(),
                                samples_dropped_at_source=self.summary.samples_dropped_at_source).problems(),
            link=link,
        ))
