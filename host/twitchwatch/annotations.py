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
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from twitchwatch.causes import Annotation, RedFlag, annotate_event, annotate_session
from twitchwatch.store import Store

CONTEXT_LOOKBACK_S = 30 * 86400.0  # exposures act up to days later (benzodiazepine dose cuts: ≤ 14 d)
EVENT_TOP_N = 3  # candidates stored per twitch


@dataclasses.dataclass
class AnnotationRun:
    """The period's ranked candidates and red flags, and how much was written."""

    annotations: list[Annotation]
    red_flags: list[RedFlag]
    sessions_annotated: int
    events_annotated: int


def _overlaps(session: dict[str, Any], since: float | None, until: float | None) -> bool:
    end = session["ended_at"] if session["ended_at"] is not None else float("inf")
    return end >= (since if since is not None else float("-inf")) and (until is None or session["started_at"] <= until)


def _history(store: Store, session_ids: set[int]) -> list[dict[str, str]]:
    """The person's verdicts on causes of these sessions: the latest per cause wins."""
    verdicts: dict[str, tuple[float, str]] = {}
    for a in store.annotations(target="session"):
        if a["target_id"] in session_ids and a["status"] != "suggested":
            if a["cause_id"] not in verdicts or a["updated_at"] > verdicts[a["cause_id"]][0]:
                verdicts[a["cause_id"]] = (a["updated_at"], a["status"])
    return [{"cause_id": c, "verdict": v} for c, (_, v) in sorted(verdicts.items())]


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
    overall, flags = annotate_session(events, context, symptoms, labs, sessions=sessions, now_unix_s=now,
                                      history=history)
    return AnnotationRun(overall, flags, len(sessions), len(events))


def set_verdict(store: Store, cause_id: str, verdict: str, *, since_unix_s: float | None = None) -> int:
    """The person confirms or rejects ``cause_id`` for the sessions of a period and
    every twitch in them; returns how many session annotations changed.

    Raises:
        StoreError: an unknown verdict (accepted: confirmed, rejected, suggested).
        ValueError: the cause has no annotation in the period (run ``annotate_stored`` first).
    """
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
