"""`bench/replay_bench.py --parts` on a 15-s file: every part is reported, and they add up
to no more than the process's CPU (no timing is checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_parts_table_names_every_part_and_adds_up():
    out = subprocess.run([sys.executable, str(REPO / "bench" / "replay_bench.py"), "--parts", "--minutes", "0.25"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {}
    for line in out.stdout.split("CPU s by part", 1)[1].splitlines()[1:]:
        name, value = line.rsplit(None, 1)
        rows[name.strip()] = float(value)
    assert any(name.startswith("detector: EMG blocks") for name in rows)
    assert any(name.startswith("detector: accelerometer blocks") for name in rows)
    assert "imports (the command line)" in rows and "session end (its last records, cause annotation)" in rows
    total = rows.pop("total CPU")
    assert total > 0 and all(v >= 0 for v in rows.values())
    assert sum(rows.values()) <= total + 0.05
