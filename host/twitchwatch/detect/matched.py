"""The channel's noise whitener and the matched filter's threshold (issue #19, item 3).

The cleaned EMG's noise is not white (band-passed 1/f noise, residual hum): a plain
``||s|| / sigma`` misjudges what is detectable, and a plain correlation weighs the
frequencies where the noise is strong as much as those where it is weak. The optimal
test for a known waveform ``u`` in coloured Gaussian noise is the *whitened* matched
filter: both the signal and the template go through a filter that makes the noise
white, then ``z = <W x, W u> / (sigma_e ||W u||)`` is N(0, 1) under noise alone
(:mod:`.peel` uses it to take superimposed potentials apart).

**Whitener** (:class:`NoiseWhitener`, one per channel). A causal autoregressive model of
the noise, order ``order`` (8): its prediction-error filter ``a`` (FIR, ``a[0] = 1``) turns
the noise into white noise of variance ``sigma_e**2``. The model is fitted (Levinson,
``scipy.linalg.solve_toeplitz``) to an autocorrelation averaged over twitch-free
stretches: the 200 ms before each decided twitch (its local-background window, which
leaves out +- 25 ms around the channel's recent brief candidates), each entering with
weight ``learn`` (0.2) of the running estimate, with a white floor of ``load`` (10 %) of
the noise power added (band-limited noise would otherwise be whitened with a huge gain
where it has almost no power, above a front end's low-pass, where templates are least
certain). Only the stretch before a twitch is read, and the estimate is updated in the
engine's release order, so it is causal and the same for any block split.

**Threshold** (:func:`threshold`): one-sided, for ``false_per_min`` false alarms per minute
with one test per sample and template, as the ideal detector's (bench/detect/ideal.py).

Assumptions: the noise is stationary over the seconds the estimate averages.
"""

from __future__ import annotations

import math

import numpy as np

from .designs import ndtri

FALSE_PER_MIN = 0.2  #: the threshold's false alarms per minute per channel (as bench/detect/ideal.py)


class NoiseWhitener:
    """Causal AR(``order``) whitener of one channel's cleaned noise, µV.

    Args:
        order: AR model order (prediction-error filter length - 1).
        learn: weight of each new stretch's autocorrelation in the running estimate.
        min_stretches: stretches needed before :meth:`filter` returns a whitener.
    """

    def __init__(self, order: int = 8, learn: float = 0.2, min_stretches: int = 2, load: float = 0.1) -> None:
        self.order = int(order)
        self.load = float(load)
        self.learn = float(learn)
        self.min_stretches = int(min_stretches)
        self._r: np.ndarray | None = None  # autocorrelation, lags 0..order, µV^2
        self.stretches = 0
        self._fit: tuple[np.ndarray, float] | None = None

    def update(self, y_uv: np.ndarray, keep: np.ndarray) -> bool:
        """Add one stretch ``y_uv`` (µV) whose samples with ``keep`` False are left out
        (lag products touching them are not counted). False (nothing learned) when fewer
        than half the samples remain or they are not finite."""
        p = self.order
        n = y_uv.size
        if n < 4 * (p + 1) or int(keep.sum()) < n // 2:
            return False
        y = np.where(keep, y_uv, 0.0)
        if not np.all(np.isfinite(y)):
            return False
        m = keep.astype(np.float64)
        r = np.empty(p + 1)
        for k in range(p + 1):
            pairs = float(np.dot(m[: n - k], m[k:]))
            if pairs < n // 4:
                return False
            r[k] = float(np.dot(y[: n - k], y[k:])) / pairs
        if not r[0] > 0:
            return False
        self._r = r if self._r is None else (1.0 - self.learn) * self._r + self.learn * r
        self.stretches += 1
        self._fit = None
        return True

    def filter(self) -> tuple[np.ndarray, float] | None:
        """``(a, sigma_e)``: the prediction-error filter (``a[0] = 1``) and the white
        residual's std, µV; None before ``min_stretches`` stretches."""
        if self._r is None or self.stretches < self.min_stretches:
            return None
        if self._fit is None:
            r = self._r
            # a white floor of ``load`` x the noise power: band-limited noise would otherwise
            # be whitened with a huge gain where it has almost no power (above the front end's
            # low-pass), where templates are least certain
            r = r.copy()
            r[0] *= 1.0 + self.load
            coef = _solve_symmetric_toeplitz(r[:-1], r[1:])
            var = float(r[0] - np.dot(coef, r[1:]))
            a = np.concatenate(([1.0], -coef))
            self._fit = (a, math.sqrt(var) if var > 0 else float("nan"))
        return self._fit


def _solve_symmetric_toeplitz(c: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``scipy.linalg.solve_toeplitz(c, b)`` for a real symmetric Toeplitz matrix (first
    column ``c``) and a 1-d ``b``: scipy's own Levinson recursion (``levinson``, the
    compiled routine ``solve_toeplitz`` calls) on the values ``solve_toeplitz`` forms, so
    the same bits, without its argument checks and batching (~70 -> ~25 µs a call, once
    per twitch). Non-finite input, or a scipy without that routine: ``solve_toeplitz``
    itself (which raises for non-finite input)."""
    levinson = _levinson()
    if levinson is None or not (np.isfinite(c).all() and np.isfinite(b).all()):
        from scipy.linalg import solve_toeplitz

        return solve_toeplitz(c, b)
    c = np.asarray(c, dtype=np.float64)
    return levinson(np.concatenate((c[-1:0:-1], c)), np.ascontiguousarray(b, dtype=np.float64))[0]


_LEVINSON: list = []


def _levinson():
    """scipy's compiled Levinson routine (``scipy.linalg._solve_toeplitz.levinson``), or
    None where this scipy has none (found once)."""
    if not _LEVINSON:
        try:
            from scipy.linalg._solve_toeplitz import levinson
        except ImportError:  # pragma: no cover - a scipy without it: solve_toeplitz
            levinson = None
        _LEVINSON.append(levinson)
    return _LEVINSON[0]


def threshold(rate_hz: float, n_templates: int, false_per_min: float = FALSE_PER_MIN) -> float:
    """One-sided threshold on ``z`` for ``false_per_min`` false alarms per minute, one test
    per sample and template."""
    p = false_per_min / (float(rate_hz) * 60.0 * max(1, int(n_templates)))
    return float(-ndtri(p))  # scipy.special.ndtri's value, cached (designs.py)
