"""The virtual board over BLE: the simulated front end behind the real BLE link code.

Run under the MicroPython Unix port with ``firmware/unix`` on ``MICROPYPATH`` (for the
stand-in ``bluetooth`` module):

    micropython firmware/unix_ble_main.py --ble-fd N [--seed S] [--duration-s D]
        [--realtime] [--twitch-rate-per-min R] [--boot-id B] [--wait-start]
        [--ring-bytes B] [--notify-buffers K]

``N`` is a socket to the CPython bridge that owns the Bumble peripheral
(``twitchwatch.transports.ble_sim``). The board advertises, and streams what
``ble_link.BleLink`` sends once the host connected and wrote its first COMMAND.
``--realtime`` paces samples to the wall clock (what dropout tests need: time goes on
while the link is down); without it the virtual clock moves only while fewer than 8
frames wait to be sent (the link's pace, as the pty's back-pressure paces the serial
virtual board). After ``--duration-s`` of sample time the streams stop (the rest sent as
short frames) and the board stays connected, sending STATUS, until the bridge closes
the socket (exit 0). Errors go to stderr (exit 2 for bad arguments).
"""

import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here, _here + "/unix"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import ble_link  # noqa: E402
import frame_ring  # noqa: E402

# The frame ring first, while the heap is still in one piece (as main.py must on a board).
_RING = frame_ring.FrameRing(ble_link.RING_BYTES)

import acquire  # noqa: E402
import ble_loop  # noqa: E402
import bluetooth  # noqa: E402  (firmware/unix/bluetooth.py: the stand-in)
import clocks  # noqa: E402
import decimate  # noqa: E402
import sim_frontend  # noqa: E402
import unix_main  # noqa: E402

_USAGE = ("usage: unix_ble_main.py --ble-fd N [--seed S] [--duration-s D] [--realtime] "
          "[--twitch-rate-per-min R] [--boot-id B] [--wait-start] [--ring-bytes B] [--notify-buffers K]")
_STEP_US = 10000
_PACE_FRAMES = 8  # fast mode: the virtual clock waits while more frames than this are unsent


def _split_args(argv):
    """Our own options out of ``argv``; the rest goes to unix_main's parser."""
    ble_fd = -1
    ring_bytes = 0  # 0: the ring allocated at import (ble_link.RING_BYTES)
    buffers = 0
    rest = []
    i = 0
    while i < len(argv):
        opt = argv[i]
        if opt in ("--ble-fd", "--ring-bytes", "--notify-buffers"):
            if i + 1 >= len(argv):
                raise ValueError("missing value for " + opt)
            v = int(argv[i + 1])
            if opt == "--ble-fd":
                ble_fd = v
            elif opt == "--ring-bytes":
                ring_bytes = v
            else:
                buffers = v
            i += 2
            continue
        rest.append(opt)
        i += 1
    if ble_fd < 0:
        raise ValueError("--ble-fd is required")
    return ble_fd, ring_bytes, buffers, rest + ["--fd", "0"]


def run(ble_fd: int, ring_bytes: int, buffers: int, a) -> int:
    bluetooth.attach(ble_fd)  # type: ignore[attr-defined]  # the stand-in's own
    if buffers > 0:
        bluetooth.BLE().notify_buffers = buffers  # type: ignore[attr-defined]
    clock = clocks.RealClock() if a.realtime else clocks.VirtualClock()
    sim = sim_frontend.SimFrontEnd(clock, seed=a.seed, limit_s=a.duration_s,
                                   twitch_rate_per_min=a.twitch_rate_per_min)
    fe = decimate.DecimatingFrontEnd(sim)  # the rate the link can carry (ble_budget)
    device_id = "sim-%04x" % (a.seed & 0xFFFFFFFF)
    boot_id = a.boot_id if a.boot_id is not None else unix_main._random_u32()
    ring = _RING if ring_bytes in (0, _RING.size) else frame_ring.FrameRing(ring_bytes)
    link = ble_link.BleLink(bluetooth, device_id, acquire.FIRMWARE_VERSION, model="twitchwatch virtual board",
                            ring=ring)
    acq = acquire.Acquisition(fe, clock, link.send, boot_id, device_id, raw_frames=True)
    wall = clocks.RealClock()
    loop = ble_loop.BleLoop(acq, fe, link, wall)
    try:
        link.start()
        if a.wait_start:
            acq.send_hello()
        else:
            acq.start()
        acq.send_text(fe.describe())
        done = False
        while True:
            bluetooth.poll_events()  # type: ignore[attr-defined]  # the NimBLE task's job on a board
            if a.realtime:
                unix_main._sleep_ms(2)
            elif acq.streaming and link.ready and link.ring.unsent() < _PACE_FRAMES:
                clock.advance(_STEP_US)
            else:
                unix_main._sleep_ms(1)
                if not acq.streaming:
                    clock.advance(1000)  # STATUS at about 1 Hz of wall time while stopped
            loop.run_once()  # the pass ble_main.py runs on the board
            if acq.repl_requested:  # as ble_main.py: the loop ends once the REPLY is out
                if link.ring.unsent() == 0 or link.conn < 0:
                    return 0
                continue
            if acq.streaming and fe.finished() and not done:
                acq.stop()
                acq.send_status()
                acq.send_text(link.stats())
                done = True
    except OSError:
        return 0  # the bridge closed the socket


def main(argv) -> int:
    try:
        ble_fd, ring_bytes, buffers, rest = _split_args(argv)
        a = unix_main.parse_args(rest)
    except ValueError as e:
        sys.stderr.write("unix_ble_main: %s\n%s\n" % (e, _USAGE))
        return 2
    return run(ble_fd, ring_bytes, buffers, a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
