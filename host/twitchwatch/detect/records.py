"""What the detector reports besides twitches: rejected segments and channel quality."""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: ArtefactSegment kinds (the same names as the simulator's TruthSegment kinds).
ARTEFACT_KINDS = ("voluntary", "motion", "ecg", "pop", "mains_burst", "lead_off")


@dataclass(frozen=True)
class ArtefactSegment:
    """A stretch of EMG the detector judged not to be twitches, and why.

    Attributes:
        kind: one of :data:`ARTEFACT_KINDS`.
        channel: EMG channel index, or None when every channel is affected.
        start_index: first EMG sample index of the segment.
        end_index: EMG sample index one past the segment (exclusive).
        detail: short human-readable reason (numbers included).
    """

    kind: str
    channel: int | None
    start_index: int
    end_index: int
    detail: str = ""

    def to_json_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ChannelQuality:
    """Signal quality of one EMG channel, as of the latest processed sample.

    Attributes:
        channel: EMG channel index; channel_label: its label.
        noise_floor_uv: robust RMS of the cleaned (band-passed, de-hummed) signal at
            rest, µV; NaN during warm-up.
        mains_hz: mains fundamental in force (near 50 or 60 Hz), None if no hum found.
        mains_uv: RMS of the hum (fundamental and harmonics) in the last estimate, µV.
        lead_off: the channel currently looks disconnected (flat, at the rail, or
            drowned in hum).
        usable_fraction: fraction of the samples since the start that were searched
            for twitches (not warm-up, not lead-off, not artefact), 0..1.
        artefact_fraction: fraction of the samples since the start inside an
            artefact segment of this channel (or of all channels).
        twitch_threshold_uv: current detection threshold on |signal|, µV.
    """

    channel: int
    channel_label: str
    noise_floor_uv: float
    mains_hz: float | None
    mains_uv: float
    lead_off: bool
    usable_fraction: float
    artefact_fraction: float = 0.0
    twitch_threshold_uv: float = float("nan")

    def to_json_dict(self) -> dict:
        return asdict(self)
