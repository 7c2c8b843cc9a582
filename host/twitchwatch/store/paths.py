"""Where the store lives by default."""

from __future__ import annotations

import pathlib


def default_db_path() -> pathlib.Path:
    """``platformdirs.user_data_path("twitchwatch") / "twitchwatch.sqlite3"``; not created here."""
    import platformdirs  # a declared dependency; imported here so the store imports without it

    return platformdirs.user_data_path("twitchwatch") / "twitchwatch.sqlite3"
