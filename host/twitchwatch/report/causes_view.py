"""The report's link to the cause engine (``twitchwatch.causes``): candidate causes, red
flags and trigger statistics, as plain dicts the HTML layer renders.

The cause engine is optional here: if it cannot be imported (an older install, or an
error in it) the report still builds, says so, and keeps a minimal red-flag check of
its own (:func:`fallback_red_flags`) so a logged weakness or pesticide exposure is
never silently dropped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .data import ReportData

DOCTOR_TESTS = (
    "reflex and muscle-strength tests",
    "blood tests (electrolytes such as magnesium and calcium, vitamin D)",
    "electromyography (EMG)",
    "a nerve conduction study",
)

# minimal red-flag rules used only when twitchwatch.causes is unavailable
_FLAG_SYMPTOMS = {
    "weakness": ("weak",),
    "muscle wasting": ("wast", "atroph", "thinning"),
    "trouble speaking": ("speak", "speech", "slur", "dysarthr"),
    "trouble swallowing": ("swallow", "dysphag"),
}
_FLAG_EXPOSURES = ("pesticide", "organophosph", "insecticide")


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


def candidate_causes(data: ReportData, store_sessions: list[dict[str, Any]]
                     ) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]], str | None]:
    """``(causes or None if the engine is unavailable, red flags, note)``.

    Causes are dicts of ``Annotation`` fields, best score first, each with ``status``:
    'confirmed' / 'rejected' if the user marked that cause on any session or event
    of the period, else 'suggested'. Red flags are dicts of ``RedFlag`` fields."""
    try:
        from twitchwatch.causes import annotate_session
    except Exception as exc:  # noqa: BLE001 - any failure: report without the engine
        return None, fallback_red_flags(data), f"The cause engine is not available ({type(exc).__name__})."
    period_ids = {s.id for s in data.sessions}
    sessions = [s for s in store_sessions if s["id"] in period_ids]
    status = _user_status(data)
    history = [{"cause_id": cause, "verdict": verdict} for cause, verdict in sorted(status.items())]
    args = (_events_for_causes(data), data.context_for_causes or [], data.symptoms or [], data.labs or [])
    try:
        try:
            annotations, flags = annotate_session(*args, sessions=sessions, now_unix_s=data.now_unix_s,
                                                  history=history)
        except TypeError:  # an engine without the history argument
            annotations, flags = annotate_session(*args, sessions=sessions, now_unix_s=data.now_unix_s)
    except Exception as exc:  # noqa: BLE001 - a bug there must not cost the report
        return None, fallback_red_flags(data), f"The cause engine failed ({type(exc).__name__}: {exc})."
    causes = []
    for a in annotations:
        row = _row(a)
        row["status"] = status.get(str(row.get("cause_id")), "suggested")
        causes.append(row)
    causes.sort(key=lambda r: -float(r.get("score") or 0.0))
    return causes, [_row(f) for f in flags], None


def _user_status(data: ReportData) -> dict[str, str]:
    """cause_id -> 'confirmed' / 'rejected' from the stored annotations of the period's
    sessions and events (confirmed wins if both)."""
    session_ids = {s.id for s in data.sessions}
    event_ids = {e["id"] for e in data.events}
    status: dict[str, str] = {}
    for a in data.annotations or []:
        target_ids = session_ids if a.get("target") == "session" else event_ids
        if a.get("target_id") not in target_ids or a.get("status") not in ("confirmed", "rejected"):
            continue
        cause = str(a.get("cause_id"))
        if status.get(cause) != "confirmed":
            status[cause] = str(a["status"])
    return status


def fallback_red_flags(data: ReportData) -> list[dict[str, Any]]:
    """The red flags from the facts sheet, checked crudely on the logged words."""
    flags = []
    for s in data.symptoms or []:
        kind = f"{s.get('kind') or ''} {s.get('note') or ''}".lower()
        for name, stems in _FLAG_SYMPTOMS.items():
            if any(stem in kind for stem in stems):
                where = f" ({s['site']})" if s.get("site") else ""
                flags.append(dict(rule_id=f"symptom:{name}",
                                  message=f"You logged {name}{where} together with twitches.",
                                  reasons=[f"symptom logged: {s.get('kind')}{where}"], tests=list(DOCTOR_TESTS)))
                break
    for c in data.context or []:
        text = f"{c.get('kind') or ''} {c.get('note') or ''} {c.get('detail') or ''}".lower()
        if any(stem in text for stem in _FLAG_EXPOSURES):
            flags.append(dict(rule_id="exposure:pesticide",
                              message="You logged a pesticide exposure. Twitching after pesticide "
                                      "(organophosphate) exposure needs a doctor urgently.",
                              reasons=[f"exposure logged: {c.get('kind')}"], tests=list(DOCTOR_TESTS)))
    return flags


def exposure_stats(data: ReportData, store: Any) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Rate after each exposure kind vs the other recorded time, from
    ``twitchwatch.causes.stats``: rows of ``kind``, ``ratio``, ``ci_low``, ``ci_high``,
    ``rate_after_per_h``, ``rate_baseline_per_h``, ``message``; None if unavailable."""
    if not data.context:
        return [], None
    try:
        from twitchwatch.causes import stats as stats_mod
    except Exception as exc:  # noqa: BLE001
        return None, f"Trigger statistics are not available ({type(exc).__name__})."
    try:
        return _stats_rows(stats_mod, data, store), None
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
        from twitchwatch.causes.taxonomy import causes

        return {str(c["id"]): str(c.get("name") or c["id"]) for c in causes()}
    except Exception:  # noqa: BLE001 - names are cosmetic
        return {}
