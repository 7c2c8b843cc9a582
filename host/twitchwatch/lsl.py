"""An LSL (Lab Streaming Layer) outlet: one more place a run's data goes.

``--lsl`` on ``stream``, ``demo`` and ``replay --realtime`` publishes, for lab tools
such as LabRecorder:

- each EMG stream (type ``EMG``, µV, float32) and accelerometer stream (type
  ``Accelerometer``, g, float32) the device describes in its HELLO, with the channel
  labels, units and types in the stream description;
- a marker stream (type ``Markers``, irregular rate, one JSON string per twitch: the
  fields of the events file).

``source_id`` is ``twitchwatch:<device id>:<stream id>`` (``…:twitches`` for the
markers), so an inlet resolves the same outlet again after the device or this
program restarts (LSL's recovery). Timestamps are LSL's ``local_clock()``: the
device's sample clock mapped to this computer's by the same lower-envelope fit the
pipeline uses (:class:`twitchwatch.clock.ClockMap`), fed with the time each block
reaches this sink; so USB chunking does not bunch the timestamps, and a twitch
marker carries the time of its peak sample. A block's samples are stamped with the
fit as it stands when the block arrives, never earlier than one sample period after
the stream's previous stamp (the fit may move back as it learns the link's least
latency; stamps never do); a marker gets exactly the stamp its peak sample got.
Samples are pushed as they come (a block per push); nothing is kept back.

pylsl is optional (``pip install 'twitchwatch[lsl]'``); without it ``--lsl`` gives
one line saying so.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import asdict
from typing import Any

import numpy as np

from twitchwatch import TwitchwatchError
from twitchwatch.clock import ClockMap
from twitchwatch.units import ACC_UNITS, EMG_UNITS, unit_key
from twitchwatch.protocol import ChannelKind, Hello, SampleBlock, StreamInfo
from twitchwatch.sinks import ItemSink

_ACC_TYPES: dict[int, str] = {ChannelKind.ACC_X: "AccX", ChannelKind.ACC_Y: "AccY", ChannelKind.ACC_Z: "AccZ"}
_KEEP_BLOCKS = 2000  # EMG blocks whose stamps a late marker can still find (~20 s at 100 frames/s)


def _pylsl() -> Any:
    try:
        import pylsl
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise TwitchwatchError("--lsl needs pylsl: pip install 'twitchwatch[lsl]'") from exc
    return pylsl


def _stream_kind(info: StreamInfo) -> str | None:
    """``"EMG"``, ``"Accelerometer"`` or None (a stream of neither is not published)."""
    kinds = {ch.kind for ch in info.channels}
    if ChannelKind.EMG in kinds:
        return "EMG"
    if kinds & _ACC_TYPES.keys():
        return "Accelerometer"
    return None


def _factor(unit: str, stream_kind: str) -> float:
    """Physical unit → µV (EMG) or g (accelerometer); unknown units are refused."""
    key = unit_key(unit)
    if stream_kind == "EMG":
        factor = EMG_UNITS.get(key)
    else:
        mg = ACC_UNITS.get(key)
        factor = None if mg is None else mg / 1000.0
    if factor is None:
        raise TwitchwatchError(f"--lsl: channel unit {unit!r} of an {stream_kind} stream is not one LSL "
                               "can be told about here")
    return factor


class _Outlet:
    """One LSL outlet for one device stream."""

    def __init__(self, pylsl: Any, device_id: str, info: StreamInfo, stream_kind: str) -> None:
        self.info = info
        self.factors = np.array([_factor(ch.unit, stream_kind) for ch in info.channels])
        unit = "microvolts" if stream_kind == "EMG" else "g"
        lsl_info = pylsl.StreamInfo(f"twitchwatch {device_id} {stream_kind}", stream_kind, len(info.channels),
                                    info.sample_rate_hz, pylsl.cf_float32,
                                    f"twitchwatch:{device_id}:{info.stream_id}")
        desc = lsl_info.desc()
        desc.append_child_value("manufacturer", "twitchwatch")
        channels = desc.append_child("channels")
        for ch in info.channels:
            node = channels.append_child("channel")
            node.append_child_value("label", ch.label)
            node.append_child_value("unit", unit)
            node.append_child_value("type", _ACC_TYPES.get(ch.kind, stream_kind))
        self.outlet = pylsl.StreamOutlet(lsl_info)


class LslSink(ItemSink):
    """Publish a run's samples and twitches over LSL.

    A sink of the pipeline (:class:`~twitchwatch.sinks.ItemSink`): ``on_hello`` (each
    HELLO), ``on_block`` (each decoded block) and ``on_event`` (each counted twitch).
    ``close()`` ends the outlets.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pylsl = _pylsl()
        self._lsl_minus_host_s = self._pylsl.local_clock() - time.monotonic()
        self._device_id: str | None = None
        self._boot_id: int | None = None
        self._outlets: dict[int, _Outlet] = {}
        self._markers: Any = None
        self._clock = ClockMap()
        self._last_stamp: dict[int, float] = {}  # stream -> LSL stamp of its newest sample
        # the EMG stream's recent blocks as (first sample index, n, first stamp s, period s)
        self._emg_stamps: deque[tuple[int, int, float, float]] = deque(maxlen=_KEEP_BLOCKS)
        self._emg_stream: int | None = None
        self.samples_pushed = 0
        self.markers_pushed = 0

    # -- pipeline hooks -----------------------------------------------------------------

    def on_hello(self, hello: Hello) -> None:
        """(Re)build the outlets for the streams this HELLO describes. Outlets whose
        stream is unchanged are kept (an inlet then sees no break but the gap)."""
        if hello.boot_id != self._boot_id:
            self._clock.reset()  # a new boot counts device time from 0 again
            self._emg_stamps.clear()
        self._boot_id = hello.boot_id
        if hello.device_id != self._device_id:
            self._outlets.clear()
            self._markers = None
            self._device_id = hello.device_id
        for info in hello.streams:
            kind = _stream_kind(info)
            if kind is None:
                continue
            if kind == "EMG" and self._emg_stream is None:
                self._emg_stream = info.stream_id
            current = self._outlets.get(info.stream_id)
            if current is None or current.info != info:
                self._outlets[info.stream_id] = _Outlet(self._pylsl, hello.device_id, info, kind)
        if self._markers is None:
            pylsl = self._pylsl
            markers = pylsl.StreamInfo(f"twitchwatch {hello.device_id} twitches", "Markers", 1,
                                       pylsl.IRREGULAR_RATE, pylsl.cf_string,
                                       f"twitchwatch:{hello.device_id}:twitches")
            markers.desc().append_child_value("content", "one JSON object per twitch (docs/store.md, events file)")
            self._markers = pylsl.StreamOutlet(markers)

    def on_block(self, block: SampleBlock) -> None:
        outlet = self._outlets.get(block.stream_id)
        if outlet is None or outlet.info != block.info:
            return
        period_s = 1.0 / block.info.sample_rate_hz
        n = block.n_samples
        last_us = block.t_first_us + (n - 1) * period_s * 1e6
        self._clock.add(int(last_us), time.monotonic())  # the last sample had left the device by now
        first_s = self._lsl_time_s(block.t_first_us)
        previous = self._last_stamp.get(block.stream_id)
        if previous is not None:
            first_s = max(first_s, previous + period_s)
        last_s = first_s + (n - 1) * period_s
        self._last_stamp[block.stream_id] = last_s
        if block.stream_id == self._emg_stream:
            self._emg_stamps.append((block.first_sample_index, n, first_s, period_s))
        data = (block.physical() * outlet.factors).astype(np.float32)
        outlet.outlet.push_chunk(data, last_s)  # LSL stamps the others back from it at the nominal rate
        self.samples_pushed += n

    def on_event(self, event: Any) -> None:
        if self._markers is None or self._emg_stream is None:
            return
        stamp = self._stamp_of_emg_sample(event.sample_index)
        if stamp is None:
            return
        fields = {k: v for k, v in asdict(event).items() if v is None or isinstance(v, (int, float, str))}
        self._markers.push_sample([json.dumps(fields, sort_keys=True)], stamp)
        self.markers_pushed += 1

    def _stamp_of_emg_sample(self, index: int) -> float | None:
        """The LSL stamp EMG sample ``index`` of this run got (None if it is not held)."""
        for first, n, first_s, period_s in reversed(self._emg_stamps):
            if first <= index < first + n:
                return first_s + (index - first) * period_s
            if first + n <= index:
                break  # newer than every block held
        return None

    def close(self) -> None:
        self._outlets.clear()
        self._markers = None

    # -- time ------------------------------------------------------------------------------

    def _lsl_time_s(self, device_time_us: float) -> float:
        return float(self._clock.to_host_s(device_time_us)) + self._lsl_minus_host_s
