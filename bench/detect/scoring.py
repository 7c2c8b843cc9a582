"""Matching detections to truth twitches, and the metrics of the benchmark.

Everything here works on plain ``(sample_index, channel)`` pairs in EMG samples, so it
does not depend on the simulator's or the detectors' classes.

Matching rule (the benchmark's definition of a hit): a detection matches a truth twitch
when it is on the **same channel** and ``|detection - truth| <= tol_ms`` (inclusive: a
detection exactly ``tol_ms`` away matches). Matching is **one-to-one**: each truth twitch
and each detection is used at most once. Among all one-to-one matchings we take one with
the **most pairs**, and among those the smallest total ``|timing error|``
(:func:`scipy.optimize.linear_sum_assignment` on each connected group of events; groups are
runs of events closer than the tolerance, so they stay small).

Metrics (:class:`Tally`): sensitivity ``tp/(tp+fn)``, precision ``tp/(tp+fp)``,
F1 ``2tp/(2tp+fp+fn)``; false twitches per minute of a control (no truth twitches) is
``fp / minutes``; false twitches during voluntary/motion segments are detections inside
such a segment (on the segment's channel, or any channel when the segment has none) that
match no truth twitch, per minute of the union of those segments' time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

Event = tuple[int, int]  # (sample_index, channel)
Segment = tuple[int, int, "int | None"]  # (start, end exclusive, channel or None = all)

#: components larger than this (truth x detections) are matched by the greedy sweep,
#: which also finds a maximum matching but does not minimise the timing error.
_MAX_ASSIGNMENT_CELLS = 250_000


@dataclass
class Match:
    """Result of :func:`match_events`: index pairs into the inputs, and the leftovers."""

    pairs: list[tuple[int, int]]  # (truth index, detection index)
    unmatched_truth: list[int]
    unmatched_detections: list[int]
    abs_error_samples: list[int]  # |detection - truth| per pair, same order as pairs

    @property
    def tp(self) -> int:
        return len(self.pairs)

    @property
    def fn(self) -> int:
        return len(self.unmatched_truth)

    @property
    def fp(self) -> int:
        return len(self.unmatched_detections)


def within_tolerance(dt_samples: int, rate_hz: float, tol_ms: float) -> bool:
    """True when ``|dt|`` samples is at most ``tol_ms`` (edge included, no float fuzz)."""
    return abs(int(dt_samples)) * 1000.0 <= tol_ms * rate_hz + 1e-9


def _greedy_sweep(t: np.ndarray, d: np.ndarray, tol: float) -> list[tuple[int, int]]:
    """Maximum one-to-one matching of sorted points: each truth (in time order) takes the
    earliest free detection within ``tol`` (earliest-deadline rule; optimal in count)."""
    pairs = []
    j = 0
    for i, ti in enumerate(t):
        while j < len(d) and d[j] < ti - tol:
            j += 1
        if j < len(d) and abs(d[j] - ti) <= tol:
            pairs.append((i, j))
            j += 1
    return pairs


def _match_component(t: np.ndarray, d: np.ndarray, tol: float) -> list[tuple[int, int]]:
    """Max-cardinality, then min-total-error matching of truth ``t`` and detections ``d``."""
    if len(t) == 0 or len(d) == 0:
        return []
    if len(t) * len(d) > _MAX_ASSIGNMENT_CELLS:
        return _greedy_sweep(t, d, tol)
    cost = np.abs(t[:, None].astype(np.float64) - d[None, :].astype(np.float64))
    valid = cost <= tol
    m = min(len(t), len(d))
    big = (m + 1) * (tol + 1.0)  # any extra valid pair outweighs every error sum
    cost = np.where(valid, cost, big)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if valid[r, c]]


def match_events(
    truth: Sequence[Event],
    detections: Sequence[Event],
    rate_hz: float,
    tol_ms: float = 15.0,
) -> Match:
    """One-to-one matching of detections to truth twitches (module docstring).

    Args:
        truth: ``(sample_index, channel)`` of each truth twitch (its peak sample).
        detections: ``(sample_index, channel)`` of each detection.
        rate_hz: EMG sample rate (converts the tolerance to samples).
        tol_ms: largest ``|timing error|`` of a hit, inclusive.
    """
    tol = tol_ms * rate_hz / 1000.0 + 1e-9
    pairs: list[tuple[int, int]] = []
    channels = {c for _, c in truth} | {c for _, c in detections}
    for ch in sorted(channels):
        ti = np.array([i for i, (_, c) in enumerate(truth) if c == ch], dtype=np.int64)
        di = np.array([i for i, (_, c) in enumerate(detections) if c == ch], dtype=np.int64)
        if len(ti) == 0 or len(di) == 0:
            continue
        ts = np.array([truth[i][0] for i in ti], dtype=np.int64)
        ds = np.array([detections[i][0] for i in di], dtype=np.int64)
        to = np.argsort(ts, kind="stable")
        do = np.argsort(ds, kind="stable")
        ti, ts, di, ds = ti[to], ts[to], di[do], ds[do]
        # Components: merge both sorted lists; a gap > tol between neighbours splits.
        times = np.concatenate([ts, ds])
        kind = np.concatenate([np.zeros(len(ts), bool), np.ones(len(ds), bool)])
        pos = np.concatenate([np.arange(len(ts)), np.arange(len(ds))])
        order = np.argsort(times, kind="stable")
        times, kind, pos = times[order], kind[order], pos[order]
        cuts = np.flatnonzero(np.diff(times) > tol) + 1
        for group in np.split(np.arange(len(times)), cuts):
            gt = pos[group][~kind[group]]
            gd = pos[group][kind[group]]
            for a, b in _match_component(ts[gt], ds[gd], tol):
                pairs.append((int(ti[gt[a]]), int(di[gd[b]])))
    pairs.sort()
    used_t = {a for a, _ in pairs}
    used_d = {b for _, b in pairs}
    return Match(
        pairs=pairs,
        unmatched_truth=[i for i in range(len(truth)) if i not in used_t],
        unmatched_detections=[i for i in range(len(detections)) if i not in used_d],
        abs_error_samples=[abs(int(detections[b][0]) - int(truth[a][0])) for a, b in pairs],
    )


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
    abs_errors_ms: list[float] = field(default_factory=list)
    signal_s: float = 0.0  # signal seconds processed (throughput numerator)
    cpu_s: float = 0.0  # processing seconds (throughput denominator)
    errors: list[str] = field(default_factory=list)

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
            abs_errors_ms=self.abs_errors_ms + other.abs_errors_ms,
            signal_s=self.signal_s + other.signal_s,
            cpu_s=self.cpu_s + other.cpu_s,
            errors=self.errors + other.errors,
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
            "median_abs_error_ms": self.median_abs_error_ms,
            "x_realtime": self.x_realtime,
            "errors": list(self.errors),
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
    )
    if is_control:
        tally.control_fp = match.fp
        tally.control_minutes = minutes
    if crosstalk and match.unmatched_detections:
        leftovers = [detections[i] for i in match.unmatched_detections]
        if exclude:
            crosstalk = drop_in_segments(crosstalk, exclude)
        tally.crosstalk_fp = match_events(crosstalk, leftovers, rate_hz, tol_ms).tp
    if artefact_segments:
        tally.segment_fp = false_in_segments(detections, match, artefact_segments)
        tally.segment_minutes = union_length(artefact_segments) / rate_hz / 60.0
    return tally, match
