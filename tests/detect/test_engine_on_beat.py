"""Twitches on a heartbeat (engine 1.10, :mod:`twitchwatch.detect.onbeat`).

A twitch that fires during a QRS merges with it into one candidate, which the ECG
tracker recognises as a beat: before 1.10 it was rejected with the beat. Now the beat's
learned shape is fitted (a gain per beat: the beat's amplitude follows breathing) and
subtracted; what stands out, briefly, is the twitch. Synthetic and seeded: white noise,
a 100 / -70 µV ECG whose amplitude follows breathing by +-10 %, and twitches placed
on the QRS.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine_synth import add_ecg, biphasic_6ms, feed
from twitchwatch.detect import DetectorConfig, TwitchDetector
from twitchwatch.detect.onbeat import BeatTemplate

FS = 2000.0
DUR_S = 60.0
WARMUP_S = 12.0  # rhythm (four beats) and then the beat's shape (eight beats)


def _record(seed: int, on_r_ms: tuple[float, float] = (0.0, 25.0), twitches_on: bool = True):
    """Two channels; on every other beat (after the warm-up) a biphasic twitch (100-200 µV
    p-p, 6 ms) ``on_r_ms`` after the R wave, on a random channel."""
    rng = np.random.default_rng(seed)
    n = int(DUR_S * FS)
    x = rng.normal(0.0, 5.0, (n, 2))
    beats = add_ecg(x, rng, FS, 0.8, (100.0, -70.0), breathing=0.1)
    shape = biphasic_6ms(FS)
    twitches: list[tuple[int, int]] = []
    for b in beats[1::2] if twitches_on else []:
        t0 = b + float(rng.uniform(*on_r_ms)) * 1e-3
        if t0 < WARMUP_S or t0 > DUR_S - 1.0:
            continue
        c, amp, i = int(rng.integers(0, 2)), float(rng.uniform(100, 200)), int(round(t0 * FS))
        x[i - 12 : i + 13, c] += amp * shape
        twitches.append((i, c))
    return x, twitches


def _run(x, twitches, config=None):
    det = TwitchDetector(FS, ("a", "b"), config=config)
    events, _ = feed(det, x, None, [200], [], [0])
    tol = int(0.015 * FS)
    found = sum(any(abs(e.sample_index - i) <= tol and e.channel == c for e in events) for i, c in twitches)
    false = [e for e in events if e.t_s > WARMUP_S
             and not any(abs(e.sample_index - i) <= tol and e.channel == c for i, c in twitches)]
    return found, false, det.counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_twitches_on_a_heartbeat_are_found(seed):
    x, twitches = _record(seed)
    found, false, counts = _run(x, twitches)
    assert counts["on_beat"] >= found - 2 > 0
    # the ones too early in the QRS to report within the latency promise are counted
    assert found + counts["on_beat_late"] >= 0.8 * len(twitches), (found, counts["on_beat_late"], len(twitches))
    # those reported: their beat is decided no later than they would be alone (~25 ms after
    # the QRS ends): in this 80-ms QRS about half of them
    assert found >= 0.35 * len(twitches), f"{found} of {len(twitches)} twitches on a beat found"
    assert len(false) <= 1, [(round(e.t_s, 3), e.channel, e.amplitude_uv) for e in false]


def test_without_the_beat_template_they_are_lost_with_the_beat():
    x, twitches = _record(1)
    found, _, counts = _run(x, twitches, DetectorConfig(on_beat_k=0.0))
    assert counts["on_beat"] == 0
    assert found <= 0.2 * len(twitches)


@pytest.mark.parametrize("seed", [4, 5])
def test_beats_that_vary_with_breathing_give_no_twitch(seed):
    x, _ = _record(seed, twitches_on=False)
    found, false, counts = _run(x, [])
    assert counts["rejected_ecg"] > 40  # the beats were seen and recognised
    assert false == [] and counts["on_beat"] == 0


def _beat(n: int = 240, width: float = 1.0) -> np.ndarray:
    k = np.arange(n) - n // 2
    g = lambda c, s: np.exp(-0.5 * ((k - c) / s) ** 2)  # noqa: E731
    return 60.0 * (g(0, 16 * width) - 0.4 * g(40 * width, 14 * width) - 0.2 * g(-40 * width, 10 * width))


def test_template_fits_a_scaled_beat_and_finds_what_stands_out():
    rng = np.random.default_rng(0)
    tpl = BeatTemplate(120, 120, same_beat=30, min_beats=8)
    f = 1000
    for j in range(12):
        tpl.teach(_beat() * (1 + 0.1 * np.sin(j)) + rng.normal(0, 2, 240), f - 120, f)
        f += 1600
    # a clean beat 12 % larger: nothing
    assert tpl.find_twitch(1.12 * _beat() + rng.normal(0, 2, 240), f - 120, f, f - 30, f + 30, 2.0, 10.0, 0.25, 25) is None
    # the same beat with a 120 µV biphasic potential 10 ms after R: found at its peak
    y = 0.9 * _beat() + rng.normal(0, 2, 240)
    y[120 + 20 - 12 : 120 + 20 + 13] += 120 * biphasic_6ms(FS)
    found = tpl.find_twitch(y, f - 120, f, f - 30, f + 30, 2.0, 10.0, 0.25, 25)
    assert found is not None
    peak, gain = found
    assert abs(peak - (f + 20)) <= 4 and 0.85 < gain < 0.95
    # outside the candidate's span nothing is looked for
    assert tpl.find_twitch(y, f - 120, f, f - 60, f, 2.0, 10.0, 0.25, 25) is None
    # a beat 2.5x the learned one is not that beat, whatever stands out on it
    assert tpl.find_twitch(2.5 * _beat() + (y - 0.9 * _beat()), f - 120, f, f - 30, f + 30, 2.0, 10.0, 0.25, 25) is None
    # a beat of another shape (wider: an ectopic beat) misfits everywhere, not briefly
    assert tpl.find_twitch(_beat(width=1.6) + rng.normal(0, 2, 240), f - 120, f, f - 30, f + 30,
                           2.0, 10.0, 0.25, 25) is None


def test_template_is_unused_until_enough_beats_taught_it():
    tpl = BeatTemplate(120, 120, same_beat=30, min_beats=8)
    y = _beat()
    y[130:155] += 150 * biphasic_6ms(FS)
    for j in range(7):
        tpl.teach(_beat(), 1000 + 1600 * j - 120, 1000 + 1600 * j)
        assert tpl.find_twitch(y, 20000 - 120, 20000, 20000 - 30, 20000 + 30, 2.0, 10.0, 0.25, 25) is None
    tpl.teach(_beat(), 1000 + 1600 * 7 - 120, 1000 + 1600 * 7)
    assert tpl.find_twitch(y, 20000 - 120, 20000, 20000 - 30, 20000 + 30, 2.0, 10.0, 0.25, 25) is not None
    # one beat split into two candidates teaches once
    n = tpl.n_beats.copy()
    tpl.teach(_beat(), 30000 - 120, 30000)
    tpl.teach(_beat(), 30010 - 120, 30010)
    assert (tpl.n_beats - n).max() == 1


def test_template_looks_only_where_it_is_known_inside_the_candidate():
    # taught on the first half of its window only; a candidate in the untaught half,
    # with a large spike where the template is known but outside the candidate: nothing
    tpl = BeatTemplate(120, 120, same_beat=30, min_beats=8)
    for j in range(10):
        f = 1000 + 1600 * j
        tpl.teach(_beat()[:120], f - 120, f)
    f = 30000
    y = _beat()
    y[0] += 200.0
    assert tpl.find_twitch(y, f - 120, f, f + 30, f + 60, 2.0, 10.0, 0.25, 25) is None
