"""Low-overhead streaming helpers: an in-place sos cascade, a history ring, run tracking.

The sos cascade runs in a compiled loop (numba, :func:`_sosfilt_kernel`): scipy's
``sosfilt`` recursion (direct form II transposed), operation for operation, so the
outputs are scipy's bit for bit (``tests/detect/test_designs.py``), without
``sosfilt``'s argument checks (~30 µs a call) and without importing ``scipy.signal``
(~0.9 s of CPU at start-up, :mod:`.designs`). Signals are laid out channel-major,
``(n_signals, n_samples)``.
"""

from __future__ import annotations

import numba
import numpy as np

from .designs import sosfilt_zi


@numba.njit(cache=True)
def _sosfilt_kernel(sos, x, zi):  # pragma: no cover - compiled
    """Filter the rows of ``x`` (n_signals, n) through ``sos`` (sections, 6; a0 = 1) in
    place from state ``zi`` (n_signals, sections, 2), updated in place: scipy's
    ``sosfilt`` kernel's recursion and order of operations."""
    n_signals, n = x.shape
    S = sos.shape[0]
    for i in range(n_signals):
        for t in range(n):
            cur = x[i, t]
            for s in range(S):
                new = sos[s, 0] * cur + zi[i, s, 0]
                zi[i, s, 0] = sos[s, 1] * cur - sos[s, 4] * new + zi[i, s, 1]
                zi[i, s, 1] = sos[s, 2] * cur - sos[s, 5] * new
                cur = new
            x[i, t] = cur


def sosfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``scipy.signal.sosfilt(sos, x)`` of a 1-d signal from rest (zero state): a new
    array, the same values."""
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    out = np.array(x, dtype=np.float64, order="C", copy=True).reshape(1, -1)
    if out.shape[1] and sos.shape[0]:
        _sosfilt_kernel(sos, out, np.zeros((1, sos.shape[0], 2)))
    return out[0]


class SosState:
    """A cascade of second-order sections over ``n_signals`` rows, state carried.

    State ``zi``: ``(n_signals, n_sections, 2)`` float64, or None before the first sample
    of a segment; then it is set to the steady state for a constant input equal to the
    first sample (``sosfilt_zi``), so a DC offset does not ring.
    """

    def __init__(self, sos: np.ndarray, n_signals: int, steady_start: bool = True) -> None:
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self.n_signals = int(n_signals)
        self.steady_start = steady_start
        # the steady-state unit vector is only needed with steady_start (costly to design:
        # the mains canceller builds a new notch cascade most seconds, with zero state)
        self._zi_unit = (sosfilt_zi(self.sos) if self.sos.shape[0] else np.zeros((0, 2))) if steady_start else None
        self.zi: np.ndarray | None = None

    def reset(self) -> None:
        self.zi = None

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter ``x`` (n_signals, n); returns a new array, ``x`` untouched."""
        return self.process_inplace(np.array(x, dtype=np.float64, order="C", copy=True))

    def process_inplace(self, out: np.ndarray) -> np.ndarray:
        """Filter ``out`` (n_signals, n), C-contiguous float64, in place; returns it."""
        if out.shape[1] == 0 or self.sos.shape[0] == 0:
            return out
        if self.zi is None:
            if self.steady_start:
                assert self._zi_unit is not None  # set in __init__ with steady_start
                self.zi = self._zi_unit[None, :, :] * out[:, 0][:, None, None]
            else:
                self.zi = np.zeros((self.n_signals, self.sos.shape[0], 2))
            self.zi = np.ascontiguousarray(self.zi)
        out, self.zi = sosfilt_rows(self.sos, out, self.zi)
        return out


def sosfilt_rows(sos: np.ndarray, out: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Filter the rows of ``out`` (n_signals, n), C-contiguous float64, through ``sos``
    from state ``zi`` (n_signals, n_sections, 2), C-contiguous, in place (``out`` and
    ``zi`` updated and returned)."""
    _sosfilt_kernel(sos, out, zi)
    return out, zi


class Ring:
    """The latest ``capacity`` samples of ``n_rows`` signals, addressed by stream index."""

    def __init__(self, n_rows: int, capacity: int) -> None:
        self.n_rows = int(n_rows)
        self.capacity = int(capacity)
        self._buf = np.zeros((self.n_rows, 2 * self.capacity))
        self._len = 0
        self.start = 0  # stream index of column 0

    @property
    def end(self) -> int:
        """Stream index one past the newest sample."""
        return self.start + self._len

    def reset(self, start: int) -> None:
        self._len = 0
        self.start = int(start)

    def append(self, block: np.ndarray, first_index: int) -> None:
        n = block.shape[1]
        if self._len == 0:
            self.start = int(first_index)
        if n >= self.capacity:
            self._buf[:, : self.capacity] = block[:, n - self.capacity :]
            self.start = int(first_index) + n - self.capacity
            self._len = self.capacity
            return
        if self._len + n > 2 * self.capacity:
            keep = self.capacity - n
            self._buf[:, :keep] = self._buf[:, self._len - keep : self._len]
            self.start += self._len - keep
            self._len = keep
        self._buf[:, self._len : self._len + n] = block
        self._len += n

    def slot(self, n: int, first_index: int) -> np.ndarray:
        """Append ``n`` (< capacity) columns starting at stream index ``first_index``
        and return them as a writable view (``n_rows``, n) for the caller to fill: the
        same as :meth:`append` without building the block first."""
        if n >= self.capacity:
            raise ValueError(f"slot of {n} columns does not fit a ring of {self.capacity}")
        if self._len == 0:
            self.start = int(first_index)
        if self._len + n > 2 * self.capacity:
            keep = self.capacity - n
            self._buf[:, :keep] = self._buf[:, self._len - keep : self._len]
            self.start += self._len - keep
            self._len = keep
        view = self._buf[:, self._len : self._len + n]
        self._len += n
        return view

    def read(self, start: int, end: int, rows=slice(None)) -> np.ndarray:
        """Columns for stream indices ``[start, end)`` clipped to what is held (view)."""
        a = max(0, int(start) - self.start)
        b = min(self._len, int(end) - self.start)
        if b <= a:
            return self._buf[rows, 0:0]
        return self._buf[rows, a:b]


class RunTracker:
    """Runs of True in a boolean stream (stream indices), merged across short gaps.

    A run closes once ``max_gap`` False samples follow it; closed runs of at least
    ``min_len`` samples are returned as ``(start, end_exclusive)``. Block boundaries do
    not matter.
    """

    def __init__(self, min_len: int, max_gap: int) -> None:
        self.min_len = int(min_len)
        self.max_gap = int(max_gap)
        self.open_start: int | None = None
        self.last_true = -1

    def feed(self, flags: np.ndarray, base: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        idx = np.flatnonzero(flags)
        n = flags.shape[0]
        if idx.size:
            breaks = np.flatnonzero(np.diff(idx) > self.max_gap + 1) + 1
            firsts = idx[np.concatenate(([0], breaks))] + base
            lasts = idx[np.concatenate((breaks - 1, [idx.size - 1]))] + base
            for first, last in zip(firsts.tolist(), lasts.tolist()):
                if self.open_start is not None and first - self.last_true <= self.max_gap + 1:
                    self.last_true = last
                    continue
                self._close(out)
                self.open_start, self.last_true = first, last
        if self.open_start is not None and base + n - 1 - self.last_true > self.max_gap:
            self._close(out)
        return out

    def close(self) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        self._close(out)
        return out

    def _close(self, out: list[tuple[int, int]]) -> None:
        if self.open_start is not None and self.last_true + 1 - self.open_start >= self.min_len:
            out.append((self.open_start, self.last_true + 1))
        self.open_start = None

