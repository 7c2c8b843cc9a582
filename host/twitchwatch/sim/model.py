"""Ground-truth records and the recording container of the host simulator.

Indices are EMG sample indices (0 = first EMG sample) unless a name says otherwise; the
accelerometer starts at the same instant, so ``acc_index = emg_index * acc_rate_hz /
emg_rate_hz`` (unless the scenario gives the accelerometer a clock error of its own,
``acc_clock_*``: then its sample ``j`` is at the EMG time of
``sim.chipclock.chip_sample_times_s``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

#: TruthSegment kinds, in the order the docs describe them.
SEGMENT_KINDS = ("voluntary", "motion", "pop", "ecg", "mains_burst", "lead_off")


@dataclass(frozen=True)
class TruthTwitch:
    """One simulated fasciculation potential (one motor-unit discharge).

    ``sample_index`` is the sample of the largest ``|deflection|`` of the noise-free
    potential on ``channel``; ``amplitude_uv`` its peak-to-peak over
    ``[onset_index, end_index)``, measured on the rendered samples (so it is exact for
    the noise-free component). ``duration_ms`` is the potential's continuous support
    (where the unit's shape exceeds 1 % of its peak), ``end_index - onset_index`` its
    sampled counterpart. A unit seen on more than one channel (volume conduction) is
    recorded once, on the channel where it is largest; ``crosstalk`` lists the other
    channels with the peak-to-peak seen there.
    """

    sample_index: int
    channel: int
    unit_id: int
    amplitude_uv: float
    duration_ms: float
    onset_index: int
    end_index: int
    acc_response_mg: float
    doublet: bool
    crosstalk: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class TruthSegment:
    """A stretch of artefact or non-twitch activity; ``end_index`` exclusive.

    ``channel`` is None when every channel is affected.
    """

    kind: str
    start_index: int
    end_index: int
    channel: int | None

    def overlaps(self, start: int, end: int, channel: int | None = None) -> bool:
        """True when ``[start, end)`` overlaps this segment (on ``channel`` if given)."""
        if channel is not None and self.channel is not None and channel != self.channel:
            return False
        return start < self.end_index and end > self.start_index


@dataclass
class SimRecording:
    """A simulated recording with its ground truth.

    ``components`` is empty unless ``simulate(..., components=True)``; then it holds
    every additive part by name (EMG parts ``(n, 2)`` µV, accelerometer parts named
    ``acc_*`` ``(m, 3)`` mg). ``emg_uv`` equals the sum of the EMG parts except inside
    rail-type ``lead_off`` segments, where the ``lead_off`` part is the difference to the
    rail.
    """

    scenario: str
    seed: int
    emg_rate_hz: float
    emg_uv: np.ndarray
    emg_labels: tuple[str, ...]
    acc_rate_hz: float
    acc_mg: np.ndarray
    twitches: list[TruthTwitch]
    segments: list[TruthSegment]
    params: dict
    is_control: bool
    components: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.emg_uv.shape[0] / self.emg_rate_hz

    def segments_of(self, kind: str) -> list[TruthSegment]:
        return [s for s in self.segments if s.kind == kind]

    def in_segment(self, index: int, kinds: tuple[str, ...] = ("voluntary", "motion"),
                   channel: int | None = None) -> bool:
        """True when EMG sample ``index`` lies inside a segment of one of ``kinds``."""
        return any(s.kind in kinds and s.overlaps(index, index + 1, channel) for s in self.segments)

    def blocks(self, block_ms: float) -> Iterator[tuple[str, int, np.ndarray]]:
        """Yield ``("emg"|"acc", first_index, array)`` blocks interleaved in time order.

        Each stream is cut into blocks of ``block_ms`` (rounded to whole samples, at
        least one); blocks are ordered by start time, EMG first on ties. Arrays are views.
        """
        if block_ms <= 0:
            raise ValueError("block_ms must be > 0")
        streams = (("emg", self.emg_uv, self.emg_rate_hz), ("acc", self.acc_mg, self.acc_rate_hz))
        entries: list[tuple[float, int, str, int, int]] = []
        for order, (name, data, rate) in enumerate(streams):
            step = max(1, int(round(block_ms * rate / 1000.0)))
            for first in range(0, data.shape[0], step):
                entries.append((first / rate, order, name, first, min(first + step, data.shape[0])))
        entries.sort(key=lambda e: (e[0], e[1]))
        for _t, order, name, first, end in entries:
            yield name, first, streams[order][1][first:end]
