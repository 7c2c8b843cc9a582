"""What the dashboard reads from and writes to the store, and the live cause ranking.

Each function opens its own :class:`~twitchwatch.store.Store` on ``db_path`` (the
server calls them from worker threads, while the pipeline writes through its own
connection; the store's WAL mode lets them run side by side) and returns JSON-ready
data. The cause engine is :mod:`twitchwatch.causes`, the same as the CLI's.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from twitchwatch.annotations import (CONTEXT_LOOKBACK_S, annotate_stored, mark_seen_by_doctor, set_verdict,
                                     standing_red_flags)
from twitchwatch.causes import annotate_event, annotate_session
from twitchwatch.causes.entries import EntryError, describe_entry, parse_entry, person_text
from twitchwatch.dashboard.view import rate_bins
from twitchwatch.store import Store
from twitchwatch.verdicts import STATUSES, SUGGESTED, VERDICTS, person_verdicts
from twitchwatch.verdicts import history as verdict_history

EVENT_TOP_N = 3
_LOG_FIELDS = ("category", "kind", "value", "unit", "at", "until", "detail", "site", "severity", "note")


@dataclasses.dataclass
class LiveInputs:
    """What the person logged, for ranking causes of live twitches."""

    context: list[dict[str, Any]]
    symptoms: list[dict[str, Any]]
    labs: list[dict[str, Any]]
    history: list[dict[str, str]]
    session: dict[str, Any] | None  # the session being recorded (not ended), if any
    statuses: dict[str, str]        # cause_id → the person's verdict on the live session (absent: suggested)
    red_flags: list[Any] = dataclasses.field(default_factory=list)  # standing_red_flags: as every view shows them


def _live_session(store: Store) -> dict[str, Any] | None:
    open_sessions = [s for s in store.sessions() if s["ended_at"] is None]
    return open_sessions[-1] if open_sessions else None


def load_inputs(db_path: Path, now_unix_s: float) -> LiveInputs:
    with Store(db_path) as store:
        session = _live_session(store)
        mine = [] if session is None else store.annotations(target="session", target_id=session["id"])
        statuses = person_verdicts(mine)  # one rule (twitchwatch.verdicts); the rest are suggested
        return LiveInputs(
            context=store.context(since_unix_s=now_unix_s - CONTEXT_LOOKBACK_S),
            symptoms=store.symptoms(), labs=store.labs(),
            history=verdict_history(mine),
            session=session, statuses=statuses, red_flags=standing_red_flags(store, now_unix_s=now_unix_s))


def _cause_json(a: Any, status: str = SUGGESTED) -> dict[str, Any]:
    return {"cause_id": a.cause_id, "cause_name": a.cause_name, "score": round(a.score, 3), "summary": a.summary,
            "reasons_for": a.reasons_for, "reasons_against": a.reasons_against, "notes": a.notes,
            "benign": a.benign, "tests": a.tests, "status": status}


def _flag_json(f: Any) -> dict[str, Any]:
    return {"rule_id": f.rule_id, "message": f.message, "reasons": f.reasons, "tests": f.tests,
            "looks_into": f.looks_into, "how_to_clear": f.how_to_clear}


def _with_site(events: list[dict[str, Any]], inputs: LiveInputs) -> list[dict[str, Any]]:
    site = None if inputs.session is None else inputs.session.get("body_site")
    return [dict(e, body_site=site) for e in events if e.get("wall_time_s") is not None]


def rank_live(events: list[dict[str, Any]], inputs: LiveInputs, now_unix_s: float) -> dict[str, Any]:
    """The live session's candidate causes (best first, score > 0) and all red flags."""
    return _rank_sited(_with_site(events, inputs), inputs, now_unix_s)


def _rank_sited(events: list[dict[str, Any]], inputs: LiveInputs, now_unix_s: float) -> dict[str, Any]:
    """:func:`rank_live` of twitches that already carry the live session's ``body_site``."""
    sessions = [inputs.session] if inputs.session is not None else None
    found, _ = annotate_session(events, inputs.context, inputs.symptoms, inputs.labs,
                                sessions=sessions, now_unix_s=now_unix_s, history=inputs.history)
    causes = [_cause_json(a, inputs.statuses.get(a.cause_id, SUGGESTED))
              for a in found if a.score > 0]
    return {"causes": causes, "red_flags": [_flag_json(f) for f in inputs.red_flags]}


def rank_live_times(wall_times_s: list[float], inputs: LiveInputs, now_unix_s: float) -> dict[str, Any]:
    """:func:`rank_live` from the twitches' unix times (s) alone: the session's ranking reads
    nothing else of a twitch (its exposure windows, trigger statistics and rate trends use
    ``wall_time_s``; the site is the live session's). The dashboard ranks up to 20,000
    kept twitches every 5 s: one small dict each here (with the site: not a second copy),
    not a copy of every field; ``causes.annotate_session`` takes dicts."""
    site = None if inputs.session is None else inputs.session.get("body_site")
    return _rank_sited([{"wall_time_s": t, "body_site": site} for t in wall_times_s], inputs, now_unix_s)


def event_causes(event: dict[str, Any], inputs: LiveInputs, now_unix_s: float) -> list[dict[str, Any]]:
    """The top candidate causes of one live twitch (score > 0)."""
    if event.get("wall_time_s") is None:
        return []
    (ev,) = _with_site([event], inputs)
    found = annotate_event(ev, inputs.context, inputs.symptoms, inputs.labs, inputs.history, now_unix_s=now_unix_s)
    return [_cause_json(a) for a in found if a.score > 0][:EVENT_TOP_N]


# ---------------------------------------------------------------- writes
def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise EntryError(f"{key}: expected text or a number, got {type(value).__name__}")
    return person_text(key, value)  # the command line's limit and check (causes.entries)


def log_entry(db_path: Path, body: Any, now_unix_s: float | None = None) -> dict[str, Any]:
    """Validate and store one entry from the page; return ``{ok, id, category, text}``.

    ``body``: ``{"category": "exposure"|"symptom", "kind", ...}`` (docs/dashboard.md).

    Raises:
        EntryError: anything not acceptable (nothing is written); the message says
            what is accepted.
    """
    now = time.time() if now_unix_s is None else now_unix_s
    if not isinstance(body, dict):
        raise EntryError("expected a JSON object with category and kind")
    unknown = sorted(set(body) - set(_LOG_FIELDS))
    if unknown:
        raise EntryError(f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(_LOG_FIELDS)}")
    category = _text(body, "category")
    kind = _text(body, "kind")
    if category not in ("exposure", "symptom"):
        raise EntryError(f"category {category!r} is not accepted; accepted: exposure, symptom")
    if kind is None:
        raise EntryError(f"say which {category}: the kind is empty")
    fields: dict[str, Any] = {k: _text(body, k) for k in _LOG_FIELDS if k not in ("category", "kind", "detail")}
    detail_in = body.get("detail") or {}
    if not isinstance(detail_in, dict):
        raise EntryError("detail: expected an object of name: value")
    fields["detail"] = {str(k): t for k in detail_in if (t := _text(detail_in, k)) is not None} or None
    table, entry = parse_entry(category, kind, fields, now_unix_s=now)  # the command line's parser too
    with Store(db_path) as store:
        entry_id = (store.add_symptom if table == "symptom" else store.add_context)(entry)
    return {"ok": True, "id": entry_id, "category": table, "text": describe_entry(table, entry)}


def seen_by_doctor(db_path: Path, body: Any, now_unix_s: float | None = None) -> dict[str, Any]:
    """The person saw a doctor about a red flag (``{"rule_id": ..., "note"?: ...}``,
    ``rule_id`` as the page shows it, or ``all``): the same store entry and effect as
    ``twitchwatch log seen-doctor RULE`` (:func:`twitchwatch.annotations.mark_seen_by_doctor`):
    the flag is gone from every view until something new raises it. Returns
    ``{ok, marked: [rule ids]}``.

    Raises:
        EntryError: a malformed request or an unknown red flag (nothing is written).
    """
    now = time.time() if now_unix_s is None else now_unix_s
    if not isinstance(body, dict):
        raise EntryError("expected a JSON object with rule_id")
    unknown = sorted(set(body) - {"rule_id", "note"})
    if unknown:
        raise EntryError(f"unknown field(s) {', '.join(unknown)}; accepted: rule_id, note")
    rule_id = _text(body, "rule_id")
    if rule_id is None:
        raise EntryError("rule_id is empty: say which red flag a doctor has seen")
    with Store(db_path) as store:
        try:
            marked = mark_seen_by_doctor(store, rule_id, seen_unix_s=now, note=_text(body, "note"))
        except ValueError as exc:
            raise EntryError(str(exc)) from None
    return {"ok": True, "marked": marked}


def record_verdict(db_path: Path, body: Any, now_unix_s: float | None = None) -> dict[str, Any]:
    """The person confirms or rejects a candidate cause of the live (or latest) session.

    Raises:
        EntryError: a malformed request, or a cause that is no candidate there.
    """
    now = time.time() if now_unix_s is None else now_unix_s
    if not isinstance(body, dict):
        raise EntryError("expected a JSON object with cause_id and verdict")
    cause_id = _text(body, "cause_id")
    verdict = _text(body, "verdict")
    if verdict not in STATUSES:
        raise EntryError(f"verdict {verdict!r} is not accepted; accepted: {', '.join(VERDICTS + (SUGGESTED,))}")
    if cause_id is None:
        raise EntryError("cause_id is empty")
    with Store(db_path) as store:
        sessions = store.sessions()
        if not sessions:
            raise EntryError("no recording yet: there is no candidate cause to confirm or reject")
        target = _live_session(store) or sessions[-1]
        annotate_stored(store, session_ids={target["id"]}, now_unix_s=now)  # the live session has none yet
        since = body.get("since_unix_s")
        if since is not None and (isinstance(since, bool) or not isinstance(since, (int, float))):
            raise EntryError("since_unix_s: expected unix seconds")
        try:
            changed = set_verdict(store, cause_id, verdict,
                                  since_unix_s=float(since) if since is not None else target["started_at"])
        except ValueError as exc:
            known = sorted({a["cause_id"] for a in store.annotations(target="session", target_id=target["id"])})
            raise EntryError(f"{exc}; candidates now: {', '.join(known) or 'none yet'}") from None
    return {"ok": True, "changed": changed}


# ---------------------------------------------------------------- history
def list_sessions(db_path: Path) -> list[dict[str, Any]]:
    """Sessions newest first, with their twitch counts."""
    with Store(db_path) as store:
        counts = store.event_counts()
        return [{"id": s["id"], "started_at": s["started_at"], "ended_at": s["ended_at"],
                 "body_site": s["body_site"], "source": s["source"], "events": counts.get(s["id"], 0)}
                for s in reversed(store.sessions())]


def session_detail(db_path: Path, session_id: int, now_unix_s: float | None = None) -> dict[str, Any] | None:
    """One session's events (with the top stored cause) and per-minute rates; None if absent."""
    now = time.time() if now_unix_s is None else now_unix_s
    with Store(db_path) as store:
        session = next((s for s in store.sessions() if s["id"] == session_id), None)
        if session is None:
            return None
        keys = ("id", "t_s", "wall_time_s", "channel", "channel_label", "amplitude_uv", "duration_ms",
                "confidence", "unit_id", "n_phases", "top_cause")
        events = [{k: e.get(k) for k in keys} for e in store.session_events(session_id)]
    start = session["started_at"]
    end = float(session["ended_at"] or max([now] + [e["wall_time_s"] or 0.0 for e in events]))
    return {"session": {k: session[k] for k in ("id", "started_at", "ended_at", "body_site", "source",
                                                "device_id", "firmware_version")},
            "events": events,
            "rate": {"bin_s": 60, "start_unix_s": start, "counts": rate_bins(events, start, end, 60.0)}}
