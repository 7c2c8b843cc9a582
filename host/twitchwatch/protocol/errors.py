"""Errors raised by the pure protocol helpers (never by :class:`FrameDecoder`)."""

from __future__ import annotations

from .. import TwitchwatchError


class ProtocolError(TwitchwatchError):
    """Bytes that do not follow docs/protocol.md.

    ``counter`` names the :class:`~twitchwatch.protocol.DecoderStats` field the
    streaming decoder increments for this kind of error.
    """

    counter = "malformed"


class CobsError(ProtocolError):
    """A COBS-encoded frame whose code bytes do not add up."""

    counter = "cobs_errors"


class FrameTooShort(ProtocolError):
    """A decoded frame shorter than 10 bytes."""

    counter = "too_short"


class FrameTooLong(ProtocolError):
    """A decoded frame longer than 244 bytes (or > 246 wire bytes without a delimiter)."""

    counter = "too_long"


class CrcError(ProtocolError):
    """The frame's CRC-32 does not match its bytes."""

    counter = "crc_errors"


class VersionError(ProtocolError):
    """A frame whose ``version`` byte is not one this host speaks."""

    counter = "version_errors"


class UnknownTypeError(ProtocolError):
    """A frame type this host does not accept (unknown, or host-to-device)."""

    counter = "unknown_type"


class MalformedPayload(ProtocolError):
    """A CRC-correct frame whose payload does not fit its type's layout."""

    counter = "malformed"
