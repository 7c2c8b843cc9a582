"""mypy on the firmware against the MicroPython stubs in typings/ (not CPython's typeshed).

Installs nothing. Skips when typings/ is absent (``make`` installs it with
``pip install --no-deps --target typings micropython-esp32-stubs micropython-stdlib-stubs``)
or mypy is not installed. The negative tests prove the setup catches real errors.
"""

import importlib.util
import subprocess
import sys

import pytest

from conftest import FIRMWARE, ROOT

TYPINGS = ROOT / "typings"
CONFIG = FIRMWARE / "mypy.ini"

pytestmark = [
    pytest.mark.skipif(not (TYPINGS / "machine.pyi").exists(),
                       reason="typings/ absent: pip install --no-deps --target typings "
                              "micropython-esp32-stubs micropython-stdlib-stubs"),
    pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy not installed"),
]


def _mypy(*targets):
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(CONFIG),
                           "--no-incremental", *map(str, targets)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_firmware_type_checks():
    p = _mypy(FIRMWARE)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Success" in p.stdout


BAD = {
    "wrong_type": ("x: int = 'five'\n", "Incompatible types in assignment"),
    "pin_typo": ("import machine\nmachine.Pin(5, machine.Pin.OUT).valu(1)\n", '"Pin" has no attribute "valu"'),
    # time.monotonic_ns exists in CPython but not in MicroPython: only the MicroPython
    # stubs (custom_typeshed_dir) reject it.
    "cpython_only_api": ("import time\nt = time.monotonic_ns()\n", 'has no attribute "monotonic_ns"'),
    "spi_arg": ("import machine\nspi = machine.SPI(2)\nspi.write_readinto(b'ab')\n", 'Too few arguments for "write_readinto"'),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_setup_catches_real_errors(tmp_path, name):
    code, expected = BAD[name]
    bad = tmp_path / f"bad_{name}.py"
    bad.write_text(code)
    p = _mypy(bad)
    assert p.returncode == 1, p.stdout + p.stderr
    assert expected in p.stdout, p.stdout
