"""Twitch detection: pure functions and streaming state; arrays in, events out.

No I/O and no store here. :class:`TwitchDetector` is the detection engine (EMG +
accelerometer, artefact rejection, unit identity, channel quality);
:class:`ThresholdDetector` is the first, simple detector kept for comparison.
"""

from .config import DetectorConfig
from .engine import DETECTOR_VERSION, TwitchDetector
from .events import TwitchEvent
from .records import ARTEFACT_KINDS, ArtefactSegment, ChannelQuality
from .theory import gaussian_crossing_rate_hz
from .threshold import DETECTOR_NAME, ThresholdDetector

__all__ = [
    "ARTEFACT_KINDS",
    "DETECTOR_NAME",
    "DETECTOR_VERSION",
    "ArtefactSegment",
    "ChannelQuality",
    "DetectorConfig",
    "ThresholdDetector",
    "TwitchDetector",
    "TwitchEvent",
    "gaussian_crossing_rate_hz",
]
