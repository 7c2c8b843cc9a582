"""COBS (Consistent Overhead Byte Stuffing) for the serial link, no allocation per byte.

Cheshire & Baker 1999, 254-byte blocks, as docs/protocol.md requires. The encoder
writes into a caller-owned buffer; the decoder is incremental (one byte at a time) so
the device can feed it whatever the UART or stdin hands over.

Runs under MicroPython and CPython 3.10+.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


_BLOCK = const(254)
# Worst case encoded size of n bytes (without delimiter): n + ceil(n / 254), at least 1.


def max_encoded_len(n: int) -> int:
    """Bytes COBS needs for ``n`` input bytes, excluding the ``0x00`` delimiter."""
    return n + n // _BLOCK + 1


def encode_into(src, n: int, dst, start: int = 0) -> int:
    """COBS-encode ``src[0:n]`` into ``dst[start:]`` and append the ``0x00`` delimiter.

    ``src`` is a bytearray/bytes (anything with ``find`` and item access); ``dst`` is a
    bytearray with room for ``max_encoded_len(n) + 1`` bytes after ``start``.
    Returns the index in ``dst`` just past the delimiter.

    Zero bytes are located with ``find`` (C speed); the bytes between them are copied
    with slice assignment (one memcpy per block, one small temporary slice object).
    """
    code_at = start
    o = start + 1
    i = 0
    while i < n:
        z = src.find(b"\x00", i, n)
        end = n if z < 0 else z
        # Copy src[i:end] in blocks of at most 254 bytes.
        while end - i >= _BLOCK:
            dst[o : o + _BLOCK] = src[i : i + _BLOCK]
            dst[code_at] = 0xFF
            i += _BLOCK
            o += _BLOCK
            code_at = o
            o += 1
        run = end - i
        if run:
            dst[o : o + run] = src[i:end]
            o += run
            i = end
        if z >= 0:
            dst[code_at] = run + 1
            code_at = o
            o += 1
            i = z + 1
        elif i >= n:
            break
    dst[code_at] = o - code_at
    dst[o] = 0
    return o + 1


_encode_into_py = encode_into
VIPER = False

try:
    import micropython

    @micropython.viper
    def _encode_viper(src, n: int, dst, start: int) -> int:
        s = ptr8(src)
        d = ptr8(dst)
        code_at = start
        o = start + 1
        code = 1
        i = 0
        while i < n:
            b = s[i]
            if b == 0:
                d[code_at] = code
                code_at = o
                o += 1
                code = 1
            else:
                d[o] = b
                o += 1
                code += 1
                if code == 0xFF:
                    d[code_at] = code
                    code_at = o
                    o += 1
                    code = 1
            i += 1
        d[code_at] = code
        d[o] = 0
        return o + 1

    def _encode_into_viper(src, n: int, dst, start: int = 0) -> int:
        """``encode_into`` as native code: no temporary objects, one pass."""
        return _encode_viper(src, n, dst, start)

    encode_into = _encode_into_viper
    VIPER = True
except (ImportError, AttributeError, NameError, SyntaxError):  # CPython, or no viper
    pass


def encode(data) -> bytes:
    """Return the COBS encoding of ``data`` followed by the ``0x00`` delimiter (allocates)."""
    n = len(data)
    src = data if isinstance(data, (bytes, bytearray)) else bytes(data)
    dst = bytearray(max_encoded_len(n) + 1)
    end = encode_into(src, n, dst)
    return bytes(dst[:end])


class Decoder:
    """Incremental COBS decoder: feed bytes, get complete frames.

    Holds one frame of at most ``max_frame`` decoded bytes in a preallocated buffer.
    ``feed_byte`` returns the decoded length (>= 0) when a delimiter completes a
    frame (read it from ``self.buf[:length]``), ``-1`` otherwise. Errors (bad code byte,
    frame too long, more than ``max_frame + 2`` bytes without a delimiter) drop the
    bytes up to the next ``0x00`` and count one in ``self.errors``; empty frames (two
    delimiters in a row) are ignored silently.
    """

    def __init__(self, max_frame: int = 244) -> None:
        self.max_frame = max_frame
        self.buf = bytearray(max_frame)
        self.errors = 0
        self._n = 0  # decoded bytes so far
        self._left = 0  # data bytes left in the current block
        self._zero_after = False  # block ends with an implicit zero
        self._raw = 0  # encoded bytes since the last delimiter
        self._bad = False  # discarding until the next delimiter

    def reset(self) -> None:
        self._n = 0
        self._left = 0
        self._zero_after = False
        self._raw = 0
        self._bad = False

    def _fail(self) -> None:
        if not self._bad:
            self.errors += 1
        self._bad = True

    def feed_byte(self, b: int) -> int:
        """Feed one byte; the decoded length when it completes a frame, else ``-1``."""
        if b == 0:
            bad = self._bad
            raw = self._raw
            n = self._n
            left = self._left
            self.reset()
            if raw == 0 and not bad:
                return -1  # empty frame (two delimiters in a row): ignored
            if bad:
                return -1
            if left:
                self.errors += 1  # the last code byte pointed past the delimiter
                return -1
            return n
        if self._bad:
            return -1
        self._raw += 1
        if self._raw > self.max_frame + 2:
            self._fail()
            return -1
        if self._left == 0:
            # A code byte: first emit the zero that ended the previous block.
            if self._zero_after:
                if self._n >= self.max_frame:
                    self._fail()
                    return -1
                self.buf[self._n] = 0
                self._n += 1
            self._left = b - 1
            self._zero_after = b != 0xFF
            return -1
        if self._n >= self.max_frame:
            self._fail()
            return -1
        self.buf[self._n] = b
        self._n += 1
        self._left -= 1
        return -1


def decode(wire) -> bytes:
    """Decode one COBS frame (with or without its trailing ``0x00``); raise ValueError if bad."""
    out = bytearray()
    n = len(wire)
    if n and wire[n - 1] == 0:
        n -= 1
    i = 0
    while i < n:
        code = wire[i]
        end = i + code
        if code == 0 or end > n:
            raise ValueError("COBS code byte points past the end")
        for k in range(i + 1, end):
            if wire[k] == 0:
                raise ValueError("zero byte inside a COBS frame")
            out.append(wire[k])
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)
