import numpy as np
import pytest

from twitchwatch.dashboard.hub import LiveHub
from twitchwatch.detect import TwitchEvent

from .blocks import ACC_INFO, EMG_INFO, EMG_RATE_HZ, blocks, emg_counts


def _trace(hub: LiveHub) -> dict:
    trace = hub.take()["trace"]
    assert trace is not None
    return trace


def _feed(hub, bl):
    for b in bl:
        hub.on_block(b)


@pytest.mark.parametrize("sizes", [[1], [7, 13], [333], [20000]])
def test_trace_is_the_same_whatever_the_block_sizes(sizes):
    counts = emg_counts(15000)
    ref = LiveHub(window_s=2.0, columns=200)
    _feed(ref, blocks(EMG_INFO, counts, [20]))
    hub = LiveHub(window_s=2.0, columns=200)
    _feed(hub, blocks(EMG_INFO, counts, sizes))
    a, b = _trace(ref), _trace(hub)
    assert a["t_end_s"] == b["t_end_s"] == 15000 / EMG_RATE_HZ
    for x, y in zip(a["emg"], b["emg"]):
        np.testing.assert_allclose(np.array(x["min"], float), np.array(y["min"], float), atol=0.11)
        np.testing.assert_allclose(np.array(x["max"], float), np.array(y["max"], float), atol=0.11)


def test_trace_shows_microvolts_without_the_offset_and_gaps_as_empty_columns():
    hub = LiveHub(window_s=1.0, columns=100)
    counts = emg_counts(6000)
    bl = blocks(EMG_INFO, counts, [20])
    _feed(hub, bl[:200] + bl[210:])  # 10 blocks (200 samples = 10 columns) never arrive
    trace = _trace(hub)
    mins, maxs = trace["emg"][0]["min"], trace["emg"][0]["max"]
    assert trace["window_s"] == 1.0 and len(mins) == 100
    assert all(m is None for m in mins[0:10])  # samples 4000..4199 are in the first 10 columns of the window
    shown = [v for v in maxs if v is not None]
    assert 5 < np.median(shown) < 40  # 5 µV RMS noise, 20 samples per column; the 200 µV offset is filtered off


def test_markers_are_the_events_inside_the_window():
    hub = LiveHub(window_s=1.0, columns=100)
    _feed(hub, blocks(EMG_INFO, emg_counts(4000), [20]))
    for idx in (500, 3500, 3900):
        hub.on_event(TwitchEvent(idx, idx / EMG_RATE_HZ, 0, "EMG 1", 150.0, 6.0, 0.9, "test", unit_id=3))
    markers = _trace(hub)["markers"]
    assert [m["t_s"] for m in markers] == [1.75, 1.95]  # 500 is before the 1 s window ending at 2.0 s
    assert markers[0]["unit_id"] == 3


def test_a_device_restart_starts_a_new_run_and_drops_old_markers():
    hub = LiveHub(window_s=1.0, columns=100)
    _feed(hub, blocks(EMG_INFO, emg_counts(10000), [20]))
    hub.on_event(TwitchEvent(9900, 4.95, 0, "EMG 1", 150.0, 6.0, 0.9, "test"))
    hub.run_started(None)  # the pipeline says so (a reset, or START restarting the count); never guessed
    _feed(hub, blocks(EMG_INFO, emg_counts(1000, seed=2), [20], first_index=0))  # count restarts at 0
    trace = _trace(hub)
    assert trace["t_end_s"] == 0.5 and trace["markers"] == []
    assert sum(m is None for m in trace["emg"][0]["min"]) == 50  # half the window not received yet


def test_acceleration_magnitude_in_mg():
    hub = LiveHub(window_s=1.0, columns=100)
    _feed(hub, blocks(EMG_INFO, emg_counts(2000), [20]))
    acc = np.tile(np.array([[0, 6000, 8000]], dtype=np.int32), (1000, 1))  # 0, 600, 800 mg → 1000 mg
    _feed(hub, blocks(ACC_INFO, acc, [10]))
    trace = _trace(hub)
    assert trace["acc"]["min"][-1] == pytest.approx(1000.0) and trace["acc"]["max"][0] == pytest.approx(1000.0)
    assert hub.hello()["has_acc"] is True and hub.hello()["emg_labels"] == ["EMG 1", "EMG 2"]


def test_wake_is_coalesced_until_taken():
    hub = LiveHub()
    calls = []
    hub.set_waker(lambda: calls.append(1))
    _feed(hub, blocks(EMG_INFO, emg_counts(2000), [20]))
    assert len(calls) == 1  # 100 blocks, one wake-up
    hub.take()
    _feed(hub, blocks(EMG_INFO, emg_counts(200), [20], first_index=2000))
    assert len(calls) == 2


def test_a_waker_whose_loop_closed_does_not_break_acquisition():
    hub = LiveHub()

    def closed_loop():
        raise RuntimeError("Event loop is closed")
    hub.set_waker(closed_loop)
    _feed(hub, blocks(EMG_INFO, emg_counts(200), [20]))
    assert hub.blocks_seen == 10


def test_status_gets_rates_and_each_event_is_handed_over_once():
    from twitchwatch.pipeline import LiveStatus

    hub = LiveHub()
    _feed(hub, blocks(EMG_INFO, emg_counts(2000), [20]))
    hub.on_event(TwitchEvent(100, 0.05, 1, "EMG 2", 150.0, 6.0, 0.9, "test", unit_id=7))
    hub.on_status(LiveStatus(1.0, 1.0, 1, 60.0, [2.0, 2.0], {}, "streaming", battery_pct=80))
    new = hub.take()
    assert [e["sample_index"] for e in new["events"]] == [100]
    assert new["status"]["battery_pct"] == 80
    assert new["status"]["rates"]["per_unit"][0]["unit_id"] == 7
    again = hub.take()
    assert again["events"] == [] and again["status"] is None and again["trace"] is None


def _traced_mb_after(feed, checkpoints):
    """Python memory (MB, tracemalloc) held after feeding up to each checkpoint."""
    import gc
    import tracemalloc

    tracemalloc.start()
    try:
        out = []
        for n in checkpoints:
            feed(n)
            gc.collect()
            out.append(tracemalloc.get_traced_memory()[0] / 1e6)
        return out
    finally:
        tracemalloc.stop()


def test_live_state_stays_bounded_whatever_the_number_of_twitches():
    """Issue 17, the soak's growth: the hub kept up to 100,000 twitches (~75 MB) where the
    live ranking reads 20,000. Twitches at 40 a minute, a status each 7 and the
    broadcaster taking each: what the hub holds stops growing once it holds
    ``max_events``; the default budget (MAX_EVENTS_KEPT, measured here per twitch) is
    under 20 MB; rates still count every twitch."""
    from twitchwatch.dashboard.hub import MAX_EVENTS_KEPT
    from twitchwatch.pipeline import LiveStatus

    hub = LiveHub(max_events=1000)
    _feed(hub, blocks(EMG_INFO, emg_counts(2000), [20]))
    state = {"n": 0}

    def feed(upto):
        while state["n"] < upto:
            k = state["n"]
            t_s = k * 1.5  # 40 a minute
            hub.on_event(TwitchEvent(int(t_s * EMG_RATE_HZ), t_s, k % 2, f"EMG {k % 2 + 1}", 100.0 + k % 50, 6.0,
                                     0.9, "test", wall_time_s=1.8e9 + t_s, unit_id=k % 6))
            if k % 7 == 0:
                hub.on_status(LiveStatus(t_s, t_s, k, 40.0, [2.0, 2.0], {}, "streaming"))
                hub.take()
            state["n"] += 1

    start, half, full, later = _traced_mb_after(feed, [100, 900, 1500, 5000])
    per_event_mb = (half - start) / 800
    assert later - full < 0.1, f"the hub grew {later - full:.2f} MB from 1,500 to 5,000 twitches (keeping 1,000)"
    assert MAX_EVENTS_KEPT * per_event_mb < 20.0, f"{MAX_EVENTS_KEPT} twitches kept take {MAX_EVENTS_KEPT * per_event_mb:.0f} MB"
    assert len(hub.recent_events(10**9)) == 1000
    assert hub.recent_events(1)[0]["sample_index"] == int(4_999 * 1.5 * EMG_RATE_HZ)  # the newest are kept
    hub.on_status(LiveStatus(7_500.0, 7_500.0, 5_000, 40.0, [2.0, 2.0], {}, "streaming"))
    per_channel = hub.take()["status"]["rates"]["per_channel"]
    assert sum(row["count"] for row in per_channel) == 5_000  # rates count every twitch
    assert LiveHub()._events.capacity == MAX_EVENTS_KEPT


def test_latency_log_memory_is_fixed_when_made():
    """Issue 17: a page sends ``drawn`` for every trace frame (30 a second); the latency
    log kept them in a deque growing for 55 minutes (100,000 floats, ~3 MB). Now a
    preallocated ring: two hours of frames cost what ten minutes did, and the newest
    ``keep`` latencies are reported oldest first."""
    from twitchwatch.dashboard.server import LatencyLog

    log = LatencyLog(keep=50_000)
    state = {"n": 0}

    def feed(upto):
        while state["n"] < upto:
            k = state["n"] = state["n"] + 1
            log.sent(k, 0.0)
            log.drawn(k)
            log.drawn(k)  # a repeated reply counts once
            log.sent(10**9 + k, 0.0)  # a frame never drawn (the tab was hidden)

    ten_min, two_h = _traced_mb_after(feed, [18_000, 216_000])
    assert two_h - ten_min < 0.1, f"the latency log grew {two_h - ten_min:.2f} MB in 2 h of frames"
    assert log.frames_drawn == 216_000 and log.frames_sent == 432_000
    kept = log.latencies_s
    assert kept.shape == (50_000,) and np.all(np.diff(kept) >= 0)  # oldest first (monotonic clock)


def _twitch(k: int) -> TwitchEvent:
    t_s = k * 1.5  # 40 a minute
    return TwitchEvent(int(t_s * EMG_RATE_HZ), t_s, k % 2, f"EMG {k % 2 + 1}", 100.0 + k % 50, 6.0, 0.9, "test",
                       wall_time_s=1.8e9 + t_s, unit_id=k % 6)


def test_kept_twitches_cost_no_python_memory_as_they_accumulate():
    """Issue 17, the soak's fragmentation: the hub kept each twitch as a dict (~0.75 kB of
    small objects, allocated among the run's short-lived ones, pinning the allocator's
    arenas). Now they go into columns made when the hub is: 5,000 twitches into a hub
    keeping 20,000 (and taken by the broadcaster as they come) leave Python's traced
    memory where it was; the old hub grew ~3.7 MB."""
    from twitchwatch.pipeline import LiveStatus

    hub = LiveHub()
    _feed(hub, blocks(EMG_INFO, emg_counts(2000), [20]))
    state = {"n": 0}

    def feed(upto):
        while state["n"] < upto:
            k = state["n"]
            hub.on_event(_twitch(k))
            if k % 7 == 0:
                hub.on_status(LiveStatus(k * 1.5, k * 1.5, k, 40.0, [2.0, 2.0], {}, "streaming"))
                hub.take()
            state["n"] += 1

    start, end = _traced_mb_after(feed, [100, 5100])
    assert end - start < 0.2, f"the hub grew {end - start:.2f} MB for 5,000 twitches"
    assert len(hub.recent_events(10**9)) == 5100


def test_twitches_waiting_for_a_broadcaster_that_does_not_take_are_bounded_and_counted():
    """A server that stopped taking (its loop blocked): the hub held every new twitch in
    a list without end. Now at most MAX_NEW_EVENTS_WAITING wait; older ones leave the live
    feed, counted (they are stored and kept regardless)."""
    from twitchwatch.dashboard import hub as hub_module

    MAX_NEW_EVENTS_WAITING = getattr(hub_module, "MAX_NEW_EVENTS_WAITING", 1_000)  # (the old hub had no bound)
    hub = LiveHub()
    n = MAX_NEW_EVENTS_WAITING + 4_000
    for k in range(n):
        hub.on_event(_twitch(k))
    assert len(hub._new_events) == MAX_NEW_EVENTS_WAITING
    assert getattr(hub, "events_not_shown", None) == 4_000
    taken = hub.take()["events"]
    assert [e["sample_index"] for e in taken] == [_twitch(k).sample_index for k in range(4_000, n)]
    assert len(hub.recent_events(10**9)) == n  # kept for markers and the ranking all the same


def test_frames_awaiting_their_drawn_are_bounded_and_keep_no_python_object():
    """Issue 17: the frames awaiting the page's ``drawn`` were an ordered dict of up to
    1,000 entries (an int, a float and a node each, replaced 30 times a second among the
    run's short-lived objects). Now slots of two arrays made with the log: 5,000 frames
    never drawn leave at most LATENCY_FRAMES_AWAITED awaited and Python's traced memory
    where it was; a late ``drawn`` of a forgotten frame, a repeated one, or one that is not
    a frame id, counts nothing."""
    from twitchwatch.dashboard.server import LATENCY_FRAMES_AWAITED, LatencyLog

    log = LatencyLog(keep=1000)
    state = {"n": 0}

    def feed(upto):
        while state["n"] < upto:
            state["n"] += 1
            log.sent(state["n"], 0.0)

    start, end = _traced_mb_after(feed, [10, 5_010])
    assert end - start < 0.02, f"the latency log grew {(end - start) * 1e3:.0f} kB for 5,000 frames awaited"
    assert getattr(log, "frames_awaited", None) == LATENCY_FRAMES_AWAITED
    for frame_id in (1, 5_010 - LATENCY_FRAMES_AWAITED, "5010", 5_010.0, True, -5, 10**40):
        log.drawn(frame_id)
    assert log.frames_drawn == 0
    log.drawn(5_010)
    log.drawn(5_010)
    assert log.frames_drawn == 1 and log.frames_awaited == LATENCY_FRAMES_AWAITED - 1
