"""Payload layouts of each frame type: parse (bytes → message) and build (→ bytes).

The builders exist for tests, benchmarks and simulators; the host only sends
COMMAND frames (:func:`encode_command`).  Parsers raise :class:`MalformedPayload`.
"""

from __future__ import annotations

import struct

import numpy as np

from .cobs import cobs_encode
from .errors import MalformedPayload
from .frame import FrameType, build_frame
from .messages import ChannelInfo, Hello, Reply, SampleFormat, Status, StreamInfo, Text

_U32 = struct.Struct("<I")
_F32 = struct.Struct("<f")
_STREAM = struct.Struct("<BIBBB")  # stream_id, sample_rate_mhz, sample_format, samples_per_frame, n_channels
DATA_HEADER = struct.Struct("<BBIQ")  # stream_id, n_samples, first_sample_index, t_first_us
DATA_HEADER_BYTES = DATA_HEADER.size  # 14
_STATUS = struct.Struct("<HBBIII")
_STATUS_EXT = struct.Struct("<BBH")  # reset_cause, reserved, frames_refused (bytes 16..19)
_REPLY = struct.Struct("<BBI")
_COMMAND = struct.Struct("<BI")
TIMING_STAMP = struct.Struct("<BIQ")  # stream_id, sample_index (u32), board_us
_VALID_FORMATS = frozenset(int(f) for f in SampleFormat)


class _Reader:
    """Cursor over a payload; every short read raises MalformedPayload."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: struct.Struct) -> tuple:
        if self.pos + fmt.size > len(self.data):
            raise MalformedPayload(f"payload ends at {len(self.data)} bytes, needs {self.pos + fmt.size}")
        values = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return values

    def str8(self) -> str:
        if self.pos >= len(self.data):
            raise MalformedPayload("payload ends before a str8 length")
        n = self.data[self.pos]
        raw = self.data[self.pos + 1:self.pos + 1 + n]
        if len(raw) != n:
            raise MalformedPayload(f"str8 of {n} bytes runs past the payload")
        self.pos += 1 + n
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedPayload(f"str8 is not UTF-8: {exc}") from None

    def end(self) -> None:
        if self.pos != len(self.data):
            raise MalformedPayload(f"{len(self.data) - self.pos} trailing bytes after the payload")


_U8 = struct.Struct("<B")


def parse_hello(payload: bytes, seq: int = 0, host_time_s: float = 0.0) -> Hello:
    """Parse a HELLO payload.

    Raises MalformedPayload on a short/long payload, invalid UTF-8, an unknown
    sample format, a zero rate / samples_per_frame / channel count, or a
    repeated stream id.
    """
    r = _Reader(payload)
    (boot_id,) = r.take(_U32)
    device_id = r.str8()
    firmware_version = r.str8()
    (n_streams,) = r.take(_U8)
    streams = []
    for _ in range(n_streams):
        stream_id, rate_mhz, fmt, spf, n_ch = r.take(_STREAM)
        if fmt not in _VALID_FORMATS:
            raise MalformedPayload(f"stream {stream_id}: unknown sample_format {fmt}")
        if rate_mhz == 0 or spf == 0 or n_ch == 0:
            raise MalformedPayload(f"stream {stream_id}: zero rate, samples_per_frame or channel count")
        channels = []
        for _ in range(n_ch):
            (kind,) = r.take(_U8)
            label = r.str8()
            unit = r.str8()
            (scale,) = r.take(_F32)
            channels.append(ChannelInfo(kind, label, unit, scale))
        streams.append(StreamInfo(stream_id, rate_mhz / 1000.0, fmt, spf, tuple(channels), rate_mhz))
    r.end()
    ids = [s.stream_id for s in streams]
    if len(set(ids)) != len(ids):
        raise MalformedPayload(f"repeated stream ids {ids}")
    return Hello(boot_id, device_id, firmware_version, tuple(streams), seq, host_time_s)


def parse_status(payload: bytes, seq: int = 0, host_time_s: float = 0.0) -> Status:
    """Parse a STATUS payload: 16 bytes (firmware 0.1.0) or at least 20 (with
    ``reset_cause`` and ``frames_refused``; bytes after the 20th are for later fields)."""
    n = len(payload)
    if n != _STATUS.size and n < _STATUS.size + _STATUS_EXT.size:
        raise MalformedPayload(f"STATUS payload of {n} bytes, expected 16 or at least 20")
    battery_mv, battery_pct, lead_off, dropped_samples, free_heap, uptime_ms = _STATUS.unpack_from(payload)
    reset_cause = frames_refused = None
    if n > _STATUS.size:
        reset_cause, _, frames_refused = _STATUS_EXT.unpack_from(payload, _STATUS.size)
    return Status(battery_mv, battery_pct, lead_off, dropped_samples, free_heap, uptime_ms, seq=seq,
                  host_time_s=host_time_s, reset_cause=reset_cause, frames_refused=frames_refused)


def parse_reply(payload: bytes, seq: int = 0, host_time_s: float = 0.0) -> Reply:
    """Parse a REPLY payload (exactly 6 bytes)."""
    if len(payload) != _REPLY.size:
        raise MalformedPayload(f"REPLY payload of {len(payload)} bytes, expected {_REPLY.size}")
    command, result, arg = _REPLY.unpack(payload)
    return Reply(command, result, arg, seq=seq, host_time_s=host_time_s)


def parse_text(payload: bytes, seq: int = 0, host_time_s: float = 0.0) -> Text:
    """Parse a TEXT payload; invalid UTF-8 becomes U+FFFD (the line is for people)."""
    return Text(bytes(payload).decode("utf-8", errors="replace"), seq, host_time_s)


def parse_timing_stamps(payload: bytes) -> list[tuple[int, int, int]]:
    """``(stream_id, sample_index mod 2**32, board_us)`` of each stamp of a TIMING
    payload (``n`` u8, then ``n`` × 13 bytes; ``n`` ≥ 1 and the length exact)."""
    if not payload:
        raise MalformedPayload("empty TIMING payload")
    n = payload[0]
    if n == 0 or len(payload) != 1 + n * TIMING_STAMP.size:
        raise MalformedPayload(f"TIMING payload of {len(payload)} bytes for {n} stamps, "
                               f"expected {1 + n * TIMING_STAMP.size}")
    return [TIMING_STAMP.unpack_from(payload, 1 + i * TIMING_STAMP.size) for i in range(n)]


def unpack_samples(buf: bytes | bytearray, offset: int, n_values: int, sample_format: int) -> np.ndarray:
    """Little-endian int16/int24 values at ``buf[offset:]`` → flat int32 array.

    int24 is read as overlapping int32 words that start one byte early (the byte
    before ``offset`` lands in the low 8 bits) and shifted right arithmetically by
    8, which sign-extends.  ``offset`` must therefore be ≥ 1 for int24.
    """
    if sample_format == 3:
        words = np.ndarray((n_values,), dtype="<i4", buffer=buf, offset=offset - 1, strides=(3,))
        return words >> 8
    return np.frombuffer(buf, dtype="<i2", count=n_values, offset=offset).astype(np.int32)


def parse_data_header(payload: bytes) -> tuple[int, int, int, int]:
    """``(stream_id, n_samples, first_sample_index, t_first_us)`` of a DATA payload."""
    if len(payload) < DATA_HEADER_BYTES:
        raise MalformedPayload(f"DATA payload of {len(payload)} bytes, header needs {DATA_HEADER_BYTES}")
    return DATA_HEADER.unpack_from(payload, 0)


def parse_data_samples(payload: bytes, info: StreamInfo) -> np.ndarray:
    """Samples of a DATA payload as int32, shape (n_samples, n_channels).

    Raises MalformedPayload if ``n_samples`` is 0 or the length is not exactly
    ``14 + n_samples × n_channels × bytes_per_sample``.
    """
    _, n_samples, _, _ = parse_data_header(payload)
    n_ch = len(info.channels)
    expected = DATA_HEADER_BYTES + n_samples * n_ch * info.sample_format
    if n_samples == 0 or len(payload) != expected:
        raise MalformedPayload(f"DATA payload of {len(payload)} bytes for {n_samples} samples, expected {expected}")
    flat = unpack_samples(payload, DATA_HEADER_BYTES, n_samples * n_ch, info.sample_format)
    return flat.reshape(n_samples, n_ch)


# ----------------------------------------------------------------------------- builders

def _str8(s: str) -> bytes:
    b = s.encode("utf-8")
    if len(b) > 255:
        raise ValueError(f"str8 of {len(b)} bytes (max 255): {s[:20]!r}…")
    return bytes([len(b)]) + b


def build_hello_payload(hello: Hello) -> bytes:
    """HELLO payload for ``hello`` (rates from ``sample_rate_mhz`` if set, else Hz × 1000)."""
    out = bytearray(_U32.pack(hello.boot_id))
    out += _str8(hello.device_id) + _str8(hello.firmware_version)
    out.append(len(hello.streams))
    for s in hello.streams:
        rate_mhz = s.sample_rate_mhz or round(s.sample_rate_hz * 1000)
        out += _STREAM.pack(s.stream_id, rate_mhz, s.sample_format, s.samples_per_frame, len(s.channels))
        for c in s.channels:
            out.append(c.kind)
            out += _str8(c.label) + _str8(c.unit) + _F32.pack(c.scale)
    return bytes(out)


def build_data_payload(stream_id: int, first_sample_index: int, t_first_us: int,
                       samples: np.ndarray, sample_format: int) -> bytes:
    """DATA payload; ``samples`` int array (n_samples, n_channels) in raw counts.

    ``first_sample_index`` is sent modulo 2**32.  Values are truncated to the
    format's width (two's complement).
    """
    samples = np.asarray(samples, dtype=np.int64)
    n_samples = samples.shape[0]
    head = DATA_HEADER.pack(stream_id, n_samples, first_sample_index & 0xFFFFFFFF, t_first_us)
    if sample_format == 3:
        b = (samples.reshape(-1) & 0xFFFFFF).astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
        return head + b.tobytes()
    return head + samples.reshape(-1).astype("<i2").tobytes()


def build_status_payload(status: Status) -> bytes:
    head = _STATUS.pack(status.battery_mv, status.battery_pct, status.lead_off,
                        status.dropped_samples, status.free_heap, status.uptime_ms)
    if status.reset_cause is None:
        return head
    return head + _STATUS_EXT.pack(status.reset_cause, 0, min(status.frames_refused or 0, 0xFFFF))


def build_timing_payload(stamps: list[tuple[int, int, int]]) -> bytes:
    """TIMING payload of ``(stream_id, sample_index, board_us)`` stamps (index sent
    modulo 2**32)."""
    return bytes([len(stamps)]) + b"".join(TIMING_STAMP.pack(s, i & 0xFFFFFFFF, t) for s, i, t in stamps)


def build_reply_payload(command: int, result: int, arg: int) -> bytes:
    return _REPLY.pack(command, result, arg)


def build_command_payload(command: int, arg: int = 0) -> bytes:
    return _COMMAND.pack(command, arg & 0xFFFFFFFF)


def encode_command(command: int, arg: int = 0, seq: int = 0) -> bytes:
    """COMMAND frame as wire bytes: COBS-encoded, followed by the ``0x00`` delimiter.

    ``command`` is a :class:`Command` value; ``arg`` the PING nonce (else 0);
    ``seq`` the host's own frame counter (taken modulo 2**32).
    """
    frame = build_frame(FrameType.COMMAND, seq, build_command_payload(command, arg))
    return cobs_encode(frame) + b"\0"


def encode_frame(frame_type: int, seq: int, payload: bytes) -> bytes:
    """Any frame as serial wire bytes (COBS + delimiter)."""
    return cobs_encode(build_frame(frame_type, seq, payload)) + b"\0"
