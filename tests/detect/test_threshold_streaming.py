"""Streaming contract: chunk-size invariance, gaps, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detect_synth import RATE_HZ, make_recording, potential_shape, run_detector
from twitchwatch.detect import ThresholdDetector, TwitchEvent

LABELS = ["emg0", "emg1"]

# 1.5 s with a potential every ~100 ms after warm-up: many events, some near any cut.
RECORDING, TRUTH = make_recording(42, duration_s=1.5, mean_interval_s=0.05, lead_in_s=0.2)


def _key(event: TwitchEvent):
    return (event.sample_index, event.channel)


def _reference(recording=RECORDING, **kwargs) -> list[TwitchEvent]:
    return sorted(run_detector(ThresholdDetector(RATE_HZ, LABELS, **kwargs), recording), key=_key)


def test_reference_has_events_to_compare():
    assert len(_reference()) >= 10


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=200))
def test_any_split_gives_the_same_events(block_sizes):
    events = run_detector(ThresholdDetector(RATE_HZ, LABELS), RECORDING, block_sizes)
    assert sorted(events, key=_key) == _reference()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([1, 1, 1, 2, 3, 7, 160]), min_size=1, max_size=400))
def test_splits_with_many_tiny_blocks_give_the_same_events(block_sizes):
    events = run_detector(ThresholdDetector(RATE_HZ, LABELS), RECORDING, block_sizes)
    assert sorted(events, key=_key) == _reference()


def test_one_sample_blocks_give_the_same_events():
    events = run_detector(ThresholdDetector(RATE_HZ, LABELS), RECORDING, [1] * RECORDING.shape[0])
    assert sorted(events, key=_key) == _reference()


def test_stream_may_start_at_a_nonzero_index():
    detector = ThresholdDetector(RATE_HZ, LABELS)
    events = detector.process(RECORDING, 5000) + detector.flush()
    shifted = [e.sample_index - 5000 for e in sorted(events, key=_key)]
    assert shifted == [e.sample_index for e in _reference()]


def _gap_run(block_sizes, gap_at: int, n_missing: int, recording: np.ndarray):
    """Feed recording[:gap_at], announce the gap, feed the rest shifted by n_missing."""
    detector = ThresholdDetector(RATE_HZ, LABELS)
    events = []
    position = 0
    sizes = iter(block_sizes * (recording.shape[0] + 1))
    while position < gap_at:
        size = min(next(sizes), gap_at - position)
        events += detector.process(recording[position : position + size], position)
        position += size
    detector.mark_gap(gap_at, n_missing)
    while position < recording.shape[0]:
        size = min(next(sizes), recording.shape[0] - position)
        events += detector.process(recording[position : position + size], position + n_missing)
        position += size
    return sorted(events + detector.flush(), key=_key), detector


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=50))
def test_splits_around_a_gap_give_the_same_events(block_sizes):
    expected, _ = _gap_run([RECORDING.shape[0]], 1500, 37, RECORDING)
    events, _ = _gap_run(block_sizes, 1500, 37, RECORDING)
    assert events == expected


def test_no_event_straddles_a_gap_and_the_filter_restarts():
    """A potential cut in half by the gap, then a 5 mV electrode-offset jump after it."""
    recording = np.random.default_rng(1).normal(0.0, 3.0, size=(8000, 2))
    shape = potential_shape(200.0, 20.0, 3, RATE_HZ)
    gap_at, n_missing = 4000, 100
    recording[gap_at - 20 : gap_at - 20 + shape.size] += shape[:, None]  # half before the gap
    recording[gap_at:] += 5000.0  # offset jump across the gap: must not ring
    events, detector = _gap_run([250], gap_at, n_missing, recording)
    # Events before the gap come from pre-gap samples only: the same as ending the stream there.
    alone = ThresholdDetector(RATE_HZ, LABELS)
    before_only = sorted(alone.process(recording[:gap_at], 0) + alone.flush(), key=_key)
    assert len(before_only) == 2  # the cut potential, on both channels
    assert [e for e in events if e.sample_index < gap_at] == before_only
    after = [e for e in events if e.sample_index >= gap_at]
    assert after == []  # the second half of the cut potential falls in the settling blanking
    assert detector.counts["rejected_sustained"] == 0
    np.testing.assert_array_less(detector.noise_floor_uv, 3.0)  # the jump did not inflate it


def test_gap_longer_than_the_noise_history_restarts_warm_up():
    detector = ThresholdDetector(RATE_HZ, LABELS)
    detector.process(RECORDING, 0)
    assert np.isfinite(detector.noise_floor_uv).all()
    detector.mark_gap(RECORDING.shape[0], int(60 * RATE_HZ))
    assert np.isnan(detector.noise_floor_uv).all()


def test_short_gap_keeps_the_noise_floor():
    detector = ThresholdDetector(RATE_HZ, LABELS)
    detector.process(RECORDING, 0)
    floor = detector.noise_floor_uv
    detector.mark_gap(RECORDING.shape[0], 20)
    np.testing.assert_array_equal(detector.noise_floor_uv, floor)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_raises_and_leaves_the_state_unchanged(bad):
    detector = ThresholdDetector(RATE_HZ, LABELS)
    events = detector.process(RECORDING[:1000], 0)
    poisoned = RECORDING[1000:1100].copy()
    poisoned[17, 1] = bad
    with pytest.raises(ValueError, match=r"non-finite.*1017.*channel 1"):
        detector.process(poisoned, 1000)
    events += detector.process(RECORDING[1000:], 1000) + detector.flush()
    assert sorted(events, key=_key) == _reference()


def test_non_contiguous_block_raises():
    detector = ThresholdDetector(RATE_HZ, LABELS)
    detector.process(RECORDING[:100], 0)
    with pytest.raises(ValueError, match="expected 100"):
        detector.process(RECORDING[100:200], 101)
    with pytest.raises(ValueError, match="expected 100"):
        detector.mark_gap(150, 10)


def test_wrong_shape_raises():
    detector = ThresholdDetector(RATE_HZ, LABELS)
    with pytest.raises(ValueError, match=r"\(n_samples, 2\)"):
        detector.process(np.zeros((10, 3)), 0)
    with pytest.raises(ValueError):
        detector.process(np.zeros(10), 0)


def test_empty_block_is_fine():
    detector = ThresholdDetector(RATE_HZ, LABELS)
    assert detector.process(np.zeros((0, 2)), 0) == []
    assert detector.flush() == []


def test_flat_channel_gives_no_events():
    detector = ThresholdDetector(RATE_HZ, LABELS)
    events = run_detector(detector, np.full((20000, 2), 123.0))
    assert events == []


def test_to_json_dict_is_json_ready():
    event = _reference()[0]
    data = json.loads(json.dumps(event.to_json_dict()))
    assert data["t"] == event.t_s
    for key in ("t", "channel", "amplitude_uv", "duration_ms", "confidence", "sample_index", "channel_label", "detector"):
        assert key in data
