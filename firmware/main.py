"""ESP32 entry point: build the board, announce it, wait for START, stream over USB serial.

Frames go to ``sys.stdout.buffer`` (UART0 behind the USB bridge, switched to 921 600 baud)
through a bounded ``wire_link.FrameQueue``, paced by ``wire_link.TxPacer`` so a write
never blocks: on the ESP32 port the REPL UART has no driver TX buffer, only the 128-byte
hardware FIFO, and ``uart_stdout_tx_strn`` (ports/esp32/uart.c) waits a FreeRTOS tick
whenever that FIFO is full. What the queue cannot hold is dropped and counted (STATUS
``dropped_samples``; the host sees the gap). COMMAND frames come from ``sys.stdin.buffer``,
polled every 20 ms (``board_loop.BoardLoop``, the loop pass the tests model too).

A ``machine.WDT`` resets the board if the loop stops for ``_WDT_MS``; the reset cause
goes out in the boot TEXT line and in every STATUS (``reset_cause``). Garbage is collected
at chosen moments only: at boot and before every START (``Acquisition.start``); the
streaming path allocates nothing, so the collector has no reason to run in between.

Ctrl-C is disabled while running because command bytes may contain 0x03; COMMAND REPL
(what ``twitchwatch flash`` sends first) ends the loop and gives the REPL back; so does
holding GPIO0 low at reset (docs/firmware.md).
"""

import gc
import os
import sys
import time

import micropython

import acquire
import board_esp32
import board_loop
import clocks
import wire_link


def _boot_id() -> int:
    b = os.urandom(4)
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


_UART_BAUD = 921600  # the full stream is ~22 kB/s; 115200 baud carries 11.5 kB/s
_UART_FIFO = 120  # of the REPL UART's 128-byte hardware FIFO (a margin of 8)
_WDT_MS = 2000
_WDT_REPL_MS = 3600000
_REPL_BAUD = 115200  # the REPL's own rate, which mpremote expects


def run() -> None:
    import machine

    machine.UART(0, baudrate=_UART_BAUD)  # the REPL UART behind the USB bridge
    cause = board_esp32.reset_cause()
    fe = board_esp32.build()
    clock = clocks.RealClock()
    link = wire_link.StreamLink(sys.stdout.buffer, sys.stdin.buffer)
    queue = wire_link.FrameQueue()
    pacer = wire_link.TxPacer(clock, _UART_BAUD, _UART_FIFO)
    acq = acquire.Acquisition(fe, clock, queue.send, _boot_id(), board_esp32.device_id(),
                              paced=True)
    acq.reset_cause = cause
    wdt = machine.WDT(timeout=_WDT_MS)
    acq.selftest_feed = wdt.feed  # a self-test runs for seconds inside handle_command
    # link.out.write is a MicroPython stream's: write(buf, off, n), no slicing
    loop = board_loop.BoardLoop(acq, queue, pacer, link.out.write, link, wdt.feed)
    micropython.kbd_intr(-1)  # 0x03 in a COMMAND frame must not raise KeyboardInterrupt
    try:
        link.send_delimiter()
        acq.send_hello()
        acq.send_text(fe.describe() + ", reset cause %d" % cause)
        gc.collect()
        while not acq.repl_requested:  # real firmware waits for START (handled in poll_commands)
            loop.run_once()
        while queue.count:  # the REPLY to REPL (and what preceded it) leaves first
            loop.run_once()
        # the ESP32 port cannot stop a WDT (ports/esp32/machine_wdt.c: no deinit), only
        # reconfigure it: an hour at the REPL for twitchwatch flash; a reset ends it
        machine.WDT(timeout=_WDT_REPL_MS)
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
