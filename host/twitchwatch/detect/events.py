"""The detector's output record: one twitch candidate on one EMG channel."""

from __future__ import annotations

from dataclasses import dataclass, fields


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
        n_phases: number of phases of the potential (sign changes of the band-passed
            signal between significant lobes, +1); None if the detector does not say.
        polarity: +1 or -1, the sign of the largest phase; None if unknown.
        acc_response_mg: peak mechanical response (mg, 5-50 Hz accelerometer band)
            shortly after the potential; None when there is no accelerometer.
        unit_id: online motor-unit identity from shape clustering; the same unit firing
            again gets the same id; ids are unique across channels. None if unknown.
        counted: whether the event counts as a twitch in rates, the dashboard, reports and
            cause statistics (the counting policy, docs/detection.md *What counts*);
            False: a candidate kept in the store and the events file, not shown as a twitch.
        main_phase_ms: half-amplitude width of the potential's main phase in the
            band-passed signal, ms (band-limited interpolation); None if not measured.
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
    n_phases: int | None = None
    polarity: int | None = None
    acc_response_mg: float | None = None
    unit_id: int | None = None
    counted: bool = True
    main_phase_ms: float | None = None

    def to_json_dict(self) -> dict:
        """A JSON-ready dict: every field above (new ones included) plus ``t`` (= ``t_s``, seconds)."""
        # every field is a scalar: a shallow dict is what dataclasses.asdict gives (which
        # deep-copies each value: ~0.1 ms per event, a few % of a whole replay)
        data = {name: getattr(self, name) for name in _field_names()}
        data["t"] = self.t_s
        return data


_NAMES: tuple[str, ...] = ()


def _field_names() -> tuple[str, ...]:
    global _NAMES
    if not _NAMES:
        _NAMES = tuple(f.name for f in fields(TwitchEvent))
    return _NAMES
