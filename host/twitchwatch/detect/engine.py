"""TwitchDetector: the streaming detection engine (skeleton: wraps ThresholdDetector)."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from .config import DetectorConfig
from .events import TwitchEvent
from .records import ArtefactSegment, ChannelQuality
from .threshold import ThresholdDetector

DETECTOR_VERSION = "twitchwatch-detect-1.0"


class TwitchDetector:
    def __init__(
        self,
        emg_rate_hz: float,
        emg_labels: Sequence[str],
        acc_rate_hz: float | None = None,
        config: DetectorConfig | None = None,
    ) -> None:
        self.config = config or DetectorConfig()
        self.emg_rate_hz = float(emg_rate_hz)
        self.emg_labels = tuple(str(x) for x in emg_labels)
        self.acc_rate_hz = None if acc_rate_hz is None else float(acc_rate_hz)
        self._inner = ThresholdDetector(self.emg_rate_hz, self.emg_labels, band_hz=self.config.band_hz, k=self.config.k)

    def process_emg(self, block_uv: np.ndarray, first_sample_index: int) -> list[TwitchEvent]:
        return [replace(e, detector=DETECTOR_VERSION) for e in self._inner.process(block_uv, first_sample_index)]

    def process_acc(self, block_mg: np.ndarray, first_sample_index: int) -> list[TwitchEvent]:
        return []

    def mark_gap(self, stream: str, first_missing_index: int, n_missing: int) -> None:
        if stream == "emg":
            self._inner.mark_gap(first_missing_index, n_missing)
        elif stream != "acc":
            raise ValueError(f"stream must be 'emg' or 'acc', got {stream!r}")

    def flush(self) -> list[TwitchEvent]:
        return [replace(e, detector=DETECTOR_VERSION) for e in self._inner.flush()]

    def pop_artefacts(self) -> list[ArtefactSegment]:
        return []

    def quality(self) -> list[ChannelQuality]:
        floor = self._inner.noise_floor_uv
        return [
            ChannelQuality(c, label, float(floor[c]), None, 0.0, False, 1.0)
            for c, label in enumerate(self.emg_labels)
        ]
