"""The board's self-test (COMMAND SELFTEST, docs/protocol.md): check the chips' ID
registers, time one SPI conversion read and one I2C FIFO-word read, then run the real
acquisition loop for a few seconds with ``ticks_us`` and report its headroom.

During the run, DATA frames are built (their cost counts) but not sent, so the link
carries only the REPLY and the result. The result is one TEXT line of ``key=value``
fields, for the host to parse (``twitchwatch device selftest``)::

    selftest seconds=3 emg_hz=2000 ids=ads:0x73,lsm:0x6c spi9_us=118 i2c7_us=280
        passes=31444 busy_pct=62 worst_pass_us=400 emg=6000 lost=0 bad=0

``busy_pct``: the share of the run spent in loop passes that did work (read a sample,
built a frame, sent a STATUS); the rest are idle passes, the headroom. ``lost``:
samples counted lost during the run, all streams (0 when the loop keeps up); ``emg``:
EMG sample indexes the run covered; ``bad``: EMG reads refused (torn, no sync). Times are
``time.ticks_us`` on the board (on the Unix port: this machine's).

Runs under MicroPython and CPython 3.10+.
"""

import clocks

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


DEFAULT_MS = const(3000)
MIN_MS = const(500)
MAX_MS = const(10000)


def _discard(view) -> bool:
    return True


def run(acq, duration_ms: int, feed=None) -> str:
    """Run the self-test on a stopped ``Acquisition``; return the result line.

    ``feed``: called every pass (the watchdog's ``feed`` on the board). The
    acquisition's clock is advanced by the real time each pass takes, so a simulated
    front end on a virtual clock produces samples at the real rate (a real clock
    ignores ``advance``)."""
    if duration_ms <= 0:
        duration_ms = DEFAULT_MS
    duration_ms = MIN_MS if duration_ms < MIN_MS else (MAX_MS if duration_ms > MAX_MS else duration_ms)
    fe = acq.fe
    rc = clocks.RealClock()
    ids = fe.check_ids()
    spi_us, i2c_us = fe.bus_times_us(rc)
    send = acq.send
    acq.send = _discard
    w = acq.writer
    seq = (w._seq_lo, w._seq_hi)  # frames not sent take no seq: the host sees no seq gap
    dropped0 = acq.dropped_samples
    bad0 = fe.bad_frames()
    acq.start()
    rings = acq.rings
    t0 = rc.ticks_us()
    last = t0
    busy = 0
    worst = 0
    passes = 0
    limit_us = duration_ms * 1000
    try:
        while True:
            a = rc.ticks_us()
            el = rc.ticks_diff(a, t0)
            if el >= limit_us:
                break
            acq.clock.advance(rc.ticks_diff(a, last))
            last = a
            before = rings[0].write_index + acq.frames_sent + acq.frames_refused
            acq.step()
            if feed is not None:
                feed()
            b = rc.ticks_us()
            d = rc.ticks_diff(b, a)
            if rings[0].write_index + acq.frames_sent + acq.frames_refused != before:
                busy += d
            if d > worst:
                worst = d
            passes += 1
        emg = rings[0].write_index  # EMG indexes covered: read or counted lost
        acq.stop()
    finally:
        acq.send = send
        w._seq_lo, w._seq_hi = seq
    lost = acq.dropped_samples - dropped0
    bad = fe.bad_frames() - bad0
    el_ms = rc.ticks_diff(rc.ticks_us(), t0) // 1000
    return ("selftest seconds=%d.%03d emg_hz=%d ids=%s spi9_us=%d i2c7_us=%d passes=%d "
            "busy_pct=%d worst_pass_us=%d emg=%d lost=%d bad=%d"
            % (duration_ms // 1000, duration_ms % 1000, acq.streams[0].sample_rate_mhz // 1000, ids,
               spi_us, i2c_us, passes, busy // (el_ms * 10 if el_ms else 1), worst, emg, lost, bad))
