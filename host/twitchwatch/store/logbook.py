"""What the person logs beside the recordings (exposures, symptoms, labs, clinical
tests) and the cause engine's annotations: the ``Store`` methods for migration 4.

Entries arrive as dicts already validated and normalised by
``twitchwatch.causes.parse_exposure / parse_symptom / parse_lab``; the store checks
only what it must to keep the file consistent (required keys present, no unknown keys
silently dropped, JSON-serialisable details, allowed kinds/statuses) and raises
:class:`StoreError` otherwise, writing nothing.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from typing import Any, Iterable, Iterator, Sequence

from ..verdicts import STATUSES, SUGGESTED
from .errors import StoreError

CLINICAL_TEST_KINDS = ("reflex", "strength", "blood", "emg", "ncs", "biopsy", "other")
ANNOTATION_TARGETS = ("event", "session")
ANNOTATION_STATUSES = STATUSES  # twitchwatch.verdicts: one set of words

# entry key -> (column, required)
_CONTEXT_KEYS = {"kind": True, "start_unix_s": True, "end_unix_s": False, "value": False, "unit": False,
                 "detail": False, "note": False}
_SYMPTOM_KEYS = {"kind": True, "start_unix_s": True, "site": False, "severity": False, "note": False}
_LAB_KEYS = {"analyte": True, "value": True, "unit": True, "ref_low": False, "ref_high": False,
             "taken_unix_s": True, "note": False, "value_entered": False, "unit_entered": False,
             "ref_source": False}
# parse_symptom / parse_lab name the time ``at_unix_s``; accepted as the column's name
_SYMPTOM_ALIASES = {"at_unix_s": "start_unix_s"}
_LAB_ALIASES = {"at_unix_s": "taken_unix_s"}
_TEST_KEYS = {"kind": True, "result": True, "taken_unix_s": True, "note": False}

_EVENT_SELECT = (
    "SELECT e.*, s.body_site AS body_site, "
    "(SELECT a.cause_id FROM annotations a WHERE a.target = 'event' AND a.target_id = e.id "
    " AND a.status != 'rejected' ORDER BY a.status = 'confirmed' DESC, a.score DESC, a.id LIMIT 1) AS top_cause "
    "FROM events e JOIN sessions s ON s.id = e.session_id"
)


def _checked(what: str, entry: dict[str, Any], keys: dict[str, bool], times: Sequence[str],
             aliases: dict[str, str] | None = None) -> dict[str, Any]:
    """``entry`` with every known key (missing optional ones None); StoreError for a
    missing required key, an unknown key, or a non-finite time. ``aliases`` maps
    another accepted name to a key (both given: an error)."""
    if not isinstance(entry, dict):
        raise StoreError(f"{what}: expected a dict, got {type(entry).__name__}")
    for alias, key in (aliases or {}).items():
        if alias in entry:
            if entry.get(key) is not None:
                raise StoreError(f"{what}: both {alias} and {key} given")
            entry = {(key if k == alias else k): v for k, v in entry.items()}
    unknown = sorted(set(entry) - set(keys))
    if unknown:
        raise StoreError(f"{what}: unknown field(s) {', '.join(unknown)}; accepted: {', '.join(keys)}")
    missing = [k for k, required in keys.items() if required and entry.get(k) is None]
    if missing:
        raise StoreError(f"{what}: missing {', '.join(missing)}")
    row = {k: entry.get(k) for k in keys}
    for key in times:
        raw = row[key]
        if raw is not None:
            try:
                seconds = float(raw)
            except (TypeError, ValueError):
                raise StoreError(f"{what}: {key} must be unix seconds, got {raw!r}") from None
            if not math.isfinite(seconds):
                raise StoreError(f"{what}: {key} must be a finite unix time, got {raw!r}")
            row[key] = seconds
    return row


def _time_filter(column: str, since: float | None, until: float | None, end_column: str | None = None
                 ) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append(f"COALESCE({end_column}, {column}) >= ?" if end_column else f"{column} >= ?")
        params.append(float(since))
    if until is not None:
        where.append(f"{column} < ?")
        params.append(float(until))
    return where, params


class LogbookMixin:
    """Methods mixed into :class:`~twitchwatch.store.Store` (which provides
    ``_transaction``, ``_connection`` and ``path``)."""

    path: Any

    def _connection(self) -> sqlite3.Connection:  # provided by Store
        raise NotImplementedError

    def _transaction(self, what: str) -> Any:  # provided by Store
        raise NotImplementedError

    def _insert(self, table: str, row: dict[str, Any], what: str) -> int:
        row = dict(row, created_at=time.time())
        columns = ", ".join(row)
        with self._transaction(what) as conn:
            cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))})",
                                  tuple(row.values()))
            new_id = cursor.lastrowid
            assert new_id is not None
            return int(new_id)

    def _select(self, table: str, where: list[str], params: list[Any], order: str) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM {table}" + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY {order}"
        return [dict(r) for r in self._connection().execute(sql, params).fetchall()]

    # ------------------------------------------------------------ exposures
    def add_context(self, entry: dict[str, Any]) -> int:
        """Log an exposure/context entry; return its id.

        ``entry``: ``{kind, start_unix_s, end_unix_s, value, unit, detail, note}`` as
        returned by ``twitchwatch.causes.parse_exposure`` (``kind`` and ``start_unix_s``
        required; ``detail`` a JSON-serialisable dict stored as ``detail_json``).

        Raises:
            StoreError: a missing/unknown key, a bad time, an end before the start,
                a detail that is not JSON, or the disk is full. Nothing is written.
        """
        row = _checked("context entry", entry, _CONTEXT_KEYS, ("start_unix_s", "end_unix_s"))
        if row["end_unix_s"] is not None and row["end_unix_s"] < row["start_unix_s"]:
            raise StoreError("context entry: end_unix_s is before start_unix_s")
        detail = row.pop("detail")
        try:
            row["detail_json"] = None if detail is None else json.dumps(detail, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"context entry: detail is not JSON-serialisable: {exc}") from None
        return self._insert("context_entries", row, f"log a {row['kind']} entry")

    def context(self, since_unix_s: float | None = None, until_unix_s: float | None = None,
                kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Context entries overlapping ``[since, until)`` (an entry with an end overlaps
        if it ends at or after ``since``), oldest first, optionally only ``kinds``.
        Dicts of the columns, with ``detail_json`` decoded into ``detail``."""
        where, params = _time_filter("start_unix_s", since_unix_s, until_unix_s, "end_unix_s")
        if kinds is not None:
            kinds = list(kinds)
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            params += kinds
        rows = self._select("context_entries", where, params, "start_unix_s, id")
        for r in rows:
            detail_json = r.pop("detail_json")
            r["detail"] = None if detail_json is None else json.loads(detail_json)
        return rows

    # ------------------------------------------------------------- symptoms
    def add_symptom(self, entry: dict[str, Any]) -> int:
        """Log a symptom ``{kind, start_unix_s, site, severity, note}`` (from
        ``parse_symptom``, whose ``at_unix_s`` is taken as ``start_unix_s``); return its
        id. Raises StoreError as :meth:`add_context`."""
        row = _checked("symptom", entry, _SYMPTOM_KEYS, ("start_unix_s",), _SYMPTOM_ALIASES)
        return self._insert("symptoms", row, f"log a symptom ({row['kind']})")

    def symptoms(self, since_unix_s: float | None = None, until_unix_s: float | None = None,
                 kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Symptoms starting in ``[since, until)``, oldest first, optionally only ``kinds``."""
        where, params = _time_filter("start_unix_s", since_unix_s, until_unix_s)
        if kinds is not None:
            kinds = list(kinds)
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            params += kinds
        return self._select("symptoms", where, params, "start_unix_s, id")

    # ----------------------------------------------------------------- labs
    def add_lab(self, entry: dict[str, Any]) -> int:
        """Log a lab result ``{analyte, value, unit, ref_low, ref_high, taken_unix_s}``
        and optionally ``value_entered, unit_entered, ref_source, note`` (from
        ``parse_lab``, whose ``at_unix_s`` is taken as ``taken_unix_s``; ``value`` and
        the range in the analyte's canonical ``unit``); return its id.

        Raises:
            StoreError: missing/unknown keys, a non-finite value, ``ref_low > ref_high``.
        """
        row = _checked("lab result", entry, _LAB_KEYS, ("taken_unix_s",), _LAB_ALIASES)
        for key in ("value", "ref_low", "ref_high", "value_entered"):
            if row[key] is not None:
                try:
                    row[key] = float(row[key])
                except (TypeError, ValueError):
                    raise StoreError(f"lab result: {key} must be a number, got {row[key]!r}") from None
                if not math.isfinite(row[key]):
                    raise StoreError(f"lab result: {key} must be finite, got {row[key]!r}")
        if row["ref_low"] is not None and row["ref_high"] is not None and row["ref_low"] > row["ref_high"]:
            raise StoreError("lab result: ref_low is above ref_high")
        return self._insert("lab_results", row, f"log a lab result ({row['analyte']})")

    def labs(self, since_unix_s: float | None = None, until_unix_s: float | None = None,
             analytes: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Lab results taken in ``[since, until)``, oldest first, optionally only ``analytes``."""
        where, params = _time_filter("taken_unix_s", since_unix_s, until_unix_s)
        if analytes is not None:
            analytes = list(analytes)
            where.append(f"analyte IN ({', '.join('?' * len(analytes))})")
            params += analytes
        return self._select("lab_results", where, params, "taken_unix_s, id")

    # ------------------------------------------------------- clinical tests
    def add_clinical_test(self, entry: dict[str, Any]) -> int:
        """Log a clinical test result ``{kind, result, taken_unix_s, note}``; ``kind`` one
        of reflex, strength, blood, emg, ncs, biopsy, other; return its id.

        Raises:
            StoreError: an unknown kind (the message lists the accepted ones), an empty
                result, missing/unknown keys. Nothing is written.
        """
        row = _checked("clinical test", entry, _TEST_KEYS, ("taken_unix_s",))
        if row["kind"] not in CLINICAL_TEST_KINDS:
            raise StoreError(f"clinical test: unknown kind {row['kind']!r}; accepted: {', '.join(CLINICAL_TEST_KINDS)}")
        if not str(row["result"]).strip():
            raise StoreError("clinical test: the result is empty; write what the test showed, e.g. \"normal\"")
        return self._insert("clinical_tests", row, f"log a clinical test ({row['kind']})")

    def clinical_tests(self, since_unix_s: float | None = None, until_unix_s: float | None = None,
                       kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Clinical test results taken in ``[since, until)``, oldest first."""
        where, params = _time_filter("taken_unix_s", since_unix_s, until_unix_s)
        if kinds is not None:
            kinds = list(kinds)
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            params += kinds
        return self._select("clinical_tests", where, params, "taken_unix_s, id")

    # ------------------------------------------------------ red-flag reviews
    def add_red_flag_review(self, rule_id: str, seen_unix_s: float, note: str | None = None) -> int:
        """The person saw a doctor about red flag ``rule_id`` at ``seen_unix_s``; return the
        row's id. (Which rule ids exist is the cause taxonomy's business, checked by the caller.)

        Raises:
            StoreError: an empty rule id, a bad time, or the disk is full. Nothing is written.
        """
        if not str(rule_id).strip():
            raise StoreError("red flag review: the rule id is empty")
        row = _checked("red flag review", {"rule_id": str(rule_id).strip(), "seen_unix_s": seen_unix_s,
                                           "note": note},
                       {"rule_id": True, "seen_unix_s": True, "note": False}, ("seen_unix_s",))
        return self._insert("red_flag_reviews", row, f"mark red flag {rule_id} seen by a doctor")

    def red_flag_reviews(self) -> list[dict[str, Any]]:
        """Every red-flag review, oldest first."""
        return self._select("red_flag_reviews", [], [], "seen_unix_s, id")

    # ---------------------------------------------------------- annotations
    def add_annotation(self, target: str, target_id: int, cause_id: str, score: float,
                       reasons_for: Sequence[str] = (), reasons_against: Sequence[str] = (),
                       status: str = SUGGESTED) -> int:
        """Record that ``cause_id`` is a candidate cause of an event or a session; return
        the annotation's id.

        One annotation per (target, target_id, cause_id): adding it again updates the
        score and reasons, and keeps a status the user set (confirmed/rejected) unless
        ``status`` is given as something other than 'suggested'.

        Raises:
            StoreError: ``target`` not 'event'/'session', unknown event/session,
                invalid ``status``, non-finite score.
        """
        if target not in ANNOTATION_TARGETS:
            raise StoreError(f"annotation: unknown target {target!r}; accepted: event, session")
        if status not in ANNOTATION_STATUSES:
            raise StoreError(f"annotation: unknown status {status!r}; accepted: {', '.join(ANNOTATION_STATUSES)}")
        score = float(score)
        if not math.isfinite(score):
            raise StoreError(f"annotation: score must be finite, got {score!r}")
        reasons = (json.dumps([str(r) for r in reasons_for]), json.dumps([str(r) for r in reasons_against]))
        now = time.time()
        table = "events" if target == "event" else "sessions"
        with self._transaction(f"annotate {target} {target_id}") as conn:
            if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (int(target_id),)).fetchone() is None:
                raise StoreError(f"{self.path}: no {target} {target_id}")
            conn.execute(
                "INSERT INTO annotations (target, target_id, cause_id, score, reasons_for_json,"
                " reasons_against_json, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (target, target_id, cause_id) DO UPDATE SET score = excluded.score,"
                " reasons_for_json = excluded.reasons_for_json,"
                " reasons_against_json = excluded.reasons_against_json, updated_at = excluded.updated_at,"
                " status = CASE WHEN excluded.status = 'suggested' THEN annotations.status"
                " ELSE excluded.status END",
                (target, int(target_id), str(cause_id), score, *reasons, status, now, now),
            )
            row = conn.execute("SELECT id FROM annotations WHERE target = ? AND target_id = ? AND cause_id = ?",
                               (target, int(target_id), str(cause_id))).fetchone()
            return int(row[0])

    def annotations(self, target: str | None = None, target_id: int | None = None) -> list[dict[str, Any]]:
        """Annotations (all, or of one target kind, or of one event/session), best first
        within each target: dicts of the columns with ``reasons_for`` and
        ``reasons_against`` decoded lists instead of the ``*_json`` columns."""
        where: list[str] = []
        params: list[Any] = []
        if target is not None:
            where.append("target = ?")
            params.append(target)
        if target_id is not None:
            where.append("target_id = ?")
            params.append(int(target_id))
        rows = self._select("annotations", where, params, "target, target_id, score DESC, id")
        for r in rows:
            r["reasons_for"] = json.loads(r.pop("reasons_for_json"))
            r["reasons_against"] = json.loads(r.pop("reasons_against_json"))
        return rows

    def set_annotation_status(self, annotation_id: int, status: str) -> None:
        """The user confirms or rejects a suggested cause (or puts it back to 'suggested').

        Raises:
            StoreError: ``status`` not suggested/confirmed/rejected, or no such annotation.
        """
        if status not in ANNOTATION_STATUSES:
            raise StoreError(f"annotation: unknown status {status!r}; accepted: {', '.join(ANNOTATION_STATUSES)}")
        with self._transaction(f"set annotation {annotation_id} to {status}") as conn:
            cursor = conn.execute("UPDATE annotations SET status = ?, updated_at = ? WHERE id = ?",
                                  (status, time.time(), int(annotation_id)))
            if cursor.rowcount == 0:
                raise StoreError(f"{self.path}: no annotation {annotation_id}")

    # --------------------------------------------------------------- events
    def events_between(self, since_unix_s: float | None = None,
                       until_unix_s: float | None = None) -> list[dict[str, Any]]:
        """Events whose ``wall_time_s`` is in ``[since, until)`` (either bound None:
        open), in wall-time order, counted twitches only (not the detector's uncounted
        candidates, docs/detection.md *What counts*), as dicts of the ``events`` columns plus the session's
        ``body_site`` and ``top_cause``: the cause_id of the confirmed annotation, else
        of the best-scored suggested one, else None (rejected ones never). Events
        without a wall time are not included."""
        where = ["e.wall_time_s IS NOT NULL", "e.counted = 1"]
        params: list[Any] = []
        if since_unix_s is not None:
            where.append("e.wall_time_s >= ?")
            params.append(float(since_unix_s))
        if until_unix_s is not None:
            where.append("e.wall_time_s < ?")
            params.append(float(until_unix_s))
        sql = _EVENT_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY e.wall_time_s, e.channel, e.id"
        return [dict(r) for r in self._connection().execute(sql, params).fetchall()]

    def session_events(self, session_id: int) -> list[dict[str, Any]]:
        """One session's counted events (with or without a wall time) in sample order, with
        ``body_site`` and ``top_cause`` as in :meth:`events_between`."""
        sql = _EVENT_SELECT + " WHERE e.session_id = ? AND e.counted = 1 ORDER BY e.sample_index, e.channel, e.id"
        return [dict(r) for r in self._connection().execute(sql, (int(session_id),)).fetchall()]

    def event_counts(self) -> dict[int, int]:
        """Counted twitches per session, ``{session_id: count}`` (sessions without any left out)."""
        rows = self._connection().execute("SELECT session_id, COUNT(*) FROM events WHERE counted = 1 GROUP BY session_id")
        return {int(sid): int(n) for sid, n in rows.fetchall()}

    def iter_table(self, table: str) -> Iterator[sqlite3.Row]:
        """Every row of one of :data:`PERSON_TABLES`, by id (for exports)."""
        if table not in PERSON_TABLES:
            raise StoreError(f"unknown table {table!r}; accepted: {', '.join(PERSON_TABLES)}")
        return iter(self._connection().execute(f"SELECT * FROM {table} ORDER BY id"))


# Every table holding the person's data, parents before children (deletion goes in reverse).
PERSON_TABLES = ("sessions", "events", "artefacts", "context_entries", "symptoms", "lab_results",
                 "clinical_tests", "annotations", "red_flag_reviews")
