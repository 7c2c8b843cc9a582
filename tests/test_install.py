"""The package as a person installs it: a wheel built from this checkout, installed in a
fresh venv outside it, runs the demo from another folder (the firmware travels inside)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import venv
import zipfile

import pytest

from twitchwatch.board.files import board_files

REPO = pathlib.Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_an_installed_wheel_carries_the_firmware_and_runs_the_demo(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                   check=True, capture_output=True)
    (wheel,) = wheels.glob("twitchwatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    firmware = {f"twitchwatch/_firmware/{p.name}" for p in (REPO / "firmware").glob("*.py")}
    assert firmware <= names  # the board's files and the virtual board's
    assert {f"twitchwatch/_firmware/{p.name}" for p in board_files(REPO / "firmware")} <= names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["HOME"] = str(elsewhere)  # the default database and numba's cache stay in the test's folder
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run([str(bin_dir / "twitchwatch"), "demo", "--duration", "10", "--fast", "--no-dashboard",
                           "--db", str(elsewhere / "t.sqlite3")],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ground truth: the simulator placed" in done.stdout
    # the installed copy ran, not this checkout's firmware
    where = subprocess.run([str(bin_dir / "python"), "-c",
                            "from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR as d; print(d)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert pathlib.Path(where).is_relative_to(env_dir), where
