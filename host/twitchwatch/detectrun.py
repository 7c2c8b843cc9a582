"""The detection run: the detector's life, device time to wall time, artefact and quality rows.

One job, its state explicit (:class:`DetectionRun`). It takes a device's (or file's)
description (:meth:`~DetectionRun.configure`), its samples as contiguous pieces
(:mod:`twitchwatch.assembler`), gaps and run boundaries, and gives events with their
times, artefact rows and signal-quality rows, through the callbacks its owner passes.

Time: events carry ``t_s``, seconds from the start of the recording, computed from
the device's sample count (``sample_index / sample_rate_hz``), and ``wall_time_s``,
the unix time of the peak: the device's sample clock mapped to the host clock by a
:class:`~twitchwatch.clock.ClockMap` (robust to USB chunking and clock drift), each
sample with the fit recorded when the stream first reached its second of signal
(:class:`~twitchwatch.clock.FitHistory`: the same however late the event is decided
or logged, so a replay that runs the detector less often logs the same wall times), plus
the source's unix − host clock offset (``wall_offset_s``: for a replay, the recording's);
for a file, its start time if it has one (``file_start_unix_s``). After a device reset
(or a START that restarts the sample count) the owner calls :meth:`~DetectionRun.new_run`:
``t_s`` is offset so it stays monotonic (it continues from the later of the last
sample's time and the host time elapsed; a run faster than real time, like a replay or
the simulator's fast mode, keeps device time).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from twitchwatch.assembler import StreamPiece, physical_columns
from twitchwatch.clock import AccAligner, ClockMap, FitHistory
from twitchwatch.detect import TwitchDetector, TwitchEvent
from twitchwatch.protocol import ACC_KINDS, ChannelKind, Gap, Hello, SampleBlock, StreamInfo, Timing
from twitchwatch.sessiontime import SignalTime

if TYPE_CHECKING:
    from twitchwatch.pipeline import RunSummary

log = logging.getLogger(__name__)

QUALITY_EVERY_S = 5.0  #: of signal time between signal-quality records


@dataclasses.dataclass
class StreamLayout:
    """Where EMG and accelerometer channels sit in the device's streams."""

    emg_stream: int | None = None
    emg_cols: np.ndarray | None = None
    emg_info: StreamInfo | None = None
    acc_stream: int | None = None
    acc_cols: np.ndarray | None = None  # X, Y, Z columns of the accelerometer stream
    acc_info: StreamInfo | None = None

    @classmethod
    def from_hello(cls, hello: Hello) -> StreamLayout:
        layout = cls()
        for stream in hello.streams:
            kinds = [ch.kind for ch in stream.channels]
            emg = [i for i, k in enumerate(kinds) if k == ChannelKind.EMG]
            if emg and layout.emg_stream is None:
                layout.emg_stream, layout.emg_cols, layout.emg_info = stream.stream_id, np.array(emg), stream
            if all(k in kinds for k in ACC_KINDS) and layout.acc_stream is None:
                layout.acc_stream, layout.acc_info = stream.stream_id, stream
                layout.acc_cols = np.array([kinds.index(k) for k in ACC_KINDS])
        return layout


class DetectionRun:
    """The detector over one device's samples, run after run; see the module docstring.

    Args:
        summary: the run's summary; samples, artefact kinds, the latest quality and
            notes on the band are counted in it.
        on_artefacts: gets artefact rows (kind, channel, indices, ``t_start_s``/``t_end_s``, detail).
        on_quality: gets the latest quality rows (one per EMG channel), at most every
            ``quality_every_s`` (default :data:`QUALITY_EVERY_S`) of signal and at the end of each detector run.
        detect_every_s: see :class:`~twitchwatch.pipeline.Pipeline`.
    """

    def __init__(self, summary: RunSummary, *, on_artefacts: Callable[[list[dict[str, Any]]], None],
                 on_quality: Callable[[list[dict[str, Any]]], None], detect_every_s: float = 0.0) -> None:
        self.summary = summary
        self.on_artefacts, self.on_quality = on_artefacts, on_quality
        self.detect_every_s = float(detect_every_s)
        #: unix − host clock offset of the source's receive times (s); None: unknown (a file)
        self.wall_offset_s: float | None = None
        self.file_start_unix_s: float | None = None  #: a file's start (unix s), if it has one
        self.layout = StreamLayout()
        self.detector: TwitchDetector | None = None
        self.run_streams: set[int] = set()  #: streams the current detector run has data of
        # samples waiting for the detector; (stream, first index, count): an accelerometer
        # gap the aligner found
        self._pending: list[StreamPiece | tuple[int, int, int]] = []
        self._aligner: AccAligner | None = None  # the accelerometer on the EMG timeline (TIMING)
        self._pending_emg = 0  # EMG samples in _pending
        self.signal_time = SignalTime()  #: the recorded time of the current session
        self.t_offset_s = 0.0  #: added to t_s after a reset or restart
        self.stream_elapsed_s: dict[int, float] = {}  #: device time streamed, per stream (s)
        #: signal time between quality records (s); a fast replay, which stores only the
        #: latest, takes them less often
        self.quality_every_s = QUALITY_EVERY_S
        self._next_quality_s = QUALITY_EVERY_S
        self._clock = ClockMap()
        self._fits: FitHistory | None = None  # the clock fit by EMG sample index (made with the first block)

    @property
    def device_elapsed_s(self) -> float:
        """Device time streamed so far (s): the furthest stream's (a run ends when all got there)."""
        return max(self.stream_elapsed_s.values(), default=0.0)

    # ---- boundaries ----------------------------------------------------------
    def configure(self, hello: Hello) -> None:
        """A device's (or file's) description: where its channels are; a new detector
        and a new session's recorded time."""
        self.layout = StreamLayout.from_hello(hello)
        self.make_detector()
        self.signal_time = SignalTime()

    def make_detector(self) -> None:
        """A new detector run (after a restart of the sample count, or a new HELLO)."""
        layout = self.layout
        self.detector = None
        self._aligner = None
        self.run_streams = set()
        if layout.emg_info is None or layout.emg_cols is None:
            log.warning("the device describes no EMG channel: nothing to detect")
            return
        labels = [layout.emg_info.channels[i].label for i in layout.emg_cols]
        acc_rate = None if layout.acc_info is None else layout.acc_info.sample_rate_hz
        from twitchwatch.detect.lowrate import band_note

        note = band_note(layout.emg_info.sample_rate_hz)  # below 1 kHz: the band it can use, said once
        if note is not None and note not in self.summary.warnings:
            self.summary.warn(note)
        self.detector = TwitchDetector(layout.emg_info.sample_rate_hz, labels, acc_rate_hz=acc_rate)
        if layout.acc_info is not None:
            self._aligner = AccAligner(layout.emg_info, layout.acc_info)

    def new_run(self, host_elapsed_s: float) -> None:
        """The sample count restarts at 0 (device reset, or START): continue ``t_s``
        after the later of the last sample's time and ``host_elapsed_s`` (the host time
        since the source's first bytes), and forget the clock fit of the previous run."""
        self.t_offset_s = max(self.device_elapsed_s, host_elapsed_s)
        self._clock.reset()
        self._fits = None

    def restarts_run(self, stream_id: int) -> bool:
        """Whether a restart of this stream's sample count ends the current detector run
        (the stream has data in it)."""
        return stream_id in self.run_streams

    def end_session(self) -> SignalTime:
        """The session's recorded time (its runs ended), and a fresh one for the next."""
        signal, self.signal_time = self.signal_time, SignalTime()
        signal.end_run(None)  # a run cut short by an error: its samples, all counted usable
        return signal

    # ---- samples -------------------------------------------------------------
    def add_blocks(self, blocks: list[SampleBlock], pieces: list[StreamPiece]) -> None:
        """One stream's blocks as they arrived, and their pieces: the clock fit from the
        EMG stream's blocks, then the samples (the last piece dated by its first block's
        arrival)."""
        stream_id = pieces[0].stream_id
        emg = stream_id == self.layout.emg_stream
        if emg:
            if self._fits is None:
                self._fits = FitHistory(max(1, round(blocks[0].info.sample_rate_hz)))
            self._clock.add_blocks(blocks, self._fits)
        for k, piece in enumerate(pieces):
            wall_s = None
            if emg and k == len(pieces) - 1 and self.wall_offset_s is not None:
                wall_s = blocks[0].host_time_s + self.wall_offset_s  # arrival of the run's first block
            self.add(piece, wall_s=wall_s)

    def add(self, piece: StreamPiece, wall_s: float | None = None) -> None:
        """Samples of one stream, contiguous unless a gap was marked. ``wall_s``: unix
        time of the first sample on the source's clock, if known."""
        stream_id, n = piece.stream_id, piece.n
        if stream_id == self.layout.emg_stream:
            self.signal_time.add(piece.first_index, n, piece.rate_hz, wall_s)
        self.summary.samples[stream_id] = self.summary.samples.get(stream_id, 0) + n
        self.stream_elapsed_s[stream_id] = max(self.stream_elapsed_s.get(stream_id, 0.0),
                                               self.t_offset_s + (piece.first_index + n) / piece.rate_hz)
        if self.detector is not None and stream_id in (self.layout.emg_stream, self.layout.acc_stream):
            if stream_id == self.layout.acc_stream and self._aligner is not None:
                gap, first_index, rows = self._aligner.place(piece.first_index, n)
                if gap is not None:
                    self._pending.append((stream_id, gap[0], gap[1]))
                if rows is not None:
                    if not len(rows):
                        return
                    data = piece.data
                    data = (np.concatenate(data) if isinstance(data, list) else data)[rows]
                    piece = dataclasses.replace(piece, first_index=first_index, n=len(rows), data=data)
            self._pending.append(piece)
            if stream_id == self.layout.emg_stream:
                self._pending_emg += n

    def gap(self, gap: Gap) -> None:
        """Samples never received: the detector does not bridge them."""
        if self.detector is None:
            return
        if gap.stream_id == self.layout.emg_stream:
            self.detector.mark_gap("emg", gap.first_missing_index, gap.n_missing)
        elif gap.stream_id == self.layout.acc_stream:
            # (on the board clock the aligner marks it, on its grid, with the next block)
            if self._aligner is None or self._aligner.lost(gap.first_missing_index, gap.n_missing):
                self.detector.mark_gap("acc", gap.first_missing_index, gap.n_missing)

    def timing(self, timing: Timing) -> None:
        """A TIMING frame's board-clock stamps (docs/protocol.md): they place the
        accelerometer's later samples on the EMG timeline (:class:`~twitchwatch.clock.AccAligner`)."""
        if self._aligner is not None:
            self._aligner.add(timing)

    # ---- detection -----------------------------------------------------------
    def detect(self, force: bool = True) -> list[TwitchEvent]:
        """Run the detector once per stream over the samples that arrived together.

        The decoder reports every gap, reset and restart as a message of its own, and
        this is called (forced) before handling one, so the pending samples of a stream
        are contiguous. Batching costs no latency (they arrived in the same read) and
        saves the detector's per-call overhead; the detector is chunk-size and
        interleaving invariant, so the events are the same as block by block. Not
        forced (after a read), it waits until ``detect_every_s`` of EMG is pending.
        """
        det, layout = self.detector, self.layout
        if not self._pending or det is None:
            self._pending, self._pending_emg = [], 0
            return []
        if not force and self.detect_every_s > 0 and layout.emg_info is not None \
                and self._pending_emg < self.detect_every_s * layout.emg_info.sample_rate_hz:
            return []
        pending, self._pending, self._pending_emg = self._pending, [], 0
        events: list[TwitchEvent] = []
        for stream_id, cols, process, name in ((layout.emg_stream, layout.emg_cols, det.process_emg, "emg"),
                                               (layout.acc_stream, layout.acc_cols, det.process_acc, "acc")):
            mine = [p for p in pending if (p[0] if isinstance(p, tuple) else p.stream_id) == stream_id]
            if mine:
                assert cols is not None and stream_id is not None  # a stream with pending data has its id and columns
                self.run_streams.add(stream_id)
                run: list[StreamPiece] = []
                for p in mine:
                    if isinstance(p, tuple):  # a gap the accelerometer's aligner found
                        if run:
                            events += process(physical_columns(run, cols), run[0].first_index)
                            run = []
                        det.mark_gap(name, p[1], p[2])
                    else:
                        run.append(p)
                if run:
                    events += process(physical_columns(run, cols), run[0].first_index)
        self._artefacts(det.pop_artefacts())
        self._maybe_quality()
        return self._timed(events)

    def finish(self) -> list[TwitchEvent]:
        """End the current detector run: its pending samples, then its last events
        (and artefacts, and quality)."""
        events = self.detect()
        det = self.detector
        if det is None:
            return events
        events += self._timed(det.flush())
        self._artefacts(det.pop_artefacts())
        self._maybe_quality(force=True)
        usable = [q.usable_fraction for q in det.quality()]
        self.signal_time.end_run(sum(usable) / len(usable) if usable else None)
        self.detector = None
        return events

    def quality_now(self) -> list[dict[str, Any]]:
        """The detector's signal quality now, one row per EMG channel (empty without one)."""
        if self.detector is None:
            return []
        labels = self.detector.emg_labels  # channel: the column index (programs); label: as the source names it
        return [dict(dataclasses.asdict(q), channel=i, label=labels[i]) for i, q in enumerate(self.detector.quality())]

    def _timed(self, events: list[TwitchEvent]) -> list[TwitchEvent]:
        """Events with ``wall_time_s`` and ``t_s`` offset for this run."""
        info = self.layout.emg_info
        if not events or info is None:
            return events
        index = np.array([e.sample_index for e in events], dtype=np.int64)
        wall_s: np.ndarray | None = None
        if self.wall_offset_s is not None and self._fits is not None:
            # each sample with the clock fit of its own second of signal (FitHistory): the
            # same whenever the event is decided or logged
            device_us = index * 10**9 // info.sample_rate_mhz
            host_s = []
            for i, us in zip(index, device_us):
                fit = self._fits.fit_for(int(i))
                assert fit is not None  # a fit is recorded with the first EMG block, before any event
                host_s.append(fit.to_host_s(int(us)))
            wall_s = np.array(host_s) + self.wall_offset_s
        elif self.file_start_unix_s is not None:
            wall_s = self.file_start_unix_s + index / info.sample_rate_hz
        out = []
        for i, e in enumerate(events):
            changes: dict[str, Any] = {}
            if wall_s is not None:
                changes["wall_time_s"] = float(wall_s[i])
            if self.t_offset_s:
                changes["t_s"] = e.t_s + self.t_offset_s
            out.append(dataclasses.replace(e, **changes) if changes else e)
        return out

    def _artefacts(self, artefacts: list) -> None:
        if not artefacts or self.layout.emg_info is None:
            return
        rate_hz = self.layout.emg_info.sample_rate_hz
        for a in artefacts:
            self.summary.artefacts[a.kind] = self.summary.artefacts.get(a.kind, 0) + 1
        self.on_artefacts([{"kind": a.kind, "channel": a.channel, "start_index": a.start_index,
                            "end_index": a.end_index, "t_start_s": self.t_offset_s + a.start_index / rate_hz,
                            "t_end_s": self.t_offset_s + a.end_index / rate_hz, "detail": a.detail}
                           for a in artefacts])

    def _maybe_quality(self, force: bool = False) -> None:
        if not force and self.device_elapsed_s < self._next_quality_s:
            return
        self._next_quality_s = self.device_elapsed_s + self.quality_every_s
        quality = self.quality_now()
        if not quality:
            return
        self.summary.quality = quality
        self.on_quality(quality)
