"""The report's link to the cause engine (``twitchwatch.causes``): candidate causes, red
flags and trigger statistics, as plain dicts the HTML layer renders.

The red flags are :func:`twitchwatch.annotations.standing_red_flags`, the same as in
every other view: from everything stored, not limited to the report's period. If the
cause engine fails on the period's data (a bug there), the report still builds, says
so, and still shows the red flags, so a logged weakness or pesticide exposure is never
silently dropped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from twitchwatch import causes as cause_engine

from ..verdicts import SUGGESTED, person_verdicts
from .data import ReportData

#: the tests a doctor may order, in the taxonomy's order (shown with every red flag)
DOCTOR_TESTS = tuple(t["name"] for t in cause_engine.load_taxonomy()["tests"].values())


def _row(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return {k: getattr(obj, k) for k in dir(obj) if not k.startswith("_") and not callable(getattr(obj, k))}


def _events_for_causes(data: ReportData) -> list[dict[str, Any]]:
    out = []
    for e in data.events:
        row = {k: v for k, v in e.items() if k not in ("site", "time_unix_s")}
        row["body_site"] = None if e["site"] == "(site not given)" else e["site"]
        if row.get("wall_time_s") is None:
            row["wall_time_s"] = e["time_unix_s"]
        out.append(row)
    return out


def candidate_causes(data: ReportData, store: Any
                     ) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]], str | None]:
    """``(causes or None if the engine is unavailable, red flags, note)``.

    Causes are dicts of ``Annotation`` fields, best score first, each with ``status``:
    the person's verdict on that cause over the period's sessions and events
    (twitchwatch.verdicts: confirmed or rejected, the latest wins), else suggested.
    Red flags are dicts of ``RedFlag`` fields."""
    period_ids = {s.id for s in data.sessions}
    sessions = [s for s in store.sessions() if s["id"] in period_ids]
    flags = red_flags_only(store, data.now_unix_s)
    status = _user_status(data)
    history = [{"cause_id": cause, "verdict": verdict} for cause, verdict in sorted(status.items())]
    args = (_events_for_causes(data), data.context_for_causes or [], data.symptoms or [], data.labs or [])
    try:
        annotations, _ = cause_engine.annotate_session(*args, sessions=sessions, now_unix_s=data.now_unix_s,
                                                       history=history)
    except Exception as exc:  # noqa: BLE001 - a bug there must not cost the report
        return None, flags, f"The cause engine failed ({type(exc).__name__}: {exc})."
    causes = []
    for a in annotations:
        row = _row(a)
        row["status"] = status.get(str(row.get("cause_id")), SUGGESTED)
        causes.append(row)
    causes.sort(key=lambda r: -float(r.get("score") or 0.0))
    return causes, flags, None


def _user_status(data: ReportData) -> dict[str, str]:
    """cause_id -> confirmed / rejected from the stored annotations of the period's
    sessions and events, by the one rule every view uses (twitchwatch.verdicts: the
    latest verdict wins)."""
    session_ids = {s.id for s in data.sessions}
    event_ids = {e["id"] for e in data.events}
    return person_verdicts(a for a in data.annotations or []
                           if a.get("target_id") in (session_ids if a.get("target") == "session" else event_ids))


def red_flags_only(store: Any, now_unix_s: float) -> list[dict[str, Any]]:
    """The standing red flags (:func:`twitchwatch.annotations.standing_red_flags`). If
    that fails, one flag says the check could not run and names the tests, rather than
    showing nothing."""
    try:
        from twitchwatch.annotations import standing_red_flags

        return [_row(f) for f in standing_red_flags(store, now_unix_s=now_unix_s)]
    except Exception as exc:  # noqa: BLE001
        return [dict(rule_id="check-failed",
                     message="The red-flag check could not run on this data. If you have logged weakness, "
                             "muscle wasting, trouble speaking or swallowing, or a pesticide exposure, "
                             "please see a doctor.",
                     reasons=[f"{type(exc).__name__}: {exc}"], tests=list(DOCTOR_TESTS))]


def exposure_stats(data: ReportData, store: Any) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Rate after each exposure kind vs the other recorded time, from
    ``twitchwatch.causes.stats``: rows of ``kind``, ``ratio``, ``ci_low``, ``ci_high``,
    ``rate_after_per_h``, ``rate_baseline_per_h``, ``message``; None if unavailable."""
    if not data.context:
        return [], None
    try:
        return _stats_rows(cause_engine.stats, data, store), None
    except Exception as exc:  # noqa: BLE001
        return None, f"Trigger statistics failed ({type(exc).__name__}: {exc})."


def _stats_rows(stats_mod: Any, data: ReportData, store: Any) -> list[dict[str, Any]]:
    """One row per cause with exposure windows (``trigger_stats(..., by="all")``): all
    sites together, the period's sessions only, exposures from before the period
    included (a window can reach into it)."""
    period_ids = {s.id for s in data.sessions}
    sessions = [s for s in store.sessions() if s["id"] in period_ids]
    results = stats_mod.trigger_stats(_events_for_causes(data), sessions, data.context_for_causes or [],
                                      by="all", now_unix_s=data.now_unix_s)
    names = _cause_names()
    rows = []
    for r in results:
        row = _row(r)
        enough = bool(row.get("enough"))
        rows.append(dict(
            kind=names.get(str(row.get("cause_id")), str(row.get("cause_id"))),
            ratio=_finite(row.get("ratio")) if enough else None,
            ci_low=_finite(row.get("ci_low")) if enough else None,
            ci_high=_finite(row.get("ci_high")) if enough else None,
            rate_after_per_h=row.get("rate_exposed_per_h"), rate_baseline_per_h=row.get("rate_baseline_per_h"),
            exposed_h=row.get("exposed_h"), baseline_h=row.get("baseline_h"),
            n_after=row.get("n_exposed"), n_baseline=row.get("n_baseline"),
            message=row.get("message") or ""))
    return rows


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if v == v and v not in (float("inf"), float("-inf")) else None


def _cause_names() -> dict[str, str]:
    try:
        from twitchwatch.causes.taxonomy import causes, exposure_label

        return {str(c["id"]): exposure_label(c) for c in causes()}
    except Exception:  # noqa: BLE001 - names are cosmetic
        return {}
