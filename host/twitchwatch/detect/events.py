"""The detector's output record: one twitch candidate on one EMG channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class TwitchEvent:
    """One detected brief potential (a twitch candidate) on one EMG channel.

    Attributes:
        sample_index: index in the EMG stream of the sample where the band-passed,
            rectified signal peaks within the event.
        t_s: seconds from recording start, ``sample_index / sample_rate_hz``.
        channel: channel index within the EMG stream (column of the block).
        channel_label: the channel's label as given to the detector.
        amplitude_uv: peak-to-peak amplitude of the band-passed signal over the
            event's span, µV.
        duration_ms: span from the first to the last supra-threshold sample of the
            event (inclusive), ms.
        confidence: 0..1; the detector's documented mapping of how far the peak
            exceeds its threshold (see ``ThresholdDetector``).
        detector: name and version of the detector that produced the event.
        wall_time_s: unix time (s) of the peak, mapped from the device's sample
            clock to the host clock by the pipeline (``twitchwatch.clock``); None
            where the detector is used alone. The detector never sets it.
    """

    sample_index: int
    t_s: float
    channel: int
    channel_label: str
    amplitude_uv: float
    duration_ms: float
    confidence: float
    detector: str
    wall_time_s: float | None = None

    def to_json_dict(self) -> dict:
        """A JSON-ready dict: the fields above plus ``t`` (= ``t_s``, seconds)."""
        data = asdict(self)
        data["t"] = self.t_s
        return data
