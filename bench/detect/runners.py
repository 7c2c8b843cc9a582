"""Our detectors fed as a live stream: fixed-duration blocks, EMG and accelerometer
interleaved in time order.

Block order: the stream is cut into ``block_ms`` steps; step ``k`` carries EMG samples
``[k*B_emg, (k+1)*B_emg)`` and accelerometer samples ``[k*B_acc, (k+1)*B_acc)``; within a
step the EMG block is fed first, then the accelerometer block (both end at the same
time). Events returned by either call, and by ``flush()``, are collected.

Latency (``latency_samples``): for an event returned while feeding step ``k``, the
detector could have known it once the step's last sample arrived, i.e. at EMG index
``(k+1)*B_emg`` (exclusive end of the step); latency is that minus the truth twitch's
``end_index``. Events returned by ``flush()`` have no latency (the stream ended).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class StreamRun:
    events: list[Any]  # TwitchEvent-like objects with .sample_index and .channel
    wall_s: float  # perf_counter seconds of the whole run, detector construction included
    # index in ``events`` -> EMG index (exclusive) at which the event was returned;
    # None for events returned by flush()
    returned_at: list[int | None] = field(default_factory=list)
    artefacts: list[Any] = field(default_factory=list)
    error: str | None = None

    def pairs(self, candidates: bool = False) -> list[tuple[int, int]]:
        """``(sample_index, channel)`` of the counted twitches (events without a
        ``counted`` attribute count), sorted; with ``candidates`` every event."""
        return sorted((int(e.sample_index), int(e.channel)) for e in self.events
                      if candidates or getattr(e, "counted", True))


def run_engine(
    make_detector,
    emg_uv: np.ndarray,
    emg_rate_hz: float,
    acc_mg: np.ndarray | None = None,
    acc_rate_hz: float | None = None,
    *,
    block_ms: float = 100.0,
    collect_artefacts: bool = True,
) -> StreamRun:
    """Feed a ``TwitchDetector``-like object (``process_emg``/``process_acc``/``flush``).

    ``make_detector()`` builds a fresh detector; its construction is timed too.
    """
    emg = np.ascontiguousarray(emg_uv, dtype=np.float64)
    n = emg.shape[0]
    b_emg = max(1, int(round(block_ms * 1e-3 * emg_rate_hz)))
    use_acc = acc_mg is not None and acc_rate_hz is not None
    if use_acc:
        acc = np.ascontiguousarray(acc_mg, dtype=np.float64)
        b_acc = max(1, int(round(block_ms * 1e-3 * acc_rate_hz)))
        m = acc.shape[0]
    events: list[Any] = []
    returned_at: list[int | None] = []
    artefacts: list[Any] = []
    steps = -(-n // b_emg)
    t0 = time.perf_counter()
    det = make_detector()
    for k in range(steps):
        s, e = k * b_emg, min(n, (k + 1) * b_emg)
        out = det.process_emg(emg[s:e], s)
        if use_acc:
            a0, a1 = k * b_acc, min(m, (k + 1) * b_acc)
            if a1 > a0:
                out = out + det.process_acc(acc[a0:a1], a0)
        if out:
            events.extend(out)
            returned_at.extend([e] * len(out))
        if collect_artefacts and hasattr(det, "pop_artefacts"):
            artefacts.extend(det.pop_artefacts())
    if use_acc and steps * b_acc < m:  # accelerometer longer than the EMG: feed the rest
        out = det.process_acc(acc[steps * b_acc :], steps * b_acc)
        events.extend(out)
        returned_at.extend([n] * len(out))
    tail = det.flush()
    events.extend(tail)
    returned_at.extend([None] * len(tail))
    if collect_artefacts and hasattr(det, "pop_artefacts"):
        artefacts.extend(det.pop_artefacts())
    return StreamRun(events=events, wall_s=time.perf_counter() - t0, returned_at=returned_at, artefacts=artefacts)


def run_threshold(make_detector, emg_uv: np.ndarray, emg_rate_hz: float, *, block_ms: float = 100.0) -> StreamRun:
    """Feed the old ``ThresholdDetector`` (``process``/``flush``) in EMG-only blocks."""
    emg = np.ascontiguousarray(emg_uv, dtype=np.float64)
    n = emg.shape[0]
    b = max(1, int(round(block_ms * 1e-3 * emg_rate_hz)))
    events: list[Any] = []
    returned_at: list[int | None] = []
    t0 = time.perf_counter()
    det = make_detector()
    for s in range(0, n, b):
        e = min(n, s + b)
        out = det.process(emg[s:e], s)
        events.extend(out)
        returned_at.extend([e] * len(out))
    tail = det.flush()
    events.extend(tail)
    returned_at.extend([None] * len(tail))
    return StreamRun(events=events, wall_s=time.perf_counter() - t0, returned_at=returned_at)


def latency_samples(
    run: StreamRun,
    detections: list[tuple[int, int]],
    pairs: list[tuple[int, int]],
    truth_end_index: list[int],
) -> list[int]:
    """Latency in EMG samples of each matched event returned before ``flush()``.

    Args:
        run: the streaming run (``events`` in the order returned).
        detections: the ``(sample_index, channel)`` list that was matched, built from
            ``run.events`` **in the same order** (not sorted).
        pairs: ``(truth index, detection index)`` from the matching.
        truth_end_index: each truth twitch's ``end_index``.
    """
    out = []
    for ti, di in pairs:
        at = run.returned_at[di]
        if at is not None:
            out.append(int(at) - int(truth_end_index[ti]))
    return out
