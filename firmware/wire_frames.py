"""Frame builders and the COMMAND parser of docs/protocol.md (protocol version 1).

``FrameWriter`` owns one preallocated frame buffer (244 bytes) and one wire buffer;
each ``build_*`` method packs a frame at the writer's ``seq`` (then increments it) and
returns the frame length; ``to_wire(n)`` COBS-encodes the frame and returns the wire
length (leading nothing, trailing ``0x00``). DATA packing does not allocate, on the
ESP32 either: the CRC is computed and stored without becoming a Python int
(``crc32_into``), and ``t_first_us`` is packed from small ints (``pack_t_us``), since
ints of 2^30 or more are heap objects there.

Runs under MicroPython and CPython 3.10+.
"""

import array
import binascii
import struct

import crc32_into
import wire_cobs

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


VERSION = const(1)
T_HELLO = const(0x01)
T_DATA = const(0x02)
T_STATUS = const(0x03)
T_REPLY = const(0x04)
T_TEXT = const(0x05)
T_TIMING = const(0x06)
T_COMMAND = const(0x81)

CMD_START = const(1)
CMD_STOP = const(2)
CMD_PING = const(3)
CMD_HELLO = const(4)
CMD_SELFTEST = const(5)  # arg: run length in ms (0: 3000); REPLY, then one TEXT 'selftest k=v ...'
CMD_REPL = const(16)  # stop streaming and return to the MicroPython REPL (twitchwatch flash)

RESULT_OK = const(0)
RESULT_UNKNOWN = const(1)
RESULT_BAD_ARG = const(2)
RESULT_BUSY = const(3)

MAX_FRAME = const(244)
MAX_PAYLOAD = const(234)
MIN_FRAME = const(10)
MAX_WIRE = const(246)  # COBS of 244 bytes plus the delimiter
_HDR = const(6)
_COMMAND_LEN = const(15)
_U32 = const(0xFFFFFFFF)


_pack_viper = None
try:
    import micropython

    @micropython.viper
    def _pack_le_viper(dst, o: int, src, j: int, size: int, k: int, bps: int) -> int:
        # the low ``bps`` bytes of k int32 values of ``src`` from element j (wrapping at
        # ``size``), little-endian, into ``dst`` from byte o; returns the byte after
        d = ptr8(dst)
        s = ptr32(src)
        while k > 0:
            v = s[j]
            d[o] = v & 0xFF
            d[o + 1] = (v >> 8) & 0xFF
            if bps == 3:
                d[o + 2] = (v >> 16) & 0xFF
            o += bps
            j += 1
            if j == size:
                j = 0
            k -= 1
        return o

    _pack_viper = _pack_le_viper
except (ImportError, AttributeError, NameError, SyntaxError):  # CPython, or no viper
    pass


class FrameError(ValueError):
    """A frame cannot be built (payload too long, string too long)."""


def pack_t_us(buf, offset: int, index: int, sample_rate_mhz: int) -> None:
    """Write ``index * 10**9 // sample_rate_mhz`` (us) as a little-endian u64 at
    ``buf[offset:offset+8]``, with every intermediate value below 2^30 (a small int on
    the ESP32), for ``0 <= index < 2**30`` and a whole rate in Hz (``sample_rate_mhz``
    a multiple of 1000, at most 2^30); other rates take the plain expression."""
    r = sample_rate_mhz // 1000  # Hz
    if r * 1000 != sample_rate_mhz or r > 10000 or index > 0x3FFFFFFF:
        struct.pack_into("<Q", buf, offset, index * 1000000000 // sample_rate_mhz)
        return
    s = index // r  # whole seconds
    j = index - s * r  # samples into the second
    a = j * 1000 // r
    f = a * 1000 + (j * 1000 - a * r) * 1000 // r  # us into the second: floor(j * 1e6 / r)
    # t = s * 1e6 + f with s = sh * 1024 + sl and 1024e6 = 15625 * 2^16:
    # t = A + B * 2^16 + C * 2^26, A = sl * 1e6 + f < 2^30, B = (sh % 1024) * 15625,
    # C = (sh // 1024) * 15625; summed in 16-bit limbs.
    sl = s & 1023
    sh = s >> 10
    a = sl * 1000000 + f
    b = (sh & 1023) * 15625
    c = (sh >> 10) * 15625
    l0 = a & 0xFFFF
    l1 = (a >> 16) + (b & 0xFFFF) + ((c & 63) << 10)
    l2 = (b >> 16) + ((c >> 6) & 0xFFFF) + (l1 >> 16)
    l3 = (c >> 22) + (l2 >> 16)
    struct.pack_into("<HHHH", buf, offset, l0, l1 & 0xFFFF, l2 & 0xFFFF, l3)


class FrameWriter:
    """Builds frames into ``self.frame`` and their COBS form into ``self.wire``."""

    def __init__(self, seq: int = 0) -> None:
        # seq as two 16-bit halves: a u32 counter that never becomes a heap int
        self._seq_lo = seq & 0xFFFF
        self._seq_hi = (seq >> 16) & 0xFFFF
        self.frame = bytearray(MAX_FRAME + 4)  # slack: int24 packing writes 4 bytes
        self.wire = bytearray(MAX_WIRE + 2)
        self._fmv = memoryview(self.frame)
        self._wmv = memoryview(self.wire)
        self._views: dict = {}
        self._wviews: dict = {}

    def frame_view(self, n: int):
        """A memoryview of the first ``n`` frame bytes (cached per length: no allocation after the first)."""
        v = self._views.get(n)
        if v is None:
            v = self._fmv[:n]
            self._views[n] = v
        return v

    def wire_view(self, m: int):
        """A memoryview of the first ``m`` wire bytes (cached per length, like frame_view)."""
        v = self._wviews.get(m)
        if v is None:
            v = self._wmv[:m]
            self._wviews[m] = v
        return v

    def _finish(self, ftype: int, payload_len: int) -> int:
        if payload_len > MAX_PAYLOAD:
            raise FrameError("payload too long")
        f = self.frame
        struct.pack_into("<BBHH", f, 0, VERSION, ftype, self._seq_lo, self._seq_hi)
        n = _HDR + payload_len
        crc32_into.crc_into(f, n)
        lo = self._seq_lo + 1
        if lo == 0x10000:
            lo = 0
            self._seq_hi = (self._seq_hi + 1) & 0xFFFF
        self._seq_lo = lo
        return n + 4

    @property
    def seq(self) -> int:
        """The ``seq`` of the next frame (u32; may be a heap int on the ESP32: not for the hot path)."""
        return self._seq_hi << 16 | self._seq_lo

    def to_wire(self, n: int) -> int:
        """COBS-encode ``frame[:n]`` into ``self.wire``; returns the wire length incl. ``0x00``."""
        return wire_cobs.encode_into(self.frame, n, self.wire)

    # -- device -> host --------------------------------------------------------------

    def _str8(self, o: int, s: str) -> int:
        b = s.encode()
        if len(b) > 255 or o + 1 + len(b) > _HDR + MAX_PAYLOAD:
            raise FrameError("string too long")
        self.frame[o] = len(b)
        self.frame[o + 1 : o + 1 + len(b)] = b
        return o + 1 + len(b)

    def build_hello(self, boot_id: int, device_id: str, firmware_version: str, streams) -> int:
        f = self.frame
        o = _HDR
        struct.pack_into("<I", f, o, boot_id & _U32)
        o = self._str8(o + 4, device_id)
        o = self._str8(o, firmware_version)
        f[o] = len(streams)
        o += 1
        for s in streams:
            if o + 8 > _HDR + MAX_PAYLOAD:
                raise FrameError("HELLO too long")
            struct.pack_into("<BIBBB", f, o, s.stream_id, s.sample_rate_mhz, s.sample_format,
                             s.samples_per_frame, len(s.channels))
            o += 8
            for c in s.channels:
                if o + 1 > _HDR + MAX_PAYLOAD:
                    raise FrameError("HELLO too long")
                f[o] = c.kind
                o = self._str8(o + 1, c.label)
                o = self._str8(o, c.unit)
                if o + 4 > _HDR + MAX_PAYLOAD:
                    raise FrameError("HELLO too long")
                struct.pack_into("<I", f, o, c.scale_bits)
                o += 4
        return self._finish(0x01, o - _HDR)

    def build_data(self, stream, first_sample_index: int, t_first_us: int, samples,
                   start: int, n_samples: int) -> int:
        """DATA of ``n_samples`` samples of ``stream`` read from the flat interleaved array
        ``samples`` starting at element ``start`` (wrapping at ``len(samples)``).

        ``t_first_us`` is normally ``stream.t_us(first_sample_index)`` (the spec's
        derivation); ``-1`` derives it here with ``pack_t_us`` (small ints only, for
        indexes below 2^30: the acquisition loop's way). Allocation-free.
        """
        f = self.frame
        nch = stream.n_channels
        bps = stream.bytes_per_sample
        payload = 14 + n_samples * nch * bps
        if n_samples < 1 or n_samples > 255 or payload > MAX_PAYLOAD:
            raise FrameError("bad n_samples")
        struct.pack_into("<BBI", f, _HDR, stream.stream_id, n_samples,
                         first_sample_index if first_sample_index <= 0x3FFFFFFF
                         else first_sample_index & _U32)
        if t_first_us < 0:
            pack_t_us(f, _HDR + 6, first_sample_index, stream.sample_rate_mhz)
        else:
            struct.pack_into("<Q", f, _HDR + 6, t_first_us)
        o = _HDR + 14
        size = len(samples)
        j = start
        k = n_samples * nch
        if _pack_viper is not None and isinstance(samples, array.array):
            _pack_viper(f, o, samples, j, size, k, bps)  # native code, no per-value call
        elif bps == 3:
            while k:
                # '<i' writes 4 bytes; the 4th is overwritten by the next sample or the CRC.
                struct.pack_into("<i", f, o, samples[j])
                o += 3
                j += 1
                if j == size:
                    j = 0
                k -= 1
        else:
            while k:
                struct.pack_into("<h", f, o, samples[j])
                o += 2
                j += 1
                if j == size:
                    j = 0
                k -= 1
        return self._finish(0x02, payload)

    def build_status(self, battery_mv: int, battery_pct: int, lead_off: int,
                     dropped_samples: int, free_heap: int, uptime_ms: int,
                     reset_cause: int = -1, frames_refused: int = 0) -> int:
        """STATUS: 20 bytes with ``reset_cause`` (0..255) and ``frames_refused`` (saturates
        at 65535); ``reset_cause=-1`` builds the 16-byte STATUS of firmware 0.1.0."""
        struct.pack_into("<HBBIII", self.frame, _HDR, battery_mv, battery_pct, lead_off,
                         dropped_samples & _U32, free_heap & _U32, uptime_ms & _U32)
        if reset_cause < 0:
            return self._finish(0x03, 16)
        struct.pack_into("<BBH", self.frame, _HDR + 16, reset_cause, 0,
                         frames_refused if frames_refused < 0xFFFF else 0xFFFF)
        return self._finish(0x03, 20)

    def build_reply(self, command: int, result: int, arg: int) -> int:
        struct.pack_into("<BBI", self.frame, _HDR, command, result, arg & _U32)
        return self._finish(0x04, 6)

    def build_text(self, text: str) -> int:
        b = text.encode()
        if len(b) > MAX_PAYLOAD:
            n = MAX_PAYLOAD
            while n and (b[n] & 0xC0) == 0x80:  # do not split a UTF-8 character
                n -= 1
            b = b[:n]
        self.frame[_HDR : _HDR + len(b)] = b
        return self._finish(0x05, len(b))

    def timing_stamp(self, i: int, stream_id: int, index: int, ms: int, us: int) -> None:
        """Stamp ``i`` of the next TIMING: sample ``index`` of ``stream_id`` had been
        converted by board time ``ms * 1000 + us`` us (one clock for every stream;
        docs/protocol.md), for ``0 <= ms < 2**32``, ``0 <= us < 1000``. The u64 is packed
        from 16-bit limbs, every value below 2^30 (small ints on the ESP32):
        allocation-free."""
        lo = (ms & 0xFFFF) * 1000 + us  # < 2^26
        hi = (ms >> 16) * 1000 + (lo >> 16)  # < 2^26
        struct.pack_into("<BIHHHH", self.frame, _HDR + 1 + 13 * i, stream_id,
                         index if index <= 0x3FFFFFFF else index & _U32, lo & 0xFFFF, hi & 0xFFFF, hi >> 16, 0)

    def build_timing(self, n: int) -> int:
        """TIMING of the ``n`` stamps set by ``timing_stamp(0..n-1, ...)``."""
        if n < 1 or 1 + 13 * n > MAX_PAYLOAD:
            raise FrameError("bad number of stamps")
        self.frame[_HDR] = n
        return self._finish(0x06, 1 + 13 * n)

    # -- host -> device (used by tests and host tools) -----------------------------------

    def build_command(self, command: int, arg: int = 0) -> int:
        struct.pack_into("<BI", self.frame, _HDR, command, arg & _U32)
        return self._finish(0x81, 5)


class CommandParser:
    """Turns COBS wire bytes from the host into ``(command, arg)`` pairs.

    Frames that are not a well-formed version-1 COMMAND (COBS error, wrong length,
    version, type or CRC) are dropped and counted in ``self.rejected`` (COBS errors
    are in ``self.decoder.errors`` too). The last good command is in ``command``,
    ``arg`` and ``seq``.
    """

    def __init__(self) -> None:
        self.decoder = wire_cobs.Decoder(MAX_FRAME)
        self.rejected = 0
        self.accepted = 0
        self.command = 0
        self.arg = 0
        self.seq = 0
        self._cobs_errors = 0

    def feed(self, b: int) -> bool:
        """Feed one wire byte; True when a valid COMMAND was just completed."""
        d = self.decoder
        n = d.feed_byte(b)
        if d.errors != self._cobs_errors:
            self.rejected += d.errors - self._cobs_errors
            self._cobs_errors = d.errors
        if n < 0:
            return False
        return self.parse(d.buf, n)

    def parse(self, buf, n: int) -> bool:
        """Parse a decoded frame ``buf[:n]``; True (and fields set) when it is a valid COMMAND."""
        if n != _COMMAND_LEN or buf[0] != VERSION or buf[1] != T_COMMAND:
            self.rejected += 1
            return False
        crc = struct.unpack_from("<I", buf, n - 4)[0]
        if binascii.crc32(memoryview(buf)[: n - 4]) & _U32 != crc:
            self.rejected += 1
            return False
        self.seq = struct.unpack_from("<I", buf, 2)[0]
        self.command = buf[6]
        self.arg = struct.unpack_from("<I", buf, 7)[0]
        self.accepted += 1
        return True
