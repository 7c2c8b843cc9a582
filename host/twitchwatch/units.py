"""Physical units of the signals, and their factors to the units used inside
twitchwatch: µV for EMG, mg for acceleration. One table, read by the file formats, the
dashboard and the LSL outlet.

Keys are lower-case with spaces removed (see :func:`unit_key`).
"""

from __future__ import annotations

#: standard gravity, m/s² per g (CGPM 1901)
STANDARD_GRAVITY = 9.80665

#: EMG unit -> factor to µV
EMG_UNITS: dict[str, float] = {
    "uv": 1.0, "µv": 1.0, "μv": 1.0, "microvolt": 1.0, "microvolts": 1.0,
    "mv": 1e3, "millivolt": 1e3, "millivolts": 1e3,
    "v": 1e6, "volt": 1e6, "volts": 1e6,
    "nv": 1e-3,
}

#: acceleration unit -> factor to mg
ACC_UNITS: dict[str, float] = {
    "g": 1000.0, "mg": 1.0,
    "m/s^2": 1000.0 / STANDARD_GRAVITY, "m/s2": 1000.0 / STANDARD_GRAVITY,
    "m/s²": 1000.0 / STANDARD_GRAVITY, "ms^-2": 1000.0 / STANDARD_GRAVITY,
    "ms-2": 1000.0 / STANDARD_GRAVITY, "m*s^-2": 1000.0 / STANDARD_GRAVITY,
}


def unit_key(unit: str) -> str:
    """``unit`` as the tables' keys spell it: spaces removed, lower-case."""
    return unit.strip().replace(" ", "").lower()
