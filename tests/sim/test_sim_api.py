"""Public API of twitchwatch.sim: names, shapes, types, determinism, controls."""

import dataclasses
import json

import numpy as np
import pytest

from twitchwatch.sim import (
    SCENARIOS,
    Scenario,
    SimRecording,
    TruthSegment,
    TruthTwitch,
    inject_twitches,
    simulate,
)

REQUIRED = [
    "benign_clean", "benign_poor_contact", "als_like", "doublets", "mains60_drift", "baseline_wander",
    "ecg_contaminated", "voluntary_bursts", "walking", "electrode_pops", "mixed",
    "control_clean", "control_poor_contact", "control_voluntary", "control_walking", "control_ecg",
]


def test_required_scenarios_exist():
    for name in REQUIRED:
        assert isinstance(SCENARIOS[name], Scenario)
        assert SCENARIOS[name].name == name
    for name in REQUIRED:
        assert SCENARIOS[name].is_control == name.startswith("control_")


def test_truth_field_names_are_the_published_ones():
    tw = [f.name for f in dataclasses.fields(TruthTwitch)]
    assert tw[:9] == ["sample_index", "channel", "unit_id", "amplitude_uv", "duration_ms", "onset_index",
                      "end_index", "acc_response_mg", "doublet"]
    assert [f.name for f in dataclasses.fields(TruthSegment)] == ["kind", "start_index", "end_index", "channel"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TruthSegment("pop", 0, 1, 0).kind = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", REQUIRED)
def test_shapes_types_and_params(name):
    rec = simulate(name, 20.0, seed=5)
    assert isinstance(rec, SimRecording)
    assert rec.scenario == name and rec.seed == 5
    assert rec.emg_uv.dtype == np.float64 and rec.emg_uv.shape == (40000, 2)
    assert rec.acc_mg.dtype == np.float64 and rec.acc_mg.shape == (20000, 3)
    assert rec.emg_labels == ("EMG 1", "EMG 2")
    assert rec.emg_rate_hz == 2000.0 and rec.acc_rate_hz == 1000.0
    assert rec.duration_s == pytest.approx(20.0)
    assert np.isfinite(rec.emg_uv).all() and np.isfinite(rec.acc_mg).all()
    json.dumps(rec.params)  # JSON-able
    assert rec.params["scenario"]["name"] == name
    g = np.linalg.norm(np.median(rec.acc_mg, axis=0))
    assert 850 < g < 1150  # gravity, whatever the orientation
    for t in rec.twitches:
        assert 0 <= t.onset_index <= t.sample_index < t.end_index <= rec.emg_uv.shape[0]
        assert t.channel in (0, 1)
    for s in rec.segments:
        assert 0 <= s.start_index < s.end_index <= rec.emg_uv.shape[0]


@pytest.mark.parametrize("name", [n for n in REQUIRED if n.startswith("control_")])
def test_controls_have_no_twitches(name):
    rec = simulate(name, 120.0, seed=11, components=True)
    assert rec.is_control and rec.twitches == []
    assert not rec.components["twitch"].any() and not rec.components["acc_mmg"].any()


@pytest.mark.parametrize("name", ["mixed", "als_like", "control_walking"])
def test_deterministic_per_seed_and_different_across_seeds(name):
    a, b, c = simulate(name, 30.0, 7), simulate(name, 30.0, 7), simulate(name, 30.0, 8)
    np.testing.assert_array_equal(a.emg_uv, b.emg_uv)
    np.testing.assert_array_equal(a.acc_mg, b.acc_mg)
    assert a.twitches == b.twitches and a.segments == b.segments and a.params == b.params
    assert not np.array_equal(a.emg_uv, c.emg_uv)
    assert a.twitches != c.twitches or a.segments != c.segments


def test_overrides_and_scenario_objects():
    sc = SCENARIOS["benign_clean"].replace(name="custom", twitch_rate_per_min=60.0)
    rec = simulate(sc, 30.0, 1)
    assert rec.scenario == "custom" and len(rec.twitches) > 30
    rec2 = simulate("benign_clean", 30.0, 1, twitch_rate_per_min=0.0)
    assert rec2.twitches == []


def test_blocks_interleave_in_time_order_and_cover_everything():
    rec = simulate("benign_clean", 3.0, 2)
    seen = {"emg": [], "acc": []}
    last_t = -1.0
    for kind, first, arr in rec.blocks(25):
        rate = rec.emg_rate_hz if kind == "emg" else rec.acc_rate_hz
        assert first / rate >= last_t
        last_t = first / rate
        seen[kind].append((first, arr))
    emg = np.concatenate([a for _f, a in seen["emg"]])
    acc = np.concatenate([a for _f, a in seen["acc"]])
    np.testing.assert_array_equal(emg, rec.emg_uv)
    np.testing.assert_array_equal(acc, rec.acc_mg)
    assert [f for f, _a in seen["emg"]][:3] == [0, 50, 100]
    assert [f for f, _a in seen["acc"]][:3] == [0, 25, 50]
    kinds = [k for k, _f, _a in rec.blocks(25)]
    assert kinds[:4] == ["emg", "acc", "emg", "acc"]


def test_inject_twitches_on_synthetic_background_shapes():
    bg = np.random.default_rng(0).standard_normal((60000, 2)) * 3.0
    out, truth = inject_twitches(bg, 1000.0, seed=3)
    assert out.shape == bg.shape and len(truth) > 20
    out1, truth1 = inject_twitches(bg[:, 0], 1000.0, seed=3)
    assert out1.shape == (60000,)


def test_the_accelerometer_clock_error_moves_only_the_accelerometer():
    """A scenario's ``acc_clock_*``: the EMG and its truth are unchanged; the
    accelerometer is the same signal read on a clock 1 % slow (wandering ±0.1 %): a
    twitch's mechanical response lands ~1 % of its time earlier in samples."""
    from twitchwatch.sim import simulate
    from twitchwatch.sim.chipclock import chip_sample_times_s

    plain = simulate("benign_clean", 60, 4, components=True, mmg_prob=1.0)
    drift = simulate("benign_clean", 60, 4, components=True, mmg_prob=1.0, acc_clock_ppm=10000,
                     acc_clock_wander_ppm=1000, acc_clock_wander_s=30)
    assert np.array_equal(plain.emg_uv, drift.emg_uv) and plain.twitches == drift.twitches
    a0, a1 = plain.components["acc_mmg"], drift.components["acc_mmg"]
    late = [t for t in plain.twitches if t.sample_index > 40 * plain.emg_rate_hz]
    assert late
    afs = plain.acc_rate_hz
    moved = []
    for t in late:
        j = int(t.sample_index * afs / plain.emg_rate_hz)
        w = slice(max(0, j - 1000), j + 200)
        p0 = np.argmax(np.abs(a0[w]).sum(axis=1))
        p1 = np.argmax(np.abs(a1[w]).sum(axis=1))
        moved.append(p0 - p1)
    t_s = late[0].sample_index / plain.emg_rate_hz  # the earliest of them
    assert np.median(moved) > 0.007 * t_s * afs, moved
    times = chip_sample_times_s(int(60 * afs), afs, 10000, 0.0, 1000, 30)
    rate = np.diff(times) * afs
    assert np.all(rate > 0) and 1.0089 < rate.min() < rate.max() < 1.0111
