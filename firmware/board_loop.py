"""One pass of the board's main loop, shared by ``main.py`` (the ESP32) and the timing
model of the tests (tests/firmware/esp32_timing.py), so the model runs the real loop.

A pass: ``acq.step()`` (sampling, DATA into the frame queue, STATUS), then the frame
queue drains into the sink as far as the pacer says it can take without blocking;
every ``poll_ms`` the watchdog is fed and COMMAND bytes are read (``select.poll``
builds a small list per call, so not every pass). ``run_once`` returns True when the
pass did work (read a sample, sent bytes), False for an idle spin: the loop never
sleeps, so idle spins are its headroom.

Runs under MicroPython and CPython 3.10+.
"""


class BoardLoop:
    def __init__(self, acq, queue, pacer, write, link=None, wdt_feed=None, poll_ms: int = 20) -> None:
        self.acq = acq
        self.queue = queue
        self.pacer = pacer
        self.write = write  # the sink's write(buf, off, n)
        self.link = link  # wire_link.StreamLink for COMMAND input, or None
        self.wdt_feed = wdt_feed
        self.poll_ms = poll_ms
        self.clock = acq.clock
        self._next_poll_ms = 0

    def run_once(self) -> bool:
        acq = self.acq
        rings = acq.rings
        before = rings[0].write_index + rings[1].write_index if len(rings) > 1 else rings[0].write_index
        acq.step()
        n = self.queue.drain(self.write, self.pacer.room())
        if n:
            self.pacer.sent(n)
        now = self.clock.now_ms()
        if now >= self._next_poll_ms:
            self._next_poll_ms = now + self.poll_ms
            if self.wdt_feed is not None:
                self.wdt_feed()
            if self.link is not None:
                self.link.poll_commands(acq.handle_command)
        after = rings[0].write_index + rings[1].write_index if len(rings) > 1 else rings[0].write_index
        return n > 0 or after != before
