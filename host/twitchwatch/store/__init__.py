"""The SQLite store: sessions and detected twitch events, logged exposures, symptoms,
labs, clinical tests and cause annotations; schema migrations; export and delete-all.

Public names: :class:`Store`, :class:`StoreError`, :func:`default_db_path`.
"""

from .errors import StoreError
from .paths import default_db_path
from .logbook import ANNOTATION_STATUSES, CLINICAL_TEST_KINDS, PERSON_TABLES
from .store import Store

__all__ = ["Store", "StoreError", "default_db_path", "PERSON_TABLES", "CLINICAL_TEST_KINDS",
           "ANNOTATION_STATUSES"]
