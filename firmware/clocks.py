"""Clocks for the acquisition loop: ``now_us``/``now_ms`` since creation, never wrapping.

``RealClock`` follows ``time.ticks_us`` (MicroPython) or ``time.monotonic_ns`` (CPython);
``VirtualClock`` only moves when told to, which lets the simulator run as fast as the
link takes data while keeping its sample count tied to "device time".
"""

import time


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
        ticks_us = getattr(time, "ticks_us", None)
        self._mp = ticks_us is not None
        self._last = self._raw()

    def _raw(self) -> int:
        if self._mp:
            return time.ticks_us()  # type: ignore[attr-defined]
        return time.monotonic_ns() // 1000

    def now_us(self) -> int:
        now = self._raw()
        if self._mp:
            self.t_us += time.ticks_diff(now, self._last)  # type: ignore[attr-defined]
        else:
            self.t_us += now - self._last
        self._last = now
        return self.t_us

    def now_ms(self) -> int:
        return self.now_us() // 1000
