"""Trigger statistics: the rate-ratio CI against known values, recorded time only,
and "not enough data yet" instead of a number."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from twitchwatch.causes import annotate_session, rate_ratio, trigger_stats
from twitchwatch.causes.stats import intersect, merge, subtract

from .scenarios import NOW, D, H, Scenario


def _exact_via_scipy(n1, t1, n0, t0):
    ci = st.binomtest(n1, n1 + n0, t1 / (t1 + t0)).proportion_ci(0.95, method="exact")
    to_rr = lambda p: p / (1 - p) * t0 / t1 if p < 1 else math.inf  # noqa: E731
    return to_rr(ci.low), to_rr(ci.high)


@pytest.mark.parametrize("n1,t1,n0,t0", [(30, 10, 20, 20), (5, 2, 40, 30), (0, 3, 12, 10), (7, 1, 0, 9), (120, 33, 200, 110)])
def test_exact_ci_matches_scipy_clopper_pearson(n1, t1, n0, t0):
    rr = rate_ratio(n1, t1, n0, t0, method="exact")
    low, high = _exact_via_scipy(n1, t1, n0, t0)
    assert rr.ci_low == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert rr.ci_high == pytest.approx(high, rel=1e-9) if math.isfinite(high) else math.isinf(rr.ci_high)
    if n0:
        assert rr.ratio == pytest.approx((n1 / t1) / (n0 / t0))
    # exact p-value as scipy's binomial test (two-sided, doubling method differs only by definition)
    assert 0 <= rr.p_value <= 1


def test_mid_p_closed_forms():
    # n1 = 0: the upper bound solves ½(1-π)^N = α/2  →  π = 1 - 0.05^(1/N)
    n0, t1, t0 = 10, 2.0, 4.0
    rr = rate_ratio(0, t1, n0, t0)
    pi = 1 - 0.05 ** (1 / n0)
    assert rr.ratio == 0 and rr.ci_low == 0
    assert rr.ci_high == pytest.approx(pi / (1 - pi) * t0 / t1, rel=1e-9)
    # n0 = 0: the lower bound solves ½π^N = α/2  →  π = 0.05^(1/N)
    rr = rate_ratio(8, t1, 0, t0)
    pi = 0.05 ** (1 / 8)
    assert math.isinf(rr.ratio) and math.isinf(rr.ci_high)
    assert rr.ci_low == pytest.approx(pi / (1 - pi) * t0 / t1, rel=1e-9)


def test_mid_p_hand_case_and_ordering():
    # 30 twitches in 10 h after caffeine vs 20 in 20 h baseline: ratio 3
    mid, exact, lognormal = (rate_ratio(30, 10, 20, 20, method=m) for m in ("mid-p", "exact", "log-normal"))
    assert mid.ratio == pytest.approx(3.0)
    # log-normal by hand: 3·exp(±1.96·sqrt(1/30 + 1/20))
    half = st.norm.ppf(0.975) * math.sqrt(1 / 30 + 1 / 20)
    assert lognormal.ci_low == pytest.approx(3 * math.exp(-half)) and lognormal.ci_high == pytest.approx(3 * math.exp(half))
    # the mid-p interval lies inside the exact one and both exclude 1
    assert exact.ci_low < mid.ci_low < 3 < mid.ci_high < exact.ci_high
    assert mid.ci_low > 1 and mid.p_value < 0.001
    # at the mid-p bounds each tail is exactly 2.5 %
    n = 50
    p_lo = mid.ci_low * 10 / (mid.ci_low * 10 + 20)
    assert st.binom.sf(30, n, p_lo) + 0.5 * st.binom.pmf(30, n, p_lo) == pytest.approx(0.025, abs=1e-9)
    # no effect: ratio 1, p = 1-ish, CI spans 1
    null = rate_ratio(10, 5, 20, 10)
    assert null.ratio == pytest.approx(1) and null.ci_low < 1 < null.ci_high and null.p_value > 0.9


def test_mid_p_coverage_is_close_to_95_percent():
    rng = np.random.default_rng(3)
    hits = 0
    trials = 400
    for _ in range(trials):
        n1, n0 = rng.poisson(2.0 * 6), rng.poisson(1.0 * 12)
        r = rate_ratio(n1, 6, n0, 12)
        hits += r.ci_low <= 2.0 <= r.ci_high
    assert 0.92 <= hits / trials <= 0.99


def test_interval_helpers():
    assert merge([(5, 6), (1, 3), (2, 4)]) == [(1, 4), (5, 6)]
    assert intersect([(0, 10)], [(2, 3), (8, 12)]) == [(2, 3), (8, 10)]
    assert subtract([(0, 10)], [(2, 3), (8, 12)]) == [(0, 2), (3, 8)]


def _caffeine_days(days, *, rate_after=6.0, rate_base=2.0, seed=0, record=True):
    """Each day: 200 mg caffeine at 08:00, a 12-h recording 06:00-18:00; twitches at
    ``rate_after`` per h 08:30-14:00 and ``rate_base`` otherwise."""
    rng = np.random.default_rng(seed)
    s = Scenario()
    for day in range(days):
        day0 = NOW - (days - day) * D
        s.exp("caffeine", 200, ago_h=(NOW - (day0 + 8 * H)) / H)
        if not record:
            continue
        a, b = day0 + 6 * H, day0 + 18 * H
        s.sessions.append({"id": day + 1, "body_site": "left calf", "started_at": a, "ended_at": b})
        for lo, hi, rate in ((a, day0 + 8.5 * H, rate_base), (day0 + 8.5 * H, day0 + 14 * H, rate_after),
                             (day0 + 14 * H, b, rate_base)):
            for t in rng.uniform(lo, hi, rng.poisson(rate * (hi - lo) / H)):
                s.events.append({"session_id": day + 1, "wall_time_s": float(t), "channel": 0, "unit_id": 1,
                                 "body_site": "left calf"})
    return s


def test_trigger_stats_finds_the_caffeine_effect():
    s = _caffeine_days(11)
    [stat] = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", now_unix_s=NOW)
    assert stat.enough and stat.n_windows == 11
    assert stat.exposed_h == pytest.approx(11 * 5.5) and stat.baseline_h == pytest.approx(11 * 6.5)
    assert 2.3 < stat.ratio < 3.9 and stat.ci_low > 1.8
    assert "your baseline" in stat.message and f"{stat.days_of_data} days of data" in stat.message
    assert "95 % CI" in stat.message and stat.days_of_data in (11, 12)  # a recording may cross midnight
    annotations, _ = annotate_session(s.events, s.context, [], [], sessions=s.sessions, now_unix_s=NOW)
    top = annotations[0]
    assert top.cause_id == "caffeine" and any("× your baseline" in r for r in top.reasons_for)
    # per site and per motor unit as well
    by_site = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", by="site", now_unix_s=NOW)
    by_unit = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", by="unit", now_unix_s=NOW)
    assert [x.key for x in by_site] == ["left calf"] and [x.key for x in by_unit] == ["left calf/ch0/unit1"]
    assert by_site[0].ratio == pytest.approx(stat.ratio)


def test_no_effect_is_no_clear_difference():
    s = _caffeine_days(11, rate_after=2.0, rate_base=2.0, seed=0)
    [stat] = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", now_unix_s=NOW)
    assert stat.enough and stat.ci_low < 1 < stat.ci_high
    annotations, _ = annotate_session(s.events, s.context, [], [], sessions=s.sessions, now_unix_s=NOW)
    caffeine = next(a for a in annotations if a.cause_id == "caffeine")
    assert not any("baseline" in r for r in caffeine.reasons_for)
    # a CI that rules out a 1.5-fold rise counts against; a wider one is only a note
    if stat.ci_high < 1.5:
        assert any("no higher than your baseline" in r for r in caffeine.reasons_against)
    else:
        assert any("no clear difference" in n for n in caffeine.notes)


def test_not_enough_data_message():
    s = _caffeine_days(2)
    [stat] = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", now_unix_s=NOW)
    assert not stat.enough and stat.ratio is None
    assert stat.message.startswith("not enough data yet")
    assert "2 exposure window(s) with recording (need 3)" in stat.message
    annotations, _ = annotate_session(s.events, s.context, [], [], sessions=s.sessions, now_unix_s=NOW)
    caffeine = next(a for a in annotations if a.cause_id == "caffeine")
    assert any(n.startswith("not enough data yet") for n in caffeine.notes)


def test_only_recorded_time_counts():
    """Caffeine windows while no patch was on add no exposed time."""
    s = _caffeine_days(11)
    # 11 more caffeine entries at 22:00, when nothing records
    for day in range(11):
        s.exp("caffeine", 200, ago_h=(NOW - (NOW - (11 - day) * D + 22 * H)) / H)
    [stat] = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", now_unix_s=NOW)
    assert stat.exposed_h == pytest.approx(11 * 5.5) and stat.n_windows == 11
    s.sessions = []
    [stat] = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", now_unix_s=NOW)
    assert stat.exposed_h == 0 and not stat.enough and "0 min recorded in those windows" in stat.message


def test_rate_trend_on_a_handful_of_twitches_says_so_instead_of_a_degenerate_fit():
    """One twitch on the first of 20 recorded days drove the fit to a zero rate
    (an OverflowError in the interval, NaN warnings); it must say there is too little."""
    import time
    import warnings

    from twitchwatch.causes import rate_trend

    now = time.time()
    sessions = [{"id": i, "started_at": now - 86400 * (20 - i), "ended_at": now - 86400 * (20 - i) + 5 * 3600}
                for i in range(20)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for events in ([{"wall_time_s": now - 20 * 86400 + 100, "session_id": 0}], []):
            trend = rate_trend(events, sessions, now_unix_s=now)
            assert not trend.rising
            assert trend.message.startswith("not enough twitches yet")


def test_trigger_stats_count_recorded_signal_time_not_the_span():
    """Issue 15 / 17 item 12: a session's gaps and unusable stretches are not recorded
    time in the statistics either (its stats' recorded_s / span_s share), and sessions
    that overlap count once."""
    from twitchwatch.causes.stats import daily_rates

    s = _caffeine_days(11)
    [whole] = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", now_unix_s=NOW)
    for session in s.sessions:  # a quarter of each 12-h span lost to gaps or unusable signal
        session["stats"] = {"span_s": 12 * H, "signal_s": 10 * H, "recorded_s": 9 * H}
    [stat] = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", now_unix_s=NOW)
    assert stat.exposed_h == pytest.approx(11 * 5.5 * 0.75) and stat.baseline_h == pytest.approx(11 * 6.5 * 0.75)
    assert (stat.n_exposed, stat.n_baseline) == (whole.n_exposed, whole.n_baseline)
    assert stat.ratio == pytest.approx(whole.ratio)  # the same share everywhere: the same ratio
    assert sum(d["hours"] for d in daily_rates(s.events, s.sessions, now_unix_s=NOW)) == pytest.approx(11 * 9.0)
    # the same span stored twice (a second, worse session over it) is counted once, at the better share
    s.sessions.append(dict(s.sessions[0], id=99, stats={"span_s": 12 * H, "signal_s": 12 * H, "recorded_s": 3 * H}))
    [again] = trigger_stats(s.events, s.sessions, s.context, cause_id="caffeine", now_unix_s=NOW)
    assert again.exposed_h == pytest.approx(stat.exposed_h)
