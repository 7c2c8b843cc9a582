"""Trigger statistics: twitch rate after each exposure vs the person's own baseline.

Pure functions (data in, numbers out). Time is only counted while a patch recorded
(sessions' ``started_at``..``ended_at``, each second of it weighted by the session's
recorded share, ``recorded_s / span_s`` from its stats: gaps and unusable stretches are
not recorded time, docs/store.md "Recorded time"); the baseline is recorded time outside every
exposure window of every cause, the exposed arm recorded time inside one cause's
windows. The comparison is a Poisson rate ratio with a conditional (binomial) 95 %
confidence interval, mid-p by default (exact Clopper-Pearson and log-normal also
available). With too little data the result says so instead of giving a number.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..sessiontime import recorded_fraction
from .taxonomy import exposure_label, load_taxonomy

Interval = tuple[float, float]


def _scipy():
    """``(scipy.optimize, scipy.stats)``, imported on first use: importing them costs ~0.6 s
    of CPU, and a command that never computes a rate ratio or a trend (a replay, the
    session's end) should not pay it at start-up (issue #19, item 6)."""
    from scipy import optimize, stats

    return optimize, stats

MIN_WINDOWS = 3          # exposure windows that overlap recorded time
MIN_EXPOSED_H = 2.0      # recorded hours inside the windows
MIN_BASELINE_H = 4.0     # recorded hours outside every window
MIN_TWITCHES = 5         # twitches in both arms together


# ------------------------------------------------------------------ inputs
def norm_context(context: Iterable[dict] | None) -> list[dict]:
    """Context entries as ``parse_exposure`` returns them, also accepting the store's
    rows (``end_unix_s`` None -> the start, ``detail`` None -> {}); entries without a
    start time are skipped."""
    out = []
    for entry in context or []:
        if entry.get("start_unix_s") is None:
            continue
        row = dict(entry)
        row["start_unix_s"] = float(row["start_unix_s"])
        row["end_unix_s"] = float(row["end_unix_s"]) if row.get("end_unix_s") is not None else row["start_unix_s"]
        row["detail"] = dict(row.get("detail") or {})
        out.append(row)
    return out


def norm_timed(rows: Iterable[dict] | None, *aliases: str) -> list[dict]:
    """Symptoms/labs with their time as ``at_unix_s`` (the store names it
    ``start_unix_s`` / ``taken_unix_s``)."""
    out = []
    for row in rows or []:
        row = dict(row)
        if row.get("at_unix_s") is None:
            for alias in aliases:
                if row.get(alias) is not None:
                    row["at_unix_s"] = float(row[alias])
                    break
        out.append(row)
    return out


# ------------------------------------------------------------------ intervals
def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals (empty ones dropped)."""
    out: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in intervals if b > a):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def intersect(xs: list[Interval], ys: list[Interval]) -> list[Interval]:
    """Intersection of two merged interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if b > a:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(xs: list[Interval], ys: list[Interval]) -> list[Interval]:
    """``xs`` minus ``ys`` (both merged)."""
    out: list[Interval] = []
    for a, b in xs:
        cursor = a
        for c, d in ys:
            if d <= cursor or c >= b:
                continue
            if c > cursor:
                out.append((cursor, c))
            cursor = max(cursor, d)
        if cursor < b:
            out.append((cursor, b))
    return out


def total_s(intervals: Iterable[Interval]) -> float:
    return sum(b - a for a, b in intervals)


def contains(intervals: list[Interval], t: float) -> bool:
    """``t`` inside one of the merged, sorted ``intervals`` (ends included)."""
    i = bisect.bisect_right(intervals, (t, math.inf)) - 1
    return i >= 0 and intervals[i][0] <= t <= intervals[i][1]


# ------------------------------------------------------------------ rate ratio
@dataclass(frozen=True)
class RateRatio:
    """Rate ratio exposed/baseline with a 95 % CI and a two-sided p-value (H0: ratio 1)."""

    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str


def rate_ratio(n_exposed: int, t_exposed: float, n_baseline: int, t_baseline: float,
               *, method: str = "mid-p", confidence: float = 0.95) -> RateRatio:
    """Poisson rate ratio ``(n_exposed/t_exposed) / (n_baseline/t_baseline)``.

    Conditional on the total ``N``, ``n_exposed ~ Binomial(N, π)`` with
    ``π = R·t1 / (R·t1 + t0)``; a CI for π maps to one for R. ``method``:
    ``"mid-p"`` (default), ``"exact"`` (Clopper-Pearson) or ``"log-normal"``
    (``R·exp(±z·sqrt(1/n1 + 1/n0))``, needs both counts > 0).
    """
    if t_exposed <= 0 or t_baseline <= 0:
        raise ValueError("both times must be positive")
    n1, n0 = int(n_exposed), int(n_baseline)
    if n1 < 0 or n0 < 0:
        raise ValueError("counts must be >= 0")
    total = n1 + n0
    scale = t_baseline / t_exposed
    ratio = (n1 / t_exposed) / (n0 / t_baseline) if n0 > 0 else (math.inf if n1 > 0 else math.nan)
    alpha = 1.0 - confidence
    pi0 = t_exposed / (t_exposed + t_baseline)
    if total == 0:
        return RateRatio(math.nan, 0.0, math.inf, 1.0, method)

    def to_ratio(p: float) -> float:
        if p >= 1.0:
            return math.inf
        return p / (1.0 - p) * scale

    optimize, _st = _scipy()
    # two-sided mid-p or exact p-value under H0
    below = _st.binom.cdf(n1 - 1, total, pi0) if n1 > 0 else 0.0
    equal = _st.binom.pmf(n1, total, pi0)
    above = _st.binom.sf(n1, total, pi0)
    if method == "exact":
        p_value = min(1.0, 2 * min(below + equal, above + equal))
    else:
        p_value = min(1.0, 2 * min(below + 0.5 * equal, above + 0.5 * equal))

    if method == "log-normal":
        if n1 == 0 or n0 == 0:
            raise ValueError("log-normal CI needs both counts > 0")
        z = _st.norm.ppf(1 - alpha / 2)
        half = z * math.sqrt(1 / n1 + 1 / n0)
        return RateRatio(ratio, ratio * math.exp(-half), ratio * math.exp(half), p_value, method)
    if method == "exact":
        lo_p = _st.beta.ppf(alpha / 2, n1, total - n1 + 1) if n1 > 0 else 0.0
        hi_p = _st.beta.ppf(1 - alpha / 2, n1 + 1, total - n1) if n1 < total else 1.0
        return RateRatio(ratio, to_ratio(lo_p), to_ratio(hi_p), p_value, method)
    if method != "mid-p":
        raise ValueError(f"unknown method {method!r}; use mid-p, exact or log-normal")

    def upper_tail(p: float) -> float:  # P(X > n1) + ½P(X = n1) under p
        return _st.binom.sf(n1, total, p) + 0.5 * _st.binom.pmf(n1, total, p)

    def lower_tail(p: float) -> float:  # P(X < n1) + ½P(X = n1)
        return (_st.binom.cdf(n1 - 1, total, p) if n1 > 0 else 0.0) + 0.5 * _st.binom.pmf(n1, total, p)

    eps = 1e-12
    lo_p = 0.0 if n1 == 0 else optimize.brentq(lambda p: upper_tail(p) - alpha / 2, eps, 1 - eps, xtol=1e-14)
    hi_p = 1.0 if n1 == total else optimize.brentq(lambda p: lower_tail(p) - alpha / 2, eps, 1 - eps, xtol=1e-14)
    return RateRatio(ratio, to_ratio(lo_p), to_ratio(hi_p), p_value, method)


# ------------------------------------------------------------------ windows
def recorded_intervals(sessions: list[dict], *, now_unix_s: float | None = None,
                       body_site: str | None = None) -> list[Interval]:
    """Merged recorded time from sessions (``started_at``..``ended_at``; an open
    session runs to ``now_unix_s`` if given, else is skipped)."""
    return merge([(start, end) for start, end, _ in _session_spans(sessions, now_unix_s, body_site)])


def _session_spans(sessions: list[dict], now_unix_s: float | None,
                   body_site: str | None) -> list[tuple[float, float, dict]]:
    """``(start, end, session)`` of each session at ``body_site`` (all if None) with a
    start and an end (an open one ends at ``now_unix_s``; without it, it is skipped)."""
    spans = []
    for session in sessions:
        if body_site is not None and (session.get("body_site") or "") != body_site:
            continue
        start, end = session.get("started_at"), session.get("ended_at")
        if end is None:
            end = now_unix_s
        if start is None or end is None:
            continue
        spans.append((float(start), float(end), session))
    return spans


def recorded_pieces(sessions: list[dict], *, now_unix_s: float | None = None,
                    body_site: str | None = None) -> list[tuple[float, float, float]]:
    """Recorded time as disjoint, sorted ``(start, end, weight)`` pieces: the sessions'
    spans (as :func:`recorded_intervals`), each weighted by its session's recorded share
    (:func:`twitchwatch.sessiontime.recorded_fraction`); where sessions overlap, the
    largest share counts once."""
    spans = [(start, end, recorded_fraction(session))
             for start, end, session in _session_spans(sessions, now_unix_s, body_site) if end > start]
    cuts = sorted({t for a, b, _ in spans for t in (a, b)})
    pieces: list[tuple[float, float, float]] = []
    for a, b in zip(cuts, cuts[1:]):
        weights = [w for s, e, w in spans if s <= a and e >= b]
        if not weights:
            continue
        w = max(weights)
        if pieces and pieces[-1][1] == a and pieces[-1][2] == w:
            pieces[-1] = (pieces[-1][0], b, w)
        else:
            pieces.append((a, b, w))
    return pieces


def recorded_s(pieces: list[tuple[float, float, float]], within: list[Interval] | None = None) -> float:
    """Recorded seconds in ``pieces`` (from :func:`recorded_pieces`), only inside the
    merged ``within`` intervals if given."""
    if within is None:
        return sum((b - a) * w for a, b, w in pieces)
    return sum(total_s(intersect([(a, b)], within)) * w for a, b, w in pieces)


def _matches(entry: dict, rule: dict) -> bool:
    if entry.get("kind") != rule.get("kind"):
        return False
    if "min_value" in rule and (entry.get("value") is None or entry["value"] < rule["min_value"]):
        return False
    detail = entry.get("detail") or {}
    return all(detail.get(key) in allowed for key, allowed in rule.get("match", {}).items())


def _stop_time(entry: dict, context: list[dict]) -> float | None:
    """When a medication started at ``entry`` stopped (a later stop of the same class,
    same name if both are named), or None while still taken."""
    detail = entry.get("detail") or {}
    best = None
    for other in context:
        od = other.get("detail") or {}
        if other.get("kind") != "medication" or od.get("change") != "stop":
            continue
        if od.get("class") != detail.get("class"):
            continue
        if detail.get("name") and od.get("name") and od["name"].lower() != detail["name"].lower():
            continue
        if other["start_unix_s"] >= entry["start_unix_s"] and (best is None or other["start_unix_s"] < best):
            best = other["start_unix_s"]
    return best


def rule_windows(rule: dict, context: list[dict], *, now_unix_s: float | None = None) -> list[tuple[Interval, dict]]:
    """Each matching exposure's window for an ``exposure`` evidence rule, with its entry.

    Anchors: ``start``/``end`` of the exposure plus ``window_h``; ``while_taken``
    from the start to a later stop of the same medication (or ``now_unix_s``, or open
    ended)."""
    out: list[tuple[Interval, dict]] = []
    for entry in context:
        if not _matches(entry, rule):
            continue
        if rule["anchor"] == "while_taken":
            stop = _stop_time(entry, context)
            end = stop if stop is not None else (now_unix_s if now_unix_s is not None else math.inf)
            out.append(((entry["start_unix_s"], max(end, entry["start_unix_s"])), entry))
            continue
        anchor_t = entry["start_unix_s"] if rule["anchor"] == "start" else (entry.get("end_unix_s") or entry["start_unix_s"])
        lo, hi = rule["window_h"]
        out.append(((anchor_t + lo * 3600.0, anchor_t + hi * 3600.0), entry))
    return out


def cause_windows(cause: dict, context: list[dict], *, now_unix_s: float | None = None) -> list[tuple[Interval, dict]]:
    """Windows of every supporting exposure rule of one cause."""
    out = []
    for rule in cause["evidence"]:
        if rule["type"] == "exposure" and rule.get("role", "for") == "for":
            out.extend(rule_windows(rule, context, now_unix_s=now_unix_s))
    return out


def all_windows(context: list[dict], *, now_unix_s: float | None = None) -> list[Interval]:
    """Merged windows of every cause: the complement (within recorded time) is baseline."""
    spans: list[Interval] = []
    for cause in load_taxonomy()["causes"]:
        spans.extend(w for w, _ in cause_windows(cause, context, now_unix_s=now_unix_s))
    return merge((a, min(b, 4e9)) for a, b in spans)


# ------------------------------------------------------------------ trigger stats
@dataclass
class TriggerStat:
    """Twitch rate in one cause's exposure windows vs the person's baseline."""

    cause_id: str
    key: str                     # "all", a body site, or "site/ch<n>/unit<k>"
    n_windows: int
    exposed_h: float
    baseline_h: float
    n_exposed: int
    n_baseline: int
    days_of_data: int
    enough: bool
    message: str
    rate_exposed_per_h: float | None = None
    rate_baseline_per_h: float | None = None
    ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    method: str | None = None
    needs: list[str] = field(default_factory=list)


def _event_site(event: dict, session_sites: dict[Any, str | None]) -> str:
    site = event.get("body_site")
    if site is None:
        site = session_sites.get(event.get("session_id"))
    return site or "unknown site"


def _days(recorded: list[Interval]) -> int:
    days = set()
    for a, b in recorded:
        t = a
        while t < b:
            days.add(_dt.datetime.fromtimestamp(t).astimezone().date())
            t += 3600.0
        days.add(_dt.datetime.fromtimestamp(b).astimezone().date())
    return len(days)


def trigger_stats(events: list[dict], sessions: list[dict], context: list[dict], *,
                  cause_id: str | None = None, by: str = "all", now_unix_s: float | None = None,
                  method: str = "mid-p", min_windows: int = MIN_WINDOWS, min_exposed_h: float = MIN_EXPOSED_H,
                  min_baseline_h: float = MIN_BASELINE_H) -> list[TriggerStat]:
    """Rate ratios for each cause with exposure windows (or only ``cause_id``).

    ``by``: ``"all"`` (every site together), ``"site"`` (per ``body_site``; recorded
    time from that site's sessions) or ``"unit"`` (per site, channel and ``unit_id``;
    unit ids come from each session's online clustering, so a "unit" across sessions
    is an approximation). Causes without any matching exposure are left out.
    """
    tax = load_taxonomy()
    context = norm_context(context)
    sessions = list(sessions or [])
    session_sites = {s.get("id"): s.get("body_site") for s in sessions}
    baseline_out = all_windows(context, now_unix_s=now_unix_s)
    groups: dict[str, tuple[list[Interval], list[float]]] = {}
    pieces: dict[str, list[tuple[float, float, float]]] = {}
    if by == "all":
        groups["all"] = (recorded_intervals(sessions, now_unix_s=now_unix_s),
                         [e["wall_time_s"] for e in events if e.get("wall_time_s") is not None])
        pieces["all"] = recorded_pieces(sessions, now_unix_s=now_unix_s)
    elif by in ("site", "unit"):
        for event in events:
            if event.get("wall_time_s") is None:
                continue
            site = _event_site(event, session_sites)
            key = site if by == "site" else f"{site}/ch{event.get('channel')}/unit{event.get('unit_id')}"
            if key not in groups:
                rec = recorded_intervals(sessions, now_unix_s=now_unix_s,
                                         body_site=None if site == "unknown site" else site)
                groups[key] = (rec, [])
                pieces[key] = recorded_pieces(sessions, now_unix_s=now_unix_s,
                                              body_site=None if site == "unknown site" else site)
            groups[key][1].append(event["wall_time_s"])
    else:
        raise ValueError("by must be 'all', 'site' or 'unit'")

    results = []
    for cause in tax["causes"]:
        if cause_id is not None and cause["id"] != cause_id:
            continue
        windows = cause_windows(cause, context, now_unix_s=now_unix_s)
        if not windows:
            continue
        exposed_spans = merge((a, min(b, 4e9)) for (a, b), _ in windows)
        for key, (recorded, times) in groups.items():
            exposed = intersect(recorded, exposed_spans)
            baseline = subtract(recorded, baseline_out)
            n_windows = sum(1 for (a, b), _ in windows if intersect(recorded, [(a, min(b, 4e9))]))
            # recorded hours: gaps and unusable stretches do not count (each session's share)
            t1, t0 = recorded_s(pieces[key], exposed) / 3600, recorded_s(pieces[key], baseline) / 3600
            n1 = sum(1 for t in times if contains(exposed, t))
            n0 = sum(1 for t in times if contains(baseline, t))
            needs = []
            if n_windows < min_windows:
                needs.append(f"{n_windows} exposure window(s) with recording (need {min_windows})")
            if t1 < min_exposed_h:
                needs.append(f"{_fmt_h(t1)} recorded in those windows (need {min_exposed_h:g} h)")
            if t0 < min_baseline_h:
                needs.append(f"{_fmt_h(t0)} of baseline recording outside all exposure windows (need {min_baseline_h:g} h)")
            if n1 + n0 < MIN_TWITCHES:
                needs.append(f"{n1 + n0} twitches in those hours (need {MIN_TWITCHES})")
            days = _days(recorded)
            stat = TriggerStat(cause["id"], key, n_windows, t1, t0, n1, n0, days, not needs, "", needs=needs)
            if needs:
                stat.message = f"not enough data yet to compare your twitch rate after {exposure_label(cause)}: " + "; ".join(needs)
            else:
                rr = rate_ratio(n1, t1, n0, t0, method=method)
                stat.rate_exposed_per_h, stat.rate_baseline_per_h = n1 / t1, n0 / t0
                stat.ratio, stat.ci_low, stat.ci_high, stat.p_value, stat.method = (
                    rr.ratio, rr.ci_low, rr.ci_high, rr.p_value, rr.method)
                stat.message = (f"twitch rate {_fmt_x(rr.ratio)} your baseline in the windows after {exposure_label(cause)} "
                                f"({n1} twitches in {_fmt_h(t1)} vs {n0} in {_fmt_h(t0)}; 95 % CI "
                                f"{_fmt_x(rr.ci_low, times=False)}-{_fmt_x(rr.ci_high, times=False)}; "
                                f"{days} day{'s' if days != 1 else ''} of data)")
            results.append(stat)
    return results


def _fmt_h(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h"


def _fmt_x(value: float, times: bool = True) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞"
    text = f"{value:.2g}" if value < 1 else f"{value:.1f}"
    return text + ("×" if times else "")


# ------------------------------------------------------------------ trend over weeks
@dataclass
class Trend:
    """Poisson (quasi-Poisson) regression of daily twitch counts on day, offset by
    recorded hours: ``ratio_per_week`` = exp(7·slope)."""

    n_days_span: int
    days_with_data: int
    ratio_per_week: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p_value: float | None          # one-sided, H1: rising
    dispersion: float | None
    rising: bool
    message: str
    daily: list[dict] = field(default_factory=list)


def daily_rates(events: list[dict], sessions: list[dict] | None, *, now_unix_s: float | None = None,
                min_recorded_h: float = 0.25) -> list[dict]:
    """``[{date, day_index, count, hours}]`` per local day with recording. Without
    sessions, every day with twitches counts as one hour (rates unknown)."""
    counts: dict[_dt.date, int] = {}
    for event in events:
        t = event.get("wall_time_s")
        if t is not None:
            day = _dt.datetime.fromtimestamp(t).astimezone().date()
            counts[day] = counts.get(day, 0) + 1
    hours: dict[_dt.date, float] = {}
    if sessions:
        for a, b, weight in recorded_pieces(sessions, now_unix_s=now_unix_s):
            t = a
            while t < b:
                local = _dt.datetime.fromtimestamp(t).astimezone()
                next_midnight = (local.replace(hour=0, minute=0, second=0, microsecond=0)
                                 + _dt.timedelta(days=1)).timestamp()
                piece_end = min(b, next_midnight)
                hours[local.date()] = hours.get(local.date(), 0.0) + (piece_end - t) / 3600 * weight
                t = piece_end
    else:
        hours = {day: 1.0 for day in counts}
    days = sorted(d for d, h in hours.items() if h >= min_recorded_h)
    if not days:
        return []
    first = days[0]
    return [{"date": d.isoformat(), "day_index": (d - first).days, "count": counts.get(d, 0), "hours": hours[d]}
            for d in days]


def _bounded_exp(x: float) -> float:
    """exp(x) that saturates instead of overflowing: a fit driven to a zero rate (days
    with no twitches at one end) has a huge slope and standard error."""
    return math.exp(max(min(x, 700.0), -700.0))


def rate_trend(events: list[dict], sessions: list[dict] | None, *, now_unix_s: float | None = None,
               min_days: int = 14, min_days_with_data: int = 7, alpha: float = 0.01,
               min_ratio_per_week: float = 1.25, min_twitches: int = 20, min_days_with_twitches: int = 3) -> Trend:
    """Is the daily twitch rate rising over weeks? Quasi-Poisson log-linear fit.

    ``rising`` needs: a span of at least ``min_days``, ``min_days_with_data`` recorded
    days, a one-sided p < ``alpha`` and a fitted rise of at least
    ``min_ratio_per_week``× per week."""
    daily = daily_rates(events, sessions, now_unix_s=now_unix_s)
    span = (daily[-1]["day_index"] + 1) if daily else 0
    if span < min_days or len(daily) < min_days_with_data:
        return Trend(span, len(daily), None, None, None, None, None, None, False,
                     f"not enough data yet for a trend over weeks: {len(daily)} recorded day(s) over {span} day(s) "
                     f"(need {min_days_with_data} days over at least {min_days})", daily)
    n_twitches = sum(d["count"] for d in daily)
    n_twitch_days = sum(1 for d in daily if d["count"] > 0)
    if n_twitches < min_twitches or n_twitch_days < min_days_with_twitches:
        # A log-linear fit on a handful of twitches is driven to a zero rate at one end:
        # its slope and interval mean nothing.
        return Trend(span, len(daily), None, None, None, None, None, None, False,
                     f"not enough twitches yet for a trend over weeks: {n_twitches} twitch(es) on {n_twitch_days} "
                     f"day(s) (need {min_twitches} on at least {min_days_with_twitches} days)", daily)
    import numpy as np

    x = np.array([d["day_index"] for d in daily], dtype=float)
    y = np.array([d["count"] for d in daily], dtype=float)
    offset = np.log(np.array([d["hours"] for d in daily], dtype=float))
    X = np.column_stack([np.ones_like(x), x])
    beta = np.array([math.log(max(float(y.sum()), 0.5) / float(np.exp(offset).sum())), 0.0])
    for _ in range(50):
        eta = X @ beta + offset
        # Days with no twitches can drive the fit towards a rate of 0; keep mu > 0 so
        # the working response stays finite (the fitted slope is then very negative).
        mu = np.maximum(np.exp(eta), 1e-12)
        z = eta - offset + (y - mu) / mu
        W = mu
        XtW = X.T * W
        new = np.linalg.solve(XtW @ X, XtW @ z)
        if np.max(np.abs(new - beta)) < 1e-10:
            beta = new
            break
        beta = new
    mu = np.maximum(np.exp(X @ beta + offset), 1e-12)
    cov = np.linalg.inv((X.T * mu) @ X)
    dof = max(len(y) - 2, 1)
    dispersion = max(1.0, float(np.sum((y - mu) ** 2 / mu) / dof))
    se = math.sqrt(cov[1, 1] * dispersion)
    slope = float(beta[1])
    zval = slope / se if se > 0 else math.inf
    p_one = float(_scipy()[1].norm.sf(zval))
    ratio_week = _bounded_exp(7 * slope)
    lo, hi = _bounded_exp(7 * (slope - 1.96 * se)), _bounded_exp(7 * (slope + 1.96 * se))
    rising = p_one < alpha and ratio_week >= min_ratio_per_week
    unit = "per recorded hour" if sessions else "per day with twitches (recorded time unknown)"
    p_text = f"p = {p_one:.2g}" if p_one >= 1e-4 else "p < 0.0001"
    message = (f"daily twitch rate ({unit}) {'rising' if slope > 0 else 'falling'} {_fmt_x(ratio_week)} per week "
               f"(95 % CI {_fmt_x(lo, times=False)}-{_fmt_x(hi, times=False)}; one-sided {p_text}, z = {zval:.2f}; "
               f"quasi-Poisson fit over {len(daily)} recorded days in {span} days, dispersion {dispersion:.2f})")
    return Trend(span, len(daily), ratio_week, lo, hi, zval, p_one, dispersion, rising, message, daily)
