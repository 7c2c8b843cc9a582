"""Host-side simulator: realistic 2-channel sEMG + 3-axis accelerometer with ground truth.

Not a diagnostic tool: it makes test signals for the detection engine and benchmark.
Scenarios and their parameter sources: ``docs/simulator.md`` and
:mod:`twitchwatch.sim.scenarios`.

    >>> from twitchwatch.sim import simulate
    >>> rec = simulate("als_like", duration_s=60, seed=1)
    >>> rec.emg_uv.shape, len(rec.twitches) > 0
    ((120000, 2), True)
"""

from .core import EXCLUDE_KINDS, inject_twitches, simulate
from .model import SEGMENT_KINDS, SimRecording, TruthSegment, TruthTwitch
from .scenarios import CONTROL_SCENARIOS, SCENARIOS, TWITCH_SCENARIOS, Scenario

__all__ = [
    "CONTROL_SCENARIOS", "EXCLUDE_KINDS", "SCENARIOS", "SEGMENT_KINDS", "Scenario", "SimRecording",
    "TWITCH_SCENARIOS", "TruthSegment", "TruthTwitch", "inject_twitches", "simulate",
]
