"""Shared fixtures for the hardware tests: hardware/ on sys.path, the pin map, the
circuit built once per session (SKiDL takes ~2 s)."""

import copy
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HARDWARE = ROOT / "hardware"
if str(HARDWARE) not in sys.path:
    sys.path.insert(0, str(HARDWARE))

# skidl through hwdesign._skidl, which undoes skidl's process-wide logger class (it would
# break numba's compiler for the rest of the test run, see that module)
pytest.importorskip("hwdesign._skidl", reason="skidl (a dev dependency) is needed to build the schematic")


@pytest.fixture(scope="session")
def pinmap():
    from hwdesign import outputs, pincheck

    return pincheck.load(outputs.PINMAP)


@pytest.fixture
def pm(pinmap):
    """A copy of the pin map a test may spoil."""
    return copy.deepcopy(pinmap)


@pytest.fixture(scope="session")
def circuit(pinmap):
    from hwdesign import schematic

    return schematic.build(pinmap)


@pytest.fixture(scope="session")
def netlist_text(circuit):
    from hwdesign import outputs

    return outputs.netlist_text(circuit)
