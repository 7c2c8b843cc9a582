"""One pass of the BLE build's main loop, shared by ``ble_main.py`` (the ESP32) and
``unix_ble_main.py`` (the virtual board over the Bumble stand-in), so the tests run
the loop the board runs.

A pass: ``acq.step()`` (sampling; DATA, TIMING and STATUS frames into the link's frame
ring, never blocking), then the link's budget rule (``ble_budget``: lower the stream
when the connection cannot carry it), then up to 16 notifications handed to the stack
(``BleLink.pump``, which backs off when the stack's buffers are full). COMMAND writes
(kept by the link's IRQ handler in preallocated slots) are handled every pass; every
``poll_ms`` the watchdog is fed, and every
``battery_every_ms`` the Battery service's level is updated. ``run_once`` returns True
when the pass read a sample or handed on a notification, False for an idle spin.

Runs under MicroPython and CPython 3.10+.
"""

import ble_budget


class BleLoop:
    def __init__(self, acq, fe, link, wall, wdt_feed=None, poll_ms: int = 20,
                 battery_every_ms: int = 10000) -> None:
        self.acq = acq
        self.fe = fe  # decimate.DecimatingFrontEnd: the rate the link can carry
        self.link = link  # ble_link.BleLink
        self.wall = wall  # a clock with now_ms(): the link's back-off and budget run on wall time
        self.wdt_feed = wdt_feed
        self.poll_ms = poll_ms
        self.battery_every_ms = battery_every_ms
        self._next_poll_ms = 0
        self._next_battery_ms = 0

    def run_once(self) -> bool:
        acq = self.acq
        link = self.link
        rings = acq.rings
        before = rings[0].write_index + rings[1].write_index if len(rings) > 1 else rings[0].write_index
        acq.step()
        link.poll_commands(acq.handle_command)
        now = self.wall.now_ms()
        if self.wdt_feed is not None and now - self._next_poll_ms >= 0:
            self._next_poll_ms = now + self.poll_ms
            self.wdt_feed()
        level = link.wanted_level(self.fe.base, now)  # the link's budget (docs/protocol.md)
        if level >= 0:
            ble_budget.switch(acq, self.fe, level, link.reason)
        sent = link.pump(now)
        if now - self._next_battery_ms >= 0:
            self._next_battery_ms = now + self.battery_every_ms
            link.set_battery_pct(self.fe.battery_pct())
        after = rings[0].write_index + rings[1].write_index if len(rings) > 1 else rings[0].write_index
        return sent > 0 or after != before
