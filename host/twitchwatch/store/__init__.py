"""The SQLite store: sessions and detected twitch events, logged exposures, symptoms,
labs, clinical tests and cause annotations; schema migrations; export and delete-all.

Public names: :class:`Store`, :class:`StoreError` (:class:`StoreFullError` when the
database or its disk is full), :func:`default_db_path`, :func:`db_path` (a named one or the default).
"""

from .errors import StoreError, StoreFullError
from .paths import db_path, default_db_path
from .logbook import ANNOTATION_STATUSES, CLINICAL_TEST_KINDS, PERSON_TABLES
from .store import Store

__all__ = ["Store", "StoreError", "StoreFullError", "default_db_path", "db_path", "PERSON_TABLES", "CLINICAL_TEST_KINDS",
           "ANNOTATION_STATUSES"]
