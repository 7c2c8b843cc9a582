import random

import numpy as np
import pytest

from twitchwatch.dashboard.view import RateCounter, display_factor, minmax_columns, rate_bins


def test_minmax_columns_match_brute_force_and_leave_gaps_empty():
    rng = np.random.default_rng(4)
    values = rng.normal(0, 50, 1000)
    valid = np.ones(1000, dtype=bool)
    valid[130:155] = False  # columns 13, 14 fully missing; 15 partly
    mins, maxs = minmax_columns(values, valid, 100)
    assert len(mins) == len(maxs) == 100
    for c in range(100):
        sl = slice(c * 10, (c + 1) * 10)
        ok = valid[sl]
        if not ok.any():
            assert mins[c] is None and maxs[c] is None
        else:
            assert mins[c] == pytest.approx(values[sl][ok].min(), abs=0.05)
            assert maxs[c] == pytest.approx(values[sl][ok].max(), abs=0.05)
    assert mins[13] is None and mins[14] is None and mins[15] is not None


def test_minmax_columns_rejects_a_window_that_does_not_split():
    with pytest.raises(ValueError, match="columns"):
        minmax_columns(np.zeros(1001), np.ones(1001, bool), 100)


def test_display_factor_converts_units_and_keeps_unknown_ones():
    assert display_factor("mV", "emg") == 1000.0
    assert display_factor("g", "acc") == 1000.0
    assert display_factor("furlongs", "emg") == 1.0


def test_the_page_reads_every_unit_the_file_readers_read():
    """One unit table (twitchwatch.units) for files, LSL and the page: a unit a file may
    carry ("μV" with a Greek mu, "m/s²", "micro volts") is scaled the same on the page."""
    from twitchwatch.formats.base import acc_factor, emg_factor

    for unit in ("μV", "µV", "micro volts", "mV", "V", "nV"):
        assert display_factor(unit, "emg") == emg_factor(unit, "f", "EMG 1")
    for unit in ("g", "mg", "m/s²", "m/s^2", "m s^-2"):
        assert display_factor(unit, "acc") == acc_factor(unit, "f", "ACC X")


def _ev(t_s, label, unit=None, wall=None):
    return {"t_s": t_s, "channel_label": label, "unit_id": unit, "wall_time_s": wall}


def rates(events, labels, now_s, elapsed_s):
    counter = RateCounter()
    for e in events:
        counter.add(e)
    return counter.snapshot(labels, now_s, elapsed_s)


def test_rates_per_channel_and_per_unit():
    events = [_ev(10, "EMG 1", 0), _ev(70, "EMG 1", 0), _ev(100, "EMG 2", 1), _ev(110, "EMG 1", 2)]
    r = rates(events, ["EMG 1", "EMG 2"], now_s=120.0, elapsed_s=120.0)
    ch = {row["label"]: row for row in r["per_channel"]}
    assert ch["EMG 1"]["count"] == 3 and ch["EMG 1"]["last_min"] == 2  # 70 and 110 are within 60 s of 120
    assert ch["EMG 1"]["session_per_min"] == 1.5 and ch["EMG 2"]["session_per_min"] == 0.5
    units = {row["unit_id"]: row for row in r["per_unit"]}
    assert units[0]["count"] == 2 and units[0]["last_min"] == 1 and units[1]["channel_label"] == "EMG 2"
    assert rates(events, ["EMG 1"], 5.0, 5.0)["per_channel"][0]["session_per_min"] is None  # too short to say


def test_rate_bins_count_by_minute_and_skip_untimed_events():
    events = [_ev(0, "EMG 1", wall=1000.0), _ev(0, "EMG 1", wall=1059.0), _ev(0, "EMG 1", wall=1060.0),
              _ev(0, "EMG 2", wall=1130.0), _ev(0, "EMG 2", wall=None), _ev(0, "EMG 2", wall=5000.0)]
    assert rate_bins(events, 1000.0, 1180.0) == {"EMG 1": [2, 1, 0], "EMG 2": [0, 0, 1]}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_running_rates_equal_a_recount_at_every_snapshot(seed):
    """Busy twitching for 10 min (3 channels, 5 units) fed in time order up to ~2 s of
    disorder (channels are decided separately), a snapshot every 0.7 s: each snapshot
    equals counting the fed events from scratch."""
    rng = random.Random(seed)
    events = [_ev(rng.uniform(0, 600), rng.choice(["EMG 1", "EMG 2", "EMG 3"]), rng.choice([None, 0, 1, 2, 3, 4]))
              for _ in range(1500)]
    events.sort(key=lambda e: e["t_s"] + rng.uniform(0, 2.0))
    counter = RateCounter()
    fed: list = []
    for k in range(1, 1000):
        now_s = 0.7 * k
        while events and events[0]["t_s"] <= now_s:
            e = events.pop(0)
            counter.add(e)
            fed.append(e)
        got = counter.snapshot(["EMG 1", "EMG 2"], now_s, now_s)
        since = now_s - 60.0
        for row in got["per_channel"]:
            mine = [e for e in fed if e["channel_label"] == row["label"]]
            assert row["count"] == len(mine)
            assert row["last_min"] == sum(e["t_s"] >= since for e in mine)
        for row in got["per_unit"]:
            mine = [e for e in fed if e["unit_id"] == row["unit_id"]]
            assert row["count"] == len(mine) and row["last_min"] == sum(e["t_s"] >= since for e in mine)
        assert {r["unit_id"] for r in got["per_unit"]} == {e["unit_id"] for e in fed if e["unit_id"] is not None}


def test_unit_rows_stay_bounded_when_the_detector_keeps_naming_new_units():
    """Issue 17: the detector recycles templates under new ids, so over days the ids keep
    coming; the counter kept a row for every id ever seen (and sent them all each
    second). Now at most ``max_units`` rows plus the units of the last minute; the
    quietest idle ones are folded into ``units_not_listed``, the busiest kept exact."""
    counter = RateCounter(max_units=20)
    busy = []
    for k in range(5000):  # 2 s apart: 1.4 h; every 5th twitch from unit 0, the rest a new id each
        uid = 0 if k % 5 == 0 else k
        e = _ev(2.0 * k, "EMG 1", uid)
        counter.add(e)
        if uid == 0:
            busy.append(e)
        if k % 10 == 0:
            counter.snapshot(["EMG 1"], 2.0 * k, 2.0 * k)
    snap = counter.snapshot(["EMG 1"], 2.0 * 4999, 2.0 * 4999)
    assert len(counter._units) <= 20 + 30  # the last minute holds 30 twitches
    assert len(snap["per_unit"]) == len(counter._units)
    assert snap["per_unit"][0]["unit_id"] == 0 and snap["per_unit"][0]["count"] == len(busy)
    assert snap["per_unit"][0]["last_min"] == sum(e["t_s"] >= 2.0 * 4999 - 60 for e in busy)
    assert snap["units_not_listed"] + len(snap["per_unit"]) == 1 + 4000  # every unit is listed or counted
    assert snap["per_channel"][0]["count"] == 5000
    assert all(row["last_min"] >= 0 for row in snap["per_unit"])


def test_the_last_minute_window_is_capped_by_count_when_no_status_prunes_it():
    """Issue 17: the last-minute window was pruned only by time, when a status was taken;
    a broadcaster that stopped taking (or a detector firing without pause) grew it without
    bound. Fed 50,000 twitches with no snapshot, it holds at most ``max_recent``; the ones
    that left early are counted, the session counts stay exact, and ``last_min`` counts
    exactly the newest ``max_recent`` (a lower bound)."""
    counter = RateCounter(max_units=8, max_recent=1000)
    for k in range(50_000):
        counter.add(_ev(0.001 * k, f"EMG {1 + k % 2}", k % 4))
    assert len(counter._window) == 1000
    assert counter.recent_not_counted == 49_000
    snap = counter.snapshot(["EMG 1", "EMG 2"], 50.0, 50.0)
    assert [row["count"] for row in snap["per_channel"]] == [25_000, 25_000]
    assert [row["last_min"] for row in snap["per_channel"]] == [500, 500]
    assert sorted(row["last_min"] for row in snap["per_unit"]) == [250] * 4
    assert sum(row["count"] for row in snap["per_unit"]) == 50_000
    assert snap["recent_not_counted"] == 49_000
