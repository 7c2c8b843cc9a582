"""Clocks for the acquisition loop: ``now_us``/``now_ms`` since creation, never wrapping.

``RealClock`` follows ``time.ticks_us`` (MicroPython) or ``time.monotonic_ns`` (CPython);
``VirtualClock`` only moves when told to, which lets the simulator run as fast as the
link takes data while keeping its sample count tied to "device time". Both have
``advance(dt_us)`` (a no-op for the real clock: real time moves by itself).
"""

import time

_ticks_us = getattr(time, "ticks_us", None)
_ticks_diff = getattr(time, "ticks_diff", None)
_monotonic_ns = getattr(time, "monotonic_ns", None)


class VirtualClock:
    def __init__(self) -> None:
        self.t_us = 0

    def advance(self, dt_us: int) -> None:
        self.t_us += dt_us

    def now_us(self) -> int:
        return self.t_us

    def now_ms(self) -> int:
        return self.t_us // 1000


class RealClock:
    def __init__(self) -> None:
        self.t_us = 0
        self._last = self._raw()

    def _raw(self) -> int:
        if _ticks_us is not None:
            return _ticks_us()
        return _monotonic_ns() // 1000  # type: ignore[misc]

    def advance(self, dt_us: int) -> None:
        """Real time cannot be pushed: nothing to do."""

    def now_us(self) -> int:
        now = self._raw()
        if _ticks_diff is not None:
            self.t_us += _ticks_diff(now, self._last)
        else:
            self.t_us += now - self._last
        self._last = now
        return self.t_us

    def now_ms(self) -> int:
        return self.now_us() // 1000
