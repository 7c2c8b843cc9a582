"""Voluntary contractions must not leak twitches at their onset (rule 10, weak activity after).

In the simulator, a contraction ramps up over 50-150 ms (raised cosine). Its first
5-sigma crossings arrive while the trailing window is still quiet (rules 8-9 cannot see
it) and the 25 ms after them are active but mostly below 2.5 sigma, so the old
"activity after" test (>= 60 % above 2.5 sigma) missed them: 33 false twitches in 49
contractions of `control_voluntary`, 60 in 46 of `voluntary_bursts` (seeds 1-3, 120 s,
12 contractions/min). Also weak contractions (RMS ~2.5 sigma) leaked trains: each
leaked candidate is left out of the next one's background window, until too little is
left to judge. The weak-onset test (>= 50 % of the 25 ms after above max(1.5 sigma,
0.25 x peak): the window's median |y| is above 1.5 sigma) leaves 5 and 4.
"""

from __future__ import annotations

import pytest

sim = pytest.importorskip("twitchwatch.sim")

from engine_synth import run_in_blocks  # noqa: E402
from twitchwatch.detect import TwitchDetector  # noqa: E402

DURATION_S = 120.0
SEEDS = (1, 2, 3)
CONTRACTIONS_PER_MIN = 12.0


def _run(rec):
    return run_in_blocks(TwitchDetector(rec.emg_rate_hz, rec.emg_labels, rec.acc_rate_hz), rec)


def _score(name: str) -> tuple[int, int, int, int]:
    """(contractions, events inside them, twitches hit, twitches) pooled over SEEDS."""
    n_vol = inside = hits = n_tw = 0
    for seed in SEEDS:
        rec = sim.simulate(name, DURATION_S, seed, voluntary_per_min=CONTRACTIONS_PER_MIN)
        events = _run(rec)
        vol = [s for s in rec.segments if s.kind == "voluntary"]
        n_vol += len(vol)
        inside += sum(any(s.start_index <= e.sample_index < s.end_index for s in vol) for e in events)
        tol = int(0.015 * rec.emg_rate_hz)
        hits += sum(any(e.channel == t.channel and abs(e.sample_index - t.sample_index) <= tol for e in events)
                    for t in rec.twitches)
        n_tw += len(rec.twitches)
    return n_vol, inside, hits, n_tw


@pytest.mark.parametrize("name", ["control_voluntary", "voluntary_bursts"])
def test_contraction_onsets_leak_few_twitches(name):
    n_vol, inside, hits, n_tw = _score(name)
    assert n_vol >= 40
    # fewer than one false twitch per five contractions (was 0.7 and 1.3 per contraction)
    assert inside <= 0.2 * n_vol, f"{inside} events inside {n_vol} contractions"
    if n_tw:
        # twitches between the contractions are kept (104 of 107 before and after the change)
        assert hits >= 0.95 * n_tw, f"{hits} of {n_tw} twitches"
