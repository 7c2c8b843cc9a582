"""Issue 17, item 6: a database on a read-only medium could not even be read ('unable to
open database file' from events, report and export). Reading commands now open it
read-only; a real read-only filesystem (a tmpfs remounted ro) where mounting is allowed."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from twitchwatch.cli import main
from twitchwatch.detect import TwitchEvent
from twitchwatch.store import Store, StoreError


def _fill(db) -> None:
    with Store(db) as store:
        sid = store.start_session(device_id="tw-1", firmware_version="0.1", boot_id=1, source="test",
                                  started_at=time.time() - 3600)
        store.add_events(sid, [TwitchEvent(sample_index=10 * i, t_s=float(i), channel=0, channel_label="EMG 1",
                                           amplitude_uv=100.0, duration_ms=8.0, confidence=0.9, detector="engine",
                                           wall_time_s=time.time() - 1800 + i) for i in range(3)])
        store.end_session(sid, ended_at=time.time() - 60)


@pytest.fixture
def read_only_dir(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        _fill(tmp_path / "t.sqlite3")
        shutil.copy(tmp_path / "t.sqlite3", mount_point / "t.sqlite3")
        done = subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {done.stderr.strip()}")
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_reading_commands_read_a_database_on_a_read_only_medium(read_only_dir, tmp_path, capsys):
    db = str(read_only_dir / "t.sqlite3")
    with pytest.raises(StoreError):  # opening to write is what failed before
        Store(db)
    assert main(["events", "--since", "1d", "--db", db]) == 0
    assert "3 twitches since" in capsys.readouterr().out
    assert main(["export", "--json", str(tmp_path / "out.json"), "--db", db]) == 0
    assert (tmp_path / "out.json").stat().st_size > 0
    assert main(["report", "--out", str(tmp_path / "r.html"), "--db", db]) == 0
    assert (tmp_path / "r.html").stat().st_size > 0
    assert sorted(os.listdir(read_only_dir)) == ["t.sqlite3"]


def test_a_read_only_store_reads_and_refuses_writes(tmp_path):
    db = tmp_path / "t.sqlite3"
    _fill(db)
    with Store(db, read_only=True) as store:
        assert len(store.events()) == 3
        with pytest.raises(StoreError, match="read-only"):
            store.start_session(device_id="x", firmware_version="0", boot_id=1, source="t")


def test_reading_a_missing_database_is_one_line_and_makes_no_file(tmp_path, capsys):
    """Issue 17, item 10: 'events' on a database that does not exist made an empty one."""
    db = tmp_path / "nothing.sqlite3"
    assert main(["events", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "no database there" in err and err.count("\n") == 1
    assert not db.exists() and os.listdir(tmp_path) == []
