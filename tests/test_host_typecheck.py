"""mypy on the host package (``[tool.mypy]`` in pyproject.toml; typeshed's stubs for
tqdm and pyserial from the dev extra). Skips when mypy is not installed."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy not installed")
def test_host_package_type_checks(tmp_path):
    p = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "host/twitchwatch"],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "Success" in p.stdout
