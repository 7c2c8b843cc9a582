"""export_all (JSON), export_csv, export_edf and delete_all against real files."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import sqlite3

import pytest

from twitchwatch.detect import TwitchEvent
from twitchwatch.store import PERSON_TABLES, Store, StoreError, migrations

T0 = 1_700_000_000.0
SECRET = "ZEBRA-7731-PRIVATE-NOTE"


def _fill(store: Store) -> dict[str, int]:
    sid = store.start_session(device_id="tw-1", firmware_version="0.1", boot_id=1, source="test",
                              body_site=f"left calf {SECRET}", started_at=T0)
    events = [dataclasses.replace(
        TwitchEvent(sample_index=2000 * i, t_s=float(i), channel=i % 2, channel_label=f"EMG {i % 2 + 1}",
                    amplitude_uv=120.0 + i, duration_ms=8.0, confidence=0.9, detector="engine"),
        wall_time_s=T0 + 0.5 + i * 7, unit_id=3 if i % 2 == 0 else None) for i in range(20)]
    store.add_events(sid, events)
    store.add_artefacts(sid, [dict(kind="pop", channel=0, start_index=1, end_index=5, t_start_s=0, t_end_s=0.1,
                                   detail=SECRET)])
    store.set_quality(sid, [{"channel": 0, "noise_floor_uv": 2.0}])
    store.end_session(sid, ended_at=T0 + 200, stats={"crc_errors": 0})
    store.add_context({"kind": "caffeine", "start_unix_s": T0, "value": 200, "unit": "mg",
                       "detail": {"source": "coffee"}, "note": SECRET})
    store.add_symptom({"kind": "weakness", "start_unix_s": T0, "site": "left hand", "severity": 4, "note": SECRET})
    store.add_lab({"analyte": "magnesium", "value": 0.62, "unit": "mmol/L", "ref_low": 0.7, "ref_high": 1.0,
                   "taken_unix_s": T0, "note": SECRET})
    store.add_clinical_test({"kind": "emg", "result": f"normal {SECRET}", "taken_unix_s": T0})
    first = store.events()[0]["id"]
    store.add_annotation("event", first, "caffeine", 0.8, [f"because {SECRET}"], [])
    store.add_annotation("session", sid, "stress", 0.3)
    store.add_red_flag_review("weakness", T0 + 300, note=SECRET)
    return {"sessions": 1, "events": 20, "artefacts": 1, "context_entries": 1, "symptoms": 1, "lab_results": 1,
            "clinical_tests": 1, "annotations": 2, "red_flag_reviews": 1}


def test_export_all_is_one_readable_json_with_the_schema_version(tmp_path):
    with Store(tmp_path / "tw.sqlite3") as store:
        expected = _fill(store)
        counts = store.export_all(tmp_path / "out.json")
        version = store.schema_version()
    assert counts == expected
    text = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert "\n  " in text  # indented: a person can read it
    doc = json.loads(text)
    assert doc["format"] == "twitchwatch-export" and doc["schema_version"] == version == migrations.latest_version()
    assert doc["migrations"][3] == [4, "context_symptoms_labs_tests_annotations"]
    assert {t: len(rows) for t, rows in doc["tables"].items()} == expected
    assert doc["tables"]["sessions"][0]["stats"] == {"crc_errors": 0}
    assert doc["tables"]["sessions"][0]["quality"] == [{"channel": 0, "noise_floor_uv": 2.0}]
    assert doc["tables"]["context_entries"][0]["detail"] == {"source": "coffee"}
    assert doc["tables"]["annotations"][0]["reasons_for"] == [f"because {SECRET}"]
    assert not list(tmp_path.glob("*.partial"))


def test_export_to_an_unwritable_place_raises_store_error(tmp_path):
    (tmp_path / "file").write_text("")
    with Store(tmp_path / "tw.sqlite3") as store:
        with pytest.raises(StoreError, match="out.json: cannot write the export"):
            store.export_all(tmp_path / "file" / "out.json")
        with pytest.raises(StoreError, match="cannot create the export folder"):
            store.export_csv(tmp_path / "file" / "csv")


def test_export_csv_one_file_per_table(tmp_path):
    with Store(tmp_path / "tw.sqlite3") as store:
        expected = _fill(store)
        paths = store.export_csv(tmp_path / "csv")
    assert set(paths) == set(PERSON_TABLES)
    for table, path in paths.items():
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert len(rows) == expected[table], table
    lab = list(csv.DictReader(paths["lab_results"].open()))[0]
    assert (lab["analyte"], float(lab["value"]), lab["unit"]) == ("magnesium", 0.62, "mmol/L")
    ev = list(csv.DictReader(paths["events"].open()))
    assert ev[1]["unit_id"] == ""  # NULL is an empty field


def test_export_edf_opens_in_pyedflib_with_one_annotation_per_twitch(tmp_path):
    pyedflib = pytest.importorskip("pyedflib")
    with Store(tmp_path / "tw.sqlite3") as store:
        _fill(store)
        info = store.export_edf(tmp_path / "tw.edf")
        events = store.events_between()
    assert info["events"] == 20 and info["channels"] == [0, 1] and info["start_unix_s"] == T0
    reader = pyedflib.EdfReader(str(tmp_path / "tw.edf"))
    try:
        assert reader.signals_in_file == 2
        assert reader.getSignalLabels() == ["EMG 1", "EMG 2"]
        assert reader.getPhysicalDimension(0) == "/min"
        assert reader.getSampleFrequency(0) == 1.0
        onsets, _, texts = reader.readAnnotations()
        assert len(texts) == 20
        assert texts[0] == "twitch EMG 1 120uV unit 3" and texts[1] == "twitch EMG 2 121uV"
        for onset, e in zip(onsets, events):
            assert abs(onset - (e["wall_time_s"] - T0)) < 1e-3
        rate = reader.readSignal(0)
        # channel 1 twitches every 14 s: over a full minute that is ~4.3/min
        assert len(rate) >= 134
        assert 3.0 <= rate[100] <= 5.5
        start = reader.getStartdatetime()  # naive, UTC as written
        assert start == datetime.datetime.fromtimestamp(T0, tz=datetime.timezone.utc).replace(tzinfo=None)
    finally:
        reader.close()


def test_export_edf_without_events_is_a_clear_error(tmp_path):
    with Store(tmp_path / "tw.sqlite3") as store:
        with pytest.raises(StoreError, match="no twitch events"):
            store.export_edf(tmp_path / "x.edf")
    assert not (tmp_path / "x.edf").exists()


def test_delete_all_leaves_no_trace_in_the_file_bytes(tmp_path):
    path = tmp_path / "tw.sqlite3"
    with Store(path) as store:
        _fill(store)
        # push the data from the WAL into the main file, then check it is really there
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert SECRET.encode() in path.read_bytes()
        # a concurrent reader that has finished its read does not prevent the wipe
        reader = sqlite3.connect(path)
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 20
        counts = store.delete_all()
        reader.close()
        assert counts == _expected_counts()
        for table in PERSON_TABLES:
            assert store._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
        assert store.schema_version() == migrations.latest_version()  # the schema stays
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    data += wal.read_bytes() if wal.exists() else b""
    assert SECRET.encode() not in data
    assert b"coffee" not in data  # (words like "magnesium" or "left hand" are in the schema comments)
    with Store(path) as store:  # still a working, empty store
        assert store.sessions() == [] and store.context() == []


def _expected_counts():
    return {"red_flag_reviews": 1, "annotations": 2, "clinical_tests": 1, "lab_results": 1, "symptoms": 1, "context_entries": 1,
            "artefacts": 1, "events": 20, "sessions": 1}
