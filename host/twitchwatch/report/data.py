"""What the report shows, computed from the store: a pure data layer (no HTML, no plots).

:func:`gather` reads the store once and returns a :class:`ReportData`; every number
the report prints comes from here, so the dashboard can reuse it. Time is unix seconds
throughout; days are calendar days in the machine's local time zone.

Store methods added by later migrations (``context``, ``symptoms``, ``labs``,
``clinical_tests``, ``annotations``, ``events_between``) are used when the store has
them; without them the matching field is ``None`` ("not available in this version"),
which the report says in words, as opposed to ``[]`` ("none logged").
"""

from __future__ import annotations

import datetime as _dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from twitchwatch.sessiontime import recorded_fraction

UNSPECIFIED_SITE = "(site not given)"
CONTEXT_LOOKBACK_S = 7 * 86400.0  # exposures this long before the period still reach the cause model
#: a unit id counts as a motor unit once it has this many twitches in a session: one twitch
#: cannot tell a rare unit from a shape the noise moved off its unit. On the simulator's
#: truth, counting every id overstates the units by ~20 %, counting ids with >= 2 twitches
#: by ~7 % (bench/detect/units_bench.py --min-events 1 / 2, engine 1.7, seeds 2000-2001).
MIN_TWITCHES_PER_UNIT = 2


@dataclass
class SessionSummary:
    id: int
    site: str
    start_unix_s: float      # clipped to the period
    end_unix_s: float        # clipped to the period
    open_ended: bool         # no ended_at stored: the end is the last known timestamp
    recorded_h: float        # hours inside the period
    n_events: int
    units: int               # unit ids with >= MIN_TWITCHES_PER_UNIT twitches in the period
    single_twitches: int     # twitches whose unit id has fewer (no recurring unit)
    noise_floor_uv: float | None   # median over channels of the stored quality
    usable_fraction: float | None  # mean over channels
    artefact_s: float        # union of rejected segments inside the period, s
    detectors: list[str]


@dataclass
class SiteSummary:
    site: str
    sessions: int
    recorded_h: float
    n_events: int
    rate_per_h: float | None
    rate_per_min: float | None
    units: int               # recurring units summed over sessions: ids are not matched across sessions
    max_units_in_session: int
    single_twitches: int     # twitches of no recurring unit, summed over sessions
    amplitude_uv: tuple[float, float, float] | None  # (median, min, max)
    duration_ms: tuple[float, float, float] | None
    noise_floor_uv: float | None     # median over sessions
    usable_fraction: float | None    # recorded-time-weighted mean over sessions
    artefact_s: float


@dataclass
class ReportData:
    since_unix_s: float
    now_unix_s: float
    db_name: str
    sessions: list[SessionSummary]
    sites: list[SiteSummary]
    events: list[dict[str, Any]]     # in the period, each with ``site`` and ``time_unix_s``
    artefact_by_kind_s: dict[str, float]
    detectors: list[str]
    days: list[_dt.date]
    day_rows: list[dict[str, Any]]   # day, site, recorded_h, n_events, rate_per_h (None: not recorded)
    context: list[dict[str, Any]] | None
    symptoms: list[dict[str, Any]] | None
    labs: list[dict[str, Any]] | None
    clinical_tests: list[dict[str, Any]] | None
    annotations: list[dict[str, Any]] | None
    context_for_causes: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total_recorded_h(self) -> float:
        return sum(s.recorded_h for s in self.sessions)

    @property
    def is_empty(self) -> bool:
        return not self.sessions and not self.events


# ---------------------------------------------------------------- helpers
def site_of(body_site: Any) -> str:
    text = "" if body_site is None else str(body_site).strip()
    return text or UNSPECIFIED_SITE


def merged_length(intervals: list[tuple[float, float]]) -> float:
    """Total length of the union of ``(start, end)`` intervals."""
    total = 0.0
    spans = sorted((float(a), float(b)) for a, b in intervals if b > a)
    if not spans:
        return total
    cur_start, cur_end = spans[0]
    for start, end in spans[1:]:
        if start > cur_end:
            total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    return total + (cur_end - cur_start)


def local_day(unix_s: float) -> _dt.date:
    return _dt.datetime.fromtimestamp(unix_s).date()


def day_start_unix(day: _dt.date) -> float:
    return _dt.datetime(day.year, day.month, day.day).timestamp()


def _med_range(values: list[float]) -> tuple[float, float, float] | None:
    clean = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not clean:
        return None
    return (statistics.median(clean), min(clean), max(clean))


def _call_range(fn: Callable[..., Any] | None, since: float | None, until: float | None,
                time_key: str) -> list[dict[str, Any]] | None:
    """Call a store reader with ``since_unix_s``/``until_unix_s``; if it takes no such
    arguments, call it bare and filter on ``time_key``. None if the store lacks it."""
    if fn is None:
        return None
    try:
        rows = fn(since_unix_s=since, until_unix_s=until)
    except TypeError:
        rows = fn()
        rows = [r for r in rows if _in_range(_get(r, time_key), since, until)]
    return [_as_dict(r) for r in rows]


def _in_range(t: Any, since: float | None, until: float | None) -> bool:
    if t is None:
        return True
    return (since is None or t >= since) and (until is None or t <= until)


def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else getattr(row, key, None)


def _as_dict(row: Any) -> dict[str, Any]:
    if isinstance(row, dict):
        return dict(row)
    if hasattr(row, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(row)
    try:
        return dict(row)
    except (TypeError, ValueError):
        return dict(vars(row))


# ---------------------------------------------------------------- gather
def gather(store: Any, since_unix_s: float, now_unix_s: float) -> ReportData:
    """Read the store and compute everything the report shows for ``[since, now]``."""
    since, now = float(since_unix_s), float(now_unix_s)
    all_sessions = store.sessions()
    all_events = store.events()
    by_session_events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ev in all_events:
        by_session_events[ev["session_id"]].append(ev)
    artefacts_by_session: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for art in store.artefacts():
        artefacts_by_session[art["session_id"]].append(art)

    notes: list[str] = []
    sessions: list[SessionSummary] = []
    events: list[dict[str, Any]] = []
    artefact_by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    detectors: set[str] = set()
    undated = 0
    for sess in all_sessions:
        sid = sess["id"]
        evs = by_session_events.get(sid, [])
        # device time -> unix time: the offset the pipeline's clock gave the events
        # (t_s continues across a device reset, so started_at + t_s can be wrong)
        offsets = [e["wall_time_s"] - e["t_s"] for e in evs if e.get("wall_time_s") is not None]
        offset = statistics.median(offsets) if offsets else float(sess["started_at"])
        times = []
        for e in evs:
            t = e.get("wall_time_s")
            if t is None:
                t = offset + float(e["t_s"])
                undated += 1
            times.append(t)
        start = float(sess["started_at"])
        open_ended = sess.get("ended_at") is None
        if open_ended:
            known = [start] + times + [offset + float(a["t_end_s"]) for a in artefacts_by_session.get(sid, [])]
            end = min(max(known), now)
        else:
            end = float(sess["ended_at"])
        lo, hi = max(start, since), min(end, now)
        if hi < lo or (hi == lo and not any(since <= t <= now for t in times)):
            continue
        site = site_of(sess.get("body_site"))
        in_period = []
        for e, t in zip(evs, times):
            if since <= t <= now:
                row = dict(e, site=site, time_unix_s=t)
                in_period.append(row)
                if e.get("detector"):
                    detectors.add(str(e["detector"]))
        events.extend(in_period)
        spans: list[tuple[float, float]] = []
        for a in artefacts_by_session.get(sid, []):
            a_lo = max(offset + float(a["t_start_s"]), lo)
            a_hi = min(offset + float(a["t_end_s"]), hi)
            if a_hi > a_lo:
                spans.append((a_lo, a_hi))
                artefact_by_kind[str(a.get("kind") or "other")].append((a_lo, a_hi))
        quality = sess.get("quality") or []
        floors = [float(q["noise_floor_uv"]) for q in quality
                  if q.get("noise_floor_uv") is not None and math.isfinite(float(q["noise_floor_uv"]))]
        usable = [float(q["usable_fraction"]) for q in quality if q.get("usable_fraction") is not None]
        units, single_twitches = unit_counts(in_period)
        sessions.append(SessionSummary(
            id=sid, site=site, start_unix_s=lo, end_unix_s=hi, open_ended=open_ended,
            recorded_h=(hi - lo) / 3600.0 * recorded_fraction(sess), n_events=len(in_period),
            units=units, single_twitches=single_twitches,
            noise_floor_uv=statistics.median(floors) if floors else None,
            usable_fraction=sum(usable) / len(usable) if usable else None,
            artefact_s=merged_length(spans),
            detectors=sorted({str(e["detector"]) for e in in_period if e.get("detector")}),
        ))
    if undated:
        notes.append(f"{undated} twitch(es) had no host time; their time was estimated from the device clock.")
    if any(s.open_ended for s in sessions):
        notes.append("A session without a stored end (still recording, or the program stopped) "
                     "is counted up to its last twitch or rejected segment.")
    events.sort(key=lambda e: e["time_unix_s"])

    sites = _site_summaries(sessions, events)
    days, day_rows = _day_rows(sessions, events, since, now)

    def reader(name: str) -> Callable[..., Any] | None:
        fn = getattr(store, name, None)
        return fn if callable(fn) else None

    context = _call_range(reader("context"), since, now, "start_unix_s")
    context_for_causes = _call_range(reader("context"), since - CONTEXT_LOOKBACK_S, now, "start_unix_s")
    symptoms = _call_range(reader("symptoms"), since, now, "start_unix_s")
    # a lab result taken before the period still describes the person: all up to now
    labs = _call_range(reader("labs"), None, now, "taken_unix_s")
    clinical = _call_range(reader("clinical_tests"), None, now, "taken_unix_s")
    annotations = _call_range(reader("annotations"), None, None, "created_unix_s")

    return ReportData(
        since_unix_s=since, now_unix_s=now, db_name=_db_name(store), sessions=sessions, sites=sites,
        events=events,
        artefact_by_kind_s={k: merged_length(v) for k, v in sorted(artefact_by_kind.items())},
        detectors=sorted(detectors), days=days, day_rows=day_rows, context=context,
        symptoms=symptoms, labs=labs, clinical_tests=clinical, annotations=annotations,
        context_for_causes=context_for_causes, notes=notes,
    )


def _db_name(store: Any) -> str:
    path = getattr(store, "path", None)
    if path is None:
        return "(unknown)"
    import pathlib

    return pathlib.Path(str(path)).name  # the file name only: never the folder (privacy)


def _site_summaries(sessions: list[SessionSummary], events: list[dict[str, Any]]) -> list[SiteSummary]:
    out = []
    for site in sorted({s.site for s in sessions}):
        ss = [s for s in sessions if s.site == site]
        ev = [e for e in events if e["site"] == site]
        hours = sum(s.recorded_h for s in ss)
        weighted = [(s.usable_fraction, s.recorded_h) for s in ss if s.usable_fraction is not None]
        weight = sum(h for _, h in weighted)
        if weighted and weight > 0:
            usable = sum(u * h for u, h in weighted) / weight
        elif weighted:
            usable = sum(u for u, _ in weighted) / len(weighted)
        else:
            usable = None
        floors = [s.noise_floor_uv for s in ss if s.noise_floor_uv is not None]
        out.append(SiteSummary(
            site=site, sessions=len(ss), recorded_h=hours, n_events=len(ev),
            rate_per_h=len(ev) / hours if hours > 0 else None,
            rate_per_min=len(ev) / (hours * 60.0) if hours > 0 else None,
            units=sum(s.units for s in ss),
            max_units_in_session=max((s.units for s in ss), default=0),
            single_twitches=sum(s.single_twitches for s in ss),
            amplitude_uv=_med_range([e["amplitude_uv"] for e in ev]),
            duration_ms=_med_range([e["duration_ms"] for e in ev]),
            noise_floor_uv=statistics.median(floors) if floors else None,
            usable_fraction=usable,
            artefact_s=sum(s.artefact_s for s in ss),
        ))
    return out


def _day_rows(sessions: list[SessionSummary], events: list[dict[str, Any]], since: float,
              now: float) -> tuple[list[_dt.date], list[dict[str, Any]]]:
    if not sessions:
        return [], []
    first, last = local_day(since), local_day(now)
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += _dt.timedelta(days=1)
    rows = []
    for site in sorted({s.site for s in sessions}):
        ss = [s for s in sessions if s.site == site]
        counts: dict[_dt.date, int] = defaultdict(int)
        for e in events:
            if e["site"] == site:
                counts[local_day(e["time_unix_s"])] += 1
        for day in days:
            d_lo = day_start_unix(day)
            d_hi = day_start_unix(day + _dt.timedelta(days=1))
            hours = sum(max(0.0, min(s.end_unix_s, d_hi) - max(s.start_unix_s, d_lo)) for s in ss) / 3600.0
            n = counts.get(day, 0)
            rows.append(dict(day=day, site=site, recorded_h=hours, n_events=n,
                             rate_per_h=n / hours if hours > 0 else None))
    return days, rows


def unit_counts(events: list[dict[str, Any]]) -> tuple[int, int]:
    """(recurring units, single twitches) of one session's events: unit ids with at least
    ``MIN_TWITCHES_PER_UNIT`` twitches, and the twitches of the ids with fewer."""
    per_id: dict[Any, int] = defaultdict(int)
    for e in events:
        if e.get("unit_id") is not None:
            per_id[e["unit_id"]] += 1
    recurring = sum(1 for n in per_id.values() if n >= MIN_TWITCHES_PER_UNIT)
    return recurring, sum(n for n in per_id.values() if n < MIN_TWITCHES_PER_UNIT)
