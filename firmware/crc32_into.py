"""CRC-32 (ISO-HDLC / zlib) of ``buf[:n]``, written little-endian at ``buf[n:n+4]``.

Why not ``binascii.crc32``: on the ESP32 a small int holds 31 bits (``MICROPY_OBJ_REPR_A``
in ports/esp32/mpconfigport.h), so three CRCs in four are heap ints: a DATA frame would
allocate, 150 frames a second, and the garbage collector would run (and stall sampling)
at a moment nobody chose. Here the CRC never becomes a Python int: under MicroPython a
``@micropython.viper`` loop (native Xtensa code with ``mpy-cross -march=xtensawin``; 32-bit
machine words) computes it from a 256-entry table and stores its four bytes; under
CPython (and a MicroPython without viper) ``binascii.crc32`` does the same job.

Runs under MicroPython and CPython 3.10+; the result is identical (tested).
"""

import array
import binascii
import struct

_POLY = 0xEDB88320  # reflected CRC-32 polynomial


def _table():
    """The 256 CRC-32 table entries (built once at import; their ints may be heap ints)."""
    t = array.array("I", bytearray(4 * 256))
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        t[i] = c
    return t


def _crc_into_binascii(buf, n: int) -> None:
    struct.pack_into("<I", buf, n, binascii.crc32(memoryview(buf)[:n]) & 0xFFFFFFFF)


crc_into = _crc_into_binascii
VIPER = False

try:
    import micropython

    _TABLE = _table()

    @micropython.viper
    def _crc_viper(buf, n: int, table):
        p = ptr8(buf)
        t = ptr32(table)
        m = (uint(0xFFFF) << 16) | uint(0xFFFF)  # 32 ones on a 32- or 64-bit machine word
        c = m
        i = 0
        while i < n:
            c = uint(t[int((c ^ uint(p[i])) & uint(0xFF))]) ^ (c >> 8)
            i += 1
        c = c ^ m
        p[n] = c & uint(0xFF)
        p[n + 1] = (c >> 8) & uint(0xFF)
        p[n + 2] = (c >> 16) & uint(0xFF)
        p[n + 3] = (c >> 24) & uint(0xFF)

    def _crc_into_viper(buf, n: int) -> None:
        _crc_viper(buf, n, _TABLE)

    crc_into = _crc_into_viper
    VIPER = True
except (ImportError, AttributeError, NameError, SyntaxError):  # CPython, or no viper
    pass
