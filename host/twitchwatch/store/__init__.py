"""The SQLite store: sessions and detected twitch events, schema migrations.

Public names: :class:`Store`, :class:`StoreError`, :func:`default_db_path`.
"""

from .errors import StoreError
from .paths import default_db_path
from .store import Store

__all__ = ["Store", "StoreError", "default_db_path"]
