"""Put the cause engine's candidates on the logged twitches and sessions.

:mod:`twitchwatch.causes` is pure (data in, annotations out); this module reads what
the store holds — twitches with their wall times and body sites, sessions (recorded
time), exposures, symptoms, labs, the person's earlier verdicts — runs the engine,
and writes its candidates back as annotations (target ``event`` or ``session``), so
``twitchwatch events``, the report and the dashboard show them. A cause the person
confirmed or rejected keeps that verdict when the annotations are recomputed.

It runs when a recording session ends (the pipeline) and on demand
(``twitchwatch causes``), because context is often logged after the fact ("I had a
coffee at 9:30").

:func:`standing_red_flags` is the one source of the red flags every view shows
(``causes``, ``events``, the report, the page, the end of a run): from everything
stored, whatever span a view covers, until the person marks a flag seen by a doctor.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from twitchwatch.causes import Annotation, RedFlag, annotate_event, annotate_session, red_flags
from twitchwatch.causes.annotate import red_flag_ids
from twitchwatch.causes.taxonomy import doctor_only
from twitchwatch.store import Store
from twitchwatch.verdicts import history as verdict_history

CONTEXT_LOOKBACK_S = 30 * 86400.0  # exposures act up to days later (benzodiazepine dose cuts: ≤ 14 d)
EVENT_TOP_N = 3  # candidates stored per twitch
TREND_LOOKBACK_S = 120 * 86400.0  # the rising-rate flag looks at the twitches of the last 120 days


def seen_by_doctor(store: Store) -> dict[str, float]:
    """``{rule_id: unix s}``: the latest time each red flag was marked seen by a doctor."""
    seen: dict[str, float] = {}
    for row in store.red_flag_reviews():
        seen[row["rule_id"]] = max(seen.get(row["rule_id"], float("-inf")), float(row["seen_unix_s"]))
    return seen


def standing_red_flags(store: Store, *, now_unix_s: float | None = None) -> list[RedFlag]:
    """Every red flag raised by anything stored, however long ago (not limited to a
    view's span), except what the person marked seen by a doctor after it was logged.

    The rising-rate trend looks at the twitches and sessions of the last
    :data:`TREND_LOOKBACK_S` (after its latest review, if any).

    Raises:
        StoreError: the store cannot be read.
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    since = now - TREND_LOOKBACK_S
    sessions = [s for s in store.sessions() if _overlaps(s, since, None)]
    events = [dict(e, body_site=e.get("body_site")) for e in store.events_between(since_unix_s=since)]
    return red_flags(events, store.symptoms(), store.context(), now_unix_s=now, sessions=sessions,
                     seen=seen_by_doctor(store))


def mark_seen_by_doctor(store: Store, rule_id: str, *, seen_unix_s: float, note: str | None = None) -> list[str]:
    """Mark red flag ``rule_id`` (or ``all``: every one standing) seen by a doctor at
    ``seen_unix_s``; return the rule ids marked.

    Raises:
        ValueError: an unknown rule id (the message lists the accepted ones).
    """
    known = red_flag_ids()
    rule_id = rule_id.strip().lower().replace("-", "_")
    if rule_id == "all":
        ids = [f.rule_id for f in standing_red_flags(store, now_unix_s=seen_unix_s)] or []
    elif rule_id in known:
        ids = [rule_id]
    else:
        raise ValueError(f"unknown red flag {rule_id!r}; accepted: {', '.join(known)}, all")
    for rid in ids:
        store.add_red_flag_review(rid, seen_unix_s, note)
    return ids


@dataclasses.dataclass
class AnnotationRun:
    """The period's ranked candidates, the standing red flags (:func:`standing_red_flags`,
    not limited to the period), and how much was written."""

    annotations: list[Annotation]
    red_flags: list[RedFlag]
    sessions_annotated: int
    events_annotated: int


def _overlaps(session: dict[str, Any], since: float | None, until: float | None) -> bool:
    end = session["ended_at"] if session["ended_at"] is not None else float("inf")
    return end >= (since if since is not None else float("-inf")) and (until is None or session["started_at"] <= until)


def _history(store: Store, session_ids: set[int]) -> list[dict[str, str]]:
    """The person's verdicts on causes of these sessions (twitchwatch.verdicts' rule)."""
    return verdict_history(a for a in store.annotations(target="session") if a["target_id"] in session_ids)


def annotate_stored(store: Store, *, since_unix_s: float | None = None, until_unix_s: float | None = None,
                    session_ids: set[int] | None = None, now_unix_s: float | None = None) -> AnnotationRun:
    """Annotate the twitches and sessions of a period (or of ``session_ids``).

    Stores, per session, every candidate with a score above 0, and per twitch its
    :data:`EVENT_TOP_N` best; returns the period's overall ranking and red flags
    (never shortened by any annotation).

    Raises:
        StoreError: the store cannot be read or written.
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    until = until_unix_s
    sessions = [s for s in store.sessions()
                if (session_ids is None or s["id"] in session_ids) and _overlaps(s, since_unix_s, until)]
    ids = {s["id"] for s in sessions}
    events = [e for e in store.events_between(since_unix_s, until) if e["session_id"] in ids]
    lookback = None if since_unix_s is None else since_unix_s - CONTEXT_LOOKBACK_S
    context = store.context(since_unix_s=lookback, until_unix_s=until)
    symptoms = store.symptoms(until_unix_s=until)
    labs = store.labs(until_unix_s=until)
    history = _history(store, ids)

    for session in sessions:
        mine = [e for e in events if e["session_id"] == session["id"]]
        found, _ = annotate_session(mine, context, symptoms, labs, sessions=[session], now_unix_s=now,
                                    history=history)
        for a in found:
            if a.score > 0:
                store.add_annotation("session", session["id"], a.cause_id, a.score, a.reasons_for,
                                     a.reasons_against)
    for event in events:
        for a in [a for a in annotate_event(event, context, symptoms, labs, history, now_unix_s=now)
                  if a.score > 0][:EVENT_TOP_N]:
            store.add_annotation("event", event["id"], a.cause_id, a.score, a.reasons_for, a.reasons_against)
    overall, _ = annotate_session(events, context, symptoms, labs, sessions=sessions, now_unix_s=now,
                                  history=history)
    return AnnotationRun(overall, standing_red_flags(store, now_unix_s=now), len(sessions), len(events))


def set_verdict(store: Store, cause_id: str, verdict: str, *, since_unix_s: float | None = None) -> int:
    """The person confirms or rejects ``cause_id`` for the sessions of a period and
    every twitch in them; returns how many session annotations changed.

    Raises:
        StoreError: an unknown verdict (accepted: confirmed, rejected, suggested).
        ValueError: the cause has no annotation in the period (run ``annotate_stored`` first),
            or it is a neurological cause: never a candidate, so never confirmed or rejected.
    """
    if doctor_only(cause_id):
        raise ValueError(f"{cause_id!r} is never a candidate cause: twitchwatch does not rank, confirm or reject "
                         "neurological conditions; only a doctor can look into them")
    ids = {s["id"] for s in store.sessions() if _overlaps(s, since_unix_s, None)}
    rows = [a for a in store.annotations(target="session") if a["target_id"] in ids and a["cause_id"] == cause_id]
    if not rows:
        raise ValueError(f"no candidate cause {cause_id!r} in this period")
    event_ids = {e["id"] for sid in ids for e in store.events(sid)}
    on_events = [a for a in store.annotations(target="event")
                 if a["target_id"] in event_ids and a["cause_id"] == cause_id]
    for a in rows + on_events:
        store.set_annotation_status(a["id"], verdict)
    return len(rows)
