"""Per-sample threshold flags and activity counts of one EMG block, in one compiled pass (numba).

For the engine's block step (:meth:`TwitchDetector._emg_block
<twitchwatch.detect.engine.TwitchDetector._emg_block>`): from the cleaned signal ``y``,
the noise floor ``sigma`` in force, the hum envelope and its baseline (all (channels,
n), µV), the robust ratio |y| / sigma and the flags the engine tracks (supra-threshold,
hum burst, sustained activity), the running count of active samples and the active
fraction over the trailing ``window`` samples. As numpy calls that was ~20 passes over
the block, each with its per-call overhead; the values are the same bit for bit (one
division, comparisons and exact integer counts per sample). A NaN sigma (settling, no
floor yet) gives a NaN ratio and no flag.

Causal and chunk-size invariant: the counts carry ``count0`` and the ``trailing``
counts of the samples before the block.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def block_flags(y, sigma, hum, hum_base, k, activity_k, burst_ratio, burst_k, sustained_fraction,
                count0, trailing, window, ay, ratio, flags, counts, fraction):
    """Fill, for every channel c and sample t of the block:

    - ``ay`` = |y|, ``ratio`` = |y| / sigma;
    - ``flags[0]`` supra-threshold (ratio > k), ``flags[1]`` hum burst (hum > max(burst_ratio
      x hum_base, burst_k x sigma)), ``flags[2]`` sustained (fraction > sustained_fraction);
    - ``counts``: running count of active samples (ratio > activity_k), ``count0[c]``
      before the block (float64, exact);
    - ``fraction``: active fraction over the ``window`` samples ending at t, from the
      counts; ``trailing`` (channels, m <= window) holds the counts of the m samples
      before the block (fewer than ``window`` at a segment start: the earliest one
      stands for the missing ones; none: the count before the block's first sample).

    Returns (any flag per row and channel (3, channels) bool, finite sigma samples per
    channel)."""
    C, n = y.shape
    m = trailing.shape[1]
    any_flag = np.zeros((3, C), np.bool_)
    n_finite = np.zeros(C, np.int64)
    for c in range(C):
        run = count0[c]
        for t in range(n):
            a = abs(y[c, t])
            s = sigma[c, t]
            r = a / s
            ay[c, t] = a
            ratio[c, t] = r
            if s == s and abs(s) != np.inf:
                n_finite[c] += 1
            supra = r > k
            flags[0, c, t] = supra
            hb = burst_ratio * hum_base[c, t]
            sk = burst_k * s
            level = np.nan if (hb != hb or sk != sk) else (hb if hb >= sk else sk)
            burst = hum[c, t] > level
            flags[1, c, t] = burst
            if r > activity_k:
                run += 1.0
            counts[c, t] = run
            any_flag[0, c] |= supra
            any_flag[1, c] |= burst
        for t in range(n):
            if t >= window:
                back = counts[c, t - window]
            elif t - window + m >= 0:
                back = trailing[c, t - window + m]
            elif m > 0:
                back = trailing[c, 0]
            else:  # the count before the first sample
                back = counts[c, 0] - (1.0 if ratio[c, 0] > activity_k else 0.0)
            f = (counts[c, t] - back) / window
            fraction[c, t] = f
            sustained = f > sustained_fraction
            flags[2, c, t] = sustained
            any_flag[2, c] |= sustained
    return any_flag, n_finite


@numba.njit(cache=True)
def lead_flags(x, hum, rail_uv, leadoff_hum_uv, rail, off):
    """Lead-off flags of one block: ``hum`` (channels, n) holds the low-passed squared
    hum and becomes its envelope sqrt(max(., 0)) (µV RMS) in place; ``rail`` = |x| >=
    ``rail_uv`` (raw µV); ``off`` = rail or envelope > ``leadoff_hum_uv``. Returns
    whether any sample is off, per channel."""
    C, n = x.shape
    any_off = np.zeros(C, np.bool_)
    for c in range(C):
        for t in range(n):
            h = hum[c, t]
            if not (h >= 0.0 or h != h):  # np.maximum(h, 0): NaN stays, -0.0 stays
                h = 0.0
            h = np.sqrt(h)
            hum[c, t] = h
            r = abs(x[c, t]) >= rail_uv
            o = r or h > leadoff_hum_uv
            rail[c, t] = r
            off[c, t] = o
            any_off[c] |= o
    return any_off


@numba.njit(cache=True)
def norm3(v):
    """Euclidean norm of the 3 rows of ``v`` (3, m) per column, summed as numpy's
    ``(v * v).sum(axis=0)`` adds them (row 0 + row 1, then + row 2)."""
    m = v.shape[1]
    out = np.empty(m)
    for t in range(m):
        out[t] = np.sqrt((v[0, t] * v[0, t] + v[1, t] * v[1, t]) + v[2, t] * v[2, t])
    return out
