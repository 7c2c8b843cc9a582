"""Matching detections to truth twitches, and the metrics of the benchmark.

Everything here works on plain ``(sample_index, channel)`` pairs in EMG samples, so it
does not depend on the simulator's or the detectors' classes.

Matching (one-to-one, same channel, ``|error| <= tol_ms``, most pairs then least total
error) lives in :mod:`twitchwatch.sim.matching`, shared with ``twitchwatch demo``.

Metrics (:class:`Tally`): sensitivity ``tp/(tp+fn)``, precision ``tp/(tp+fp)``,
F1 ``2tp/(2tp+fp+fn)``; false twitches per minute of a control (no truth twitches) is
``fp / minutes``; false twitches during voluntary/motion segments are detections inside
such a segment (on the segment's channel, or any channel when the segment has none) that
match no truth twitch, per minute of the union of those segments' time. A tally keeps each
scored stream's ``(tp, fp, fn)`` in ``streams`` (pooling concatenates them), so the F1
interval (:mod:`bench.detect.intervals`) can resample streams.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from twitchwatch.sim.matching import Event, Match, match_events, within_tolerance  # noqa: F401 (re-exported)

Segment = tuple[int, int, "int | None"]  # (start, end exclusive, channel or None = all)


def union_length(segments: Iterable[Segment]) -> int:
    """Samples covered by the union of ``[start, end)`` intervals (channels ignored)."""
    spans = sorted((int(s), int(e)) for s, e, _ in segments if e > s)
    total = 0
    cur_s = cur_e = None
    for s, e in spans:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


def in_segments(event: Event, segments: Sequence[Segment]) -> bool:
    """True when the event lies in ``[start, end)`` of a segment on its channel (or of a
    segment with channel None)."""
    idx, ch = event
    return any(s <= idx < e and (c is None or c == ch) for s, e, c in segments)


def false_in_segments(
    detections: Sequence[Event], match: Match, segments: Sequence[Segment]
) -> int:
    """Unmatched detections inside any segment (each detection counted once)."""
    return sum(1 for i in match.unmatched_detections if in_segments(detections[i], segments))


def drop_in_segments(events: Sequence[Event], segments: Sequence[Segment]) -> list[Event]:
    """The events outside every segment (to leave excluded stretches out of scoring)."""
    return [ev for ev in events if not in_segments(ev, segments)]


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


@dataclass
class Tally:
    """Counts of one detector over one or more streams; add tallies to pool them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    minutes: float = 0.0  # recording time scored
    control_fp: int = 0  # false detections in twitch-free controls
    control_minutes: float = 0.0
    segment_fp: int = 0  # unmatched detections inside voluntary/motion segments
    segment_minutes: float = 0.0
    crosstalk_fp: int = 0  # false detections that coincide with a crosstalk copy
    background_fp: int = 0  # false detections that coincide with the detector's own event on the unaltered background
    abs_errors_ms: list[float] = field(default_factory=list)
    signal_s: float = 0.0  # signal seconds processed (throughput numerator)
    cpu_s: float = 0.0  # processing seconds (throughput denominator)
    errors: list[str] = field(default_factory=list)
    streams: list[tuple[int, int, int]] = field(default_factory=list)  # (tp, fp, fn) of each stream pooled here

    def add(self, other: "Tally") -> "Tally":
        out = Tally(
            tp=self.tp + other.tp,
            fp=self.fp + other.fp,
            fn=self.fn + other.fn,
            minutes=self.minutes + other.minutes,
            control_fp=self.control_fp + other.control_fp,
            control_minutes=self.control_minutes + other.control_minutes,
            segment_fp=self.segment_fp + other.segment_fp,
            segment_minutes=self.segment_minutes + other.segment_minutes,
            crosstalk_fp=self.crosstalk_fp + other.crosstalk_fp,
            background_fp=self.background_fp + other.background_fp,
            abs_errors_ms=self.abs_errors_ms + other.abs_errors_ms,
            signal_s=self.signal_s + other.signal_s,
            cpu_s=self.cpu_s + other.cpu_s,
            errors=self.errors + other.errors,
            streams=self.streams + other.streams,
        )
        return out

    @property
    def sensitivity(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def precision_without_background(self) -> float:
        """Precision with the false detections in ``background_fp`` set aside."""
        return _ratio(self.tp, self.tp + self.fp - self.background_fp)

    @property
    def control_fp_per_min(self) -> float:
        return _ratio(self.control_fp, self.control_minutes)

    @property
    def segment_fp_per_min(self) -> float:
        return _ratio(self.segment_fp, self.segment_minutes)

    @property
    def median_abs_error_ms(self) -> float:
        return float(np.median(self.abs_errors_ms)) if self.abs_errors_ms else math.nan

    @property
    def x_realtime(self) -> float:
        return _ratio(self.signal_s, self.cpu_s)

    def to_json_dict(self) -> dict:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "sensitivity": self.sensitivity,
            "precision": self.precision,
            "f1": self.f1,
            "minutes": self.minutes,
            "control_fp": self.control_fp,
            "control_minutes": self.control_minutes,
            "control_fp_per_min": self.control_fp_per_min,
            "segment_fp": self.segment_fp,
            "segment_minutes": self.segment_minutes,
            "segment_fp_per_min": self.segment_fp_per_min,
            "crosstalk_fp": self.crosstalk_fp,
            "background_fp": self.background_fp,
            "median_abs_error_ms": self.median_abs_error_ms,
            "x_realtime": self.x_realtime,
            "errors": list(self.errors),
            "streams_tp_fp_fn": [list(x) for x in self.streams],
        }


def score_stream(
    truth: Sequence[Event],
    detections: Sequence[Event],
    rate_hz: float,
    n_samples: int,
    *,
    is_control: bool,
    artefact_segments: Sequence[Segment] = (),
    exclude: Sequence[Segment] = (),
    crosstalk: Sequence[Event] = (),
    background: Sequence[Event] = (),
    tol_ms: float = 15.0,
) -> tuple[Tally, Match]:
    """Score one stream: match, then count.

    Args:
        truth, detections: ``(sample_index, channel)`` lists.
        rate_hz: EMG rate.
        n_samples: EMG samples in the stream (its length in time).
        is_control: twitch-free control: every detection is a false twitch counted in
            ``control_fp`` (and in ``fp``).
        artefact_segments: voluntary/motion segments for ``segment_fp``.
        exclude: stretches left out of scoring entirely (truth and detections inside
            them dropped, their time removed from ``minutes``).
        crosstalk: ``(sample_index, channel)`` of copies of truth twitches seen on another
            channel (volume conduction). They are not truth (a twitch is one event, on its
            largest channel), so a detection of one is a false positive; how many false
            positives are such copies is counted in ``crosstalk_fp`` (one-to-one, same
            tolerance) so the table can say so.
        background: ``(sample_index, channel)`` the same detector reports on the
            unaltered background a stream was made from (simulated twitches injected
            into real rest EMG). Unlabelled, they may be real low-level potentials or
            noise; false positives that coincide with one are counted in
            ``background_fp`` (one-to-one, same tolerance), never removed from ``fp``.
        tol_ms: matching tolerance.
    """
    if exclude:
        truth = drop_in_segments(truth, exclude)
        detections = drop_in_segments(detections, exclude)
    match = match_events(truth, detections, rate_hz, tol_ms)
    minutes = (n_samples - union_length(exclude)) / rate_hz / 60.0
    tally = Tally(
        tp=match.tp,
        fp=match.fp,
        fn=match.fn,
        minutes=minutes,
        abs_errors_ms=[e * 1000.0 / rate_hz for e in match.abs_error_samples],
        streams=[(match.tp, match.fp, match.fn)],
    )
    if is_control:
        tally.control_fp = match.fp
        tally.control_minutes = minutes
    leftovers = [detections[i] for i in match.unmatched_detections]
    if crosstalk and leftovers:
        tally.crosstalk_fp = match_events(drop_in_segments(crosstalk, exclude), leftovers, rate_hz, tol_ms).tp
    if background and leftovers:
        tally.background_fp = match_events(drop_in_segments(background, exclude), leftovers, rate_hz, tol_ms).tp
    if artefact_segments:
        tally.segment_fp = false_in_segments(detections, match, artefact_segments)
        tally.segment_minutes = union_length(artefact_segments) / rate_hz / 60.0
    return tally, match
