"""One-to-one matching of detected twitches to ground-truth twitches.

Works on plain ``(sample_index, channel)`` pairs in EMG samples, so it depends on neither
the simulator's nor the detectors' classes. Used by ``twitchwatch demo`` (its closing
score) and by the detection benchmark (``bench/detect/scoring.py``).

Matching rule (the benchmark's definition of a hit): a detection matches a truth twitch
when it is on the **same channel** and ``|detection - truth| <= tol_ms`` (inclusive: a
detection exactly ``tol_ms`` away matches). Matching is **one-to-one**: each truth twitch
and each detection is used at most once. Among all one-to-one matchings we take one with
the **most pairs**, and among those the smallest total ``|timing error|``
(:func:`scipy.optimize.linear_sum_assignment` on each connected group of events; groups are
runs of events closer than the tolerance, so they stay small).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

Event = tuple[int, int]  # (sample_index, channel)

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
