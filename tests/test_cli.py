"""The ``twitchwatch`` command as a user runs it: a real process, real files, exit codes, messages."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tw_command import BIN, run_twitchwatch

from twitchwatch.cli import build_parser



tw = run_twitchwatch


def test_every_command_has_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) >= {"demo", "stream", "replay", "ports", "log", "events", "export", "delete-all",
                                "report", "causes", "flash", "scan"}
    for name, p in sub.choices.items():
        helps = [a.help for a in p._actions if a.dest != "help"]
        assert all(helps), f"{name} has an option without help"
    out = tw("--help")
    assert out.returncode == 0
    assert "not a diagnostic" in out.stdout and "twitchwatch demo" in out.stdout


def test_ble_commands_without_bluetooth_fail_with_one_line(tmp_path):
    """This machine has no Bluetooth stack (no BlueZ): scan and stream --ble say so and end."""
    pytest.importorskip("bleak")
    if Path("/run/dbus/system_bus_socket").exists() or Path("/var/run/dbus/system_bus_socket").exists():
        pytest.skip("a D-Bus system bus is here: BlueZ may answer")
    out = tw("scan", "--timeout", "1", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.startswith("twitchwatch: error: Bluetooth scan failed"), out.stderr
    out = tw("stream", "--ble", "tw-0001", "--no-dashboard", "--db", "d.sqlite3", "-q", cwd=tmp_path, timeout_s=60)
    assert out.returncode == 2 and "twitchwatch: error: Bluetooth scan failed" in out.stderr, out.stderr


@pytest.mark.slow
def test_demo_ble_fast_scores_like_the_serial_demo(tmp_path):
    pytest.importorskip("bumble")
    out = tw("demo", "--ble", "--fast", "--duration", "6", "--seed", "2", "--db", "d.sqlite3", "--no-dashboard",
             cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "over Bluetooth LE" in out.stderr and "BLE: connected to tw-0002" in out.stderr
    assert "decoded: stream 0: 12000 samples, stream 1: 6000 samples" in out.stdout
    assert "dropped or damaged: nothing" in out.stdout
    assert "link: BLE tw-0002" in out.stdout and "0 dropouts" in out.stdout
    assert "ground truth: the simulator placed" in out.stdout
    con = sqlite3.connect(tmp_path / "d.sqlite3")
    stats = json.loads(con.execute("SELECT stats_json FROM sessions").fetchone()[0])
    assert stats["link"]["transport"] == "ble" and stats["link"]["dropouts"] == []
    assert stats["link"]["mtu"] == 247


@pytest.mark.slow
def test_demo_fast_logs_events_and_scores_them(tmp_path):
    out = tw("demo", "--fast", "--duration", "10", "--seed", "3", "--db", "d.sqlite3",
             "--events-out", "e.jsonl", "--capture", "c.twcap", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "ground truth: the simulator placed" in out.stdout
    assert "dropped or damaged: nothing" in out.stdout
    lines = [json.loads(x) for x in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert lines, "a 10 s demo at the default rate has twitches"
    con = sqlite3.connect(tmp_path / "d.sqlite3")
    assert con.execute("select count(*) from events").fetchone()[0] == len(lines)

    assert "dashboard: http://127.0.0.1:" in out.stderr  # the demo serves the dashboard

    again = tw("replay", "c.twcap", "--db", "r.sqlite3", "--events-out", "r.jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "r.jsonl").read_text() == (tmp_path / "e.jsonl").read_text()
    assert "dashboard:" not in again.stderr  # a replay as fast as possible has nothing live to show
    live = tw("replay", "c.twcap", "--realtime", "--no-browser", "--dashboard-port", "0", "-q",
              "--db", "l.sqlite3", cwd=tmp_path)
    assert live.returncode == 0 and "dashboard: http://127.0.0.1:" in live.stderr
    off = tw("demo", "--fast", "--duration", "1", "--no-dashboard", "--db", "o.sqlite3", cwd=tmp_path)
    assert off.returncode == 0 and "dashboard:" not in off.stderr


def test_serving_beyond_this_computer_without_a_token_is_refused(tmp_path):
    out = tw("demo", "--fast", "--duration", "1", "--host", "0.0.0.0", "--db", "x.sqlite3", cwd=tmp_path)
    assert out.returncode == 2 and "--access-token" in out.stderr and "Traceback" not in out.stderr


def test_serving_beyond_this_computer_makes_a_certificate_and_prints_its_fingerprint(tmp_path):
    """Issue 17, item 11: never plain HTTP beyond loopback; without --tls-cert a self-signed
    certificate is made once (in the user's data folder) and its fingerprint printed."""
    import re

    args = ("demo", "--fast", "--duration", "1", "--host", "0.0.0.0", "--dashboard-port", "0",
            "--access-token", "s" * 20, "--no-browser", "--db", "x.sqlite3")
    first = tw(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert re.search(r"dashboard: https://\S+#token=s{20}", first.stderr) and "http://" not in first.stderr
    prints = re.findall(r"\(made (now|on first use), (\S+)\).*fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})",
                        first.stderr)
    assert len(prints) == 1 and prints[0][0] == "now" and prints[0][1].startswith(str(tmp_path / "xdg"))
    second = tw(*args, cwd=tmp_path)
    assert second.returncode == 0 and f"(made on first use, {prints[0][1]})" in second.stderr
    assert prints[0][2] in second.stderr


def test_replay_of_a_file_that_is_not_a_capture_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    out = tw("replay", "notes.txt", "--db", "x.sqlite3", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("twitchwatch: error:") and "notes.txt" in out.stderr
    assert "Traceback" not in out.stderr
    missing = tw("replay", "nope.twcap", "--db", "x.sqlite3", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.twcap" in missing.stderr and "Traceback" not in missing.stderr


def test_stream_from_a_missing_port_is_a_clear_error(tmp_path):
    out = tw("stream", "--port", "/dev/does-not-exist", "--db", "x.sqlite3", cwd=tmp_path)
    assert out.returncode == 2
    assert "/dev/does-not-exist" in out.stderr and "Traceback" not in out.stderr


def test_events_out_in_an_unwritable_place_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("")
    out = tw("demo", "--fast", "--duration", "1", "--db", "x.sqlite3", "--events-out", "file/e.jsonl", cwd=tmp_path)
    assert out.returncode == 2
    assert "e.jsonl" in out.stderr and "Traceback" not in out.stderr


def test_a_database_that_is_not_sqlite_is_a_clear_error(tmp_path):
    (tmp_path / "bad.sqlite3").write_bytes(b"this is not a database" * 100)
    out = tw("demo", "--fast", "--duration", "1", "--db", "bad.sqlite3", cwd=tmp_path)
    assert out.returncode == 2
    assert "bad.sqlite3" in out.stderr and "Traceback" not in out.stderr


def test_ports_lists_without_error(tmp_path):
    out = tw("ports", cwd=tmp_path)
    assert out.returncode == 0
    assert out.stdout.strip()


@pytest.mark.slow
def test_in_a_terminal_the_dashboard_stays_up_after_the_run_until_ctrl_c(tmp_path):
    import pty
    import re
    import signal
    import time
    import urllib.request

    master, slave = pty.openpty()
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    proc = subprocess.Popen([str(BIN), "demo", "--fast", "--duration", "2", "--no-browser", "--dashboard-port", "0",
                             "-q", "--db", "t.sqlite3"], stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path, env=env,
                            # Ctrl-C as in a terminal even when pytest itself was started in the
                            # background (`cmd &` ignores SIGINT, and the ignore is inherited)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(slave)
    try:
        err = ""
        assert proc.stderr is not None
        while "stays up" not in err:
            line = proc.stderr.readline()
            assert line, f"ended without keeping the dashboard up: {err}"
            err += line
        url = re.search(r"stays up at (\S+)", err).group(1)
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        assert "twitchwatch-token" in page
        out = b""
        deadline = time.monotonic() + 5
        while b"ground truth" not in out and time.monotonic() < deadline:  # the score was printed already
            out += os.read(master, 65536)
        assert b"ground truth" in out
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
