"""The commands that talk to devices, as library calls: ``ports``, ``scan``, ``flash`` and
``device selftest``. Each prints its result, returns the command's exit status and
raises :class:`~twitchwatch.TwitchwatchError` (one line) for what fails."""

from __future__ import annotations

from twitchwatch import TwitchwatchError


def scan(timeout_s: float, show_all: bool = False) -> int:
    """``twitchwatch scan``: Bluetooth LE devices nearby for ``timeout_s``, patches first
    (every device seen with ``show_all``)."""
    import asyncio

    from twitchwatch.transports.ble import scan as ble_scan

    try:
        found = asyncio.run(ble_scan(timeout_s))
    except Exception as exc:  # noqa: BLE001 - bleak's errors per OS: no adapter, adapter off, no permission
        raise TwitchwatchError(f"Bluetooth scan failed: {type(exc).__name__}: {exc} (is Bluetooth on, and on "
                               "Linux is bluetoothd running?)") from exc
    shown = [r for r in found if r.is_patch or show_all]
    if not shown:
        print("no twitchwatch patch found (is it powered and not connected to another computer?)"
              + ("" if show_all else "; --all lists every device seen"))
        return 0
    for r in shown:
        mark = "patch" if r.is_patch else "     "
        print(f"{mark}  {r.name or '(no name)':<20} {r.address:<40} {r.rssi_dbm:4d} dBm")
    return 0


def flash(port: str, *, compile_mpy: bool = True, ble: bool = False) -> int:
    """``twitchwatch flash``: the board's files onto the board at ``port`` (the BLE build
    with ``ble``), through mpremote; then its HELLO is checked."""
    from twitchwatch.board.files import BOARD_ENTRY
    from twitchwatch.board.flash import BLE_ENTRY, Flasher

    Flasher(port, compile_mpy=compile_mpy, entry=BLE_ENTRY if ble else BOARD_ENTRY).flash()
    return 0


def selftest(port: str, *, baud: int = 921600, seconds: float = 3.0) -> int:
    """``twitchwatch device selftest``: the board's chips and whether its loop keeps up
    (``port`` "virtual": the simulated board); exit status 1 when it does not."""
    from twitchwatch.board.selftest import SelftestError, run_selftest

    if not 0.5 <= seconds <= 10:
        raise TwitchwatchError(f"--seconds: {seconds:g} is outside 0.5 to 10")
    try:
        if port == "virtual":
            from twitchwatch.transports import VirtualBoard

            with VirtualBoard(extra_args=("--wait-start",)) as source:
                result = run_selftest(source, seconds)
        else:
            from twitchwatch.transports import SerialSource

            with SerialSource(port, baudrate=baud) as source:
                result = run_selftest(source, seconds)
    except SelftestError as exc:
        raise TwitchwatchError(str(exc)) from None
    print(result.line)
    print(result.verdict())
    return 1 if result.problems() else 0


def ports() -> int:
    """``twitchwatch ports``: the serial ports, marking the ones that look like a patch."""
    from twitchwatch.transports import list_ports

    found = list_ports()
    if not found:
        print("no serial ports found (is the patch plugged in, and do you have permission? "
              "On Linux, add yourself to the 'dialout' group)")
        return 0
    for p in found:
        mark = "  <- looks like a patch" if getattr(p, "bridge", "") else ""
        print((p.describe() if hasattr(p, "describe") else str(p)) + mark)
    if not any(getattr(p, "bridge", "") for p in found):
        print("none of these looks like a patch (no ESP32 USB bridge): is it plugged in with a data cable? "
              "A patch on another adapter still works with --port NAME")
    return 0
