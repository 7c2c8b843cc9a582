"""Schema migrations: named, registered functions, each applied with its record in one
transaction (the sqlite-utils habit).

A migration is ``fn(conn)`` registered with :func:`migration`, with a version number
one above the previous. :func:`apply_pending` runs every migration not yet recorded in
``_migrations``, each inside ``BEGIN IMMEDIATE ... COMMIT`` together with its record and
``PRAGMA user_version``, so a failure leaves the database at the previous version.
:func:`applied` and :func:`pending` only read.

Later issues add tables (context entries, symptoms, labs, annotations) by registering
new migrations below; never edit an applied one.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Callable

MigrationFn = Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    fn: MigrationFn


MIGRATIONS: list[Migration] = []


def migration(version: int, name: str) -> Callable[[MigrationFn], MigrationFn]:
    """Register ``fn`` as migration ``version`` (1, 2, 3 … in order) called ``name``."""

    def register(fn: MigrationFn) -> MigrationFn:
        expected = len(MIGRATIONS) + 1
        if version != expected:
            raise ValueError(f"migration {name!r} has version {version}, expected {expected}")
        MIGRATIONS.append(Migration(version, name, fn))
        return fn

    return register


def latest_version() -> int:
    """The schema version this code creates and understands."""
    return len(MIGRATIONS)


def _ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL UNIQUE,"
        " applied_at REAL NOT NULL)"
    )


def applied(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """``(version, name)`` of the recorded migrations, in order; [] for a fresh database."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    if not exists:
        return []
    return [(int(v), str(n)) for v, n in conn.execute("SELECT version, name FROM _migrations ORDER BY version")]


def pending(conn: sqlite3.Connection) -> list[Migration]:
    """Registered migrations not yet recorded in the database."""
    done = {version for version, _ in applied(conn)}
    return [m for m in MIGRATIONS if m.version not in done]


def apply_pending(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations, each in its own transaction; return their names.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Re-checks the
    pending list inside each write transaction, so two processes opening the same new
    file do not both apply a migration.
    """
    names: list[str] = []
    for candidate in pending(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            _ensure_table(conn)
            done = {version for version, _ in applied(conn)}
            if candidate.version not in done:
                candidate.fn(conn)
                conn.execute(
                    "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (candidate.version, candidate.name, time.time()),
                )
                conn.execute(f"PRAGMA user_version = {int(candidate.version)}")
                names.append(candidate.name)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return names


@migration(1, "sessions_and_events")
def _v1_sessions_and_events(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            device_id TEXT NOT NULL,
            firmware_version TEXT NOT NULL,
            boot_id INTEGER NOT NULL,
            source TEXT NOT NULL,
            body_site TEXT,
            started_at REAL NOT NULL,   -- unix time, s
            ended_at REAL,              -- unix time, s; NULL while recording
            stats_json TEXT             -- decoder/link counters at the end, JSON object
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            sample_index INTEGER NOT NULL,  -- index in the session's EMG stream
            t_s REAL NOT NULL,              -- s from session start
            channel INTEGER NOT NULL,
            channel_label TEXT NOT NULL,
            amplitude_uv REAL NOT NULL,
            duration_ms REAL NOT NULL,
            confidence REAL NOT NULL,
            detector TEXT NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX events_session_time ON events (session_id, sample_index)")


@migration(2, "event_wall_time")
def _v2_event_wall_time(conn: sqlite3.Connection) -> None:
    """Unix time of each event's peak, from the device clock mapped to the host clock.

    ``t_s`` stays the seconds from the start of the recording run (it continues
    across a device reset, which starts a new session); ``wall_time_s`` is what
    lines events up with logged exposures and symptoms.
    """
    conn.execute("ALTER TABLE events ADD COLUMN wall_time_s REAL")  # unix time, s; NULL if unknown
    conn.execute("CREATE INDEX events_wall_time ON events (wall_time_s)")


@migration(3, "event_features_artefacts_quality")
def _v3_event_features_artefacts_quality(conn: sqlite3.Connection) -> None:
    """The detection engine's per-event features, rejected segments and signal quality.

    events: number of phases, polarity (+1/−1), accelerometer response (mg, NULL
    without an accelerometer), motor-unit id (online shape clustering).
    artefacts: what the detector rejected (voluntary contraction, motion, ECG,
    electrode pop, mains burst, lead-off), as EMG sample ranges and seconds.
    sessions.quality_json: the latest per-channel signal quality (noise floor µV RMS,
    mains Hz and level, lead-off, usable fraction).
    """
    for column, kind in (("n_phases", "INTEGER"), ("polarity", "INTEGER"),
                         ("acc_response_mg", "REAL"), ("unit_id", "INTEGER")):
        conn.execute(f"ALTER TABLE events ADD COLUMN {column} {kind}")
    conn.execute("ALTER TABLE sessions ADD COLUMN quality_json TEXT")
    conn.execute(
        """
        CREATE TABLE artefacts (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,            -- voluntary, motion, ecg, pop, mains_burst, lead_off
            channel INTEGER,               -- NULL: all channels
            start_index INTEGER NOT NULL,  -- EMG sample index, inclusive
            end_index INTEGER NOT NULL,    -- EMG sample index, exclusive
            t_start_s REAL NOT NULL,       -- s from recording start (as events' t_s)
            t_end_s REAL NOT NULL,
            detail TEXT
        )
        """
    )
    conn.execute("CREATE INDEX artefacts_session_time ON artefacts (session_id, start_index)")


@migration(4, "context_symptoms_labs_tests_annotations")
def _v4_context_symptoms_labs_tests_annotations(conn: sqlite3.Connection) -> None:
    """What the person logs beside the recordings, and the cause engine's annotations.

    context_entries: exposures (caffeine, stress, alcohol, sleep, exercise, supplements,
    medication, pesticide …) over a time span, with a value in a canonical unit.
    symptoms, lab_results, clinical_tests: as logged. annotations: a candidate cause of
    one event or one session, with the reasons for and against it, and whether the user
    confirmed or rejected it. All times are unix seconds (UTC).
    """
    conn.execute(
        """
        CREATE TABLE context_entries (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,            -- caffeine, stress, alcohol, fluid, sleep, exercise, ...
            start_unix_s REAL NOT NULL,    -- unix time, s
            end_unix_s REAL,               -- unix time, s; NULL: a moment, not a span
            value REAL,                    -- in `unit`; NULL when the kind has no amount
            unit TEXT,                     -- canonical unit of `value` (mg, ml, h, drinks, 0-10 ...)
            detail_json TEXT,              -- JSON object of kind-specific fields, or NULL
            note TEXT,
            created_at REAL NOT NULL       -- unix time, s, when it was logged
        )
        """
    )
    conn.execute("CREATE INDEX context_entries_time ON context_entries (start_unix_s)")
    conn.execute(
        """
        CREATE TABLE symptoms (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,            -- weakness, cramp, numbness, ...
            start_unix_s REAL NOT NULL,    -- unix time, s
            site TEXT,                     -- body site, e.g. "left hand"
            severity REAL,                 -- as parsed (scale named by the parser), NULL if not given
            note TEXT,
            created_at REAL NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX symptoms_time ON symptoms (start_unix_s)")
    conn.execute(
        """
        CREATE TABLE lab_results (
            id INTEGER PRIMARY KEY,
            analyte TEXT NOT NULL,         -- magnesium, potassium, calcium, ck, ...
            value REAL NOT NULL,           -- in `unit`
            unit TEXT NOT NULL,            -- canonical unit for the analyte (e.g. mmol/L)
            ref_low REAL,                  -- reference range in `unit`; NULL if not given
            ref_high REAL,
            taken_unix_s REAL NOT NULL,    -- unix time, s, of the sample
            note TEXT,
            created_at REAL NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX lab_results_time ON lab_results (taken_unix_s)")
    conn.execute(
        """
        CREATE TABLE clinical_tests (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('reflex', 'strength', 'blood', 'emg', 'ncs', 'biopsy', 'other')),
            result TEXT NOT NULL,          -- the result as written by the user / clinician
            taken_unix_s REAL NOT NULL,    -- unix time, s
            note TEXT,
            created_at REAL NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX clinical_tests_time ON clinical_tests (taken_unix_s)")
    conn.execute(
        """
        CREATE TABLE annotations (
            id INTEGER PRIMARY KEY,
            target TEXT NOT NULL CHECK (target IN ('event', 'session')),
            target_id INTEGER NOT NULL,    -- events.id or sessions.id
            cause_id TEXT NOT NULL,        -- the candidate cause, e.g. "caffeine"
            score REAL NOT NULL,           -- the cause engine's score (higher: more likely)
            reasons_for_json TEXT NOT NULL,      -- JSON list of strings
            reasons_against_json TEXT NOT NULL,  -- JSON list of strings
            status TEXT NOT NULL DEFAULT 'suggested'
                CHECK (status IN ('suggested', 'confirmed', 'rejected')),
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (target, target_id, cause_id)
        )
        """
    )


@migration(5, "lab_entered_value_and_reference_source")
def _v5_lab_entered_value_and_reference_source(conn: sqlite3.Connection) -> None:
    """What the person typed for a lab result, beside the canonical value, and where
    the reference range came from ('lab' when they gave the lab's range, else the
    name of the default range's source in ``causes/taxonomy.json``)."""
    conn.execute("ALTER TABLE lab_results ADD COLUMN value_entered REAL")  # in unit_entered
    conn.execute("ALTER TABLE lab_results ADD COLUMN unit_entered TEXT")
    conn.execute("ALTER TABLE lab_results ADD COLUMN ref_source TEXT")


@migration(6, "red_flag_reviews_and_no_neurological_candidates")
def _v6_red_flag_reviews(conn: sqlite3.Connection) -> None:
    """When the person marked a red flag seen by a doctor (``twitchwatch log seen-doctor``):
    the flag then stays away until something new raises it. And annotations naming a
    neurological cause as a candidate of a twitch or a session (earlier versions stored
    them under a red flag) are deleted: those causes are never candidates (issue #15)."""
    conn.execute(
        """
        CREATE TABLE red_flag_reviews (
            id INTEGER PRIMARY KEY,
            rule_id TEXT NOT NULL,         -- a red-flag rule id of causes/taxonomy.json, e.g. "weakness"
            seen_unix_s REAL NOT NULL,     -- unix time, s, when a doctor saw it
            note TEXT,
            created_at REAL NOT NULL
        )
        """
    )
    conn.execute("DELETE FROM annotations WHERE cause_id IN ('als_mnd', 'multiple_sclerosis', 'cervical_spondylosis')")


@migration(7, "session_source_sha256")
def _v7_session_source_sha256(conn: sqlite3.Connection) -> None:
    """The SHA-256 of the file a session came from (a replayed capture or recording
    file, or the capture a live run wrote), so the same file is not stored twice."""
    conn.execute("ALTER TABLE sessions ADD COLUMN source_sha256 TEXT")  # hex; NULL: not from / into a file
    conn.execute("CREATE INDEX sessions_source_sha256 ON sessions (source_sha256)")


@migration(8, "event_counted_and_main_phase")
def _v8_event_counted_and_main_phase(conn: sqlite3.Connection) -> None:
    """Whether an event counts as a twitch (the detector's counting policy,
    docs/detection.md *What counts*): 1 for twitches shown in rates, the dashboard,
    reports and statistics, 0 for candidates kept but not shown; events written before
    this column existed count. And the potential's main-phase width (ms), NULL if unknown."""
    conn.execute("ALTER TABLE events ADD COLUMN counted INTEGER NOT NULL DEFAULT 1")
    conn.execute("ALTER TABLE events ADD COLUMN main_phase_ms REAL")
