"""ECG rejection when the ECG is small: beats cross the threshold only now and then.

A 25-40 µV ECG under 6 µV noise (the simulator's ``mixed``) makes candidates on some beats
only, with the band-passed peak on whichever QRS lobe the noise favours, and a voluntary
burst hides several beats. The rhythm must still be recognised: beats timed at the low
band's R wave (not the band-passed peak), the learned rhythm kept across missed beats,
and a channel too weak to learn the rhythm itself using the beats recognised on another
channel (one heart). Real brief twitches between the beats must still be found.

Synthetic, seeded; before the fix 3-18 beats per 80 s leaked as twitches here.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine_synth import add_ecg, biphasic_6ms, feed
from twitchwatch.detect import TwitchDetector

FS = 2000.0
DUR_S = 90.0
BURST_S = (30.0, 34.0)
WARMUP_S = 10.0  # the rhythm is learned from four beats in a row: the first beats may pass


def _record(seed: int, r_uv: tuple[float, float], noise_uv: float = 6.0):
    """Two channels: white noise, an ECG (RR 0.85 s +- 2 %, QRS 80 ms, R ``r_uv`` per
    channel), a 4-s voluntary burst (60 µV RMS) on both, and brief biphasic twitches
    (80-200 µV p-p, 6 ms) at random times >= 150 ms from any beat."""
    rng = np.random.default_rng(seed)
    n = int(DUR_S * FS)
    x = rng.normal(0.0, noise_uv, (n, 2))
    bt = add_ecg(x, rng, FS, 0.85, r_uv)
    a, e = int(BURST_S[0] * FS), int(BURST_S[1] * FS)
    x[a:e] += rng.normal(0.0, 60.0, (e - a, 2)) * (np.sin(np.linspace(0, np.pi, e - a)) ** 0.5)[:, None]
    shape = biphasic_6ms(FS)
    twitches: list[tuple[int, int]] = []
    for t0 in np.sort(rng.uniform(1.0, DUR_S - 1.0, 40)):
        if np.min(np.abs(bt - t0)) < 0.15 or BURST_S[0] - 0.5 < t0 < BURST_S[1] + 0.5:
            continue
        if twitches and t0 * FS - twitches[-1][0] < 0.3 * FS:
            continue
        c, amp, i = int(rng.integers(0, 2)), float(rng.uniform(80, 200)), int(round(t0 * FS))
        x[i - 12 : i + 13, c] += amp * shape
        twitches.append((i, c))
    return x, bt * FS, twitches


def _score(x, beats, twitches):
    events, artefacts = feed(TwitchDetector(FS, ("a", "b")), x, None, [200], [], [0])
    tol = int(0.015 * FS)
    is_twitch = lambda e: any(abs(e.sample_index - i) <= tol and e.channel == c for i, c in twitches)  # noqa: E731
    leaked = [e for e in events if not is_twitch(e) and np.min(np.abs(beats - e.sample_index)) < 0.06 * FS
              and e.t_s > WARMUP_S]
    found = sum(any(abs(e.sample_index - i) <= tol and e.channel == c for e in events) for i, c in twitches)
    return leaked, found, artefacts


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_small_ecg_rhythm_is_kept_through_a_voluntary_burst(seed):
    # ECG on channel b only, R = 32 µV: the channel must learn and keep the rhythm itself
    x, beats, twitches = _record(seed, (0.0, -32.0))
    leaked, found, artefacts = _score(x, beats, twitches)
    assert len(leaked) <= 2, [(round(e.t_s, 2), e.channel) for e in leaked]
    assert found >= len(twitches) - 1
    assert sum(a.kind == "ecg" and a.channel == 1 for a in artefacts) >= 40  # beats reported as ECG


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ecg_too_small_on_one_channel_is_recognised_from_the_other(seed):
    # R = 40 µV on a, 25 µV (inverted) on b: b crosses the threshold on too few beats
    # in a row to learn the rhythm; a's beats at the same moment tell it
    x, beats, twitches = _record(seed, (40.0, -25.0))
    leaked, found, _ = _score(x, beats, twitches)
    assert len(leaked) <= 2, [(round(e.t_s, 2), e.channel) for e in leaked]
    assert found >= len(twitches) - 1
