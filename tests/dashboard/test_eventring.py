"""The dashboard's kept twitches in fixed numpy columns (issue 17: no Python object per
twitch kept, memory fixed when made, every bound counted after feeding far past it)."""

import dataclasses

import pytest

from twitchwatch.dashboard.eventring import EventRing
from twitchwatch.detect import TwitchEvent


def _event(k: int, **changes) -> TwitchEvent:
    e = TwitchEvent(1000 + 37 * k, (1000 + 37 * k) / 2000.0, k % 2, f"EMG {k % 2 + 1}", 100.0 + k / 3, 6.25,
                    0.9, "engine 1.15", wall_time_s=1.8e9 + k * 1.5, n_phases=3, polarity=-1,
                    acc_response_mg=None if k % 3 else 12.5, unit_id=None if k % 4 == 0 else k % 7,
                    counted=bool(k % 5), main_phase_ms=None if k % 2 else 2.75)
    return dataclasses.replace(e, **changes)


def _as_hub_kept_them(e: TwitchEvent, run: int) -> dict:
    data = e.to_json_dict()
    data["_run"] = run
    return data


def test_what_comes_back_is_what_went_in_before_and_after_wrapping():
    ring = EventRing(50)
    events = [_event(k) for k in range(130)]
    for k, e in enumerate(events):
        ring.append(e, run=k // 60)
        if k == 20:
            assert ring.newest(10**9) == [_as_hub_kept_them(x, 0) for x in events[:21]]
    assert len(ring) == 50
    want = [_as_hub_kept_them(x, k // 60) for k, x in enumerate(events)][-50:]
    got = ring.newest(10**9)
    assert got == want
    assert [list(d) for d in got] == [list(d) for d in want]  # the same keys in the same order
    assert all(type(g[k]) is type(w[k]) for g, w in zip(got, want) for k in w)  # int stays int, None None
    assert ring.newest(3) == want[-3:] and ring.newest(0) == []
    assert ring.last("t_s") == events[-1].t_s and EventRing(5).last("t_s") is None


def test_memory_is_fixed_when_made_and_strings_stay_bounded():
    """Fed 10,000 twitches each naming a new channel label (a hostile device), the ring
    holds its capacity, its columns never grew, and its table of strings stays within
    its bound (only what the kept twitches name)."""
    ring = EventRing(100)
    made = ring.nbytes
    for k in range(10_000):
        ring.append(_event(k, channel_label=f"label {k}"), run=0)
        assert ring.strings_kept <= ring.max_strings
    assert len(ring) == 100 and ring.nbytes == made
    kept = ring.newest(10**9)
    assert [d["channel_label"] for d in kept] == [f"label {k}" for k in range(9_900, 10_000)]
    assert {d["detector"] for d in kept} == {"engine 1.15"}


def test_adding_a_twitch_keeps_no_python_object():
    """The old hub kept a dict of ~17 values per twitch (~0.75 kB, a dozen small objects):
    10,000 twitches into a ring of 20,000 now leave Python's traced memory where it was."""
    import gc
    import tracemalloc

    ring = EventRing(20_000)
    events = [_event(k) for k in range(10_000)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for e in events:
            ring.append(e, run=1)
        gc.collect()
        grew = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grew < 20_000, f"{grew} bytes kept for 10,000 twitches"


def test_markers_read_back_to_the_first_twitch_out_of_the_window():
    ring = EventRing(1000)
    for k, si in enumerate([100, 5000, 9000, 9400, 9300, 9950]):  # channels decided apart: a little out of order
        ring.append(_event(k, sample_index=si, unit_id=k), run=2)
    assert [m["sample_index"] for m in ring.markers(2, 9350, slack=2000)] == [9400, 9950]
    # a twitch of an older run ends the read, whatever its index
    ring.append(_event(9, sample_index=9990), run=1)
    ring.append(_event(10, sample_index=9995, unit_id=None), run=2)
    assert ring.markers(2, 9000, slack=2000) == [{"sample_index": 9995, "channel": 0,
                                                  "amplitude_uv": pytest.approx(100.0 + 10 / 3),
                                                  "unit_id": None}]
    assert EventRing(4).markers(0, 0, 10) == []
