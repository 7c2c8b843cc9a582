"""Device clock → host clock: a running lower-envelope linear fit.

The device stamps samples by its sample count (``t_first_us``); the host only knows
when chunks *arrived*, always late (USB latency) and bunched (several frames per
read).  No frame arrives before it was sent, so the arrival times lie above the
line ``host = offset + rate × device + minimum latency``.  :class:`ClockMap`
estimates that line as the lower convex hull of recent (device time, arrival
time) points, as LSL and pyxdf do with their minimum-latency estimates: the hull
edge under the window's mean device time minimises the summed latency excess of
all points while staying below every one of them.  Late and bunched arrivals lie
above the hull and do not move it; clock drift (tens to hundreds of ppm) is the
slope.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .protocol.messages import ClockStamp, SampleBlock, StreamInfo, Timing

_EMPTY = np.iinfo(np.int64).min  # a bin slot that holds no point
DEFAULT_WINDOW_S = 60.0
DEFAULT_BIN_S = 0.25
MIN_SPAN_S = 2.0  # below this span of device time the slope is taken as 1
MAX_RATE_ERROR = 0.002  # |slope − 1| above 2000 ppm is not a clock: keep slope 1


@dataclass(frozen=True)
class ClockFit:
    """One state of a :class:`ClockMap`'s fit: host s = intercept_s + slope × device s
    since ``origin_us``."""

    origin_us: int
    slope: float
    intercept_s: float

    def to_host_s(self, device_time_us: int | float | np.ndarray) -> float | np.ndarray:
        """Host time (s) of device time(s) in µs; arrays map elementwise to float64."""
        if isinstance(device_time_us, np.ndarray):
            return self.intercept_s + self.slope * ((device_time_us.astype(np.float64) - self.origin_us) * 1e-6)
        return self.intercept_s + self.slope * ((device_time_us - self.origin_us) * 1e-6)


class ClockMap:
    """Map device time (µs) to host time (``time.monotonic`` s).

    Feed it pairs with :meth:`add` (or :meth:`add_block`), map with
    :meth:`to_host_s`.  Keeps the lowest point of every ``bin_s`` of device time
    over the last ``window_s``; refits lazily on the next mapping after a change.
    Call :meth:`reset` when the device clock restarts (on ``DeviceReset``).

    Args:
        window_s: device-time span of points kept (s).
        bin_s: device-time bin (s); only the earliest-arriving point per bin counts.
    """

    def __init__(self, window_s: float = DEFAULT_WINDOW_S, bin_s: float = DEFAULT_BIN_S,
                 min_span_s: float = MIN_SPAN_S, max_rate_error: float = MAX_RATE_ERROR) -> None:
        if window_s <= 0 or bin_s <= 0 or bin_s > window_s:
            raise ValueError(f"need 0 < bin_s <= window_s, got bin_s={bin_s}, window_s={window_s}")
        self.window_s = window_s
        self.bin_s = bin_s
        self.min_span_s = min_span_s  # below this span of device time the slope is taken as 1
        self.max_rate_error = max_rate_error  # |slope - 1| above this is not a clock: keep slope 1
        self.reset()

    def reset(self) -> None:
        """Forget every point (the device rebooted or its clock restarted)."""
        self._origin_us: int | None = None  # device time of x = 0
        self._n_bins = int(round(self.window_s / self.bin_s))
        # the bins of the window in preallocated slots (bin k in slot k mod slots; the window
        # spans n_bins + 1 bin indexes, so each has a slot of its own): the point with the
        # lowest y − x of each, no Python object per point. A slot whose bin index is older
        # than the window (or _EMPTY) holds nothing.
        slots = self._n_bins + 1
        self._bin_k = np.full(slots, _EMPTY, dtype=np.int64)
        self._bin_x = np.zeros(slots)
        self._bin_y = np.zeros(slots)
        self._newest_bin = 0
        self._dirty = False
        self._slope = 1.0
        self._intercept_s = 0.0
        self._measured = False
        self.n_points = 0

    def add(self, device_time_us: int, host_time_s: float) -> None:
        """A sample with device time ``device_time_us`` had arrived by ``host_time_s``.

        Use the time of the *last* sample of a received frame (the frame cannot
        have left the device before it).
        """
        if self._origin_us is None:
            self._origin_us = int(device_time_us)
        x = (int(device_time_us) - self._origin_us) * 1e-6
        y = float(host_time_s)
        k = int(x // self.bin_s)
        self.n_points += 1
        if k < self._newest_bin - self._n_bins:
            return  # older than the window
        if k > self._newest_bin:
            self._newest_bin = k  # bins older than k - n_bins now fall out of the window
        i = k % self._bin_k.shape[0]
        if self._bin_k[i] != k or y - x < self._bin_y[i] - self._bin_x[i]:
            self._bin_k[i] = k  # a new bin (over an older one out of the window), or a lower point
            self._bin_x[i] = x
            self._bin_y[i] = y
            self._dirty = True

    def points(self) -> tuple[list[float], list[float]]:
        """The kept points, one per bin of the window, oldest bin first: (device s since
        the first point, host s), as Python floats (exactly the float64 values)."""
        order = np.flatnonzero(self._bin_k >= self._newest_bin - self._n_bins)
        order = order[np.argsort(self._bin_k[order], kind="stable")]
        return self._bin_x[order].tolist(), self._bin_y[order].tolist()

    def add_block(self, block: SampleBlock) -> None:
        """Add the last sample of ``block`` at its ``host_time_s``."""
        last_index = block.first_sample_index + block.n_samples - 1
        first_us = block.first_sample_index * 10**9 // block.info.sample_rate_mhz
        last_us = last_index * 10**9 // block.info.sample_rate_mhz
        self.add(block.t_first_us + (last_us - first_us), block.host_time_s)

    def add_blocks(self, blocks: Iterable[SampleBlock], history: FitHistory | None = None) -> None:
        """:meth:`add_block` for each block in order, each followed by
        ``history.note(last sample index, self)`` if ``history`` is given."""
        for block in blocks:
            self.add_block(block)
            if history is not None:
                history.note(block.first_sample_index + block.samples.shape[0] - 1, self)

    @property
    def ready(self) -> bool:
        """True once at least one point was added (before that, mapping raises)."""
        return self._origin_us is not None

    @property
    def measured(self) -> bool:
        """True when the fit's slope was measured (points over ``min_span_s``, a slope
        within ``max_rate_error``), False while it is taken as 1."""
        self._fit()
        return self._measured

    @property
    def rate(self) -> float:
        """Host seconds per device second (1 + drift)."""
        self._fit()
        return self._slope

    def to_host_s(self, device_time_us: int | float | np.ndarray) -> float | np.ndarray:
        """Host time (s) of device time(s) in µs; arrays map elementwise to float64.

        Raises:
            ValueError: no point has been added yet.
        """
        return self.fit().to_host_s(device_time_us)

    def fit(self) -> ClockFit:
        """The fit as it stands now (a value: later points do not change it).

        Raises:
            ValueError: no point has been added yet.
        """
        if self._origin_us is None:
            raise ValueError("ClockMap has no points yet")
        self._fit()
        return ClockFit(self._origin_us, self._slope, self._intercept_s)

    def _fit(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        xs, ys = self.points()
        x, y = np.array(xs), np.array(ys)
        self._measured = False
        if x[-1] - x[0] < self.min_span_s or len(x) < 3:
            self._slope = 1.0
            self._intercept_s = float(np.min(y - x))
            return
        hull = _lower_hull(xs, ys)
        x_mean = float(np.mean(x))
        i = int(np.searchsorted(x[hull], x_mean)) - 1
        i = min(max(i, 0), len(hull) - 2)
        a, b = hull[i], hull[i + 1]
        slope = (y[b] - y[a]) / (x[b] - x[a])
        if abs(slope - 1.0) > self.max_rate_error:
            self._slope = 1.0
            self._intercept_s = float(np.min(y - x))
            return
        self._slope = float(slope)
        self._intercept_s = float(y[a] - slope * x[a])
        self._measured = True


def _lower_hull(x: list[float], y: list[float]) -> list[int]:
    """Indices of the lower convex hull of points sorted by x (Andrew's monotone chain).

    Python floats: the same IEEE-754 double arithmetic as numpy float64 scalars (the
    same hull bit for bit), a few times faster per point."""
    hull: list[int] = []
    for i in range(len(x)):
        while len(hull) >= 2:
            o, a = hull[-2], hull[-1]
            cross = (x[a] - x[o]) * (y[i] - y[o]) - (y[a] - y[o]) * (x[i] - x[o])
            if cross <= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    return hull


class FitHistory:
    """Fits of a :class:`ClockMap` by stream position, so that mapping a sample never
    depends on *when* it is mapped.

    :meth:`note` is called after each block is added to the map; the first block
    reaching into each epoch (``epoch_samples`` samples of the stream) records the
    fit as it then stands. :meth:`fit_for` maps a sample index to the fit recorded for
    its epoch (the latest recorded at or before it). Both depend only on the stream's
    blocks, not on how often a consumer asks: an event's wall time is the same whether
    the detector runs after every read or once a second. Fits of the last
    ``keep_epochs`` epochs are kept (older samples get the oldest kept).
    """

    def __init__(self, epoch_samples: int, keep_epochs: int = 120) -> None:
        if epoch_samples < 1 or keep_epochs < 1:
            raise ValueError(f"need epoch_samples >= 1 and keep_epochs >= 1, got {epoch_samples}, {keep_epochs}")
        self.epoch_samples = int(epoch_samples)
        self.keep_epochs = int(keep_epochs)
        self.reset()

    def reset(self) -> None:
        """Forget every fit (the stream restarted)."""
        self._epochs: list[int] = []
        self._fits: list[ClockFit] = []

    def note(self, last_sample_index: int, clock: ClockMap) -> None:
        """A block ending at ``last_sample_index`` was just added to ``clock``."""
        epoch = int(last_sample_index) // self.epoch_samples
        if self._epochs and epoch <= self._epochs[-1]:
            return
        self._epochs.append(epoch)
        self._fits.append(clock.fit())
        old = bisect.bisect_left(self._epochs, epoch - self.keep_epochs)
        if old:
            del self._epochs[:old], self._fits[:old]

    def fit_for(self, sample_index: int) -> ClockFit | None:
        """The fit recorded for ``sample_index``'s epoch, or None before any block."""
        if not self._fits:
            return None
        i = bisect.bisect_right(self._epochs, int(sample_index) // self.epoch_samples) - 1
        return self._fits[max(i, 0)]


# --------------------------------------------------------------------------- one board clock

#: the board-clock fits of TIMING stamps: a short window (the chips' slow wander bends a
#: long one), a fit from half a second on, rate errors up to 5 % (the chips' oscillators
#: are within ±2 %: docs/firmware.md)
BOARD_WINDOW_S = 10.0
BOARD_BIN_S = 0.1
BOARD_MIN_SPAN_S = 0.5
BOARD_MAX_RATE_ERROR = 0.05
#: a shift of the accelerometer's place on the EMG timeline of at most this many samples
#: (a refit) is absorbed by the nearest sample; a larger one is marked as a gap
ALIGN_SLACK_SAMPLES = 2


class BoardClock:
    """Each stream's sample index → board time, from the device's TIMING stamps.

    The device stamps, for each stream, a sample it read and the board time (one clock
    for every stream, the ESP32's ``ticks_us``) just before the read: the conversion
    happened at or before it. Per stream a :class:`ClockMap` takes the stream's nominal
    sample time as its device time and the board time as its "host" time: the lower
    envelope of the stamps is the chip's clock against the board's, whatever each
    chip's oscillator does (an offset, a rate error of up to 5 %, a slow wander).
    """

    def __init__(self) -> None:
        self._maps: dict[int, ClockMap] = {}

    def reset(self) -> None:
        """Forget every stamp (the streams restarted)."""
        self._maps = {}

    def add(self, stamp: ClockStamp, info: StreamInfo) -> None:
        """Stamp of stream ``info`` (its nominal rate turns indexes into device time)."""
        m = self._maps.get(stamp.stream_id)
        if m is None:
            m = self._maps[stamp.stream_id] = ClockMap(BOARD_WINDOW_S, BOARD_BIN_S, BOARD_MIN_SPAN_S,
                                                       BOARD_MAX_RATE_ERROR)
        m.add(stamp.sample_index * 10**9 // info.sample_rate_mhz, stamp.board_us * 1e-6)

    def fit(self, stream_id: int) -> ClockFit | None:
        """The stream's fit (board s of its nominal µs), or None before a fit over
        ``BOARD_MIN_SPAN_S`` of stamps exists."""
        m = self._maps.get(stream_id)
        if m is None or not m.ready:
            return None
        f = m.fit()
        return f if m.measured else None


class AccAligner:
    """The accelerometer's samples placed on the EMG's timeline for the detector.

    The detector relates the two streams by index × nominal rate; their chips' clocks
    differ by up to ~1 % (10 ms per second against 25 ms fusion windows). Once both
    streams have board-clock fits (:class:`BoardClock`, from TIMING frames), each
    accelerometer sample ``j`` has a place ``k(j)`` on a grid at the accelerometer's
    nominal rate on the EMG timeline (EMG index × acc rate / EMG rate), and the
    detector gets, for each grid point, the nearest accelerometer sample: an error of
    at most half a sample (0.6 ms at 833 Hz) instead of a skew that grows without bound.
    Grid points with no sample near (a lost stretch, or the first fit moving the
    stream by more than ``ALIGN_SLACK_SAMPLES``) are a gap, never filled.

    Without TIMING (older firmware, file sources) the grid is the stream's own index,
    as before. Causal: each block is placed with the fit as it stands when the block is
    handled, in frame order, so the result does not depend on how the bytes were
    chunked.
    """

    def __init__(self, emg: StreamInfo, acc: StreamInfo) -> None:
        self.emg, self.acc = emg, acc
        self.board = BoardClock()
        self.next_k: int | None = None  # next grid index the detector expects
        self.next_j: int | None = None  # next accelerometer index expected
        self.aligned = False  # the grid follows the board clock (a fit of both streams was used)
        self._last_ab = (0.0, 1.0)

    def add(self, timing: Timing) -> None:
        """The stamps of a TIMING frame."""
        for s in timing.stamps:
            info = self.emg if s.stream_id == self.emg.stream_id else self.acc if s.stream_id == self.acc.stream_id else None
            if info is not None:
                self.board.add(s, info)

    def _k_of_j(self) -> tuple[float, float] | None:
        """``(alpha, beta)``: grid place ``k = alpha + beta × j``, or None without both fits."""
        fe, fa = self.board.fit(self.emg.stream_id), self.board.fit(self.acc.stream_id)
        if fe is None or fa is None:
            return None
        ra = self.acc.sample_rate_mhz

        def k(j: float) -> float:
            b = float(fa.to_host_s(j * 1e9 / ra))  # board s of acc sample j
            emg_us = (b - fe.intercept_s) / fe.slope * 1e6 + fe.origin_us  # EMG nominal µs then
            return emg_us * 1e-9 * ra  # grid index: EMG time at the acc's nominal rate

        a = k(0.0)
        return a, k(1e6) * 1e-6 - a * 1e-6

    def lost(self, first_missing_index: int, n_missing: int) -> bool:
        """The source lost these samples (the decoder's gap). True: mark them on the
        detector as they are (the grid is still the stream's own index); False: the grid
        follows the board clock and :meth:`place` marks the gap with the next block."""
        if self.aligned:
            return False
        self.next_k = self.next_j = first_missing_index + n_missing
        return True

    def place(self, first_index: int, n: int) -> tuple[tuple[int, int] | None, int, np.ndarray | None]:
        """Place source samples ``first_index .. first_index + n - 1``.

        Returns ``(gap, first_k, rows)``: ``gap`` = (first grid index, count) to mark
        before the block, or None; ``first_k`` the grid index of the block the detector
        gets; ``rows`` the source rows (0-based in this block) for each grid point from
        ``first_k`` on, or None when the block goes as it is (same indexes). ``rows``
        may be empty (every grid point of these samples was already given)."""
        j0, j_last = first_index, first_index + n - 1
        ab = self._k_of_j()
        if ab is None and not self.aligned:  # no board clock: the stream's own index
            self.next_k = self.next_j = j0 + n
            return None, j0, None
        if ab is None:  # fits lost (never after a reset): keep the last grid place
            ab = self._last_ab
        self._last_ab = ab
        self.aligned = True
        alpha, beta = ab
        contiguous = self.next_j is None or j0 == self.next_j
        next_k = self.next_k if self.next_k is not None else int(np.floor(alpha + beta * j0 + 0.5))
        k_max = int(np.floor(alpha + beta * (j_last + 0.5)))
        self.next_j = j0 + n
        if k_max < next_k:
            return None, next_k, np.zeros(0, dtype=np.int64)
        ks = np.arange(next_k, k_max + 1)
        jr = np.rint((ks - alpha) / beta).astype(np.int64)
        before = int(np.count_nonzero(jr < j0))
        gap = None
        if before and (not contiguous or before > ALIGN_SLACK_SAMPLES):
            gap = (next_k, before)
            ks, jr = ks[before:], jr[before:]
        rows = np.clip(jr, j0, j_last) - j0
        self.next_k = k_max + 1
        return gap, (next_k + (gap[1] if gap else 0)), rows
