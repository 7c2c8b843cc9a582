"""Adaptive noise floor that follows skin contact but is not dragged up by twitches.

Per channel and per window of ``window`` samples (aligned to the segment start): the
robust sigma ``median(|y|) / 0.6745`` of the cleaned signal. The floor is the running
median of the last ``history`` window values; each new value enters the history
clamped to ``max_rise`` x the current floor, so a burst of activity shorter than half
the history cannot move the floor, while a genuine rise of the noise (worse contact)
is followed in steps of ``max_rise`` every half history. Windows flagged as unusable
(lead-off) do not enter the history. Layout ``(n_channels, n_samples)``.
"""

from __future__ import annotations

import numba
import numpy as np

from .noise import MAD_TO_SIGMA  # the one constant: median(|x|) / MAD_TO_SIGMA is a Gaussian's sigma


def median_rows(a: np.ndarray) -> np.ndarray:
    """``np.median(a, axis=1)`` of a finite 2-d array without its per-call overhead
    (same values: the middle element, or the two middle ones' sum / 2 as ``np.mean``)."""
    n = a.shape[1]
    m = n // 2
    if n % 2:
        return np.partition(a, m, axis=1)[:, m]
    v = np.partition(a, (m - 1, m), axis=1)
    return (v[:, m - 1] + v[:, m]) / 2.0


def median1(a: np.ndarray) -> float:
    """``np.median`` of a finite 1-d array without its per-call overhead (same value)."""
    n = a.shape[0]
    m = n // 2
    if n % 2:
        return float(np.partition(a, m)[m])
    v = np.partition(a, (m - 1, m))
    return float((v[m - 1] + v[m]) / 2.0)


class AdaptiveFloor:
    """The floor over ``n_channels`` rows (µV), windows of ``window`` samples, a history
    of ``history`` window values, at least ``min_floor_uv``, each new value clamped to
    ``max_rise`` x the floor. The per-sample work runs compiled (:func:`_floor_block`)."""

    def __init__(self, n_channels: int, window: int, history: int, min_floor_uv: float, max_rise: float = 1.5) -> None:
        self.n_channels = int(n_channels)
        self.window = int(window)
        self.history = int(history)
        self.min_floor_uv = float(min_floor_uv)
        self.max_rise = float(max_rise)
        self._buf = np.zeros((self.n_channels, self.window))
        self._fill = 0
        self._hist = np.zeros((self.n_channels, self.history))
        self._n_hist = np.zeros(self.n_channels, dtype=np.int64)
        self._slot = np.zeros(self.n_channels, dtype=np.int64)
        self._floor = np.full(self.n_channels, np.nan)  # updated in place by _floor_block
        self.floor_uv = self._floor.copy()
        self.last_window_sigma_uv = np.full(self.n_channels, np.nan)
        self._bad = np.zeros(self.n_channels, dtype=bool)  # channels whose current window is unusable
        self._no_exclude = np.zeros((self.n_channels, 0), dtype=bool)

    def reset_window(self) -> None:
        self._fill = 0
        self._bad[:] = False

    def reset(self) -> None:
        self.reset_window()
        self._n_hist[:] = 0
        self._slot[:] = 0
        self._floor[:] = np.nan
        self.floor_uv = self._floor.copy()

    def process(self, y: np.ndarray, exclude: np.ndarray | None = None) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
        """Feed ``y`` (C, n). Returns the floor in force per sample (C, n) and the list of
        windows completed in this block as ``(offset_of_window_end, sigma per channel)``.
        ``exclude`` (C, n) bool: samples that make their window unusable for the floor
        (None: none is)."""
        n = y.shape[1]
        out = np.empty((self.n_channels, n))
        most = n // self.window + 1
        ends = np.empty(most, dtype=np.int64)
        sigmas = np.empty((most, self.n_channels))
        self._fill, n_done = _floor_block(np.ascontiguousarray(y), self._no_exclude if exclude is None else exclude, self._buf, self._fill,
                                          self._bad, self._hist, self._n_hist, self._slot, self._floor,
                                          self.min_floor_uv, self.max_rise, out, ends, sigmas)
        if not n_done:
            return out, []
        self.floor_uv = self._floor.copy()
        self.last_window_sigma_uv = sigmas[n_done - 1].copy()
        return out, [(int(ends[i]), sigmas[i]) for i in range(n_done)]


@numba.njit(cache=True)
def _floor_block(y, exclude, buf, fill, bad, hist, n_hist, slot, floor, min_floor, max_rise, out, ends, sigmas):
    """One block ``y`` (C, n) through the floor: ``out`` gets the floor in force per sample;
    each completed window (``buf`` holds the first ``fill`` samples of the current one)
    gives sigma = median(|y|) / MAD_TO_SIGMA per channel, which, unless the window is
    ``bad`` (an ``exclude`` sample in it; ``exclude`` (C, 0): none), enters the channel's
    ring ``hist`` (``n_hist`` values, next at ``slot``) clamped to ``max_rise`` x the floor,
    and the floor becomes max(median of the history, ``min_floor``). Window ends (offsets
    in the block) and sigmas go to ``ends`` and ``sigmas``. Returns (fill, windows done)."""
    C, n = y.shape
    W, H = buf.shape[1], hist.shape[1]
    use_exclude = exclude.shape[1] == n
    pos, n_done = 0, 0
    while pos < n:
        take = min(W - fill, n - pos)
        for c in range(C):
            for t in range(pos, pos + take):
                out[c, t] = floor[c]
                buf[c, fill + t - pos] = y[c, t]
                if use_exclude and exclude[c, t]:
                    bad[c] = True
        fill += take
        pos += take
        if fill == W:
            for c in range(C):
                sigma = np.median(np.abs(buf[c])) / MAD_TO_SIGMA
                sigmas[n_done, c] = sigma
                if not bad[c]:
                    value = sigma
                    if np.isfinite(floor[c]):
                        value = min(value, max_rise * floor[c])
                    hist[c, slot[c]] = value
                    slot[c] = (slot[c] + 1) % H
                    n_hist[c] = min(n_hist[c] + 1, H)
                    floor[c] = max(np.median(hist[c, : n_hist[c]]), min_floor)
                bad[c] = False
            ends[n_done] = pos
            n_done += 1
            fill = 0
    return fill, n_done
