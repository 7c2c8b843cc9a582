"""ESP32 entry point for wearing the patch: stream over Bluetooth LE (no cable).

``twitchwatch flash --port PORT --ble`` copies it to the board as ``main.py``, with the
modules it imports (docs/firmware.md). It builds the board like ``main.py``,
advertises ``tw-XXXX`` (``ble_link``), and streams after the host's START; while the
link is down it keeps the newest ~1.5 s of frames (``ble_link.RING_BYTES``) and sends
them first when the host is back. Holding GPIO0 (BOOT) low at start keeps the REPL.
"""

import ble_link
import frame_ring

# First, while the heap is in one piece: one 32 KiB block.
_RING = frame_ring.FrameRing(ble_link.RING_BYTES)

import os  # noqa: E402

import acquire  # noqa: E402
import ble_budget  # noqa: E402
import bluetooth  # noqa: E402
import board_esp32  # noqa: E402
import clocks  # noqa: E402
import decimate  # noqa: E402

_BATTERY_EVERY_MS = 10000


def _boot_id() -> int:
    b = os.urandom(4)
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


def run() -> None:
    fe = decimate.DecimatingFrontEnd(board_esp32.build())  # the rate the link can carry
    clock = clocks.RealClock()
    dev = board_esp32.device_id()
    link = ble_link.BleLink(bluetooth, dev, acquire.FIRMWARE_VERSION, model="twitchwatch patch (ESP32)",
                            ring=_RING)
    acq = acquire.Acquisition(fe, clock, link.send, _boot_id(), dev, raw_frames=True)
    link.start()
    acq.send_hello()
    acq.send_text(fe.describe())
    next_battery_ms = 0
    while not acq.repl_requested:  # waits for START (poll_commands); COMMAND REPL ends it
        acq.step()
        link.poll_commands(acq.handle_command)
        now = clock.now_ms()
        level = link.wanted_level(fe.base, now)  # the link's budget (docs/protocol.md)
        if level >= 0:
            ble_budget.switch(acq, fe, level, link.reason)
        link.pump(now)
        if now >= next_battery_ms:
            next_battery_ms = now + _BATTERY_EVERY_MS
            link.set_battery_pct(fe.battery_pct())


def _safe_mode() -> bool:
    """GPIO0 (the BOOT button) held low at start: stay in the REPL."""
    import machine

    return machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP).value() == 0


if not _safe_mode():
    run()
