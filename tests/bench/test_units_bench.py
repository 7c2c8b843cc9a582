"""The unit-identity benchmark's scores (bench/detect/units_bench.py)."""

import math

import numpy as np
import pytest

from bench.detect.units_bench import amplitude_bins, ari, evaluate, offline_shapes, purity


def test_ari_is_one_for_the_same_partition_under_other_names_and_near_zero_for_chance():
    truth = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    assert ari(truth, [5, 5, 5, 9, 9, 7, 7, 7, 7]) == 1.0
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 4000).tolist(), rng.integers(0, 4, 4000).tolist()
    assert abs(ari(a, b)) < 0.01
    # the textbook example (Hubert & Arabie's formula): one item moved between two clusters
    assert ari([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1]) == pytest.approx(0.3243243, abs=1e-6)
    assert math.isnan(ari([1], [1]))


def test_purity_and_completeness_tell_merges_from_splits():
    truth = [0, 0, 0, 0, 1, 1, 1, 1]
    merged = [7] * 8
    split = [1, 1, 2, 2, 3, 3, 4, 4]
    assert purity(merged, truth) == 0.5 and purity(truth, merged) == 1.0  # one id mixes both units
    assert purity(split, truth) == 1.0 and purity(truth, split) == 0.5  # every unit over two ids


def test_baselines_label_what_they_should():
    assert amplitude_bins([100.0, 110.0, 200.0])[0] == amplitude_bins([100.0, 110.0, 200.0])[1]
    assert amplitude_bins([100.0, 200.0])[0] != amplitude_bins([100.0, 200.0])[1]
    t = np.linspace(0, 1, 50)
    a, b = np.sin(2 * np.pi * t), np.cos(2 * np.pi * 3 * t)
    labels = offline_shapes([a, 1.1 * a, b, 0.9 * b], 0.35)
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]


def test_a_short_simulated_stream_is_scored():
    r = evaluate("benign_clean", 60.0, 2000, min_events=2)
    assert r["matched"] > 5
    for method in ("engine", "amplitude bins", "offline shapes"):
        assert len(r[method]["labels"]) == r["matched"]
        assert 0.0 <= r[method]["purity"] <= 1.0
