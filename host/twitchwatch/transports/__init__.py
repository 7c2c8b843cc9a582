"""Byte links to a device: serial, the virtual board, capture files and replay.

Every link is a :class:`ByteSource`: ``read(timeout_s) -> (host_time_s, chunk)``,
``write(bytes)``, ``close()``, and :class:`TransportClosed` when it goes away.
"""

from .base import ByteSource, TransportClosed, TransportError, host_time_s
from .capture import (
    CaptureFormatError,
    CaptureHeader,
    CaptureReader,
    CaptureRecord,
    CaptureTail,
    CaptureWriter,
    read_capture,
)
from .replay import EndOfCapture, ReplaySource
from .serial import ESP32_USB_IDS, PortInfo, PortNotFoundError, SerialSource, autodetect_port, list_ports
from .virtual import VirtualBoard, find_micropython

__all__ = [
    "ByteSource", "TransportError", "TransportClosed", "host_time_s",
    "SerialSource", "PortInfo", "PortNotFoundError", "list_ports", "autodetect_port", "ESP32_USB_IDS",
    "VirtualBoard", "find_micropython",
    "CaptureWriter", "CaptureReader", "CaptureRecord", "CaptureHeader", "CaptureTail", "CaptureFormatError",
    "read_capture", "ReplaySource", "EndOfCapture",
]
