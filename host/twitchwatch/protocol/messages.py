"""Typed messages the decoder emits; all are frozen dataclasses.

Every message carries ``host_time_s``: the host receive time (``time.monotonic``
seconds, as given to :meth:`FrameDecoder.feed`) of the chunk that completed the
frame.  Frame-derived messages also carry the device's frame ``seq``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


class ChannelKind(enum.IntEnum):
    """``kind`` of a channel in HELLO."""

    OTHER = 0
    EMG = 1
    ACC_X = 2
    ACC_Y = 3
    ACC_Z = 4


#: the accelerometer's axes in the order X, Y, Z: a stream with all three is an accelerometer
ACC_KINDS = (ChannelKind.ACC_X, ChannelKind.ACC_Y, ChannelKind.ACC_Z)


class SampleFormat(enum.IntEnum):
    """``sample_format`` of a stream: the value is the bytes per sample."""

    INT16 = 2
    INT24 = 3


class Command(enum.IntEnum):
    """COMMAND codes (host to device)."""

    START = 1
    STOP = 2
    PING = 3
    HELLO = 4
    SELFTEST = 5
    REPL = 16  # stop streaming and return to the MicroPython REPL (twitchwatch flash)


class ReplyResult(enum.IntEnum):
    """``result`` of a REPLY."""

    OK = 0
    UNKNOWN_COMMAND = 1
    BAD_ARGUMENT = 2
    BUSY = 3


@dataclass(frozen=True)
class ChannelInfo:
    """One channel of a stream: ``physical = raw × scale`` in ``unit``.

    ``kind`` is a :class:`ChannelKind` value (kept as int so unknown kinds survive);
    ``scale`` is the float32 value sent, as a Python float.
    """

    kind: int
    label: str
    unit: str
    scale: float


@dataclass(frozen=True)
class StreamInfo:
    """A stream descriptor from HELLO.

    ``sample_rate_hz`` is ``sample_rate_mhz / 1000``; ``sample_format`` is a
    :class:`SampleFormat` value (bytes per sample); ``samples_per_frame`` is the
    number of samples per channel in a full DATA frame.
    """

    stream_id: int
    sample_rate_hz: float
    sample_format: int
    samples_per_frame: int
    channels: tuple[ChannelInfo, ...]
    sample_rate_mhz: int = 0

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def bytes_per_sample(self) -> int:
        return int(self.sample_format)

    @cached_property
    def scales(self) -> np.ndarray:
        """Read-only float64 array, shape (n_channels,): physical units per LSB."""
        arr = np.array([c.scale for c in self.channels], dtype=np.float64)
        arr.setflags(write=False)
        return arr


@dataclass(frozen=True)
class Hello:
    """A HELLO: who the device is and what its streams look like."""

    boot_id: int
    device_id: str
    firmware_version: str
    streams: tuple[StreamInfo, ...]
    seq: int = 0
    host_time_s: float = 0.0

    def stream(self, stream_id: int) -> StreamInfo:
        """The descriptor of ``stream_id``; raises KeyError if the HELLO has none."""
        for s in self.streams:
            if s.stream_id == stream_id:
                return s
        raise KeyError(f"stream {stream_id} not in HELLO (streams {[s.stream_id for s in self.streams]})")


@dataclass(frozen=True, eq=False)
class SampleBlock:
    """The samples of one DATA frame.

    ``samples`` is a read-only int32 array, shape (n_samples, n_channels), raw
    counts, channel order as in ``info.channels``.  ``first_sample_index`` is
    unwrapped (no wrap at 2**32) and increases within one run of a stream (a run
    ends at a :class:`DeviceReset` or a :class:`StreamRestart`).  ``t_first_us``
    is the device time of the first sample in µs, as sent.
    """

    stream_id: int
    info: StreamInfo
    first_sample_index: int
    t_first_us: int
    samples: np.ndarray
    host_time_s: float
    seq: int = 0

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def end_sample_index(self) -> int:
        """Index one past the last sample of this block."""
        return self.first_sample_index + int(self.samples.shape[0])

    def physical(self) -> np.ndarray:
        """float64 array, shape (n_samples, n_channels), in each channel's unit."""
        return self.samples * self.info.scales

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SampleBlock):
            return NotImplemented
        return (self.stream_id == other.stream_id and self.info == other.info
                and self.first_sample_index == other.first_sample_index
                and self.t_first_us == other.t_first_us and self.seq == other.seq
                and self.host_time_s == other.host_time_s
                and np.array_equal(self.samples, other.samples))

    __hash__ = None  # type: ignore[assignment]


_object_new = object.__new__


def new_sample_block(stream_id: int, info: StreamInfo, first_sample_index: int, t_first_us: int,
                     samples: np.ndarray, host_time_s: float, seq: int) -> SampleBlock:
    """``SampleBlock(...)`` for the decoder's hot path, without the frozen
    dataclass's per-field ``object.__setattr__`` (it halves the cost); the
    fields and result are the same (tests compare both)."""
    block = _object_new(SampleBlock)
    block.__dict__.update(stream_id=stream_id, info=info, first_sample_index=first_sample_index,
                          t_first_us=t_first_us, samples=samples, host_time_s=host_time_s, seq=seq)
    return block


@dataclass(frozen=True)
class Gap:
    """Samples of a stream the host never received (never filled in).

    Indices are unwrapped like :attr:`SampleBlock.first_sample_index`.
    """

    stream_id: int
    first_missing_index: int
    n_missing: int
    host_time_s: float


@dataclass(frozen=True)
class StreamRestart:
    """A stream's sample index went back to a lower value right after a HELLO of
    the same boot (the device got START): the previous run of this stream ended.

    ``first_sample_index`` is the first index of the new run.
    """

    stream_id: int
    previous_end_index: int
    first_sample_index: int
    host_time_s: float


@dataclass(frozen=True)
class DeviceReset:
    """A HELLO with a ``boot_id`` different from the last one: the device rebooted.

    Every stream's index tracking restarts with this HELLO.
    """

    old_boot_id: int
    hello: Hello
    host_time_s: float = field(default=0.0)


@dataclass(frozen=True)
class Status:
    """A STATUS frame (about once a second).

    ``reset_cause`` (0 unknown, 1 power-on, 2 hard reset, 3 watchdog, 4 deep sleep,
    5 soft reset) and ``frames_refused`` (frames the device's output queue dropped,
    saturating at 65535) are None from firmware that sends the 16-byte STATUS.
    """

    battery_mv: int
    battery_pct: int
    lead_off: int
    dropped_samples: int
    free_heap: int
    uptime_ms: int
    seq: int = 0
    host_time_s: float = 0.0
    reset_cause: int | None = None
    frames_refused: int | None = None


@dataclass(frozen=True)
class Reply:
    """A REPLY to a COMMAND; ``result`` is a :class:`ReplyResult` value."""

    command: int
    result: int
    arg: int
    seq: int = 0
    host_time_s: float = 0.0


@dataclass(frozen=True)
class Text:
    """A TEXT log line (invalid UTF-8 replaced by U+FFFD)."""

    text: str
    seq: int = 0
    host_time_s: float = 0.0


Message = Hello | SampleBlock | Gap | StreamRestart | DeviceReset | Status | Reply | Text
