"""95 % intervals for the detection benchmark's numbers (pure functions, no benchmark state).

- :func:`poisson_rate_ci`: exact (Garwood) interval for a rate ``count / exposure``
  (false twitches per minute): the chi-square quantiles of a Poisson count, divided by
  the exposure. It assumes the false twitches form one Poisson process over the pooled
  minutes; streams that differ from each other would widen the true interval.
- :func:`wilson_ci`: Wilson score interval for a proportion ``k / n`` (sensitivity,
  precision), from ``scipy.stats.binomtest``. It treats every twitch (or detection) as an
  independent trial.
- :func:`f1_bootstrap_ci`: percentile bootstrap over streams for the pooled F1: resample
  the streams with replacement, sum their tp / fp / fn, recompute F1.

Each returns ``(low, high)``; ``(nan, nan)`` when there is nothing to estimate from.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats

LEVEL = 0.95
N_BOOT = 2000
BOOT_SEED = 20_240_601

NAN_CI = (math.nan, math.nan)


def poisson_rate_ci(count: int, exposure: float, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Garwood) interval for ``count`` events over ``exposure`` (e.g. minutes):
    ``chi2.ppf(a/2, 2k) / 2`` to ``chi2.ppf(1 - a/2, 2k + 2) / 2``, divided by ``exposure``
    (the lower end is 0 when ``count`` is 0)."""
    if not exposure > 0 or count < 0:
        return NAN_CI
    a = 1.0 - level
    lo = 0.0 if count == 0 else float(stats.chi2.ppf(a / 2, 2 * count)) / 2.0
    hi = float(stats.chi2.ppf(1.0 - a / 2, 2 * count + 2)) / 2.0
    return lo / exposure, hi / exposure


def wilson_ci(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials."""
    if n <= 0:
        return NAN_CI
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def f1_of(tp, fp, fn):
    """F1 ``2tp / (2tp + fp + fn)``; nan where the denominator is 0 (arrays too)."""
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))
    den = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1.0), np.nan)


def f1_bootstrap_ci(streams: Sequence[Sequence[int]], level: float = LEVEL, n_boot: int = N_BOOT,
                    seed: int = BOOT_SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of the pooled F1 over streams.

    Args:
        streams: one ``(tp, fp, fn)`` per stream (scenario x seed).
        n_boot: resamples; each draws ``len(streams)`` streams with replacement and sums them.
        seed: numpy RNG seed (the same seed and streams give the same interval).
    """
    arr = np.asarray(streams, dtype=float).reshape(-1, 3)
    if len(arr) == 0 or not np.isfinite(f1_of(*arr.sum(axis=0))):
        return NAN_CI
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(n_boot, len(arr)))
    sums = arr[idx].sum(axis=1)  # (n_boot, 3)
    f1 = f1_of(sums[:, 0], sums[:, 1], sums[:, 2])
    f1 = f1[np.isfinite(f1)]  # resamples of only empty streams have no F1
    if len(f1) == 0:
        return NAN_CI
    a = 1.0 - level
    lo, hi = np.percentile(f1, [100 * a / 2, 100 * (1 - a / 2)])
    return float(lo), float(hi)


def target_phrase(lo: float, hi: float, target: float, more: str) -> str:
    """Where ``target`` lies against the interval ``[lo, hi]``, in words; ``more`` names what
    would narrow it (``"minutes"``, ``"streams"``)."""
    if math.isnan(lo) or math.isnan(hi):
        return "no interval (nothing to estimate from)"
    if target < lo:
        return "the whole interval is above the target"
    if target > hi:
        return "the whole interval is below the target"
    return f"the target is inside the interval, more {more} are needed to tell"
