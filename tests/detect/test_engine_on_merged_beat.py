"""A twitch merged with a QRS into one long cluster (detector 1.14).

A twitch 35-55 ms after the R wave fires while the QRS is still above the threshold: the
two make one cluster longer than ``max_cluster_ms``, whose peak is the twitch's. The ECG
fiducial is searched near the peak, misses the R wave, the rhythm test fails and the
cluster was rejected as sustained (voluntary) activity. Now a sustained cluster whose
low-band extremum lies on the channel's learned rhythm has the beat's learned shape fitted
and subtracted there (as a recognised beat has, :mod:`twitchwatch.detect.onbeat`); a
twitch that stands out of the fit is reported. Synthetic, seeded (QRS 80 ms, RR 0.8 s,
no pops, no voluntary activity): with ``on_beat_merged`` off 18-22 of 31-32 twitches after
the warm-up are found, with it 22-28, no false twitch either way.
"""

from __future__ import annotations

import pytest

from engine_synth import feed
from test_engine_ecg_neighbours import FS, WARMUP_S, _record
from twitchwatch.detect import DetectorConfig, TwitchDetector


def _found(x, twitches, merged: bool):
    events, _ = feed(TwitchDetector(FS, ("a", "b"), config=DetectorConfig(on_beat_merged=merged)),
                     x, None, [200], [], [0])
    tol = int(0.015 * FS)
    late = [(i, c) for i, c in twitches if i > WARMUP_S * FS]
    found = sum(any(abs(e.sample_index - i) <= tol and e.channel == c for e in events) for i, c in late)
    false = [e for e in events if e.t_s > WARMUP_S
             and not any(abs(e.sample_index - i) <= tol and e.channel == c for i, c in twitches)]
    return len(late), found, false


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_twitch_merged_with_a_qrs_is_found(seed):
    x, twitches = _record(seed, after_r_s=(0.035, 0.055))
    n, found, false = _found(x, twitches, True)
    _, found_off, _ = _found(x, twitches, False)
    assert found >= found_off + 3, f"{found} of {n} found (on_beat_merged off: {found_off})"
    assert found >= 0.65 * n
    assert not false, f"false twitches at {[round(e.t_s, 3) for e in false]}"
