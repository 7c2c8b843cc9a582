"""Issue 17, items 7 and 10: outputs that would write over an input are refused; a
refused run leaves no file behind; what replay is given is named for what it is."""

from __future__ import annotations

import os
import sqlite3

import pytest

from twitchwatch.cli import main
from twitchwatch.formats import write_edf
from twitchwatch.protocol.synthetic import synthetic_stream
from twitchwatch.sim import simulate
from twitchwatch.store import Store
from twitchwatch.transports import CaptureWriter


@pytest.fixture(scope="module")
def edf(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edf")
    rec = simulate("benign_clean", 20.0, seed=3)
    path = tmp / "sim.edf"
    write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), acc_mg=rec.acc_mg,
              acc_rate_hz=rec.acc_rate_hz, start_unix_s=1_760_000_000)
    return path


def _events_in(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from events").fetchone()[0]


def test_events_out_naming_the_database_is_refused(edf, tmp_path, capsys):
    """Before: the events file was appended to the database file, which lost every event."""
    db = tmp_path / "t.sqlite3"
    assert main(["replay", str(edf), "--db", str(db), "-q"]) == 0
    before = _events_in(db)
    assert before > 0
    capsys.readouterr()
    assert main(["replay", str(edf), "--db", str(db), "--events-out", str(db), "-q"]) == 2
    err = capsys.readouterr().err
    assert "--events-out" in err and "same file as the database" in err and err.count("\n") == 1
    assert _events_in(db) == before
    with Store(db) as store:
        assert len(store.sessions()) == 1


@pytest.mark.parametrize("args", [["--events-out", "{edf}"], ["--events-out", "{edf_link}"]])
def test_an_output_naming_the_replayed_file_is_refused(edf, tmp_path, capsys, args):
    link = tmp_path / "link.edf"
    if not link.exists():
        os.symlink(edf, link)
    size = edf.stat().st_size
    argv = [a.format(edf=edf, edf_link=link) for a in args]
    assert main(["replay", str(edf), "--db", str(tmp_path / "n.sqlite3"), "-q", *argv]) == 2
    assert "same file as the file replayed" in capsys.readouterr().err
    assert edf.stat().st_size == size
    assert not (tmp_path / "n.sqlite3").exists()


def test_export_and_report_refuse_to_write_over_the_database(tmp_path, capsys):
    db = tmp_path / "t.sqlite3"
    Store(db).close()
    size = db.stat().st_size
    assert main(["export", "--json", str(db), "--db", str(db)]) == 2
    assert "--json" in capsys.readouterr().err
    assert main(["report", "--out", str(db), "--db", str(db)]) == 2
    assert "--out" in capsys.readouterr().err
    assert db.stat().st_size == size
    Store(db).close()  # still a database


def test_a_refused_run_leaves_no_database(tmp_path, capsys):
    """Before: a run refused after the store was opened (here: --host 0.0.0.0 without a
    token or TLS) left an empty database behind."""
    cap = tmp_path / "c.twcap"
    with CaptureWriter(cap) as w:
        w.write(1.0, synthetic_stream(duration_s=0.2).wire)
    db = tmp_path / "new.sqlite3"
    assert main(["replay", str(cap), "--realtime", "--db", str(db), "--host", "0.0.0.0", "--no-browser", "-q"]) == 2
    assert "--host 0.0.0.0" in capsys.readouterr().err
    assert not db.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["c.twcap"]


def test_replay_names_what_it_was_given(tmp_path, capsys):
    """Before: a damaged capture header was reported as a bad EDF/CSV, a directory or FIFO
    as 'no such file', and a 100 kB bad name made a 100 kB error line."""
    cap = tmp_path / "c.twcap"
    with CaptureWriter(cap) as w:
        w.write(1.0, b"\0")
    raw = bytearray(cap.read_bytes())
    raw[15] ^= 0xFF  # inside the header's times: its CRC fails
    cap.write_bytes(bytes(raw))
    assert main(["replay", str(cap), "--db", str(tmp_path / "d.sqlite3"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "capture header is damaged" in err and "EDF" not in err
    (tmp_path / "adir").mkdir()
    assert main(["replay", str(tmp_path / "adir"), "-q"]) == 2
    assert "is a folder" in capsys.readouterr().err
    os.mkfifo(tmp_path / "fifo")
    assert main(["replay", str(tmp_path / "fifo"), "-q"]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert main(["replay", "x" * 100_000 + "\x1b[31m", "-q"]) == 2
    err = capsys.readouterr().err
    assert len(err) < 400 and "\x1b" not in err
    assert not (tmp_path / "d.sqlite3").exists()


def test_invalid_utf8_in_an_argument_is_one_line(tmp_path):
    """Issue 17, item 9: raw bytes that are not UTF-8 in a 'log' argument ended in a
    traceback (UnicodeEncodeError from the store)."""
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "t.sqlite3"
    exe = Path(sys.executable).with_name("twitchwatch")
    done = subprocess.run([str(exe), "log", "symptom", "weakness", "--note", b"tired \xff\xfe", "--db", str(db)],
                          capture_output=True, timeout=120)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and "argument 5" in err and "not valid UTF-8" in err
    assert not db.exists()


def test_a_time_back_from_now_written_with_a_minus(tmp_path, capsys):
    """Issue 17, item 13: 'log caffeine --mg 300 --at -2h' failed ('expected one
    argument'), though the page suggests -2h as a time."""
    import time

    db = tmp_path / "t.sqlite3"
    assert main(["log", "caffeine", "--mg", "300", "--at", "-2h", "--db", str(db)]) == 0
    assert main(["log", "stress", "3", "--at", "-3h", "--until", "-1h", "--db", str(db)]) == 0
    assert main(["events", "--since", "-1d", "--db", str(db)]) in (0, 2)  # parsed as a value, not an option
    assert "expected one argument" not in capsys.readouterr().err
    with sqlite3.connect(db) as conn:
        starts = [r[0] for r in conn.execute("select start_unix_s from context_entries order by id")]
    now = time.time()
    assert abs(starts[0] - (now - 7200)) < 60 and abs(starts[1] - (now - 3 * 3600)) < 60
