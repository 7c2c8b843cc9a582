"""Robust running noise floor: per-window MAD, then a running median over windows.

Each window of ``window_samples`` consecutive samples gives, per channel, the robust
standard deviation ``median(|y|) / 0.6745`` (Quiroga, Nadasdy & Ben-Shaul 2004; for a
zero-mean Gaussian this is unbiased). The floor is the median of the last
``history_windows`` window values, so brief potentials, which raise only the one or two
windows they fall in, do not drag the floor up; sustained activity longer than half
the history does.

Windows are aligned to the segment start (the first sample fed after construction or
:meth:`RunningNoiseFloor.reset_window`), never to block boundaries, so the result does
not depend on how the stream is cut into blocks.
"""

from __future__ import annotations

import numpy as np

#: median(|x|) / MAD_TO_SIGMA estimates sigma of a zero-mean Gaussian.
MAD_TO_SIGMA = 0.6745


class RunningNoiseFloor:
    """Per-channel noise floor (µV RMS) of a zero-mean, band-passed signal.

    Args:
        n_channels: number of columns of the blocks.
        window_samples: samples per MAD window.
        history_windows: how many of the latest window values the running median uses.
        min_floor_uv: lower bound of the floor, so a flat (disconnected, all-equal)
            channel does not give a zero threshold.

    After a step change of the true noise level the floor reaches the new level once
    more than half the history holds new windows: at most
    ``(history_windows // 2 + 2) * window_samples`` samples after the step.
    """

    def __init__(
        self, n_channels: int, window_samples: int, history_windows: int, min_floor_uv: float
    ) -> None:
        if window_samples < 1 or history_windows < 1:
            raise ValueError("window_samples and history_windows must be >= 1")
        self.n_channels = int(n_channels)
        self.window_samples = int(window_samples)
        self.history_windows = int(history_windows)
        self.min_floor_uv = float(min_floor_uv)
        self._buffer = np.empty((self.window_samples, self.n_channels))
        self._fill = 0
        self._history = np.empty((self.history_windows, self.n_channels))
        self._n_history = 0
        self._next_slot = 0
        self._floor_uv = np.full(self.n_channels, np.nan)

    @property
    def floor_uv(self) -> np.ndarray:
        """Current floor per channel, µV RMS; NaN until the first window completes."""
        return self._floor_uv.copy()

    def reset_window(self) -> None:
        """Drop the partly filled window (after a gap); keep the history."""
        self._fill = 0

    def reset(self) -> None:
        """Forget everything: the floor is unknown (NaN) until a new window completes."""
        self._fill = 0
        self._n_history = 0
        self._next_slot = 0
        self._floor_uv = np.full(self.n_channels, np.nan)

    def process(self, y: np.ndarray) -> np.ndarray:
        """Feed a block ``(n_samples, n_channels)``; return the floor in force per sample.

        The floor in force for a sample is the one computed from windows completed
        before that sample's window began (NaN if none), so a sample never
        influences its own threshold. Returns float64 ``(n_samples, n_channels)``.
        """
        n_samples = y.shape[0]
        floor_per_sample = np.empty((n_samples, self.n_channels))
        pos = 0
        while pos < n_samples:
            take = min(self.window_samples - self._fill, n_samples - pos)
            floor_per_sample[pos : pos + take] = self._floor_uv
            self._buffer[self._fill : self._fill + take] = y[pos : pos + take]
            self._fill += take
            pos += take
            if self._fill == self.window_samples:
                self._push(_median_axis0(np.abs(self._buffer)) / MAD_TO_SIGMA)
                self._fill = 0
        return floor_per_sample

    def _push(self, window_sigma_uv: np.ndarray) -> None:
        self._history[self._next_slot] = window_sigma_uv
        self._next_slot = (self._next_slot + 1) % self.history_windows
        self._n_history = min(self._n_history + 1, self.history_windows)
        floor = _median_axis0(self._history[: self._n_history])
        self._floor_uv = np.maximum(floor, self.min_floor_uv)


def _median_axis0(values: np.ndarray) -> np.ndarray:
    """Median along axis 0 (as ``np.median``), via one ``np.partition``: much less overhead."""
    n = values.shape[0]
    middle = n // 2
    if n % 2:
        return np.partition(values, middle, axis=0)[middle]
    parted = np.partition(values, (middle - 1, middle), axis=0)
    return 0.5 * (parted[middle - 1] + parted[middle])
