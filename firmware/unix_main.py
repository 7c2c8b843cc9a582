"""The virtual board: the simulated front end streaming over a file descriptor.

Run under the MicroPython Unix port (it also runs under CPython for debugging):

    micropython firmware/unix_main.py --fd N [--seed S] [--duration-s D] [--realtime]
        [--twitch-rate-per-min R] [--boot-id B] [--wait-start]
        [--sim NAME=INT ...]

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
          "[--twitch-rate-per-min R] [--boot-id B] [--wait-start] [--sim NAME=INT ...]")
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


def run(a: Args) -> int:
    stream = open(a.fd, "r+b", buffering=0) if sys.implementation.name != "micropython" \
        else open(a.fd, "r+b")
    link = wire_link.StreamLink(stream, stream)
    clock = clocks.RealClock() if a.realtime else clocks.VirtualClock()
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
