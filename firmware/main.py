"""ESP32 entry point: build the board, announce it, wait for START, stream over USB serial.

Frames go to ``sys.stdout.buffer`` (UART0 behind the USB bridge, switched to 921 600 baud) and
COMMAND frames come from ``sys.stdin.buffer``. Ctrl-C is disabled while running because
command bytes may contain 0x03; COMMAND REPL (what ``twitchwatch flash`` sends first)
ends the loop and gives the REPL back; so does holding GPIO0 low at reset (docs/firmware.md).
"""

import os
import sys
import time

import micropython

import acquire
import board_esp32
import clocks
import wire_link


def _boot_id() -> int:
    b = os.urandom(4)
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


_UART_BAUD = 921600  # the full stream is ~22 kB/s; 115200 baud carries 11.5 kB/s
_REPL_BAUD = 115200  # the REPL's own rate, which mpremote expects


def run() -> None:
    import machine

    machine.UART(0, baudrate=_UART_BAUD)  # the REPL UART behind the USB bridge
    fe = board_esp32.build()
    clock = clocks.RealClock()
    link = wire_link.StreamLink(sys.stdout.buffer, sys.stdin.buffer)
    acq = acquire.Acquisition(fe, clock, link.send, _boot_id(), board_esp32.device_id())
    micropython.kbd_intr(-1)  # 0x03 in a COMMAND frame must not raise KeyboardInterrupt
    try:
        link.send_delimiter()
        acq.send_hello()
        acq.send_text(fe.describe())
        while not acq.repl_requested:  # real firmware waits for START (handled in poll_commands)
            acq.step()
            link.poll_commands(acq.handle_command)
    finally:
        micropython.kbd_intr(3)
        time.sleep_ms(20)  # the last frame (<= 246 bytes, ~3 ms at 921 600 baud) leaves first
        machine.UART(0, baudrate=_REPL_BAUD)  # back at the REPL's rate (COMMAND REPL, then mpremote)


def _safe_mode() -> bool:
    """GPIO0 (the BOOT button) held low at start: stay in the REPL."""
    import machine

    return machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP).value() == 0


if not _safe_mode():
    run()
