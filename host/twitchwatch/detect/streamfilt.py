"""Low-overhead streaming helpers: an in-place sos cascade, a history ring, run tracking.

``scipy.signal.sosfilt`` validates its arguments on every call (~30 µs); the detector
calls filters many times per block, so :class:`SosState` calls scipy's compiled kernel
directly when it is importable (the same kernel ``sosfilt`` uses, hence bit-identical
results) and falls back to ``sosfilt`` otherwise. Signals are laid out channel-major,
``(n_signals, n_samples)``.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

try:  # scipy's kernel behind sosfilt: (sos, x (n_signals, n) C-contig, zi (n_signals, n_sections, 2))
    from scipy.signal._sosfilt import _sosfilt as _kernel
    # its float64 specialisation: the fused function picks it by the arguments' types on
    # every call (~0.5 µs)
    _kernel = getattr(_kernel, "__signatures__", {}).get("double", _kernel)
except Exception:  # pragma: no cover - depends on the scipy build
    _kernel = None


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
        self._zi_unit = (signal.sosfilt_zi(self.sos) if self.sos.shape[0] else np.zeros((0, 2))) if steady_start else None
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
    from state ``zi`` (n_signals, n_sections, 2), C-contiguous: with scipy's kernel in
    place (``out`` and ``zi`` updated and returned), else with ``signal.sosfilt`` (new
    arrays, the same values)."""
    if _kernel is not None:
        _kernel(sos, out, zi)
        return out, zi
    # sosfilt's zi for rows along axis 1: (n_sections, n_signals, 2)
    y, zf = signal.sosfilt(sos, out, axis=1, zi=np.moveaxis(zi, 0, 1))
    return y, np.ascontiguousarray(np.moveaxis(zf, 1, 0))


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

