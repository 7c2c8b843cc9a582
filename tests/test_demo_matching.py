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
