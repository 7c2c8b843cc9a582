"""Clocks for the acquisition loop: ``now_us``/``now_ms`` since creation, never wrapping,
and ``ticks_us``/``ticks_diff`` (wrapping at 2^30, as MicroPython's ``time.ticks_us`` on
the ESP32: its ticks period is the small-int range) for short intervals in the hot path.

``RealClock`` follows ``time.ticks_us`` (MicroPython) or ``time.monotonic_ns`` (CPython);
``VirtualClock`` only moves when told to, which lets the simulator run as fast as the
link takes data while keeping its sample count tied to "device time". Both have
``advance(dt_us)`` (a no-op for the real clock: real time moves by itself).

``board_time_into(ticks, out)`` gives the clock's time of a recent ``ticks_us`` value as
whole ms and a us remainder (small ints): the board time of TIMING stamps.

``now_ms`` stays a small int on the ESP32 for 12 days (it is kept as whole ms plus a us
remainder); ``now_us`` passes 2^30 after 18 minutes and is then a heap int there, so the
board's hot path uses ``now_ms`` and ``ticks_us`` only.
"""

import time

_ticks_us = getattr(time, "ticks_us", None)
_ticks_diff = getattr(time, "ticks_diff", None)
_ticks_add = getattr(time, "ticks_add", None)
_monotonic_ns = getattr(time, "monotonic_ns", None)

TICKS_PERIOD = 1 << 30
_TICKS_MASK = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD >> 1


def ticks_diff(a: int, b: int) -> int:
    """``a - b`` for two ``ticks_us`` values less than 2^29 apart (signed)."""
    d = (a - b) & _TICKS_MASK
    return d - TICKS_PERIOD if d >= _TICKS_HALF else d


class VirtualClock:
    def __init__(self) -> None:
        self.t_us = 0

    def advance(self, dt_us: int) -> None:
        self.t_us += dt_us

    def now_us(self) -> int:
        return self.t_us

    def now_ms(self) -> int:
        return self.t_us // 1000

    def ticks_us(self) -> int:
        return self.t_us & _TICKS_MASK

    def ticks_diff(self, a: int, b: int) -> int:
        return ticks_diff(a, b)

    def ticks_add(self, a: int, d: int) -> int:
        return (a + d) & _TICKS_MASK

    def board_time_into(self, ticks: int, out) -> None:
        """``out[0]``, ``out[1]`` = whole ms and us remainder of the clock's time at
        ``ticks`` (a ``ticks_us`` value of the last 2^29 us)."""
        t = self.t_us - ticks_diff(self.t_us & _TICKS_MASK, ticks)
        out[0] = t // 1000
        out[1] = t - out[0] * 1000


class RealClock:
    def __init__(self) -> None:
        self._ms = 0
        self._frac_us = 0
        self._last = self.ticks_us()

    def ticks_us(self) -> int:
        if _ticks_us is not None:
            return _ticks_us()
        return (_monotonic_ns() // 1000) & _TICKS_MASK  # type: ignore[misc]

    def ticks_diff(self, a: int, b: int) -> int:
        if _ticks_diff is not None:
            return _ticks_diff(a, b)
        return ticks_diff(a, b)

    def ticks_add(self, a: int, d: int) -> int:
        if _ticks_add is not None:
            return _ticks_add(a, d)
        return (a + d) & _TICKS_MASK

    def advance(self, dt_us: int) -> None:
        """Real time cannot be pushed: nothing to do."""

    def _update(self) -> None:
        now = self.ticks_us()
        d = self.ticks_diff(now, self._last)
        self._last = now
        f = self._frac_us + d
        if f >= 1000:
            k = f // 1000
            self._ms += k
            f -= k * 1000
        self._frac_us = f

    def now_ms(self) -> int:
        self._update()
        return self._ms

    def board_time_into(self, ticks: int, out) -> None:
        """``out[0]``, ``out[1]`` = whole ms and us remainder of the clock's time at
        ``ticks`` (a ``ticks_us`` value of the last 2^29 us), small ints only."""
        self._update()
        ms = self._ms
        r = self._frac_us - self.ticks_diff(self._last, ticks)
        if r < 0:
            k = (999 - r) // 1000
            ms -= k
            r += k * 1000
        out[0] = ms
        out[1] = r

    def now_us(self) -> int:
        self._update()
        return self._ms * 1000 + self._frac_us
