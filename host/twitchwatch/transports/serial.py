"""USB serial (pyserial): :class:`SerialSource`, port listing and autodetection."""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass

import serial
import serial.tools.list_ports

from .base import ByteSource, TransportClosed, TransportError, host_time_s
from .readahead import ReadAhead

DEFAULT_BAUDRATE = 921600

# USB bridges found on ESP32 boards: (VID, PID or None for any PID, name).
ESP32_USB_IDS: tuple[tuple[int, int | None, str], ...] = (
    (0x10C4, 0xEA60, "Silicon Labs CP210x"),
    (0x1A86, 0x7523, "WCH CH340"),
    (0x1A86, 0x55D4, "WCH CH9102"),
    (0x303A, None, "Espressif native USB"),
    (0x0403, 0x6001, "FTDI FT232R"),
)


class PortNotFoundError(TransportError):
    """No serial port, or more than one, matches an ESP32 USB bridge."""


@dataclass(frozen=True)
class PortInfo:
    """A serial port as seen by the OS; ``bridge`` names the ESP32 USB bridge, or ''."""

    device: str
    description: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    bridge: str

    def __str__(self) -> str:
        ids = f"{self.vid:04X}:{self.pid:04X}" if self.vid is not None and self.pid is not None else "no USB id"
        return f"{self.device} ({ids}, {self.bridge or self.description})"


def _bridge_name(vid: int | None, pid: int | None) -> str:
    for v, p, name in ESP32_USB_IDS:
        if vid == v and (p is None or pid == p):
            return name
    return ""


def list_ports() -> list[PortInfo]:
    """Every serial port the OS lists, sorted by device name."""
    return sorted((PortInfo(p.device, p.description or "", p.vid, p.pid, p.serial_number, _bridge_name(p.vid, p.pid))
                   for p in serial.tools.list_ports.comports()), key=lambda p: p.device)


def autodetect_port(ports: list[PortInfo] | None = None) -> str:
    """The device path of the one port whose USB id is an ESP32 bridge.

    Raises:
        PortNotFoundError: none or several match; the message lists the candidates
            (and all ports when none matches) so the user can pass ``--port``.
    """
    ports = list_ports() if ports is None else ports
    matches = [p for p in ports if p.bridge]
    if len(matches) == 1:
        return matches[0].device
    if not matches:
        seen = ", ".join(str(p) for p in ports) or "none"
        known = ", ".join(f"{v:04X}:{'*' if p is None else f'{p:04X}'} {n}" for v, p, n in ESP32_USB_IDS)
        raise PortNotFoundError(f"no ESP32 USB serial port found (looked for {known}); ports present: {seen}")
    raise PortNotFoundError("several ESP32 USB serial ports found, choose one with --port: "
                            + ", ".join(str(p) for p in matches))


def _open_failure(exc: BaseException) -> str:
    """Why a port did not open, once, in words, with what to do (pyserial repeats the
    OS error inside its own message: "[Errno 2] could not open port …: [Errno 2] …")."""
    code = getattr(exc, "errno", None)
    if code == errno.ENOENT:
        return "no such port (is the patch plugged in? `twitchwatch ports` lists the ports this computer has)"
    if code == errno.EACCES:
        return ("permission denied (on Linux, add yourself to the port's group, e.g. "
                "`sudo usermod -aG dialout $USER`, then log in again)")
    if code == errno.EBUSY:
        return "busy: another program has it open (a serial monitor, another twitchwatch?)"
    text = str(exc)
    inner = text.rsplit("] ", 1)[-1] if "[Errno" in text else text
    return f"{inner} (`twitchwatch ports` lists the ports this computer has)"


class SerialSource(ByteSource):
    """A serial port read in chunks (pyserial), 8N1, no flow control.

    Args:
        port: device path (``/dev/ttyUSB0``, ``COM3``, a pty slave).
        baudrate: bits per second (ignored by USB-CDC and ptys).
        alive: optional check called when a read times out empty; if it returns a
            reason string the link is considered gone (used by
            :class:`~twitchwatch.transports.VirtualBoard` to notice its process exit).
        read_ahead: whether :meth:`start_read_ahead` starts a reading thread (False: a
            virtual board run as fast as its reader takes data, paced by the pty's
            back-pressure, which reading ahead would remove).

    Raises:
        TransportError: the port cannot be opened (message names the port).
    """

    def __init__(self, port: str, baudrate: int = DEFAULT_BAUDRATE,
                 alive: Callable[[], str | None] | None = None, read_ahead: bool = True) -> None:
        self.port = port
        self._read_ahead_ok = read_ahead
        self.baudrate = baudrate
        self._alive = alive
        self._gone: str | None = None
        self._ahead: ReadAhead | None = None  # the reading thread, once start_read_ahead ran
        self._closed_here = False  # close() was called
        try:
            self._serial = serial.Serial(port, baudrate=baudrate, timeout=0, write_timeout=1.0, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open serial port {port}: {_open_failure(exc)}") from exc

    def describe(self) -> str:
        return f"serial port {self.port}"

    @property
    def closed(self) -> bool:
        return self._gone is not None or not self._serial.is_open

    def _closed_error(self) -> TransportClosed:
        return TransportClosed(self._gone or f"{self.describe()} is closed")

    def _went_away(self, exc: BaseException) -> TransportClosed:
        self._gone = f"{self.describe()} went away (unplugged or closed by the other end): {exc}"
        self._close_quietly()
        return TransportClosed(self._gone)

    def start_read_ahead(self) -> None:
        """From now on a thread reads the port as bytes come (:class:`ReadAhead`):
        :meth:`read` returns what it took, stamped when it arrived. Idempotent; nothing
        for a source made with ``read_ahead=False``."""
        if self._ahead is None and self._read_ahead_ok and not self.closed:
            self._ahead = ReadAhead(self._read_port, self.describe())

    @property
    def read_ahead(self) -> ReadAhead | None:
        """The reading thread (None before :meth:`start_read_ahead`)."""
        return self._ahead

    def read(self, timeout_s: float) -> tuple[float, bytes]:
        """Up to one chunk of what has arrived, waiting at most ``timeout_s`` s
        for the first byte; see :meth:`ByteSource.read`."""
        if self._ahead is not None and not self._closed_here:
            return self._ahead.take(timeout_s)  # what it read before the link ended comes first
        return self._read_port(timeout_s)

    def _read_port(self, timeout_s: float) -> tuple[float, bytes]:
        if self.closed:
            raise self._closed_error()
        try:
            self._serial.timeout = max(0.0, timeout_s)
            data = self._serial.read(1)
            if data:
                waiting = self._serial.in_waiting
                if waiting:
                    data += self._serial.read(waiting)
            elif self._alive is not None:
                reason = self._alive()
                if reason is not None:
                    # The other end is gone, so whatever it wrote is already here.
                    data = self._serial.read(self._serial.in_waiting)
                    if not data:
                        self._gone = reason
                        self._close_quietly()
                        raise TransportClosed(reason)
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # pyserial raises SerialException on EIO (pty master closed, USB
            # unplugged); TypeError/AttributeError when closed from another thread.
            raise self._went_away(exc) from exc
        return host_time_s(), data

    def write(self, data: bytes) -> None:
        """Send ``data`` (blocks at most 1 s); see :meth:`ByteSource.write`."""
        if self.closed:
            raise self._closed_error()
        try:
            self._serial.write(data)
        except serial.SerialTimeoutException as exc:
            raise TransportError(f"{self.describe()}: write of {len(data)} bytes timed out") from exc
        except (serial.SerialException, OSError) as exc:
            raise self._went_away(exc) from exc

    def _close_quietly(self) -> None:
        try:
            self._serial.close()
        except (serial.SerialException, OSError):
            pass

    def close(self) -> None:
        if self._gone is None:
            self._gone = f"{self.describe()} was closed"
        self._closed_here = True
        if self._ahead is not None:
            self._ahead.stop()  # before the port closes under its read
        self._close_quietly()
