"""The CPython side of the fake board: a pty, and mp_fake_board.py under MicroPython
booted again after every hard reset (exit code 99)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import threading
import tty

from twitchwatch.board.files import firmware_dir
from twitchwatch.transports.virtual import find_micropython

SCRIPT = pathlib.Path(__file__).with_name("mp_fake_board.py")
RESET_EXIT = 99


class FakeBoard:
    """``with FakeBoard(root) as port:``: a board whose flash is the folder ``root``."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.boots = 0
        self.exit_codes: list[int] = []
        self._closing = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> str:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return os.ttyname(self._slave)

    def _run(self) -> None:
        fw = str(firmware_dir())
        while not self._closing:
            self.boots += 1
            self._proc = subprocess.Popen(
                [find_micropython(), str(SCRIPT), "--fd", str(self._master), "--firmware", fw,
                 "--root", str(self.root)],
                stdin=self._master, stdout=self._master, pass_fds=[self._master],
                stderr=subprocess.PIPE, env=dict(os.environ, MICROPYPATH=fw))
            _, err = self._proc.communicate()
            self.exit_codes.append(self._proc.returncode)
            self.stderr = err.decode("utf-8", "replace")
            if self._proc.returncode != RESET_EXIT:
                return

    def __exit__(self, *exc: object) -> None:
        self._closing = True
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._thread is not None:
            self._thread.join(5)
        os.close(self._master)
        os.close(self._slave)
