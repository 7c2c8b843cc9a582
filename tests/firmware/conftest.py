"""Shared helpers for the firmware tests: run scripts under the real MicroPython binary.

The firmware modules are also importable under CPython (``FIRMWARE`` is put on
``sys.path``) so the same code is checked on both interpreters.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
VECTORS = ROOT / "tests" / "vectors"
HERE = pathlib.Path(__file__).resolve().parent
MP_SCRIPTS = HERE / "mp_scripts"
FAKES = HERE / "fakes"
MICROPYTHON = pathlib.Path(sys.executable).parent / "micropython"
TIMEOUT_S = 60

if str(FIRMWARE) not in sys.path:
    sys.path.insert(0, str(FIRMWARE))


def run_micropython(script, *args, heapsize=None, timeout=TIMEOUT_S, check=True):
    """Run ``script`` under MicroPython with firmware/ and the fakes on MICROPYPATH."""
    if not MICROPYTHON.exists():
        pytest.skip(f"no MicroPython Unix port at {MICROPYTHON}")
    cmd = [str(MICROPYTHON)]
    if heapsize:
        cmd += ["-X", f"heapsize={heapsize}"]
    cmd += [str(script), *map(str, args)]
    env = dict(os.environ, MICROPYPATH=f"{FIRMWARE}:{FAKES}:{MP_SCRIPTS}")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture
def micropython():
    if not MICROPYTHON.exists():
        pytest.skip(f"no MicroPython Unix port at {MICROPYTHON}")
    return run_micropython


def _check_lines(stdout):
    """``{name: line}`` from a check script's output (mp_scripts/checks_runner.py)."""
    lines = stdout.splitlines()
    assert lines and lines[-1] == "done", stdout
    out = {}
    for line in lines[:-1]:
        status, rest = line.split(" ", 1)
        out[rest.split(":", 1)[0]] = line
    return out


def check_results(script, interpreter, timeout=120):
    """Run an mp_scripts check script under ``"micropython"`` or ``"cpython"`` (firmware/
    and the fakes on the path in both) and return ``{check name: "ok NAME" | "FAIL ..."}``."""
    path = MP_SCRIPTS / script
    if interpreter == "micropython":
        return _check_lines(run_micropython(path, timeout=timeout).stdout)
    env = dict(os.environ, PYTHONPATH=f"{FIRMWARE}{os.pathsep}{FAKES}")
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=timeout, env=env,
                          check=True)
    return _check_lines(proc.stdout)
