"""Twitch detection: pure functions and streaming state; arrays in, events out.

No I/O and no store here. :class:`ThresholdDetector` is the first detector
(band-pass, robust k-sigma threshold, duration cap); :class:`TwitchEvent` is what
every detector returns.
"""

from .events import TwitchEvent
from .theory import gaussian_crossing_rate_hz
from .threshold import DETECTOR_NAME, ThresholdDetector

__all__ = ["DETECTOR_NAME", "ThresholdDetector", "TwitchEvent", "gaussian_crossing_rate_hz"]
