"""Run the installed ``twitchwatch`` command as a person would: a child process, its own
data folder (``XDG_DATA_HOME`` under the working folder, so no test touches the user's),
text output captured. Shared by the CLI and replay tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).with_name("twitchwatch")


def run_twitchwatch(*args: str, cwd=None, timeout_s: float = 120, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_DATA_HOME=str(Path(cwd or ".").resolve() / "xdg"))
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=timeout_s, cwd=cwd, env=env,
                          input=stdin)
