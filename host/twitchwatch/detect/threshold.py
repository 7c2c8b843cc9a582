"""A first, simple streaming twitch detector: band-pass, robust k-sigma threshold, clusters.

Pipeline per channel (all causal, float64, state carried between blocks):

1. Band-pass (Butterworth, ``band_hz``, high edge clamped to 0.45 x rate), state
   initialised from the first sample of each segment (:mod:`.bandpass`).
2. Settling: the first ``settle_ms`` of each segment (start of stream, after a gap)
   are neither used for the noise floor nor searched for events.
3. Noise floor sigma: running median of per-window ``median(|y|)/0.6745``
   (:mod:`.noise`); threshold ``k * sigma``. Until the first window completes the
   threshold is unknown and nothing is detected (warm-up: ``settle_ms + noise_window_ms``,
   150 ms by default).
4. Supra-threshold samples (``|y| > k * sigma``) closer than ``merge_gap_ms`` form one
   cluster; the merge gap is also the refractory time between two events.
5. Duration = span between the first and last supra-threshold samples reaching half the
   cluster's peak ``|y|``. A cluster whose duration exceeds ``max_duration_ms``, or whose
   threshold span exceeds ``max_cluster_ms``, is sustained activity (voluntary
   contraction, movement), not a brief potential: rejected, and clusters starting within
   ``sustained_holdoff_ms`` after it are rejected too.
6. Filter echo: the high-pass makes a large potential undershoot and ring for ~30 ms
   after it (up to ~40 % of its peak for potentials with non-zero area). A cluster that
   starts within ``echo_window_ms`` of the previous event's last supra-threshold sample
   on the same channel and peaks below ``echo_fraction`` of that event's peak is taken
   for that echo and rejected. A real, smaller twitch that soon after is lost too.
7. Any other cluster is a :class:`TwitchEvent`.

Known limits of this first detector: weak activity (a few times the noise) crosses the
threshold sparsely and gives isolated events; the onset ramp of a contraction can leak
one isolated crossing before the sustained cluster. Counters in
:attr:`ThresholdDetector.counts` show what was rejected and why.

Latency: a cluster is decided once ``merge_gap_ms`` of sub-threshold samples follow
its last supra-threshold sample, so its event is returned by the ``process`` call whose
block contains the sample ``merge_gap_ms`` (10 ms by default) after the last
supra-threshold sample of the band-passed potential (which rings up to ~15 ms past the
raw potential): <= ~25 ms after the potential ends, plus the caller's block length.

Chunk-size invariance: filter state, noise windows (aligned to the segment start) and
cluster state do not depend on block boundaries, so any split of the same stream gives
the same events. Within one call, events are sorted by ``(sample_index, channel)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .bandpass import StreamingBandpass, clamp_band_hz, design_bandpass_sos
from .events import TwitchEvent
from .noise import RunningNoiseFloor

DETECTOR_NAME = "threshold-0.1"


@dataclass
class _Cluster:
    """Supra-threshold samples on one channel closer than the merge gap; stream indices.

    ``hit_*`` hold the supra-threshold samples only (what duration and peak need);
    they are dropped once the cluster is known to be sustained (``overlong``).
    """

    start: int
    last: int
    hit_index: list[np.ndarray]
    hit_abs_uv: list[np.ndarray]
    hit_ratio: list[np.ndarray]  # |y| / sigma
    y_max_uv: float  # over [start - merge gap, last] (within the segment)
    y_min_uv: float
    tail_max_uv: float = -np.inf  # over (last, last + merge gap], as far as seen
    tail_min_uv: float = np.inf
    overlong: bool = False


class ThresholdDetector:
    """Streaming twitch detector over EMG blocks in µV.

    Args:
        sample_rate_hz: EMG sample rate, Hz.
        channel_labels: one label per EMG channel (column of the blocks).
        band_hz: band-pass edges, Hz; the high edge is clamped to ``0.45 * rate``.
        k: threshold in units of the robust noise sigma.
        filter_order: Butterworth prototype order (band-pass has twice the poles).
        noise_window_ms: length of each MAD window.
        noise_history_windows: windows in the running median of the floor.
        settle_ms: blanking after each segment start while the filter settles.
        merge_gap_ms: supra-threshold samples closer than this are one event; also
            the decision delay (latency) and the refractory time.
        max_duration_ms: clusters with a longer half-peak duration are sustained
            activity, not twitches.
        max_cluster_ms: clusters with a longer threshold span are sustained activity.
        sustained_holdoff_ms: clusters starting this soon after sustained activity
            are rejected too.
        echo_window_ms, echo_fraction: filter-echo rejection (module docstring, step 6).
        min_noise_floor_uv: lower bound of sigma, µV (flat channels).

    Event fields: ``sample_index`` is the peak of ``|y|``; ``amplitude_uv`` is the
    peak-to-peak of the band-passed signal from ``merge_gap_ms`` before the cluster to
    ``merge_gap_ms`` after it (clipped at segment edges); ``duration_ms`` as in step 5.

    Confidence mapping: with ``r = |y_peak| / sigma`` (``r > k`` for every event),
    ``confidence = min(1, (r - k) / k)``: 0 just above the threshold, 0.5 at 1.5 x the
    threshold, 1 at twice the threshold or more.

    Raises:
        ValueError: empty band at this rate, no channels, ``k <= 0`` or
            ``noise_history_windows < 1``.
    """

    def __init__(
        self,
        sample_rate_hz: float,
        channel_labels: Sequence[str],
        *,
        band_hz: tuple[float, float] = (20.0, 450.0),
        k: float = 5.0,
        filter_order: int = 2,
        noise_window_ms: float = 100.0,
        noise_history_windows: int = 21,
        settle_ms: float = 50.0,
        merge_gap_ms: float = 10.0,
        max_duration_ms: float = 30.0,
        max_cluster_ms: float = 100.0,
        sustained_holdoff_ms: float = 50.0,
        echo_window_ms: float = 50.0,
        echo_fraction: float = 0.5,
        min_noise_floor_uv: float = 0.1,
    ) -> None:
        self.sample_rate_hz = float(sample_rate_hz)
        self.channel_labels = tuple(str(label) for label in channel_labels)
        if not self.channel_labels:
            raise ValueError("channel_labels must name at least one channel")
        if not k > 0:
            raise ValueError(f"k must be positive, got {k!r}")
        self.band_hz = clamp_band_hz(band_hz, self.sample_rate_hz)
        self.k = float(k)
        self.n_channels = len(self.channel_labels)

        def to_samples(duration_ms: float, minimum: int) -> int:
            return max(minimum, int(round(duration_ms * 1e-3 * self.sample_rate_hz)))

        self.settle_samples = to_samples(settle_ms, 0)
        self.merge_gap_samples = to_samples(merge_gap_ms, 1)
        self.max_duration_samples = to_samples(max_duration_ms, 1)
        self.max_cluster_samples = to_samples(max_cluster_ms, 1)
        self.sustained_holdoff_samples = to_samples(sustained_holdoff_ms, 0)
        self.echo_window_samples = to_samples(echo_window_ms, 0)
        self.echo_fraction = float(echo_fraction)
        window_samples = to_samples(noise_window_ms, 1)

        sos = design_bandpass_sos(self.sample_rate_hz, self.band_hz, filter_order)
        self._filter = StreamingBandpass(sos, self.n_channels)
        self._noise = RunningNoiseFloor(
            self.n_channels, window_samples, noise_history_windows, min_noise_floor_uv
        )
        self._history_samples = window_samples * int(noise_history_windows)

        self._next_index: int | None = None  # expected first_sample_index of the next block
        self._segment_start = 0
        self._open: list[_Cluster | None] = [None] * self.n_channels
        self._suppress_until = [-1] * self.n_channels  # last index of the holdoff
        # (last supra-threshold index, peak |y| µV) of the latest event per channel
        self._last_event: list[tuple[int, float] | None] = [None] * self.n_channels
        self._ready: list[TwitchEvent] = []
        # last merge-gap filtered samples of the segment: the pre-window of the next event
        self._recent_y_uv = np.empty((0, self.n_channels))
        self._counts = {"events": 0, "rejected_sustained": 0, "rejected_holdoff": 0, "rejected_echo": 0}

    # ------------------------------------------------------------------ public
    @property
    def noise_floor_uv(self) -> np.ndarray:
        """Current robust noise estimate per channel, µV RMS of the band-passed signal;
        NaN during warm-up. Shape ``(n_channels,)``."""
        return self._noise.floor_uv

    @property
    def counts(self) -> dict[str, int]:
        """Events emitted and clusters rejected (sustained, holdoff) so far."""
        return dict(self._counts)

    def process(self, block_uv: np.ndarray, first_sample_index: int) -> list[TwitchEvent]:
        """Feed one block; return the events decided within it.

        Args:
            block_uv: EMG in µV, shape ``(n_samples, n_channels)``, converted to float64.
                ``n_samples`` may be 0 or 1.
            first_sample_index: stream index of ``block_uv[0]``. The first block may
                start anywhere; every later block must continue the previous one (or
                the gap announced with :meth:`mark_gap`).

        Returns:
            Events decided in this block (plus any closed by a preceding gap), sorted by
            ``(sample_index, channel)``.

        Raises:
            ValueError: wrong shape, NaN or inf samples, or a non-contiguous index.
                The detector's state is unchanged when it raises.
        """
        block = np.asarray(block_uv, dtype=np.float64)
        if block.ndim != 2 or block.shape[1] != self.n_channels:
            raise ValueError(
                f"block_uv must have shape (n_samples, {self.n_channels}), got {block.shape}"
            )
        if not np.isfinite(block).all():
            bad = np.argwhere(~np.isfinite(block))[0]
            raise ValueError(
                f"block_uv has a non-finite sample (NaN or inf) at stream index "
                f"{int(first_sample_index) + int(bad[0])}, channel {int(bad[1])}; "
                "mark lost samples with mark_gap() instead"
            )
        first_sample_index = int(first_sample_index)
        if self._next_index is None:
            self._next_index = first_sample_index
            self._segment_start = first_sample_index
        elif first_sample_index != self._next_index:
            raise ValueError(
                f"block starts at sample {first_sample_index}, expected {self._next_index}; "
                "announce lost samples with mark_gap()"
            )
        n_samples = block.shape[0]
        if n_samples == 0:
            return self._take_ready()

        y_uv = self._filter.process(block)
        sigma_uv = np.full_like(y_uv, np.nan)
        n_settle = min(n_samples, max(0, self._segment_start + self.settle_samples - first_sample_index))
        if n_settle < n_samples:
            sigma_uv[n_settle:] = self._noise.process(y_uv[n_settle:])
        with np.errstate(invalid="ignore"):
            ratio = np.abs(y_uv) / sigma_uv  # NaN where sigma is unknown: never supra
            supra = ratio > self.k
        for channel in range(self.n_channels):
            self._scan_channel(
                channel,
                y_uv[:, channel],
                ratio[:, channel],
                supra[:, channel],
                first_sample_index,
                self._recent_y_uv[:, channel],
            )
        self._recent_y_uv = np.concatenate((self._recent_y_uv, y_uv))[-self.merge_gap_samples :]
        self._next_index = first_sample_index + n_samples
        return self._take_ready()

    def mark_gap(self, first_missing_index: int, n_missing: int) -> None:
        """Announce ``n_missing`` lost samples starting at ``first_missing_index``.

        Open clusters are closed at the last sample before the gap (and, if valid,
        returned by the next :meth:`process` or :meth:`flush`), so no event straddles
        the gap. The filter restarts from the first sample after the gap (settling
        blanking applies again); no samples are invented. The noise history is kept
        unless the gap is longer than the history, in which case warm-up restarts.

        Raises:
            ValueError: ``n_missing < 0`` or ``first_missing_index`` is not the next
                expected sample index.
        """
        first_missing_index, n_missing = int(first_missing_index), int(n_missing)
        if n_missing < 0:
            raise ValueError(f"n_missing must be >= 0, got {n_missing}")
        if self._next_index is not None and first_missing_index != self._next_index:
            raise ValueError(
                f"gap starts at sample {first_missing_index}, expected {self._next_index}"
            )
        if n_missing == 0:
            return
        self._close_all()
        self._filter.reset()
        self._recent_y_uv = np.empty((0, self.n_channels))
        if n_missing > self._history_samples:
            self._noise.reset()
        else:
            self._noise.reset_window()
        self._next_index = first_missing_index + n_missing
        self._segment_start = self._next_index

    def flush(self) -> list[TwitchEvent]:
        """End of stream: close open clusters and return the events still pending."""
        self._close_all()
        return self._take_ready()

    # ----------------------------------------------------------------- private
    def _scan_channel(
        self,
        channel: int,
        y: np.ndarray,
        ratio: np.ndarray,
        supra: np.ndarray,
        base: int,
        recent_y: np.ndarray,
    ) -> None:
        """Extend/close clusters of one channel with one block (loops over clusters only).

        ``y``, ``ratio``, ``supra``: this block's filtered µV, ``|y|/sigma`` and
        ``ratio > k``; ``base``: stream index of ``y[0]``; ``recent_y``: the filtered
        samples just before ``y`` in this segment (at most the merge gap).
        """
        gap_n = self.merge_gap_samples
        before = np.concatenate((recent_y, y))
        offset = recent_y.shape[0]  # y[i] is before[offset + i]
        hits = np.flatnonzero(supra)
        open_cluster = self._open[channel]
        if hits.size:
            breaks = np.flatnonzero(np.diff(hits) > self.merge_gap_samples) + 1
            starts = np.concatenate(([0], breaks))
            ends = np.concatenate((breaks, [hits.size]))
            for run_first, run_end in zip(starts.tolist(), ends.tolist()):
                run_hits = hits[run_first:run_end]
                first_local, last_local = int(run_hits[0]), int(run_hits[-1])
                seg = before[max(0, offset + first_local - gap_n) : offset + last_local + 1]
                run = _Cluster(
                    start=base + first_local,
                    last=base + last_local,
                    hit_index=[run_hits + base],
                    hit_abs_uv=[np.abs(y[run_hits])],
                    hit_ratio=[ratio[run_hits]],
                    y_max_uv=float(seg.max()),
                    y_min_uv=float(seg.min()),
                )
                if open_cluster is not None and run.start - open_cluster.last <= gap_n:
                    open_cluster = self._merge(open_cluster, run, y, base)
                else:
                    if open_cluster is not None:
                        self._update_tail(open_cluster, y, base)
                        self._close(channel, open_cluster)
                    open_cluster = run
                if open_cluster.last - open_cluster.start + 1 > self.max_cluster_samples:
                    open_cluster.overlong = True
                    open_cluster.hit_index, open_cluster.hit_abs_uv, open_cluster.hit_ratio = [], [], []
        if open_cluster is not None:
            self._update_tail(open_cluster, y, base)
            if base + y.shape[0] - 1 - open_cluster.last >= gap_n:
                self._close(channel, open_cluster)
                open_cluster = None
        self._open[channel] = open_cluster

    def _update_tail(self, cluster: _Cluster, y: np.ndarray, base: int) -> None:
        """Fold the part of ``(last, last + merge gap]`` that lies in this block into the tail."""
        tail = y[max(0, cluster.last + 1 - base) : max(0, cluster.last + self.merge_gap_samples + 1 - base)]
        if tail.size:
            cluster.tail_max_uv = max(cluster.tail_max_uv, float(tail.max()))
            cluster.tail_min_uv = min(cluster.tail_min_uv, float(tail.min()))

    @staticmethod
    def _merge(old: _Cluster, new: _Cluster, y: np.ndarray, base: int) -> _Cluster:
        """Join ``new`` (in this block) to ``old``; the gap between them is sub-threshold."""
        gap = y[max(0, old.last + 1 - base) : new.start - base]
        gap_max = float(gap.max()) if gap.size else -np.inf
        gap_min = float(gap.min()) if gap.size else np.inf
        return _Cluster(
            start=old.start,
            last=new.last,
            hit_index=old.hit_index + new.hit_index,
            hit_abs_uv=old.hit_abs_uv + new.hit_abs_uv,
            hit_ratio=old.hit_ratio + new.hit_ratio,
            y_max_uv=max(old.y_max_uv, old.tail_max_uv, gap_max, new.y_max_uv),
            y_min_uv=min(old.y_min_uv, old.tail_min_uv, gap_min, new.y_min_uv),
            overlong=old.overlong,
        )

    def _close(self, channel: int, cluster: _Cluster) -> None:
        if not cluster.overlong:
            hit_index = np.concatenate(cluster.hit_index)
            hit_abs_uv = np.concatenate(cluster.hit_abs_uv)
            peak = int(np.argmax(hit_abs_uv))
            half_peak = np.flatnonzero(hit_abs_uv >= 0.5 * hit_abs_uv[peak])
            duration_samples = int(hit_index[half_peak[-1]] - hit_index[half_peak[0]]) + 1
        if cluster.overlong or duration_samples > self.max_duration_samples:
            self._counts["rejected_sustained"] += 1
            self._suppress_until[channel] = cluster.last + self.sustained_holdoff_samples
            return
        if cluster.start <= self._suppress_until[channel]:
            self._counts["rejected_holdoff"] += 1
            return
        peak_abs_uv = float(hit_abs_uv[peak])
        previous = self._last_event[channel]
        if (
            previous is not None
            and cluster.start <= previous[0] + self.echo_window_samples
            and peak_abs_uv < self.echo_fraction * previous[1]
        ):
            self._counts["rejected_echo"] += 1
            return
        self._last_event[channel] = (cluster.last, peak_abs_uv)
        peak_ratio = float(np.concatenate(cluster.hit_ratio)[peak])
        peak_index = int(hit_index[peak])
        self._counts["events"] += 1
        self._ready.append(
            TwitchEvent(
                sample_index=peak_index,
                t_s=peak_index / self.sample_rate_hz,
                channel=channel,
                channel_label=self.channel_labels[channel],
                amplitude_uv=max(cluster.y_max_uv, cluster.tail_max_uv)
                - min(cluster.y_min_uv, cluster.tail_min_uv),
                duration_ms=duration_samples * 1e3 / self.sample_rate_hz,
                confidence=min(1.0, max(0.0, (peak_ratio - self.k) / self.k)),
                detector=DETECTOR_NAME,
            )
        )

    def _close_all(self) -> None:
        for channel, cluster in enumerate(self._open):
            if cluster is not None:
                self._close(channel, cluster)
                self._open[channel] = None

    def _take_ready(self) -> list[TwitchEvent]:
        ready = sorted(self._ready, key=lambda event: (event.sample_index, event.channel))
        self._ready = []
        return ready
