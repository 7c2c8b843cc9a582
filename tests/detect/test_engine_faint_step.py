"""A small baseline step must not leak a twitch (rule 11b, faint step).

A step of the electrode/skin potential (a half-cell shift, the skin stretching as a
movement starts) passes the 20-450 Hz band-pass as a brief monophasic spike of about
its own height. Rule 5 rejects it as a pop when the low band steps by >= 0.5x the
candidate's p-p and >= 5 sigma; a step of 4-5 sigma plus noise can still cross the 5
sigma threshold while failing rule 5's significance floor. In the simulator (engine
1.8, development seeds 2000-2002) such crossings were the false twitches 1-2 ms into
gross movements (whose slow EMG deflection starts with a 8-44 µV step) inside motion
segments. A motor-unit potential's own low band does not step by half its p-p (none
of the 4186 twitches detected on those seeds did), so rule 11b rejects a candidate that
passed every other rule when its step is >= ``faint_step_fraction`` (0.5) x its p-p.
"""

from __future__ import annotations

import numpy as np

from detect_synth import RATE_HZ, potential_shape
from engine_synth import feed
from twitchwatch.detect import DetectorConfig, TwitchDetector

NOISE_UV = 3.0  # white, full band: ~2 µV RMS in 20-450 Hz


def _recording(seed: int):
    """Noise with 40 baseline steps of 8-10 µV (~4-5 sigma of the band-passed noise,
    each decaying over 1 s, alternating sign) and 30 potentials (biphasic/triphasic,
    5-12 ms, 15-150 µV: from near the threshold to large), all at least 0.4 s apart."""
    rng = np.random.default_rng(seed)
    n_s = 70.0
    n = int(n_s * RATE_HZ)
    emg = rng.normal(0, NOISE_UV, (n, 1))
    times = 1.5 + np.arange(70) * 0.97 + rng.uniform(-0.05, 0.05, 70)
    kinds = rng.permutation(np.r_[np.zeros(40, int), np.ones(30, int)])
    steps, pots = [], []
    k = np.arange(n)
    for j, (t, kind) in enumerate(zip(times, kinds)):
        p = int(t * RATE_HZ)
        if kind == 0:
            h = rng.uniform(8.0, 10.0) * (1 if j % 2 else -1)
            emg[p:, 0] += h * np.exp(-(k[p:] - p) / RATE_HZ / 1.0)
            steps.append(p)
        else:
            shape = potential_shape(float(np.exp(rng.uniform(np.log(15.0), np.log(150.0)))),
                                    float(rng.uniform(5.0, 12.0)), int(rng.integers(2, 4)), RATE_HZ)
            a = p - shape.size // 2
            emg[a : a + shape.size, 0] += shape
            pots.append(p)
    return emg, steps, pots


def _near(events, p):
    return any(abs(e.sample_index - p) <= int(0.015 * RATE_HZ) for e in events)


def _leaks(seed: int, fraction: float):
    emg, steps, pots = _recording(seed)
    events, _ = feed(TwitchDetector(RATE_HZ, ["emg0"], config=DetectorConfig(faint_step_fraction=fraction)),
                     emg, None, (200,), (), ())
    return sum(_near(events, p) for p in steps), [p for p in pots if _near(events, p)]


def test_faint_steps_mostly_rejected_and_potentials_kept():
    """Engine 1.8 (no rule 11b) reported 11 + 16 + 9 of the 3 x 40 steps as twitches; with
    it 3 + 3 + 2 remain: with the noise that lifted them over the threshold, the
    candidate's p-p is larger than the step's own spike, and their low-band step falls
    just under 0.5x it (0.41-0.49; a pure step gives 0.66). Every potential is kept."""
    before = after = 0
    for seed in (0, 1, 2):
        b, kept_b = _leaks(seed, 0.0)
        a, kept_a = _leaks(seed, DetectorConfig().faint_step_fraction)
        before, after = before + b, after + a
        assert kept_a == kept_b, "rule 11b lost a potential"
        assert len(kept_a) >= 28
    assert before >= 30  # the steps do leak without the rule (the test is not vacuous)
    assert after <= before // 4, f"{after} of {before} leaked steps remain"


def test_faint_step_is_block_split_invariant():
    emg, *_ = _recording(5)
    ref = feed(TwitchDetector(RATE_HZ, ["emg0"]), emg, None, (200,), (), ())
    for es in ((7, 333), (40000,), (1,)):
        assert feed(TwitchDetector(RATE_HZ, ["emg0"]), emg, None, es, (), ()) == ref
