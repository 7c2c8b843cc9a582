"""LiveHub: the bridge from the pipeline (one thread) to the dashboard (another).

The pipeline tells it what a sink is told (:class:`~twitchwatch.sinks.Sink`: a
session or a run of sample counts beginning, sample blocks, events) and calls
:meth:`LiveHub.on_status` and :meth:`on_end`; each copies what it needs into
fixed-size buffers under a lock and returns at once: nothing here waits on the network, so a slow or stalled browser
cannot slow acquisition or logging. The server's broadcaster calls :meth:`take`
when woken (the wake-up is coalesced: at most one pending at a time) and builds the
view from the copy, outside the lock.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from typing import Any, Callable

import numpy as np
from scipy import signal

from twitchwatch.protocol import ACC_KINDS, ChannelKind
from twitchwatch.sinks import ItemSink
from twitchwatch.dashboard.eventring import EventRing
from twitchwatch.dashboard.view import RateCounter, display_factor, minmax_columns

DISPLAY_HIGHPASS_HZ = 20.0  # display only: takes off electrode offset and drift
#: the newest twitches kept (for markers, a page that connects, and the live cause ranking,
#: which looks at exactly these); rates count every event. Kept in preallocated numpy
#: columns (:class:`~twitchwatch.dashboard.eventring.EventRing`, ~130 bytes a twitch, 2.6 MB
#: in all, resident from the start; as dicts they were ~0.75 kB each and fragmented
#: Python's small-object heap): 8 h of the soak's 40 a minute
MAX_EVENTS_KEPT = 20_000
#: twitches waiting for the broadcaster's next :meth:`LiveHub.take` (it takes them up to
#: 30 times a second); past this many (a server that stopped taking) the oldest are not
#: shown live, counted in :attr:`LiveHub.events_not_shown` (they are stored regardless)
MAX_NEW_EVENTS_WAITING = 1_000


class _Ring:
    """The last ``n`` samples of one signal (EMG channels, or acceleration magnitude),
    addressed by sample index; a slot is valid only if it holds the index asked for,
    so gaps and not-yet-received samples are never shown as data."""

    def __init__(self, n: int, channels: int) -> None:
        self.n = n
        self.values = np.zeros((n, channels), dtype=np.float32)
        self.index = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)  # no sample index equals it
        self.end = 0  # one past the newest sample index written

    def write(self, first_index: int, data: np.ndarray) -> None:
        if data.shape[0] > self.n:
            first_index += data.shape[0] - self.n
            data = data[-self.n:]
        idx = np.arange(first_index, first_index + data.shape[0], dtype=np.int64)
        pos = idx % self.n
        self.values[pos] = data
        self.index[pos] = idx
        self.end = max(self.end, first_index + data.shape[0])

    def window(self) -> tuple[np.ndarray, np.ndarray]:
        """(values (n, channels), valid (n,)), oldest first, ending at ``end``."""
        want = np.arange(self.end - self.n, self.end, dtype=np.int64)
        pos = want % self.n
        return self.values[pos], self.index[pos] == want


@dataclasses.dataclass
class _Signal:
    stream_id: int
    rate_hz: float
    cols: np.ndarray       # columns of the stream's samples used
    factor: np.ndarray     # physical unit → display unit, per column
    ring: _Ring
    labels: list[str]
    sos: np.ndarray | None = None
    zi: np.ndarray | None = None


def _columns_for(rate_hz: float, window_s: float, columns: int) -> int:
    """Ring length: the window rounded to a whole number of samples per column."""
    return max(1, round(window_s * rate_hz / columns)) * columns


class LiveHub(ItemSink):
    """Thread-safe live state for the dashboard; a sink of the pipeline.

    Args:
        window_s: seconds of trace shown (default 5).
        columns: screen columns the trace is decimated to (min/max per column).
        max_events: the newest twitches kept (default :data:`MAX_EVENTS_KEPT`).
    """

    def __init__(self, window_s: float = 5.0, columns: int = 1000, max_events: int = MAX_EVENTS_KEPT) -> None:
        super().__init__()
        self.window_s = window_s
        self.columns = columns
        self._lock = threading.Lock()
        self._emg: _Signal | None = None
        self._acc: _Signal | None = None
        self._run = 0
        self._events = EventRing(max_events)
        self._new_events: collections.deque[dict[str, Any]] = collections.deque()
        self.events_not_shown = 0  # twitches dropped from the live feed while the broadcaster did not take
        self._rates = RateCounter()  # every event of the hub's life, not only the kept ones
        self._status: dict[str, Any] | None = None
        self._status_new = False
        self._hello: dict[str, Any] | None = None
        self._hello_new = False
        self._ended: str | None = None
        self._trace_new = False
        self._rx_s = 0.0  # host receive time (monotonic s) of the newest EMG block
        self._wake: Callable[[], object] | None = None
        self._wake_pending = False
        self.blocks_seen = 0

    # ---- wiring ------------------------------------------------------------
    def set_waker(self, wake: Callable[[], object] | None) -> None:
        """``wake()`` is called (from the pipeline's thread, at most once until the
        next :meth:`take`) when something new arrives; it must not block."""
        with self._lock:
            self._wake = wake
            self._wake_pending = False
        self._notify()

    def _notify(self) -> None:
        with self._lock:
            if self._wake_pending or self._wake is None:
                return
            self._wake_pending = True
            wake = self._wake
        try:
            wake()
        except RuntimeError:  # the server's loop has closed: nobody to tell
            pass

    # ---- the pipeline's sink interface (pipeline thread) --------------------
    def session_started(self, session: Any) -> None:
        """A device described itself (its first HELLO, or a reset's): a new run."""
        self.run_started(session)

    def run_started(self, session: Any) -> None:
        """The device's sample count starts again (a reset, or START restarting it): the
        trace and the markers start again, from what the pipeline was told (never guessed
        from indices)."""
        with self._lock:
            self._new_run()
        self._notify()

    # ---- pipeline callbacks (pipeline thread) -----------------------------
    def on_block(self, block: Any) -> None:
        """A decoded :class:`~twitchwatch.protocol.SampleBlock`."""
        kinds = [ch.kind for ch in block.info.channels]
        with self._lock:
            self.blocks_seen += 1
            sig = self._signal_for(block, kinds)
            if sig is None:
                return
            data = block.physical()[:, sig.cols] * sig.factor
            if sig is self._acc:
                data = np.sqrt((data * data).sum(axis=1, keepdims=True))
            if block.first_sample_index + block.n_samples <= sig.ring.end - sig.ring.n:
                return
            if sig.sos is not None:
                data, sig.zi = signal.sosfilt(sig.sos, data, axis=0, zi=sig.zi)
            sig.ring.write(block.first_sample_index, data)
            if sig is self._emg:
                now = time.monotonic()
                rx = block.host_time_s
                self._rx_s = rx if 0.0 <= now - rx < 10.0 else now  # replay stamps: use now
                self._trace_new = True
        self._notify()

    def _signal_for(self, block: Any, kinds: list[int]) -> _Signal | None:
        """The buffer for this block's stream, made (or remade after a restart) as needed."""
        info = block.info
        for current in (self._emg, self._acc):
            if current is not None and current.stream_id == block.stream_id:
                return current
        if ChannelKind.EMG in kinds and (self._emg is None or self._emg.stream_id == block.stream_id):
            cols = np.array([i for i, k in enumerate(kinds) if k == ChannelKind.EMG])
            labels = [info.channels[i].label for i in cols]
            factor = np.array([display_factor(info.channels[i].unit, "emg") for i in cols])
            n = _columns_for(info.sample_rate_hz, self.window_s, self.columns)
            sos = None
            if info.sample_rate_hz > 4 * DISPLAY_HIGHPASS_HZ:
                sos = signal.butter(2, DISPLAY_HIGHPASS_HZ, "highpass", fs=info.sample_rate_hz, output="sos")
            self._emg = _Signal(block.stream_id, info.sample_rate_hz, cols, factor, _Ring(n, len(cols)), labels,
                                sos, None if sos is None else np.zeros((sos.shape[0], 2, len(cols))))
            self._set_hello()
            return self._emg
        if all(k in kinds for k in ACC_KINDS) and (self._acc is None or self._acc.stream_id == block.stream_id):
            cols = np.array([kinds.index(k) for k in ACC_KINDS])
            factor = np.array([display_factor(info.channels[i].unit, "acc") for i in cols])
            n = _columns_for(info.sample_rate_hz, self.window_s, self.columns)
            self._acc = _Signal(block.stream_id, info.sample_rate_hz, cols, factor, _Ring(n, 1), ["|acc|"])
            self._set_hello()
            return self._acc
        return None

    def _new_run(self) -> None:
        """(Under the lock.)"""
        self._run += 1
        self._emg = None
        self._acc = None

    def _set_hello(self) -> None:
        self._hello = {"type": "hello", "window_s": self.window_s, "columns": self.columns,
                       "emg_labels": [] if self._emg is None else list(self._emg.labels),
                       "has_acc": self._acc is not None}
        self._hello_new = True

    def on_event(self, event: Any) -> None:
        """A :class:`~twitchwatch.detect.TwitchEvent` (already logged by the pipeline)."""
        data = event.to_json_dict()
        with self._lock:
            data["_run"] = self._run
            self._events.append(event, self._run)
            if len(self._new_events) >= MAX_NEW_EVENTS_WAITING:
                self._new_events.popleft()
                self.events_not_shown += 1
            self._new_events.append(data)
            self._rates.add(data)
        self._notify()

    def on_status(self, status: Any) -> None:
        """A :class:`~twitchwatch.pipeline.LiveStatus` (about once a second)."""
        data = dataclasses.asdict(status)
        with self._lock:
            self._status = data
            self._status_new = True
        self._notify()

    def on_end(self, reason: str) -> None:
        """The recording run ended (the dashboard may go on serving history)."""
        with self._lock:
            self._ended = reason
        self._notify()

    # ---- server side -------------------------------------------------------
    def take(self) -> dict[str, Any]:
        """What is new since the last call, for the broadcaster: ``hello`` (dict or
        None), ``trace`` (dict or None), ``events`` (list of event dicts), ``status``
        (dict or None; with ``rates``), ``ended`` (reason or None, once)."""
        with self._lock:
            self._wake_pending = False
            hello = self._hello if self._hello_new else None
            self._hello_new = False
            raw = self._copy_trace() if self._trace_new else None
            self._trace_new = False
            events, self._new_events = list(self._new_events), collections.deque()
            status = None
            if self._status_new:
                status = dict(self._status or {})
                last_t_s = self._events.last("t_s") or 0.0
            self._status_new = False
            ended, self._ended = self._ended, None
        out: dict[str, Any] = {"hello": hello, "trace": None if raw is None else self._trace_message(raw),
                               "events": events, "status": None, "ended": ended}
        if status is not None:
            elapsed = float(status.get("device_elapsed_s") or 0.0)
            labels = self._emg.labels if self._emg is not None else []
            with self._lock:
                status["rates"] = self._rates.snapshot(labels, max(elapsed, last_t_s), elapsed)
            out["status"] = status
        return out

    def _copy_trace(self) -> dict[str, Any] | None:
        emg, acc = self._emg, self._acc
        if emg is None:
            return None
        values, valid = emg.ring.window()
        start = emg.ring.end - emg.ring.n
        markers = [{"t_s": m["sample_index"] / emg.rate_hz, "channel": m["channel"],
                    "amplitude_uv": m["amplitude_uv"], "unit_id": m["unit_id"]}
                   for m in self._events.markers(self._run, start, emg.rate_hz)]
        copy: dict[str, Any] = {"emg": (values, valid, emg.labels), "rate_hz": emg.rate_hz,
                                "end": emg.ring.end, "n": emg.ring.n, "markers": markers,
                                "rx_s": self._rx_s, "acc": None}
        if acc is not None:
            a_values, a_valid = acc.ring.window()
            # align the accelerometer window to the EMG window's right edge in device time
            copy["acc"] = (a_values[:, 0], a_valid, acc.ring.end / acc.rate_hz)
        return copy

    def _trace_message(self, raw: dict[str, Any] | None) -> dict[str, Any] | None:
        if raw is None:
            return None
        values, valid, labels = raw["emg"]
        emg = []
        for i, label in enumerate(labels):
            lo, hi = minmax_columns(values[:, i], valid, self.columns)
            emg.append({"label": label, "min": lo, "max": hi})
        acc = None
        if raw["acc"] is not None:
            a_values, a_valid, _ = raw["acc"]
            lo, hi = minmax_columns(a_values, a_valid, self.columns)
            acc = {"min": lo, "max": hi}
        return {"type": "trace", "t_end_s": raw["end"] / raw["rate_hz"], "window_s": raw["n"] / raw["rate_hz"],
                "columns": self.columns, "emg": emg, "acc": acc, "markers": raw["markers"], "host_rx_s": raw["rx_s"]}

    def recent_events(self, n: int = 50) -> list[dict[str, Any]]:
        """The newest ``n`` events (oldest first), for a page that just connected."""
        with self._lock:
            copied = self._events.copy(n)  # numpy copies under the lock; the dicts made outside it
        return copied.dicts()

    @property
    def events_kept(self) -> int:
        """Twitches kept now (at most ``max_events``)."""
        with self._lock:
            return len(self._events)

    def hello(self) -> dict[str, Any] | None:
        with self._lock:
            return None if self._hello is None else dict(self._hello)
