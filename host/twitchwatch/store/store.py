"""The SQLite store: sessions and their twitch events, what the person logs beside them
(exposures, symptoms, labs, clinical tests, see :mod:`.logbook`) and cause annotations;
one file, WAL mode.

One ``Store`` owns one connection (use it from one thread). Other processes or
connections may read the same file while it writes: WAL lets readers see the last
committed state without blocking the writer, and ``busy_timeout`` makes two writers
wait for each other instead of failing at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import sqlite3
import time
from typing import Any, Iterable, Iterator

from . import migrations
from . import export as _export
from .errors import StoreError, StoreFullError
from .logbook import LogbookMixin

BUSY_TIMEOUT_MS = 5000
#: SQLite's page cache of a live run's writing connection (KiB; :meth:`Store.limit_page_cache`,
#: set by :class:`~twitchwatch.sinks.StoreSink`). It only appends rows, so the pages it
#: reuses are the ends of the tables and indexes: a few dozen. SQLite's default (2,000 KiB)
#: filled at ~7 kB a minute in the soaks, for hours (docs/reliability.md). Reading commands
#: keep the default.
LIVE_PAGE_CACHE_KIB = 256

_EVENT_COLUMNS = (
    "sample_index",
    "t_s",
    "channel",
    "channel_label",
    "amplitude_uv",
    "duration_ms",
    "confidence",
    "detector",
    "wall_time_s",
    "n_phases",
    "polarity",
    "acc_response_mg",
    "unit_id",
    "counted",
    "main_phase_ms",
)
_ARTEFACT_COLUMNS = ("kind", "channel", "start_index", "end_index", "t_start_s", "t_end_s", "detail")


def _event_value(event: Any, column: str) -> Any:
    """``event``'s value for an ``events`` column (a missing attribute: NULL; a missing
    ``counted``: counted, as before the counting policy)."""
    if column == "counted":
        return 1 if getattr(event, "counted", True) in (True, None, 1) else 0
    return getattr(event, column, None)


class Store(LogbookMixin):
    """Open (creating if needed) the twitchwatch database at ``path`` and migrate it.

    Creates missing parent folders; sets WAL journal mode, ``foreign_keys = ON`` and a
    5 s ``busy_timeout``; applies pending migrations.

    Raises:
        StoreError: the path cannot be opened, the file is not SQLite or not a
            twitchwatch database, or its schema is newer than this code. The message
            names the file.
    """

    def __init__(self, path: str | os.PathLike, read_only: bool = False) -> None:
        """``read_only``: open an existing database for reading only (no folder or file is
        made, nothing migrated): it works on a read-only medium too. Writing then raises
        StoreError."""
        self.path = pathlib.Path(path)
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = None
        if read_only:
            self._conn = self._open_read_only()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create its folder: {exc}") from exc
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file")
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch to WAL journal mode (got {mode!r})")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._check_schema(conn)
            migrations.apply_pending(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path}: not a usable SQLite database: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _open_read_only(self) -> sqlite3.Connection:
        """``mode=ro``; on a read-only medium where SQLite cannot make the WAL index
        (``-shm``), ``immutable=1`` (nothing can change the file there)."""
        from urllib.parse import quote

        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file")
        if not self.path.is_file():
            raise StoreError(f"{self.path}: no database there (nothing has been recorded or logged with it)")
        uri = f"file:{quote(str(self.path.resolve()))}"
        last: sqlite3.Error | None = None
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            conn = None
            try:
                conn = sqlite3.connect(uri + query, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                self._check_schema(conn)
                if migrations.pending(conn):
                    raise StoreError(f"{self.path}: its schema is older than this twitchwatch's; open it once with a "
                                     "command that writes (e.g. twitchwatch log) where it can be written, to upgrade it")
                return conn
            except sqlite3.DatabaseError as exc:
                if conn is not None:
                    conn.close()
                last = exc
                if "unable to open" not in str(exc) and "readonly" not in str(exc):
                    break
            except BaseException:
                if conn is not None:
                    conn.close()
                raise
        raise StoreError(f"{self.path}: cannot be read: {last}")

    def limit_page_cache(self, kib: int) -> None:
        """Hold at most ``kib`` KiB of database pages in this connection's cache
        (``PRAGMA cache_size``; SQLite's default is 2,000 KiB)."""
        if kib < 1:
            raise ValueError(f"kib must be >= 1, got {kib}")
        self._connection().execute(f"PRAGMA cache_size = {-int(kib)}")

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the connection; further calls raise StoreError. Idempotent."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -------------------------------------------------------------- schema
    def schema_version(self) -> int:
        """Highest applied migration version (1 for the first schema)."""
        return max((v for v, _ in migrations.applied(self._connection())), default=0)

    def applied_migrations(self) -> list[tuple[int, str]]:
        """``(version, name)`` of applied migrations, oldest first."""
        return migrations.applied(self._connection())

    def pending_migrations(self) -> list[str]:
        """Names of registered migrations not applied (empty after ``__init__``)."""
        return [m.name for m in migrations.pending(self._connection())]

    # ------------------------------------------------------------ sessions
    def start_session(
        self,
        *,
        device_id: str,
        firmware_version: str,
        boot_id: int,
        source: str,
        body_site: str | None = None,
        started_at: float | None = None,
        source_sha256: str | None = None,
    ) -> int:
        """Record a new session; return its id. ``started_at``: unix time, s (default now);
        ``source_sha256``: the hex SHA-256 of the file the session is read from, if any."""
        started_at = time.time() if started_at is None else float(started_at)
        with self._transaction("start a session") as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (device_id, firmware_version, boot_id, source, body_site, started_at,"
                " source_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (device_id, firmware_version, int(boot_id), source, body_site, started_at, source_sha256),
            )
            session_id = cursor.lastrowid
            assert session_id is not None  # set by every successful INSERT
            return session_id

    def end_session(
        self, session_id: int, *, ended_at: float | None = None, stats: dict | None = None,
        started_at: float | None = None,
    ) -> None:
        """Mark a session ended. ``ended_at``: unix time, s (default now); ``stats``: a
        JSON-serialisable dict of decoder/link counters (dropped samples, CRC errors …);
        ``started_at``: the session's start when it is known only now (the wall time of
        its first sample: docs/store.md, "Recorded time"), else unchanged.

        Raises:
            StoreError: unknown session, or a session already ended.
            TypeError: ``stats`` is not JSON-serialisable.
        """
        ended_at = time.time() if ended_at is None else float(ended_at)
        stats_json = None if stats is None else json.dumps(stats, sort_keys=True)
        with self._transaction("end a session") as conn:
            row = conn.execute("SELECT ended_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no session {session_id}")
            if row["ended_at"] is not None:
                raise StoreError(f"{self.path}: session {session_id} has already ended")
            conn.execute(
                "UPDATE sessions SET ended_at = ?, stats_json = ?, started_at = COALESCE(?, started_at) WHERE id = ?",
                (ended_at, stats_json, None if started_at is None else float(started_at), session_id),
            )

    def set_source_sha256(self, session_id: int, source_sha256: str) -> None:
        """Record the SHA-256 of the file a session's data is in (e.g. the capture a live
        run wrote, known once the file is closed)."""
        with self._transaction(f"record the source file of session {session_id}") as conn:
            conn.execute("UPDATE sessions SET source_sha256 = ? WHERE id = ?", (source_sha256, int(session_id)))

    def sessions_from_source(self, source_sha256: str) -> list[dict[str, Any]]:
        """The sessions already stored from a file with this SHA-256 (oldest first)."""
        ids = {int(r[0]) for r in self._connection().execute(
            "SELECT id FROM sessions WHERE source_sha256 = ?", (source_sha256,)).fetchall()}
        return [s for s in self.sessions() if s["id"] in ids]

    def sessions(self) -> list[dict[str, Any]]:
        """All sessions, oldest first, as dicts of the ``sessions`` columns, except that
        ``stats_json`` and ``quality_json`` are replaced by ``stats`` and ``quality``
        (decoded, or None)."""
        rows = self._connection().execute("SELECT * FROM sessions ORDER BY id").fetchall()
        result = []
        for row in rows:
            data = dict(row)
            stats_json = data.pop("stats_json")
            data["stats"] = None if stats_json is None else json.loads(stats_json)
            quality_json = data.pop("quality_json", None)
            data["quality"] = None if quality_json is None else json.loads(quality_json)
            result.append(data)
        return result

    # -------------------------------------------------------------- events
    def add_events(self, session_id: int, events: Iterable[Any]) -> int:
        """Insert events (``TwitchEvent`` or anything with its attributes; a missing
        feature attribute is stored as NULL) in one transaction; return how many.
        Either all are written or none.

        Raises:
            StoreError: unknown session, or the disk/database is full (nothing of the
                batch is written).
        """
        rows = [
            (session_id, *(_event_value(event, column) for column in _EVENT_COLUMNS)) for event in events
        ]
        with self._transaction(f"write a batch of {len(rows)} events") as conn:
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise StoreError(f"{self.path}: no session {session_id}")
            conn.executemany(
                f"INSERT INTO events (session_id, {', '.join(_EVENT_COLUMNS)})"
                f" VALUES (?, {', '.join('?' * len(_EVENT_COLUMNS))})",
                rows,
            )
        return len(rows)

    def events(self, session_id: int | None = None, *, candidates: bool = False) -> list[dict[str, Any]]:
        """Events as dicts of the ``events`` columns (id, session_id, sample_index, t_s,
        channel, channel_label, amplitude_uv, duration_ms, confidence, detector,
        wall_time_s, n_phases, polarity, acc_response_mg, unit_id, counted,
        main_phase_ms), ordered by session, sample index, channel; all sessions if
        ``session_id`` is None. Only counted twitches unless ``candidates`` (then the
        detector's uncounted candidates too, ``counted`` 0)."""
        order = " ORDER BY session_id, sample_index, channel, id"
        where = [] if candidates else ["counted = 1"]
        params: tuple = ()
        if session_id is not None:
            where.append("session_id = ?")
            params = (session_id,)
        sql = "SELECT * FROM events" + (" WHERE " + " AND ".join(where) if where else "") + order
        cursor = self._connection().execute(sql, params)
        return [dict(row) for row in cursor.fetchall()]

    # ------------------------------------------------------ artefacts, quality
    def add_artefacts(self, session_id: int, artefacts: Iterable[dict[str, Any]]) -> int:
        """Insert rejected segments, each a dict with keys ``kind``, ``channel`` (None:
        all), ``start_index``, ``end_index`` (EMG samples, end exclusive), ``t_start_s``,
        ``t_end_s`` and optionally ``detail``; one transaction; return how many.

        Raises:
            StoreError: unknown session, or the disk/database is full (nothing written).
        """
        rows = [(session_id, *(a.get(column) for column in _ARTEFACT_COLUMNS)) for a in artefacts]
        with self._transaction(f"write a batch of {len(rows)} artefact segments") as conn:
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise StoreError(f"{self.path}: no session {session_id}")
            conn.executemany(
                f"INSERT INTO artefacts (session_id, {', '.join(_ARTEFACT_COLUMNS)})"
                f" VALUES (?, {', '.join('?' * len(_ARTEFACT_COLUMNS))})",
                rows,
            )
        return len(rows)

    def artefacts(self, session_id: int | None = None) -> list[dict[str, Any]]:
        """Rejected segments as dicts of the ``artefacts`` columns, in time order."""
        order = " ORDER BY session_id, start_index, id"
        if session_id is None:
            cursor = self._connection().execute("SELECT * FROM artefacts" + order)
        else:
            cursor = self._connection().execute("SELECT * FROM artefacts WHERE session_id = ?" + order, (session_id,))
        return [dict(row) for row in cursor.fetchall()]

    def set_quality(self, session_id: int, quality: list[dict[str, Any]]) -> None:
        """Store the latest per-channel signal quality of a session (JSON list of dicts).

        Raises:
            StoreError: unknown session, or the disk/database is full.
            TypeError: ``quality`` is not JSON-serialisable.
        """
        quality_json = json.dumps(quality, sort_keys=True)
        with self._transaction("store signal quality") as conn:
            cursor = conn.execute("UPDATE sessions SET quality_json = ? WHERE id = ?", (quality_json, session_id))
            if cursor.rowcount == 0:
                raise StoreError(f"{self.path}: no session {session_id}")

    # --------------------------------------------------------- export, delete
    def export_all(self, path: str | os.PathLike) -> dict[str, int]:
        """Everything of the person as one human-readable JSON file with the schema
        version (see :func:`.export.export_json`); return rows per table."""
        return _export.export_json(self, path)

    def export_csv(self, folder: str | os.PathLike) -> dict[str, pathlib.Path]:
        """One CSV per table in ``folder`` (see :func:`.export.export_csv`)."""
        return _export.export_csv(self, folder)

    def export_edf(self, path: str | os.PathLike, since_unix_s: float | None = None,
                   until_unix_s: float | None = None, tz: Any = None) -> dict[str, Any]:
        """Events as EDF+: a 1 Hz twitch-rate signal per channel and one annotation per
        twitch, its start in local time of ``tz`` (see :func:`.export.export_edf`)."""
        return _export.export_edf(self, path, since_unix_s, until_unix_s, tz)

    def delete_all(self) -> dict[str, int]:
        """Delete every row of every table of the person's data, VACUUM, and truncate
        the WAL so nothing lingers in free pages (see :func:`.export.delete_all`);
        return rows deleted per table."""
        return _export.delete_all(self)

    # ------------------------------------------- whole-table access (export, delete)
    @contextlib.contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Reads inside see one snapshot of the database: a live writer does not tear
        them (an export of every table)."""
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def columns(self, table: str) -> list[str]:
        """The column names of ``table``, in the schema's order."""
        return [r[1] for r in self._connection().execute(f"PRAGMA table_info({table})")]

    def delete_rows(self, tables: Iterable[str]) -> dict[str, int]:
        """Delete every row of ``tables``, in that order, in one transaction, with
        SQLite's ``secure_delete`` on (deleted content is overwritten); rows deleted
        per table. Raises :class:`StoreError` (nothing deleted)."""
        self._connection().execute("PRAGMA secure_delete = ON")
        counts: dict[str, int] = {}
        with self._transaction("delete everything") as tx:
            for table in tables:
                counts[table] = tx.execute(f"DELETE FROM {table}").rowcount
        return counts

    def wipe_free_space(self) -> bool:
        """VACUUM and truncate the WAL, so nothing deleted lingers in free pages; True
        when another program reading the file kept the journal (it could not be
        truncated). Raises :class:`sqlite3.Error` as SQLite does."""
        conn = self._connection()
        conn.execute("VACUUM")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy)

    # ------------------------------------------------------------- private
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the store is closed")
        return self._conn

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE … COMMIT``; rolls back on any error; maps SQLite errors to
        StoreError naming the file and ``what`` was being done."""
        conn = self._connection()
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only; could not {what}")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            message = str(exc)
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or (
                    isinstance(exc, sqlite3.OperationalError) and "full" in message):
                raise StoreFullError(
                    f"{self.path}: database or disk is full; could not {what}, nothing of it was written"
                ) from exc
            raise StoreError(f"{self.path}: could not {what}: {message}") from exc

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        known = {(m.version, m.name) for m in migrations.MIGRATIONS}
        done = migrations.applied(conn)
        unknown = [(v, n) for v, n in done if (v, n) not in known]
        user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        newest = max([user_version] + [v for v, _ in done])
        if unknown or newest > migrations.latest_version():
            raise StoreError(
                f"{self.path}: schema version {newest} is newer than this twitchwatch understands "
                f"({migrations.latest_version()}); unknown migrations: {unknown or 'none'}. "
                "Upgrade twitchwatch to open it."
            )
        if not done:
            tables = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            if tables:
                names = ", ".join(str(t[0]) for t in tables)
                raise StoreError(
                    f"{self.path}: an SQLite database of something else (tables: {names}), not twitchwatch's"
                )
