"""The cross-channel merge does not hold a twitch back for a long candidate elsewhere.

A twitch on one channel waits for the other channels' candidates that could be the same
discharge (volume conduction) before it is reported. Until engine 1.10 it waited for
every candidate of another channel that started by its peak + 4 ms, however late that
one was decided: a 50-ms burst on the other channel (a QRS, a brief contraction) is
decided 25 ms after it ends, so a twitch at its start came out ~70 ms after it ended.
Now the merge waits only for candidates decided at most ``crosstalk_max_wait_ms`` (15)
after the twitch's own decision; a later one that proves to be the same discharge is
dropped as a copy. Synthetic and seeded; the engine is fed 10-ms blocks and each event's
return position is recorded.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine_synth import biphasic_6ms
from twitchwatch.detect import DetectorConfig, TwitchDetector

FS = 2000.0


def _record(seed: int):
    """Two channels of 5 µV noise; every 1.7-2.5 s (irregular, longer than any RR: not
    a heart rhythm) from 5 s: a 150 µV twitch on channel 0 and, starting with it, a 50 ms
    burst of 100 µV RMS band-limited activity on channel 1."""
    rng = np.random.default_rng(seed)
    n = int(40 * FS)
    x = rng.normal(0.0, 5.0, (n, 2))
    shape = biphasic_6ms(FS)
    twitches = []
    for t in 5.0 + np.cumsum(rng.uniform(1.7, 2.5, 16)):
        i = int(t * FS)
        x[i - 12 : i + 13, 0] += 150.0 * shape
        burst = rng.normal(0.0, 100.0, int(0.05 * FS))
        x[i - 10 : i - 10 + burst.size, 1] += np.convolve(burst, np.ones(3) / 3, mode="same")
        twitches.append(i)
    return x, twitches


def _returned(x, config=None):
    det = TwitchDetector(FS, ("a", "b"), config=config)
    out = []
    for s in range(0, x.shape[0], 20):
        for e in det.process_emg(x[s : s + 20], s):
            out.append((e.sample_index, e.channel, s + 20))
    for e in det.flush():
        out.append((e.sample_index, e.channel, None))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_a_twitch_is_not_held_back_by_a_long_burst_on_another_channel(seed):
    x, twitches = _record(seed)
    new = _returned(x)
    old = _returned(x, DetectorConfig(crosstalk_max_wait_ms=1e6))  # wait for everything, as before 1.10
    for label, events in (("new", new), ("old", old)):
        found = [next((e for e in events if e[1] == 0 and abs(e[0] - i) <= 30), None) for i in twitches]
        assert all(f is not None and f[2] is not None for f in found), (label, found)
    delay_new = [f[2] - i for i in twitches for f in new if f[1] == 0 and abs(f[0] - i) <= 30]
    delay_old = [f[2] - i for i in twitches for f in old if f[1] == 0 and abs(f[0] - i) <= 30]
    # returned within ~50 ms of the peak now; before, only after the burst was decided
    assert max(delay_new) <= 0.05 * FS, max(delay_new)
    assert np.median(delay_old) >= 0.065 * FS, sorted(delay_old)
