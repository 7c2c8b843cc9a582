"""The virtual board: the simulated front end streaming over a file descriptor.

Run under the MicroPython Unix port (it also runs under CPython for debugging):

    micropython firmware/unix_main.py --fd N [--seed S] [--duration-s D] [--realtime]
        [--twitch-rate-per-min R] [--boot-id B] [--wait-start]
        [--sim NAME=INT ...] [--stall-report-ms MS]

``N`` is an open file descriptor (the master side of a pty the host made). The board
writes ``0x00``, HELLO, TEXT, then DATA/STATUS frames (COBS, docs/protocol.md) to it
and reads host COMMAND frames from it without blocking. Default: as fast as the reader
takes data (the pty applies back-pressure); ``--realtime`` paces samples to the wall
clock. After ``--duration-s`` seconds of sample time (default: forever) it sends the
rest as short frames, a last STATUS, and exits 0; it also exits 0 when the link closes.
Nothing is printed on stdout; errors go to stderr (exit 2 for bad arguments).
``--wait-start``: behave as the real firmware (main.py): send HELLO and TEXT, then wait
for the host's START before streaming (default: the simulator starts by itself).
``--sim NAME=INT``: another ``sim_frontend.SimOptions`` option, e.g. the simulated chips'
own clock errors ``emg_clock_ppm``, ``acc_clock_ppm``, ``clock_wander_ppm``,
``clock_wander_s`` (``sim_clocks``; default none).
``--stall-report-ms MS`` (a diagnostic for this simulator on a shared CPU): a loop pass
that starts more than ``MS`` ms after the previous one writes one line to stderr,
``stall: t_ms=T gap_ms=G write_ms=W``: ``G`` the time between the two passes, ``W``
how much of it this process spent inside writes to the link (blocked: the reader on the
other side was not taking the bytes), ``G - W`` the rest (the 2 ms sleep, the pass's own
work and waiting for a CPU). Nothing is reported for shorter gaps.
"""

import sys

# The firmware modules live next to this file.
_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
if _here not in sys.path:
    sys.path.insert(0, _here)

import time  # noqa: E402

import acquire  # noqa: E402
import clocks  # noqa: E402
import sim_frontend  # noqa: E402
import wire_link  # noqa: E402

_USAGE = ("usage: unix_main.py --fd N [--seed S] [--duration-s D] [--realtime] "
          "[--twitch-rate-per-min R] [--boot-id B] [--wait-start] [--sim NAME=INT ...] [--stall-report-ms MS]")
_STEP_US = 10000  # virtual time per loop in fast mode: one EMG frame (20 samples)


class Args:
    def __init__(self) -> None:
        self.fd = -1
        self.seed = 1
        self.duration_s = None  # type: float | None
        self.realtime = False
        self.twitch_rate_per_min = 20.0
        self.boot_id = None  # type: int | None
        self.wait_start = False
        self.sim_opts = {}  # type: dict
        self.stall_report_ms = 0


def _int(text: str) -> int:
    return int(text, 16) if text.startswith("0x") else int(text)


def parse_args(argv) -> Args:
    a = Args()
    i = 0
    while i < len(argv):
        opt = argv[i]
        if opt == "--realtime":
            a.realtime = True
            i += 1
            continue
        if opt == "--wait-start":
            a.wait_start = True
            i += 1
            continue
        if i + 1 >= len(argv):
            raise ValueError("missing value for " + opt)
        val = argv[i + 1]
        if opt == "--fd":
            a.fd = int(val)
        elif opt == "--seed":
            a.seed = _int(val)
        elif opt == "--duration-s":
            a.duration_s = float(val)
        elif opt == "--twitch-rate-per-min":
            a.twitch_rate_per_min = float(val)
        elif opt == "--boot-id":
            a.boot_id = _int(val) & 0xFFFFFFFF
        elif opt == "--sim":  # NAME=INT: another simulator option (e.g. emg_clock_ppm=5000)
            k, _, v = val.partition("=")
            a.sim_opts[k] = _int(v)
        elif opt == "--stall-report-ms":
            a.stall_report_ms = int(val)
        else:
            raise ValueError("unknown option " + opt)
        i += 2
    if a.fd < 0:
        raise ValueError("--fd is required")
    return a


def _random_u32() -> int:
    import os

    b = os.urandom(4)
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


def _sleep_ms(ms: int) -> None:
    f = getattr(time, "sleep_ms", None)
    if f is not None:
        f(ms)
    else:
        time.sleep(ms / 1000)


class StallMeter:
    """``--stall-report-ms``: stands between the link and its output stream, timing
    every write (``write_us``, since the last pass), and at each loop pass (``tick``)
    reports a gap longer than ``limit_ms`` to ``err`` (one line, see the module doc).
    Small ints only; it allocates only when it reports."""

    def __init__(self, out, clock, limit_ms: int, err) -> None:
        self.out = out
        self.clock = clock
        self.limit_us = limit_ms * 1000
        self.err = err
        self.write_us = 0
        self.t0 = clock.ticks_us()
        self.last = self.t0
        self.elapsed_ms = 0
        self._frac_us = 0
        self.stalls = 0

    def write(self, data):
        c = self.clock
        t = c.ticks_us()
        try:
            return self.out.write(data)
        finally:
            self.write_us += c.ticks_diff(c.ticks_us(), t)

    def tick(self) -> None:
        c = self.clock
        now = c.ticks_us()
        gap = c.ticks_diff(now, self.last)
        f = self._frac_us + gap  # ticks wrap: the elapsed time is kept in ms
        self.elapsed_ms += f // 1000
        self._frac_us = f % 1000
        if gap > self.limit_us:
            self.stalls += 1
            self.err.write("stall: t_ms=%d gap_ms=%d write_ms=%d\n"
                           % (self.elapsed_ms, gap // 1000, self.write_us // 1000))
        self.last = now
        self.write_us = 0


def run(a: Args) -> int:
    stream = open(a.fd, "r+b", buffering=0) if sys.implementation.name != "micropython" \
        else open(a.fd, "r+b")
    clock = clocks.RealClock() if a.realtime else clocks.VirtualClock()
    meter = StallMeter(stream, clocks.RealClock(), a.stall_report_ms, sys.stderr) if a.stall_report_ms > 0 else None
    link = wire_link.StreamLink(meter if meter is not None else stream, stream)
    fe = sim_frontend.SimFrontEnd(clock, seed=a.seed, limit_s=a.duration_s,
                                  twitch_rate_per_min=a.twitch_rate_per_min, **a.sim_opts)
    boot_id = a.boot_id if a.boot_id is not None else _random_u32()
    acq = acquire.Acquisition(fe, clock, link.send, boot_id, "sim-%04x" % (a.seed & 0xFFFFFFFF))
    try:
        link.send_delimiter()
        if a.wait_start:
            acq.send_hello()  # as main.py: announce, then stream only after START
        else:
            acq.start()  # the simulator starts by itself; START sends the HELLO
        acq.send_text(fe.describe())
        while True:
            if a.realtime:
                _sleep_ms(2)
            elif acq.streaming:
                clock.advance(_STEP_US)
            else:
                _sleep_ms(10)  # stopped: keep STATUS at about 1 Hz of wall time
                clock.advance(_STEP_US)
            if meter is not None:
                meter.tick()
            acq.step()
            link.poll_commands(acq.handle_command)
            if acq.repl_requested:  # as main.py: the loop ends (a real board is at its REPL)
                return 0
            if acq.streaming and fe.finished():
                acq.stop()
                acq.send_status()
                return 0
    except wire_link.LinkClosed:
        return 0


def main(argv) -> int:
    try:
        a = parse_args(argv)
        if a.sim_opts:  # a wrong --sim name or value: the same one-line error, before the link
            sim_frontend.SimOptions(a.seed, **dict(a.sim_opts))
    except (ValueError, TypeError) as e:
        sys.stderr.write("unix_main: %s\n%s\n" % (e, _USAGE))
        return 2
    return run(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
