"""Errors of the SQLite store."""

from __future__ import annotations

from .. import TwitchwatchError


class StoreError(TwitchwatchError):
    """The store cannot do what was asked: unreadable/foreign/newer file, full disk,
    unknown session. The message names the database file."""


class StoreFullError(StoreError):
    """The database or its disk is full (SQLite's SQLITE_FULL): nothing of the write was
    stored, and the same write may succeed once there is room again."""
