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

import numpy as np

MAD_TO_SIGMA = 0.6745


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
    def __init__(self, n_channels: int, window: int, history: int, min_floor_uv: float, max_rise: float = 1.5) -> None:
        self.n_channels = int(n_channels)
        self.window = int(window)
        self.history = int(history)
        self.min_floor_uv = float(min_floor_uv)
        self.max_rise = float(max_rise)
        self._buf = np.zeros((self.n_channels, self.window))
        self._fill = 0
        self._hist = np.zeros((self.n_channels, self.history))
        self._n_hist = np.zeros(self.n_channels, dtype=int)
        self._rows = np.arange(self.n_channels)
        self._slot = np.zeros(self.n_channels, dtype=int)
        self.floor_uv = np.full(self.n_channels, np.nan)
        self.last_window_sigma_uv = np.full(self.n_channels, np.nan)
        self._bad: np.ndarray | None = None  # channels whose current window is unusable; None: none
        # bookkeeping that spares numpy calls per window: every channel has the same
        # history length and slot (the usual case; ``_slot0``, else None)
        self._same_n = True
        self._slot0: int | None = 0

    def reset_window(self) -> None:
        self._fill = 0
        self._bad = None

    def reset(self) -> None:
        self.reset_window()
        self._n_hist[:] = 0
        self._slot[:] = 0
        self.floor_uv[:] = np.nan
        self._same_n = True
        self._slot0 = 0

    def process(self, y: np.ndarray, exclude: np.ndarray | None = None) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
        """Feed ``y`` (C, n). Returns the floor in force per sample (C, n) and the list of
        windows completed in this block as ``(offset_of_window_end, sigma per channel)``.
        ``exclude`` (C, n) bool: samples that make their window unusable for the floor
        (None: none is)."""
        n = y.shape[1]
        out = np.empty((self.n_channels, n))
        done: list[tuple[int, np.ndarray]] = []
        pos = 0
        bad = self._bad
        while pos < n:
            take = min(self.window - self._fill, n - pos)
            out[:, pos : pos + take] = self.floor_uv[:, None]
            if exclude is not None:
                b = exclude[:, pos : pos + take].any(axis=1)
                bad = b if bad is None else bad | b
            if take == self.window:  # a whole window in this block: no need to buffer it
                win = y[:, pos : pos + take]
            else:
                self._buf[:, self._fill : self._fill + take] = y[:, pos : pos + take]
                win = self._buf
            self._fill += take
            pos += take
            if self._fill == self.window:
                sigma = median_rows(np.abs(win)) / MAD_TO_SIGMA
                self.last_window_sigma_uv = sigma
                self._push(sigma, bad)
                done.append((pos, sigma))
                self._fill = 0
                bad = None
        self._bad = bad
        return out, done

    def _push(self, sigma: np.ndarray, bad: np.ndarray | None) -> None:
        n = self._n_hist
        if self._same_n and (bad is None or not bad.any()):
            # every channel at once (the usual case): same arithmetic as the loop below
            # (fmin: the floor is NaN before the first window, then sigma enters as is)
            value = np.fmin(sigma, self.max_rise * self.floor_uv)
            if self._slot0 is not None:
                self._hist[:, self._slot0] = value
                self._slot0 = (self._slot0 + 1) % self.history
            else:
                self._hist[self._rows, self._slot] = value
                self._slot = (self._slot + 1) % self.history
            k = int(n[0])
            if k < self.history:
                k += 1
                n[:] = k
            med = median_rows(self._hist[:, :k])
            self.floor_uv = np.maximum(med, self.min_floor_uv)
            return
        if self._slot0 is not None:
            self._slot[:] = self._slot0
        for c in range(self.n_channels):
            if bad is not None and bad[c]:
                continue
            value = sigma[c]
            if np.isfinite(self.floor_uv[c]):
                value = min(value, self.max_rise * self.floor_uv[c])
            self._hist[c, self._slot[c]] = value
            self._slot[c] = (self._slot[c] + 1) % self.history
            self._n_hist[c] = min(self._n_hist[c] + 1, self.history)
            self.floor_uv[c] = max(median1(self._hist[c, : self._n_hist[c]]), self.min_floor_uv)
        self._same_n = bool((self._n_hist == self._n_hist[0]).all())
        self._slot0 = int(self._slot[0]) if (self._slot == self._slot[0]).all() else None
