"""Where the store lives by default."""

from __future__ import annotations

import os
import pathlib


def default_db_path() -> pathlib.Path:
    """``platformdirs.user_data_path("twitchwatch") / "twitchwatch.sqlite3"``; not created here."""
    import platformdirs  # a declared dependency; imported here so the store imports without it

    return platformdirs.user_data_path("twitchwatch") / "twitchwatch.sqlite3"


def db_path(db: str | os.PathLike | None) -> pathlib.Path:
    """The database a command names (``--db``), or :func:`default_db_path` when none is named."""
    return pathlib.Path(db) if db else default_db_path()
