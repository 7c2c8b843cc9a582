"""The clock error between two chips that sample on their own oscillators.

On the board the ADS1292R (EMG) and the LSM6DSO (accelerometer) each derive their
sample rate from their own oscillator (tolerances in docs/firmware.md: around 1 % apart
is normal), and the rate of each wanders slowly with temperature. One model, used by
the host simulator (a scenario's ``acc_clock_*`` fields), the detection benchmark's
test split (bench/detect/split_bench.py) and, in integer form, the firmware's
simulated front end (``firmware/sim_clocks.ChipClock``): sample ``k`` of a chip of
nominal rate ``f`` is converted at

    t_k = k / f × (1 + ppm·10⁻⁶) + offset + W(k / f),
    W(t) = A · (sin(2πt / P + φ) − sin φ),   A = wander_ppm·10⁻⁶ · P / (2π),

on the reference clock: ``ppm`` > 0 is a slow chip (a longer period), ``W`` a rate
deviation of ``wander_ppm`` peak varying with period ``P`` (seconds).
"""

from __future__ import annotations

import numpy as np


def chip_sample_times_s(n: int, rate_hz: float, ppm: float = 0.0, offset_s: float = 0.0,
                        wander_ppm: float = 0.0, wander_s: float = 120.0, phase_rad: float = 0.0) -> np.ndarray:
    """Reference-clock times (s) of a chip's samples ``0 .. n-1`` (float64, increasing
    for ``|ppm| + |wander_ppm|`` below 10⁶)."""
    t = np.arange(n) / float(rate_hz)
    out = t * (1.0 + ppm * 1e-6) + offset_s
    if wander_ppm:
        a = wander_ppm * 1e-6 * wander_s / (2 * np.pi)
        out += a * (np.sin(2 * np.pi * t / wander_s + phase_rad) - np.sin(phase_rad))
    return out


def resample_at(x: np.ndarray, rate_hz: float, times_s: np.ndarray) -> np.ndarray:
    """``x`` (rows sampled at ``rate_hz`` from time 0) linearly interpolated at
    ``times_s``, per column: what a chip on its own clock reads of a signal rendered on
    the reference grid (held at the ends)."""
    grid = np.arange(x.shape[0]) / float(rate_hz)
    if x.ndim == 1:
        return np.interp(times_s, grid, x)
    return np.stack([np.interp(times_s, grid, x[:, j]) for j in range(x.shape[1])], axis=1)
