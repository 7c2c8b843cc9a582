"""What the pipeline supports: the rates, scales and sizes a device or file may declare.

Every source is checked against these before any sample is processed (a device's
HELLO in :class:`~twitchwatch.pipeline.Pipeline`, a file's header when it is opened),
so a value outside them is one clear line, never a traceback deep in the detector
or a buffer sized by a damaged number. Memory is bounded by design: every buffer the
pipeline sizes from a source is at most ``MAX_RATE_HZ`` × channels × seconds.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import TwitchwatchError

if TYPE_CHECKING:
    from .protocol.messages import Hello

#: EMG: the detector's 20–450 Hz band is whole above 1 kHz and cut to 0.45 × the rate
#: below; OpenBCI boards record at 200 (Ganglion) and 250 Hz (Cyton), so those are read
#: (with most of the band missing); below 100 Hz what is left (20–45 Hz) is no EMG band
MIN_EMG_RATE_HZ = 100.0
#: any stream: above this, buffers sized per second of signal stop being small
MAX_RATE_HZ = 25_000.0
#: accelerometer: a movement check needs some samples per second
MIN_ACC_RATE_HZ = 1.0
#: channels in one stream (HD surface EMG grids have 64–128)
MAX_CHANNELS = 256
#: physical units per count (|scale|): a real front end is 1e-6 … 1e3 (µV or mg per LSB)
MIN_ABS_SCALE = 1e-12
MAX_ABS_SCALE = 1e9


class UnsupportedSource(TwitchwatchError):
    """A device or file declares a rate, scale or size the pipeline does not support."""


def check_rate(rate_hz: float, what: str, where: str, emg: bool) -> None:
    """Raise :class:`UnsupportedSource` (one line) unless ``rate_hz`` is supported."""
    low = MIN_EMG_RATE_HZ if emg else MIN_ACC_RATE_HZ
    if not (isinstance(rate_hz, (int, float)) and math.isfinite(rate_hz) and low <= rate_hz <= MAX_RATE_HZ):
        raise UnsupportedSource(f"{where}: {what} sample rate {short(rate_hz)} Hz is not supported; "
                                f"accepted: {low:g} to {MAX_RATE_HZ:g} Hz")


def check_scale(scale: float, what: str, where: str) -> None:
    if not (math.isfinite(scale) and MIN_ABS_SCALE <= abs(scale) <= MAX_ABS_SCALE):
        raise UnsupportedSource(f"{where}: {what} scale {short(scale)} per count is not supported; "
                                f"accepted: a number from {MIN_ABS_SCALE:g} to {MAX_ABS_SCALE:g} (either sign)")


def check_channels(n: int, what: str, where: str) -> None:
    if not 1 <= n <= MAX_CHANNELS:
        raise UnsupportedSource(f"{where}: {what} has {n} channels; accepted: 1 to {MAX_CHANNELS}")


def check_hello(hello: Hello, where: str) -> None:
    """Every stream the pipeline will use: EMG streams (any EMG channel) and
    accelerometer streams, their rates, channel counts and scales."""
    for stream in hello.streams:
        kinds = [ch.kind for ch in stream.channels]
        emg = 1 in kinds
        if not (emg or any(k in (2, 3, 4) for k in kinds)):
            continue  # a stream the pipeline does not read
        what = f"stream {stream.stream_id} ({'EMG' if emg else 'accelerometer'})"
        check_rate(stream.sample_rate_hz, what, where, emg)
        check_channels(len(stream.channels), what, where)
        for ch in stream.channels:
            check_scale(ch.scale, f"{what} channel {short(ch.label)}", where)


def short(value: object, limit: int = 40) -> str:
    """A value for a message, cut so a damaged or hostile one cannot flood the line."""
    text = repr(value) if not isinstance(value, str) else value
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "…"
