"""``twitchwatch events / export / delete-all / report``: the person's data out, and gone."""

from __future__ import annotations

import csv
import dataclasses
import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tw_command import run_twitchwatch

from twitchwatch.cli import main
from twitchwatch.detect import TwitchEvent
from twitchwatch.store import PERSON_TABLES, Store

NOW = time.time()
SECRET = "QUOKKA-5512-PRIVATE"


tw = run_twitchwatch


def _fill(db: Path) -> list[int]:
    with Store(db) as store:
        sid = store.start_session(device_id="tw-1", firmware_version="0.1", boot_id=1, source="test",
                                  body_site="left calf", started_at=NOW - 3 * 86400)
        events = [dataclasses.replace(
            TwitchEvent(sample_index=100 * i, t_s=float(i), channel=i % 2, channel_label=f"EMG {i % 2 + 1}",
                        amplitude_uv=120.0 + i, duration_ms=8.0, confidence=0.9, detector="engine"),
            wall_time_s=NOW - 2 * 86400 + 5 * i, unit_id=3 if i == 0 else None) for i in range(6)]
        old = dataclasses.replace(events[0], wall_time_s=NOW - 30 * 86400)
        store.add_events(sid, events + [old])
        ids = [e["id"] for e in store.events_between(NOW - 3 * 86400)]
        store.add_annotation("event", ids[0], "caffeine", 0.8, ["200 mg 40 min before"])
        store.add_context({"kind": "caffeine", "start_unix_s": NOW - 86400, "value": 200, "unit": "mg",
                           "note": SECRET})
        store.end_session(sid, ended_at=NOW - 86400)
    return ids


def test_events_table_and_json(tmp_path, capsys):
    db = tmp_path / "t.sqlite3"
    ids = _fill(db)
    assert main(["events", "--since", "14d", "--db", str(db)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["time", "site", "channel", "amplitude", "unit", "candidate", "cause"]
    assert "left calf" in out[1] and "EMG 1" in out[1] and "120 uV" in out[1] and "caffeine" in out[1]
    assert out[1].split()[-2:] == ["3", "caffeine"]
    assert out[2].split()[-2:] == ["-", "-"]
    assert out[-1].startswith("6 twitches since ")  # the 30-day-old one is outside 14 d
    assert main(["events", "--since", "60d", "--json", "--db", str(db)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 7 and rows[1]["id"] == ids[0] and rows[1]["top_cause"] == "caffeine"
    assert rows[1]["body_site"] == "left calf" and rows[1]["amplitude_uv"] == 120.0
    assert main(["events", "--since", "1h", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("no twitches logged since ")
    assert main(["events", "--since", "fortnight", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("twitchwatch: error: --since:") and "14d, 12h, 2w, 90min" in err


def test_export_json_csv_edf(tmp_path, capsys):
    pyedflib = pytest.importorskip("pyedflib")
    db = tmp_path / "t.sqlite3"
    _fill(db)
    assert main(["export", "--json", str(tmp_path / "all.json"), "--csv", str(tmp_path / "csv"),
                 "--edf", str(tmp_path / "tw.edf"), "--since", "3d", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "7 events" in out and f"{len(PERSON_TABLES)} CSV files" in out and "6 twitch annotations" in out  # EDF: the last 3 days
    doc = json.loads((tmp_path / "all.json").read_text())
    assert doc["schema_version"] >= 4 and len(doc["tables"]["events"]) == 7
    assert doc["tables"]["context_entries"][0]["note"] == SECRET
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == sorted(f"{t}.csv" for t in PERSON_TABLES)
    assert len(list(csv.DictReader((tmp_path / "csv" / "events.csv").open()))) == 7
    reader = pyedflib.EdfReader(str(tmp_path / "tw.edf"))
    try:
        _, _, texts = reader.readAnnotations()
        assert len(texts) == 6 and texts[0] == "twitch EMG 1 120uV unit 3"
        assert reader.getFileDuration() <= 3 * 86400 + 1
        assert reader.getSignalLabels() == ["EMG 1", "EMG 2"]
    finally:
        reader.close()


def test_export_errors_are_one_line(tmp_path, capsys):
    db = tmp_path / "t.sqlite3"
    assert main(["export", "--db", str(db)]) == 2
    assert "--json FILE, --csv DIR and/or --edf FILE" in capsys.readouterr().err
    assert main(["export", "--edf", str(tmp_path / "x.edf"), "--db", str(db)]) == 2
    assert "no database at" in capsys.readouterr().err  # read-only: none is made (issue 17)
    assert not db.exists()
    Store(db).close()
    assert main(["export", "--edf", str(tmp_path / "x.edf"), "--db", str(db)]) == 2
    assert "no twitches with a time" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["export", "--json", str(tmp_path / "file" / "a.json"), "--db", str(db)]) == 2
    assert "a.json" in capsys.readouterr().err


def test_delete_all_asks_then_deletes_everything(tmp_path):
    db = tmp_path / "t.sqlite3"
    _fill(db)
    no = tw("delete-all", "--db", "t.sqlite3", cwd=tmp_path, stdin="no\n")
    assert no.returncode == 1 and "nothing was deleted" in no.stdout
    eof = tw("delete-all", "--db", "t.sqlite3", cwd=tmp_path, stdin="")
    assert eof.returncode == 1
    with Store(db) as store:
        assert len(store.events()) == 7
    yes = tw("delete-all", "--db", "t.sqlite3", cwd=tmp_path, stdin="yes\n")
    assert yes.returncode == 0, yes.stderr
    assert "7 events" in yes.stdout and "1 sessions" in yes.stdout and "1 context_entries" in yes.stdout
    assert "1 annotations" in yes.stdout
    con = sqlite3.connect(db)
    assert all(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == 0 for t in PERSON_TABLES)
    con.close()
    raw = db.read_bytes() + (Path(str(db) + "-wal").read_bytes() if Path(str(db) + "-wal").exists() else b"")
    assert SECRET.encode() not in raw
    again = tw("delete-all", "--yes", "--db", "t.sqlite3", cwd=tmp_path)
    assert again.returncode == 0 and "nothing (it was empty)" in again.stdout
    missing = tw("delete-all", "--yes", "--db", "nope.sqlite3", cwd=tmp_path)
    assert missing.returncode == 0 and "no database" in missing.stdout and not (tmp_path / "nope.sqlite3").exists()


def test_report_without_the_report_module_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "twitchwatch.report", None)  # import fails as in a build without it
    assert main(["report", "--since", "14d", "--out", str(tmp_path / "r.html"), "--db", str(tmp_path / "t.db")]) == 2
    assert capsys.readouterr().err == "twitchwatch: error: report: not available in this build\n"


def test_every_new_command_takes_db_and_has_help():
    from twitchwatch.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in ("log", "events", "export", "delete-all", "report", "demo", "stream", "replay"):
        dests = {a.dest for a in sub.choices[name]._actions}
        assert "db" in dests, name
        assert sub.choices[name].description, name
