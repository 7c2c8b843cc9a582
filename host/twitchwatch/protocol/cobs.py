"""COBS (Cheshire & Baker 1999) encoding, standard 254-byte blocks, no delimiter.

The wire adds one ``0x00`` after each encoded frame (see docs/protocol.md); these
functions neither add nor expect it.
"""

from __future__ import annotations

from .errors import CobsError


def cobs_encode(data: bytes) -> bytes:
    """Encode ``data`` so the result contains no ``0x00``.

    Returns at most ``len(data) + len(data) // 254 + 1`` bytes; the delimiter is
    not included.
    """
    out = bytearray()
    for chunk in bytes(data).split(b"\0"):
        # Each zero-free run is emitted as blocks of at most 254 bytes; a full
        # block (code 0xFF) carries no implied zero after it.
        while len(chunk) >= 254:
            out.append(0xFF)
            out += chunk[:254]
            chunk = chunk[254:]
        out.append(len(chunk) + 1)
        out += chunk
    return bytes(out)


def cobs_decode(encoded: bytes) -> bytes:
    """Decode one COBS-encoded frame (without its ``0x00`` delimiter).

    Raises:
        CobsError: ``encoded`` is empty, contains ``0x00``, or a code byte points
            past its end.
    """
    encoded = bytes(encoded)
    n = len(encoded)
    if n == 0:
        raise CobsError("empty COBS frame")
    if b"\0" in encoded:
        raise CobsError("0x00 inside a COBS frame")
    if n <= 253:
        short = cobs_decode_short(encoded)
        if short is None:
            raise CobsError(f"COBS code bytes of a {n}-byte frame do not add up to its length")
        return bytes(short)
    out = bytearray()
    i = 0
    while i < n:
        code = encoded[i]
        end = i + code
        if end > n:
            raise CobsError(f"COBS code {code} at offset {i} points past the frame end ({n} bytes)")
        out += encoded[i + 1:end]
        if code != 0xFF and end < n:
            out.append(0)
        i = end
    return bytes(out)


def cobs_decode_short(segment: bytes) -> bytearray | None:
    """Fast COBS decode for a zero-free segment of at most 253 bytes.

    With fewer than 254 bytes no code can be ``0xFF`` legitimately (such a block
    needs 254 data bytes), so decoding is: follow the code chain, turn every code
    byte after the first into ``0x00``, drop the first.  Returns the decoded bytes
    as a fresh bytearray, or None on a COBS error.  The caller guarantees the
    length bound and the absence of ``0x00`` (it split on it).
    """
    buf = bytearray(segment)
    n = len(buf)
    i = buf[0] if n else 1
    while i < n:
        code = buf[i]
        buf[i] = 0
        i += code
    if i != n:
        return None
    del buf[0]
    return buf


try:  # optional C implementation: pip install cobs (same results, ~6x faster)
    from cobs.cobs import DecodeError as _CDecodeError
    from cobs.cobs import decode as _c_decode
except ImportError:  # pragma: no cover - depends on the environment
    _c_decode = None


def _decode_segment_c(segment: bytes) -> bytes | None:
    try:
        return _c_decode(segment)
    except _CDecodeError:
        return None


#: ``decode_segment(segment) -> bytes | bytearray | None``: what the streaming
#: decoder uses, with :func:`cobs_decode_short`'s contract; the C package when
#: installed, else the Python fast path.  ``COBS_BACKEND`` names the choice.
decode_segment = _decode_segment_c if _c_decode is not None else cobs_decode_short
COBS_BACKEND = "cobs (C extension)" if _c_decode is not None else "python"
