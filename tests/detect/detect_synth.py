"""Synthetic sEMG for detector tests: Gaussian rest noise plus potentials at known times.

A potential with ``n_phases`` phases (2 = biphasic, 3 = triphasic) of duration ``D`` is
``sin(n_phases * pi * t / D)`` for ``0 <= t <= D``, scaled to the requested
peak-to-peak amplitude. Its reference time is the centre ``start + D / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE_HZ = 2000.0


@dataclass(frozen=True)
class Potential:
    centre_index: int
    channel: int
    amplitude_uv: float  # peak to peak
    duration_ms: float
    n_phases: int


def potential_shape(amplitude_uv: float, duration_ms: float, n_phases: int, rate_hz: float) -> np.ndarray:
    n = max(2, int(round(duration_ms * 1e-3 * rate_hz)))
    t = np.arange(n) / (n - 1)
    shape = np.sin(n_phases * np.pi * t)
    return shape * (amplitude_uv / (shape.max() - shape.min()))


def make_recording(
    seed: int,
    duration_s: float,
    *,
    n_channels: int = 2,
    noise_uv_rms: float = 3.0,
    mean_interval_s: float = 0.5,
    rate_hz: float = RATE_HZ,
    amplitude_range_uv: tuple[float, float] = (50.0, 300.0),
    duration_range_ms: tuple[float, float] = (5.0, 20.0),
    lead_in_s: float = 1.0,
) -> tuple[np.ndarray, list[Potential]]:
    """Noise ``(n_samples, n_channels)`` µV plus potentials at least 60 ms apart per channel,
    none in the first ``lead_in_s`` (detector warm-up)."""
    rng = np.random.default_rng(seed)
    n_samples = int(duration_s * rate_hz)
    signal = rng.normal(0.0, noise_uv_rms, size=(n_samples, n_channels))
    signal += rng.normal(0.0, 200.0, size=n_channels)  # electrode DC offset
    truth: list[Potential] = []
    for channel in range(n_channels):
        t_s = lead_in_s
        while True:
            t_s += 0.06 + rng.exponential(mean_interval_s)
            if t_s > duration_s - 0.1:
                break
            amplitude_uv = rng.uniform(*amplitude_range_uv)
            duration_ms = rng.uniform(*duration_range_ms)
            n_phases = int(rng.choice([2, 3]))
            shape = potential_shape(amplitude_uv, duration_ms, n_phases, rate_hz)
            start = int(t_s * rate_hz)
            signal[start : start + shape.size, channel] += shape * rng.choice([-1.0, 1.0])
            truth.append(Potential(start + shape.size // 2, channel, amplitude_uv, duration_ms, n_phases))
    return signal, truth


def match(events, truth: list[Potential], rate_hz: float = RATE_HZ, tolerance_ms: float = 15.0):
    """Greedy one-to-one matching per channel; returns (n_hits, false_positive_events)."""
    tolerance = tolerance_ms * 1e-3 * rate_hz
    unmatched = list(events)
    hits = 0
    for potential in truth:
        best = None
        for event in unmatched:
            if event.channel == potential.channel and abs(event.sample_index - potential.centre_index) <= tolerance:
                if best is None or abs(event.sample_index - potential.centre_index) < abs(
                    best.sample_index - potential.centre_index
                ):
                    best = event
        if best is not None:
            unmatched.remove(best)
            hits += 1
    return hits, unmatched


def run_detector(detector, signal: np.ndarray, block_sizes=None) -> list:
    """Feed ``signal`` in blocks (default one block) and flush; return all events."""
    events = []
    if block_sizes is None:
        block_sizes = [signal.shape[0]]
    start = 0
    for size in block_sizes:
        if start >= signal.shape[0]:
            break
        block = signal[start : start + size]
        events += detector.process(block, start)
        start += block.shape[0]
    if start < signal.shape[0]:
        events += detector.process(signal[start:], start)
    events += detector.flush()
    return events
