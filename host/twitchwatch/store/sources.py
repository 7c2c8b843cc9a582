"""Recognising a file already stored: its SHA-256, and the sessions that hold it.

A replayed capture or recording file is fingerprinted before it runs; a session read
from it keeps the fingerprint (``sessions.source_sha256``, migration 7), and so does
every session of a live run that wrote a capture (once the capture is closed). Running
the same file into the same database again is then refused unless asked for.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from twitchwatch.localtime import shown_time

CHUNK_BYTES = 1 << 20


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file's bytes (read in 1 MiB pieces). Raises OSError."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def already_stored_message(name: str, sessions: list[dict[str, Any]]) -> str:
    """One line: which sessions already hold this file, and how to store it again."""
    first = sessions[0]
    when = shown_time(first["started_at"], seconds=False)
    ids = ", ".join(str(s["id"]) for s in sessions)
    return (f"{name} is already in this database (session{'s' if len(sessions) > 1 else ''} {ids}, from {when}): "
            "nothing was stored again, so its twitches are not counted twice; use --again to store it once more, "
            "or --db for another database")
