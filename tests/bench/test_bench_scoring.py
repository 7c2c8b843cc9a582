"""Matching and metrics of the detection benchmark, on hand-made truth/detection lists."""

from __future__ import annotations

import math

import pytest

from bench.detect.scoring import (
    Tally,
    false_in_segments,
    match_events,
    score_stream,
    union_length,
    within_tolerance,
)

RATE = 2000.0  # 15 ms = 30 samples


def test_tolerance_edge_is_inclusive_at_exactly_15_ms():
    assert within_tolerance(30, RATE, 15.0)
    assert within_tolerance(-30, RATE, 15.0)
    assert not within_tolerance(31, RATE, 15.0)
    m = match_events([(1000, 0)], [(1030, 0)], RATE)
    assert m.tp == 1 and m.abs_error_samples == [30]
    m = match_events([(1000, 0)], [(970, 0)], RATE)
    assert m.tp == 1
    m = match_events([(1000, 0)], [(1031, 0)], RATE)
    assert (m.tp, m.fp, m.fn) == (0, 1, 1)
    m = match_events([(1000, 0)], [(969, 0)], RATE)
    assert (m.tp, m.fp, m.fn) == (0, 1, 1)


def test_tolerance_at_1000_hz_is_15_samples():
    assert match_events([(500, 0)], [(515, 0)], 1000.0).tp == 1
    assert match_events([(500, 0)], [(516, 0)], 1000.0).tp == 0


def test_channel_is_respected():
    m = match_events([(1000, 0)], [(1000, 1)], RATE)
    assert (m.tp, m.fp, m.fn) == (0, 1, 1)
    m = match_events([(1000, 0), (1000, 1)], [(1001, 1), (1002, 0)], RATE)
    assert m.tp == 2
    assert sorted(m.pairs) == [(0, 1), (1, 0)]


def test_one_to_one_no_double_counting():
    # two detections near one truth: one hit, one false
    m = match_events([(1000, 0)], [(995, 0), (1005, 0)], RATE)
    assert (m.tp, m.fp, m.fn) == (1, 1, 0)
    # one detection near two truths: one hit, one miss
    m = match_events([(1000, 0), (1010, 0)], [(1005, 0)], RATE)
    assert (m.tp, m.fp, m.fn) == (1, 0, 1)
    # duplicate detections at the same sample
    m = match_events([(1000, 0)], [(1000, 0), (1000, 0)], RATE)
    assert (m.tp, m.fp, m.fn) == (1, 1, 0)


def test_maximum_matching_beats_nearest_greedy():
    # Nearest-first would pair truth 1000 with det 1025 (error 25) and leave truth 1050
    # unmatched (1025 is its only partner within 30); the optimum pairs 1000-975 and
    # 1050-1025.
    truth = [(1000, 0), (1050, 0)]
    dets = [(975, 0), (1025, 0)]
    m = match_events(truth, dets, RATE)
    assert m.tp == 2
    assert sorted(m.pairs) == [(0, 0), (1, 1)]


def test_chain_of_doublets_all_matched():
    # doublet ~32 ms apart (64 samples), detections late by 20 samples each
    truth = [(1000, 0), (1064, 0), (5000, 0), (5066, 0)]
    dets = [(1020, 0), (1084, 0), (5020, 0), (5086, 0)]
    m = match_events(truth, dets, RATE)
    assert m.tp == 4 and m.fp == 0 and m.fn == 0
    assert m.abs_error_samples == [20, 20, 20, 20]


def test_among_maximum_matchings_the_smallest_error_wins():
    # one truth, detections at -25 and +2: both valid; the closer one is the hit
    m = match_events([(1000, 0)], [(975, 0), (1002, 0)], RATE)
    assert m.pairs == [(0, 1)]
    assert m.abs_error_samples == [2]


def test_unsorted_inputs_and_indices_refer_to_inputs():
    truth = [(5000, 1), (1000, 0)]
    dets = [(9000, 0), (5010, 1), (990, 0)]
    m = match_events(truth, dets, RATE)
    assert sorted(m.pairs) == [(0, 1), (1, 2)]
    assert m.unmatched_detections == [0]
    assert m.unmatched_truth == []


def test_empty_inputs():
    assert match_events([], [], RATE).tp == 0
    m = match_events([(1, 0)], [], RATE)
    assert (m.tp, m.fp, m.fn) == (0, 0, 1)
    m = match_events([], [(1, 0)], RATE)
    assert (m.tp, m.fp, m.fn) == (0, 1, 0)


def test_metrics_on_a_hand_made_case():
    # 4 truth; detections: 3 hits (errors 0, 10, 30 samples), 2 false
    truth = [(1000, 0), (3000, 0), (5000, 1), (7000, 1)]
    dets = [(1000, 0), (3010, 0), (5030, 1), (9000, 1), (12000, 0)]
    tally, m = score_stream(truth, dets, RATE, n_samples=120_000, is_control=False)
    assert (tally.tp, tally.fp, tally.fn) == (3, 2, 1)
    assert tally.sensitivity == pytest.approx(3 / 4)
    assert tally.precision == pytest.approx(3 / 5)
    assert tally.f1 == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    assert tally.median_abs_error_ms == pytest.approx(5.0)  # 0, 5, 15 ms
    assert tally.minutes == pytest.approx(1.0)
    assert math.isnan(tally.control_fp_per_min)


def test_control_false_per_minute():
    # 2 minutes of control with 3 detections: 1.5/min
    tally, _ = score_stream([], [(10, 0), (20_000, 1), (200_000, 0)], RATE, 240_000, is_control=True)
    assert tally.control_fp == 3
    assert tally.control_fp_per_min == pytest.approx(1.5)
    assert math.isnan(tally.f1) is False and tally.f1 == 0.0
    quiet, _ = score_stream([], [], RATE, 240_000, is_control=True)
    assert quiet.control_fp_per_min == 0.0
    assert math.isnan(quiet.f1)


def test_false_inside_segments():
    # segments: [10000, 22000) on all channels, [50000, 62000) channel 1 only (12000 + 12000
    # samples = 0.2 min in union)
    segs = [(10_000, 22_000, None), (50_000, 62_000, 1)]
    truth = [(15_000, 0)]
    dets = [
        (15_005, 0),  # matches truth inside a segment: not false
        (16_000, 1),  # inside the all-channel segment: false
        (21_999, 0),  # last sample of the segment: inside
        (22_000, 0),  # end is exclusive: outside
        (55_000, 0),  # channel-1 segment, channel 0: outside
        (55_000, 1),  # inside
    ]
    tally, m = score_stream(truth, dets, RATE, 240_000, is_control=False, artefact_segments=segs)
    assert false_in_segments(dets, m, segs) == 3
    assert tally.segment_fp == 3
    assert tally.segment_minutes == pytest.approx(24_000 / RATE / 60)
    assert tally.segment_fp_per_min == pytest.approx(3 / 0.2)
    assert tally.fp == 5  # every unmatched detection is a false one for precision


def test_overlapping_segments_counted_once():
    segs = [(0, 100, None), (50, 150, 0), (300, 400, 1)]
    assert union_length(segs) == 250
    m = match_events([], [(60, 0)], RATE)
    assert false_in_segments([(60, 0)], m, segs) == 1


def test_excluded_stretches_are_not_scored():
    excl = [(10_000, 20_000, None)]
    truth = [(15_000, 0), (30_000, 0)]
    dets = [(12_000, 0), (30_001, 0)]
    tally, _ = score_stream(truth, dets, RATE, 120_000, is_control=False, exclude=excl)
    assert (tally.tp, tally.fp, tally.fn) == (1, 0, 0)
    assert tally.minutes == pytest.approx(110_000 / RATE / 60)


def test_tallies_pool():
    a = Tally(tp=1, fp=1, fn=0, minutes=1, control_fp=0, abs_errors_ms=[1.0], signal_s=60, cpu_s=0.1)
    b = Tally(tp=0, fp=2, fn=1, minutes=2, control_fp=2, control_minutes=2, abs_errors_ms=[3.0],
              signal_s=120, cpu_s=0.2)
    c = a.add(b)
    assert (c.tp, c.fp, c.fn, c.control_fp) == (1, 3, 1, 2)
    assert c.control_fp_per_min == pytest.approx(1.0)
    assert c.median_abs_error_ms == pytest.approx(2.0)
    assert c.x_realtime == pytest.approx(600.0)


def test_crosstalk_copies_are_false_but_counted_as_such():
    truth = [(1000, 0)]
    xtalk = [(1002, 1)]  # the same twitch, smaller, on channel 1
    dets = [(1001, 0), (1003, 1), (9000, 1)]
    tally, _ = score_stream(truth, dets, RATE, 120_000, is_control=False, crosstalk=xtalk)
    assert (tally.tp, tally.fp, tally.fn) == (1, 2, 0)
    assert tally.crosstalk_fp == 1


def test_false_detections_on_the_plain_background_are_counted_but_stay_false():
    truth = [(1000, 0)]
    background = [(5002, 0), (7000, 1), (20_000, 0)]  # the detector's own events on the plain recording
    dets = [(1001, 0), (5000, 0), (7001, 0), (9000, 0), (20_005, 0), (20_100, 0)]
    tally, _ = score_stream(truth, dets, RATE, 120_000, is_control=False, background=background,
                            exclude=[(19_000, 21_000, None)])
    # 5000 matches a background event; 7001 is on another channel; 9000 is new; the
    # excluded stretch drops 20_005 / 20_100 and the background event there
    assert (tally.tp, tally.fp, tally.fn) == (1, 3, 0)
    assert tally.background_fp == 1
    assert tally.precision == pytest.approx(1 / 4)
    assert tally.precision_without_background == pytest.approx(1 / 3)
    assert tally.add(tally).background_fp == 2
