"""Frame layout of docs/protocol.md: header, CRC-32, size limits.

A frame is ``version u8 | type u8 | seq u32 | payload | crc u32`` (little-endian),
10 to 244 bytes before COBS.
"""

from __future__ import annotations

import binascii
import enum
import struct
from dataclasses import dataclass

from .errors import CrcError, FrameTooLong, FrameTooShort, UnknownTypeError, VersionError

PROTOCOL_VERSION = 1
HEADER_BYTES = 6
CRC_BYTES = 4
MIN_FRAME_BYTES = HEADER_BYTES + CRC_BYTES  # 10
MAX_FRAME_BYTES = 244  # one BLE notification at ATT MTU 247
MAX_PAYLOAD_BYTES = MAX_FRAME_BYTES - MIN_FRAME_BYTES  # 234
MAX_WIRE_BYTES = MAX_FRAME_BYTES + 2  # COBS overhead + the 0x00 delimiter: 246

HEADER = struct.Struct("<BBI")
_CRC = struct.Struct("<I")


class FrameType(enum.IntEnum):
    """The ``type`` byte of a frame."""

    HELLO = 0x01
    DATA = 0x02
    STATUS = 0x03
    REPLY = 0x04
    TEXT = 0x05
    TIMING = 0x06
    COMMAND = 0x81


DEVICE_TO_HOST_TYPES = frozenset({FrameType.HELLO, FrameType.DATA, FrameType.STATUS,
                                  FrameType.REPLY, FrameType.TEXT, FrameType.TIMING})


@dataclass(frozen=True)
class Frame:
    """One CRC-checked frame: header fields and the raw payload bytes."""

    version: int
    frame_type: int
    seq: int
    payload: bytes


def crc32(data: bytes) -> int:
    """CRC-32 (ISO-HDLC, zlib polynomial) of ``data`` as an unsigned int."""
    return binascii.crc32(data) & 0xFFFFFFFF


def build_frame(frame_type: int, seq: int, payload: bytes, version: int = PROTOCOL_VERSION) -> bytes:
    """Build an unencoded frame: header, ``payload``, CRC-32.

    ``seq`` is taken modulo 2**32.  Raises :class:`FrameTooLong` if the payload
    exceeds 234 bytes.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise FrameTooLong(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    body = HEADER.pack(version, frame_type, seq & 0xFFFFFFFF) + bytes(payload)
    return body + _CRC.pack(crc32(body))


def parse_frame(frame: bytes, accepted_types: frozenset[int] | None = DEVICE_TO_HOST_TYPES) -> Frame:
    """Check an unencoded frame's size, CRC, version and type; split it.

    Args:
        frame: the frame after COBS decoding (no delimiter).
        accepted_types: frame types to accept; None accepts any type byte.
            The default accepts the device-to-host types.

    Raises:
        FrameTooShort, FrameTooLong, CrcError, VersionError, UnknownTypeError:
            checked in that order (the CRC before the version, so a flipped bit in
            the version byte counts as a CRC error).
    """
    n = len(frame)
    if n < MIN_FRAME_BYTES:
        raise FrameTooShort(f"frame of {n} bytes, minimum {MIN_FRAME_BYTES}")
    if n > MAX_FRAME_BYTES:
        raise FrameTooLong(f"frame of {n} bytes, maximum {MAX_FRAME_BYTES}")
    body_end = n - CRC_BYTES
    (crc_sent,) = _CRC.unpack_from(frame, body_end)
    if binascii.crc32(memoryview(frame)[:body_end]) != crc_sent:
        raise CrcError("CRC-32 mismatch")
    version, frame_type, seq = HEADER.unpack_from(frame, 0)
    if version != PROTOCOL_VERSION:
        raise VersionError(f"protocol version {version}, this host speaks {PROTOCOL_VERSION}")
    if accepted_types is not None and frame_type not in accepted_types:
        raise UnknownTypeError(f"frame type 0x{frame_type:02x} not accepted")
    return Frame(version, frame_type, seq, bytes(frame[HEADER_BYTES:body_end]))
