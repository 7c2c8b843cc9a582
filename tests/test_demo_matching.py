"""The demo's closing score uses the benchmark's matcher (one matcher, one definition of a hit)."""

from twitchwatch.demo import match_events


def test_one_to_one_takes_the_most_pairs_not_the_nearest_first():
    # nearest-first would give truth 0.000 the detection at 0.008 and leave truth 0.010
    # with nothing within 15 ms; the maximum matching pairs both
    score = match_events([(0.000, 0), (0.010, 0)], [(0.008, 0), (-0.014, 0)])
    assert (score.truth, score.detected, score.matched) == (2, 2, 2)


def test_tolerance_edge_channel_and_one_use_per_detection():
    truth = [(1.000, 0), (2.000, 1), (3.000, 0), (3.001, 0)]
    events = [(1.015, 0), (2.000, 0), (3.016, 0), (3.0005, 0)]
    score = match_events(truth, events)
    # 1.015 is exactly 15 ms away (a hit); 2.000 is on the wrong channel; 3.016 is 15 ms
    # from 3.001 and so the two truths at 3.000 / 3.001 share 3.0005 and 3.016 one each
    assert score.matched == 3
    assert score.sensitivity == 0.75 and score.precision == 0.75


def test_unit_score_counts_events_that_carry_their_units_usual_id():
    from twitchwatch.demo import score_units

    # channel 0: unit 0 fires 3 times (ids 5, 5, 9), unit 1 twice (id 7); channel 1: unit 0 once
    truth = [(1.0, 0, 0), (2.0, 0, 0), (3.0, 0, 0), (4.0, 0, 1), (5.0, 0, 1), (6.0, 1, 0), (7.0, 1, 0)]
    events = [(1.001, 0, 5), (2.001, 0, 5), (3.001, 0, 9), (4.001, 0, 7), (5.001, 0, 7), (6.001, 1, 5),
              (9.0, 1, 3)]  # 7.0 on channel 1 missed; 9.0 matches nothing
    units = score_units(truth, events)
    # ids among matched events: 5, 9, 7 (channel 1 reuses 5): 3; all but the 9 agree
    assert (units.truth_units, units.detected_ids, units.matched, units.agreeing) == (3, 3, 6, 5)


def test_unit_score_breaks_ties_by_the_smallest_id():
    from twitchwatch.demo import score_units

    units = score_units([(1.0, 0, 0), (2.0, 0, 0)], [(1.0, 0, 4), (2.0, 0, 2)])
    assert (units.truth_units, units.detected_ids, units.matched, units.agreeing) == (1, 2, 2, 1)
