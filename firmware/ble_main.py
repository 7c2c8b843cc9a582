"""ESP32 entry point for wearing the patch: stream over Bluetooth LE (no cable).

``twitchwatch flash --port PORT --ble`` copies it to the board as ``main.py``, with the
modules it imports (docs/firmware.md). It builds the board like ``main.py``,
advertises ``tw-XXXX`` (``ble_link``), and streams after the host's START; while the
link is down it keeps the newest ~1.5 s of frames (``ble_link.RING_BYTES``) and sends
them first when the host is back. Holding GPIO0 (BOOT) low at start keeps the REPL.

One loop pass is ``ble_loop.BleLoop.run_once`` (the virtual board runs the same one). A
``machine.WDT`` resets the board if the loop stops for ``_WDT_MS``; the reset cause goes
out in the boot TEXT line and in every STATUS, as in ``main.py``. Garbage is collected
at boot and before every START only.
"""

import ble_link
import frame_ring

# First, while the heap is in one piece: one 32 KiB block.
_RING = frame_ring.FrameRing(ble_link.RING_BYTES)

import gc  # noqa: E402
import os  # noqa: E402

import acquire  # noqa: E402
import ble_loop  # noqa: E402
import bluetooth  # noqa: E402
import board_esp32  # noqa: E402
import clocks  # noqa: E402
import decimate  # noqa: E402

_WDT_MS = 2000
_WDT_REPL_MS = 3600000


def _boot_id() -> int:
    b = os.urandom(4)
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


def run() -> None:
    import machine

    cause = board_esp32.reset_cause()
    fe = decimate.DecimatingFrontEnd(board_esp32.build())  # the rate the link can carry
    clock = clocks.RealClock()
    dev = board_esp32.device_id()
    link = ble_link.BleLink(bluetooth, dev, acquire.FIRMWARE_VERSION, model="twitchwatch patch (ESP32)",
                            ring=_RING)
    acq = acquire.Acquisition(fe, clock, link.send, _boot_id(), dev, raw_frames=True)
    acq.reset_cause = cause
    wdt = machine.WDT(timeout=_WDT_MS)
    acq.selftest_feed = wdt.feed  # a self-test runs for seconds inside handle_command
    loop = ble_loop.BleLoop(acq, fe, link, clock, wdt.feed)
    link.start()
    acq.send_hello()
    acq.send_text(fe.describe() + ", reset cause %d" % cause)
    gc.collect()
    while not acq.repl_requested:  # waits for START (poll_commands); COMMAND REPL ends it
        loop.run_once()
    deadline = clock.now_ms() + 1000
    while link.ring.unsent() and link.conn >= 0 and clock.now_ms() - deadline < 0:
        loop.run_once()  # the REPLY to REPL leaves first
    # the ESP32 port cannot stop a WDT (ports/esp32/machine_wdt.c), only reconfigure it
    machine.WDT(timeout=_WDT_REPL_MS)


def _safe_mode() -> bool:
    """GPIO0 (the BOOT button) held low at start: stay in the REPL."""
    import machine

    return machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP).value() == 0


if not _safe_mode():
    run()
