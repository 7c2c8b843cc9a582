"""The split benchmark's test-split draws and the ideal detector's bound (issue #19)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

from bench.detect import ideal
from bench.detect.split_bench import SCENARIOS_BY_NAME, apply_front_end, draw_test_variant


@pytest.mark.parametrize("name", ["benign_clean", "mixed", "control_walking", "ecg_contaminated"])
def test_test_variants_are_deterministic_and_wider_than_dev(name):
    a, da = draw_test_variant(name, 7000)
    b, db = draw_test_variant(name, 7000)
    c, _ = draw_test_variant(name, 7001)
    assert a == b and da == db and a != c
    assert a.emg_rate_hz in (1000.0, 2000.0, 4000.0)
    base = SCENARIOS_BY_NAME()[name]
    assert 0.5 * base.noise_white_uv <= a.noise_white_uv <= 3.0 * base.noise_white_uv
    assert 5.0 <= da["front_end"]["hp_hz"] <= 20.0 and da["front_end"]["lp_hz"] <= 0.45 * a.emg_rate_hz
    assert abs(da["clock"]["ppm"]) <= 500 and abs(da["clock"]["offset_ms"]) <= 10
    if base.ecg_uv > 0:
        assert a.ecg_bpm != base.ecg_bpm
    else:
        assert a.ecg_uv == 0


def test_front_end_clock_moves_the_accelerometer():
    n, m = 2000, 1000
    acc = np.zeros((m, 3))
    acc[500, 2] = 1.0
    rec = SimpleNamespace(emg_uv=np.zeros((n, 2)), emg_rate_hz=2000.0, acc_mg=acc, acc_rate_hz=1000.0)
    _, moved = apply_front_end(rec, {"hp_hz": 10.0, "lp_hz": 400.0}, {"ppm": 0.0, "offset_ms": 5.0})
    assert int(np.argmax(moved[:, 2])) == 495  # sample k holds true time k + 5 ms


def test_ideal_detectability_in_white_noise_is_the_plain_snr():
    rng = np.random.default_rng(0)
    fs, n = 2000.0, 2000 * 60
    noise = rng.standard_normal((n, 1)) * 2.0
    t = np.arange(-40, 41) / fs * 1e3
    s = -t / 2.0 * np.exp(-(t / 2.0) ** 2) * 10.0
    part = np.zeros((n, 1))
    part[1000 - 40:1000 + 41, 0] = s
    tw = SimpleNamespace(onset_index=960, end_index=1041, channel=0)
    rec = SimpleNamespace(emg_rate_hz=fs, twitches=[tw])
    p = ideal.ideal_probabilities(rec, noise, part, 1)
    # white noise: d = ||s|| / sigma (within the 10 Hz .. 0.45 fs band, which holds ~all of s)
    d = np.linalg.norm(s) / 2.0
    tau = norm.isf(0.2 / (fs * 60))
    assert p[0] == pytest.approx(norm.sf(tau - d), abs=0.05)
    assert ideal.ideal_f1(np.array([1.0] * 10), 1.0) == pytest.approx(20 / 20.2)
