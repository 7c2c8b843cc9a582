"""Handing freed heap memory back to the OS in long runs (glibc's ``malloc_trim``).

CPython frees objects to its allocator, and glibc's ``malloc`` keeps freed memory
for reuse instead of returning it: in a run of hours the resident size creeps up
with pages that hold nothing live (fragmentation across the main heap and the
per-thread arenas; docs/reliability.md "Soak" measured it). ``malloc_trim(0)``
hands the free pages of every arena back. It costs a walk of the heap (measured
in the soak: milliseconds) while holding each arena's lock, so it runs at most once
per ``every_s`` and never in a timed path that cannot wait that long.

Only where the C library is glibc; elsewhere (musl, macOS, Windows) every call is
a no-op and :attr:`HeapTrimmer.available` is False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from typing import Callable

__all__ = ["LIVE_TRIM_EVERY_S", "TRIM_AVAILABLE", "HeapTrimmer", "malloc_trim"]

#: how often a live run (``stream``, ``demo``) trims: in the 15-minute soaks side by side
#: (docs/reliability.md) trimming every 30 s kept glibc's free-but-kept memory at 3.5 MB
#: where it grew from 3.6 to 6.1 MB untrimmed, at 3 ms a call on average (31 ms at worst,
#: load average 14; the board is read by a thread of its own meanwhile)
LIVE_TRIM_EVERY_S = 30.0


def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` from the C library this process already uses, or None."""
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: whatever C library it runs on
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


_MALLOC_TRIM = _find_malloc_trim()
#: whether this process's C library has ``malloc_trim`` (glibc); False: every trim is a no-op
TRIM_AVAILABLE = _MALLOC_TRIM is not None


def malloc_trim() -> bool:
    """Hand free heap pages back to the OS now; True if glibc released any memory,
    False if it released none or this is not glibc."""
    return bool(_MALLOC_TRIM(0)) if _MALLOC_TRIM is not None else False


class HeapTrimmer:
    """Calls :func:`malloc_trim` at most once every ``every_s`` seconds of
    ``clock`` (monotonic, s) from :meth:`tick`, which a long-running loop calls often.
    Counts the calls and their time (s), so a run can report what trimming cost."""

    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not every_s > 0:
            raise ValueError(f"every_s must be > 0, got {every_s}")
        self.every_s = float(every_s)
        self.clock = clock
        self.available = TRIM_AVAILABLE
        self.calls = 0
        self.total_s = 0.0
        self.worst_s = 0.0
        self._next_s = clock() + self.every_s

    def tick(self) -> bool:
        """Trim if ``every_s`` has passed since the last trim (or the start); True if it trimmed."""
        now = self.clock()
        if now < self._next_s or not self.available:
            return False
        self._next_s = now + self.every_s
        t0 = time.perf_counter()
        malloc_trim()
        took = time.perf_counter() - t0
        self.calls += 1
        self.total_s += took
        self.worst_s = max(self.worst_s, took)
        return True
