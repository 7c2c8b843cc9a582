"""Migration 4: context entries, symptoms, labs, clinical tests, annotations, events_between."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from twitchwatch.detect import TwitchEvent
from twitchwatch.store import Store, StoreError

T0 = 1_700_000_000.0


def _event(i: int, wall: float | None, channel: int = 0, **kw) -> TwitchEvent:
    e = TwitchEvent(sample_index=1000 + 10 * i, t_s=i * 0.5, channel=channel, channel_label=f"EMG {channel + 1}",
                    amplitude_uv=100.0 + i, duration_ms=8.0, confidence=0.8, detector="engine")
    return dataclasses.replace(e, wall_time_s=wall, **kw)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "tw.sqlite3") as s:
        yield s


def _count(store: Store, table: str) -> int:
    return store._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_context_round_trip_and_filters(store):
    a = store.add_context({"kind": "caffeine", "start_unix_s": T0, "end_unix_s": None, "value": 200.0,
                           "unit": "mg", "detail": {"source": "coffee"}})
    b = store.add_context({"kind": "stress", "start_unix_s": T0 + 3600, "end_unix_s": T0 + 7200, "value": 7,
                           "unit": "0-10", "detail": None, "note": "deadline"})
    store.add_context({"kind": "sleep", "start_unix_s": T0 + 86400, "value": 6.5, "unit": "h"})
    rows = store.context()
    assert [r["id"] for r in rows][:2] == [a, b]
    assert rows[0]["detail"] == {"source": "coffee"} and "detail_json" not in rows[0]
    assert rows[0]["created_at"] > 0 and rows[1]["note"] == "deadline" and rows[1]["end_unix_s"] == T0 + 7200
    # a span overlapping the window counts even when it started before it
    assert [r["kind"] for r in store.context(since_unix_s=T0 + 5000, until_unix_s=T0 + 6000)] == ["stress"]
    assert [r["kind"] for r in store.context(since_unix_s=T0 + 1)] == ["stress", "sleep"]
    assert [r["kind"] for r in store.context(kinds=["sleep", "caffeine"])] == ["caffeine", "sleep"]
    assert store.context(until_unix_s=T0) == []


@pytest.mark.parametrize("entry, message", [
    ({"start_unix_s": T0}, "missing kind"),
    ({"kind": "caffeine", "start_unix_s": T0, "mg": 200}, "unknown field.*mg.*accepted: kind"),
    ({"kind": "caffeine", "start_unix_s": float("nan")}, "finite"),
    ({"kind": "caffeine", "start_unix_s": "yesterday"}, "unix seconds"),
    ({"kind": "stress", "start_unix_s": T0, "end_unix_s": T0 - 1}, "before"),
    ({"kind": "x", "start_unix_s": T0, "detail": {"a": object()}}, "JSON"),
])
def test_bad_context_entries_write_nothing(store, entry, message):
    with pytest.raises(StoreError, match=message):
        store.add_context(entry)
    assert _count(store, "context_entries") == 0


def test_symptoms_labs_and_tests(store):
    store.add_symptom({"kind": "weakness", "start_unix_s": T0, "site": "left hand", "severity": 4, "note": None})
    store.add_symptom({"kind": "cramp", "start_unix_s": T0 + 10, "site": None, "severity": None, "note": "calf"})
    assert [s["kind"] for s in store.symptoms(kinds=["cramp"])] == ["cramp"]
    assert store.symptoms(since_unix_s=T0 + 5)[0]["note"] == "calf"
    assert store.symptoms()[0]["site"] == "left hand" and store.symptoms()[0]["severity"] == 4

    store.add_lab({"analyte": "magnesium", "value": 0.62, "unit": "mmol/L", "ref_low": 0.70, "ref_high": 1.00,
                   "taken_unix_s": T0})
    store.add_lab({"analyte": "ck", "value": 180, "unit": "U/L", "ref_low": None, "ref_high": None,
                   "taken_unix_s": T0 + 1})
    (mg,) = store.labs(analytes=["magnesium"])
    assert (mg["value"], mg["unit"], mg["ref_low"], mg["ref_high"]) == (0.62, "mmol/L", 0.70, 1.00)
    with pytest.raises(StoreError, match="ref_low is above ref_high"):
        store.add_lab({"analyte": "k", "value": 4, "unit": "mmol/L", "ref_low": 5, "ref_high": 3, "taken_unix_s": T0})
    with pytest.raises(StoreError, match="missing unit"):
        store.add_lab({"analyte": "k", "value": 4, "taken_unix_s": T0})
    assert _count(store, "lab_results") == 2

    store.add_clinical_test({"kind": "emg", "result": "normal", "taken_unix_s": T0, "note": "Dr. A"})
    with pytest.raises(StoreError, match="unknown kind 'mri'; accepted: reflex, strength, blood, emg, ncs, biopsy, other"):
        store.add_clinical_test({"kind": "mri", "result": "normal", "taken_unix_s": T0})
    with pytest.raises(StoreError, match="empty"):
        store.add_clinical_test({"kind": "ncs", "result": "  ", "taken_unix_s": T0})
    assert [(t["kind"], t["result"], t["note"]) for t in store.clinical_tests()] == [("emg", "normal", "Dr. A")]
    assert store.clinical_tests(kinds=["ncs"]) == []


def test_the_schema_refuses_a_bad_test_kind_or_status_even_behind_the_api(store):
    with pytest.raises(sqlite3.IntegrityError):
        store._conn.execute("INSERT INTO clinical_tests (kind, result, taken_unix_s, created_at) VALUES ('x', 'r', 0, 0)")
    with pytest.raises(sqlite3.IntegrityError):
        store._conn.execute("INSERT INTO annotations (target, target_id, cause_id, score, reasons_for_json,"
                            " reasons_against_json, status, created_at, updated_at)"
                            " VALUES ('event', 1, 'c', 1, '[]', '[]', 'maybe', 0, 0)")


def test_annotations_status_and_top_cause(store):
    sid = store.start_session(device_id="d", firmware_version="0.1", boot_id=1, source="test", body_site="left calf")
    store.add_events(sid, [_event(0, T0 + 1), _event(1, T0 + 2, channel=1, unit_id=3), _event(2, None)])
    e0, e1, _ = (e["id"] for e in store.events())
    a = store.add_annotation("event", e0, "caffeine", 0.7, ["200 mg 40 min before"], ["usual dose"])
    b = store.add_annotation("event", e0, "stress", 0.4, ["stress 7/10"])
    s = store.add_annotation("session", sid, "low_magnesium", 0.5)
    assert [x["cause_id"] for x in store.annotations(target="event", target_id=e0)] == ["caffeine", "stress"]
    first = store.annotations(target="event")[0]
    assert first["reasons_for"] == ["200 mg 40 min before"] and first["reasons_against"] == ["usual dose"]
    assert first["status"] == "suggested" and "reasons_for_json" not in first
    assert [x["id"] for x in store.annotations(target="session")] == [s]
    assert len(store.annotations()) == 3

    rows = store.events_between(T0, T0 + 10)
    assert [(r["id"], r["body_site"], r["top_cause"]) for r in rows] == [(e0, "left calf", "caffeine"),
                                                                       (e1, "left calf", None)]
    # the user confirms the weaker one: it becomes the top cause; a rejected one never is
    store.set_annotation_status(b, "confirmed")
    assert store.events_between(T0, T0 + 10)[0]["top_cause"] == "stress"
    store.set_annotation_status(b, "rejected")
    store.set_annotation_status(a, "rejected")
    assert store.events_between(T0, T0 + 10)[0]["top_cause"] is None
    # re-suggesting keeps the user's verdict but updates score and reasons
    assert store.add_annotation("event", e0, "caffeine", 0.9, ["more"]) == a
    again = store.annotations(target="event", target_id=e0)[0]
    assert (again["score"], again["status"], again["reasons_for"]) == (0.9, "rejected", ["more"])

    with pytest.raises(StoreError, match="unknown status 'maybe'; accepted: suggested, confirmed, rejected"):
        store.set_annotation_status(a, "maybe")
    with pytest.raises(StoreError, match="no annotation 999"):
        store.set_annotation_status(999, "confirmed")
    with pytest.raises(StoreError, match="no event 999"):
        store.add_annotation("event", 999, "caffeine", 0.1)
    with pytest.raises(StoreError, match="unknown target 'day'"):
        store.add_annotation("day", 1, "caffeine", 0.1)
    assert len(store.annotations()) == 3


def test_events_between_orders_by_wall_time_and_skips_unknown_times(store):
    first = store.start_session(device_id="d", firmware_version="0.1", boot_id=1, source="a", body_site="left calf")
    second = store.start_session(device_id="d", firmware_version="0.1", boot_id=2, source="b", body_site="right thigh")
    store.add_events(second, [_event(0, T0 + 5)])
    store.add_events(first, [_event(1, T0 + 9), _event(2, T0 + 1), _event(3, None)])
    rows = store.events_between()
    assert [(r["wall_time_s"], r["body_site"]) for r in rows] == [
        (T0 + 1, "left calf"), (T0 + 5, "right thigh"), (T0 + 9, "left calf")]
    assert [r["wall_time_s"] for r in store.events_between(T0 + 1, T0 + 9)] == [T0 + 1, T0 + 5]  # [since, until)
    assert store.events_between(since_unix_s=T0 + 10) == []


def test_parser_shaped_entries_are_accepted(store):
    """parse_symptom/parse_lab name the time at_unix_s and add what was typed."""
    store.add_symptom({"kind": "cramps", "at_unix_s": T0, "site": "left calf", "severity": 5.0, "note": None})
    store.add_lab({"analyte": "magnesium", "value": 0.6171, "unit": "mmol/L", "at_unix_s": T0, "ref_low": 0.7,
                   "ref_high": 1.0, "ref_source": "lab", "value_entered": 1.5, "unit_entered": "mg/dL"})
    assert store.symptoms()[0]["start_unix_s"] == T0
    (lab,) = store.labs()
    assert (lab["taken_unix_s"], lab["value_entered"], lab["unit_entered"], lab["ref_source"]) == (
        T0, 1.5, "mg/dL", "lab")
    with pytest.raises(StoreError, match="both at_unix_s and start_unix_s"):
        store.add_symptom({"kind": "cramps", "at_unix_s": T0, "start_unix_s": T0})


def test_real_parser_output_round_trips(store):
    entries = pytest.importorskip("twitchwatch.causes.entries")
    now = T0 + 86400
    exposure = entries.parse_exposure("caffeine", "200", unit="mg", at=T0, now_unix_s=now)
    symptom = entries.parse_symptom("weakness", site="Left hand", severity="4", at=T0, now_unix_s=now)
    lab = entries.parse_lab("magnesium", "0.62", "mmol/L", at=T0, ref_low="0.70", ref_high="1.00", now_unix_s=now)
    store.add_context(exposure)
    store.add_symptom(symptom)
    store.add_lab(lab)
    assert store.context()[0]["value"] == 200 and store.context()[0]["unit"] == "mg"
    assert store.symptoms()[0]["site"] == "left hand"
    assert store.labs()[0]["value"] == pytest.approx(0.62)


def test_session_events_and_counts_per_session(store):
    s1 = store.start_session(device_id="d", firmware_version="0.1", boot_id=1, source="test", body_site="left calf")
    s2 = store.start_session(device_id="d", firmware_version="0.1", boot_id=2, source="test")
    store.add_events(s1, [_event(0, T0 + 1), _event(1, None)])
    store.add_events(s2, [_event(0, T0 + 5)])
    e0, e1, _ = (e["id"] for e in store.events())
    store.add_annotation("event", e0, "caffeine", 0.7)
    store.add_annotation("event", e0, "stress", 0.9)
    rows = store.session_events(s1)
    assert [(r["id"], r["top_cause"], r["body_site"]) for r in rows] == [(e0, "stress", "left calf"), (e1, None, "left calf")]
    assert store.event_counts() == {s1: 2, s2: 1}
    assert store.session_events(999) == []
