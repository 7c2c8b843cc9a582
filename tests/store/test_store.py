"""The SQLite store against real files."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from twitchwatch import TwitchwatchError
from twitchwatch.detect import TwitchEvent
from twitchwatch.store import Store, StoreError, default_db_path
from twitchwatch.store import migrations


def _event(i: int, channel: int = 0) -> TwitchEvent:
    return TwitchEvent(
        sample_index=1000 + 10 * i,
        t_s=(1000 + 10 * i) / 2000.0,
        channel=channel,
        channel_label=f"emg{channel}",
        amplitude_uv=50.0 + i,
        duration_ms=8.5,
        confidence=0.75,
        detector="threshold-0.1",
    )


def _session(store: Store, **overrides) -> int:
    fields = dict(device_id="tw-0001", firmware_version="0.1.0", boot_id=7, source="serial:/dev/ttyUSB0")
    fields.update(overrides)
    return store.start_session(**fields)


def test_default_path_is_in_the_user_data_folder():
    path = default_db_path()
    assert path.name == "twitchwatch.sqlite3"
    assert "twitchwatch" in path.parent.parts[-1] or "twitchwatch" in str(path.parent)


def test_round_trip(tmp_path):
    path = tmp_path / "deep" / "er" / "tw.sqlite3"  # missing parents are created
    with Store(path) as store:
        session_id = _session(store, body_site="left calf", started_at=1_700_000_000.0)
        assert store.add_events(session_id, [_event(i, i % 2) for i in range(5)]) == 5
        store.end_session(session_id, ended_at=1_700_000_600.0, stats={"dropped_samples": 3, "crc_errors": 1})
    with Store(path) as store:
        (session,) = store.sessions()
        assert session == {
            "id": session_id,
            "device_id": "tw-0001",
            "firmware_version": "0.1.0",
            "boot_id": 7,
            "source": "serial:/dev/ttyUSB0",
            "body_site": "left calf",
            "started_at": 1_700_000_000.0,
            "ended_at": 1_700_000_600.0,
            "stats": {"crc_errors": 1, "dropped_samples": 3},
            "quality": None,
            "source_sha256": None,
        }
        rows = store.events(session_id)
        assert len(rows) == 5
        for i, row in enumerate(rows):
            expected = _event(i, i % 2)
            assert row["session_id"] == session_id
            for key in ("sample_index", "t_s", "channel", "channel_label", "amplitude_uv", "duration_ms", "confidence", "detector"):
                assert row[key] == getattr(expected, key)
        assert store.events() == rows


def test_events_are_per_session(tmp_path):
    with Store(tmp_path / "tw.sqlite3") as store:
        first, second = _session(store), _session(store, boot_id=8)
        store.add_events(first, [_event(0)])
        store.add_events(second, [_event(1), _event(2)])
        assert len(store.events(first)) == 1
        assert len(store.events(second)) == 2
        assert [r["session_id"] for r in store.events()] == [first, second, second]
        assert store.sessions()[0]["ended_at"] is None


def test_unknown_or_ended_session_raises(tmp_path):
    with Store(tmp_path / "tw.sqlite3") as store:
        with pytest.raises(StoreError, match="no session 99"):
            store.add_events(99, [_event(0)])
        with pytest.raises(StoreError, match="no session 99"):
            store.end_session(99)
        session_id = _session(store)
        store.end_session(session_id)
        with pytest.raises(StoreError, match="already ended"):
            store.end_session(session_id)
        assert store.events() == []


def test_wal_and_foreign_keys_are_on(tmp_path):
    with Store(tmp_path / "tw.sqlite3") as store:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


ALL_MIGRATIONS = [(1, "sessions_and_events"), (2, "event_wall_time"), (3, "event_features_artefacts_quality"),
                  (4, "context_symptoms_labs_tests_annotations"), (5, "lab_entered_value_and_reference_source"),
                  (6, "red_flag_reviews_and_no_neurological_candidates"), (7, "session_source_sha256"),
                  (8, "event_counted_and_main_phase")]


def test_a_version_1_database_is_upgraded_and_keeps_its_events(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrations._ensure_table(conn)
    conn.execute("BEGIN")
    migrations.MIGRATIONS[0].fn(conn)
    conn.execute("INSERT INTO _migrations VALUES (1, 'sessions_and_events', 0)")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO sessions (device_id, firmware_version, boot_id, source, started_at)"
                 " VALUES ('d', '0.1.0', 1, 'test', 0)")
    conn.execute("INSERT INTO events (session_id, sample_index, t_s, channel, channel_label, amplitude_uv,"
                 " duration_ms, confidence, detector) VALUES (1, 10, 0.005, 0, 'EMG 1', 100, 5, 0.9, 'old')")
    conn.execute("COMMIT")
    conn.close()
    with Store(path) as store:
        assert store.schema_version() == len(ALL_MIGRATIONS)
        (old,) = store.events()
        assert old["detector"] == "old" and old["wall_time_s"] is None
        store.add_events(1, [dataclasses.replace(_event(20), wall_time_s=1_700_000_000.5)])
        assert store.events()[1]["wall_time_s"] == 1_700_000_000.5


def test_migrations_are_recorded_and_idempotent(tmp_path):
    path = tmp_path / "tw.sqlite3"
    with Store(path) as store:
        assert store.schema_version() == migrations.latest_version() == len(ALL_MIGRATIONS)
        assert store.applied_migrations() == ALL_MIGRATIONS
        assert store.pending_migrations() == []
        _session(store)
    for _ in range(2):
        with Store(path) as store:
            assert store.applied_migrations() == ALL_MIGRATIONS
            assert len(store.sessions()) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(ALL_MIGRATIONS)
    assert conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(ALL_MIGRATIONS)
    conn.close()


def test_pending_and_applied_only_read(tmp_path):
    conn = sqlite3.connect(tmp_path / "fresh.sqlite3")
    assert migrations.applied(conn) == []
    assert [m.name for m in migrations.pending(conn)] == [name for _, name in ALL_MIGRATIONS]
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    conn.close()


def test_a_failing_migration_leaves_no_trace(tmp_path, monkeypatch):
    def broken(conn):
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    path = tmp_path / "tw.sqlite3"
    Store(path).close()
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [migrations.Migration(len(migrations.MIGRATIONS) + 1, "broken", broken)])
    with pytest.raises(RuntimeError, match="boom"):
        Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(ALL_MIGRATIONS)
    conn.close()


def test_a_later_migration_is_applied_once(tmp_path, monkeypatch):
    calls = []

    def add_notes(conn):
        calls.append(1)
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")

    path = tmp_path / "tw.sqlite3"
    Store(path).close()
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [migrations.Migration(len(ALL_MIGRATIONS) + 1, "notes", add_notes)])
    for _ in range(2):
        with Store(path) as store:
            assert store.schema_version() == len(ALL_MIGRATIONS) + 1
    assert calls == [1]


def test_not_a_database_raises_store_error_naming_the_file(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"this is a text file, not SQLite\n" * 100)
    with pytest.raises(StoreError, match="notes.sqlite3") as info:
        Store(path)
    assert isinstance(info.value, TwitchwatchError)
    assert "not a usable SQLite database" in str(info.value)


def test_someone_elses_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"other.sqlite3.*recipes"):
        Store(path)


def test_a_folder_path_raises(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_newer_schema_raises_store_error(tmp_path):
    path = tmp_path / "future.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    future = len(ALL_MIGRATIONS) + 1
    conn.execute(f"INSERT INTO _migrations (version, name, applied_at) VALUES ({future}, 'from_the_future', 0)")
    conn.execute(f"PRAGMA user_version = {future}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=rf"future.sqlite3.*schema version {future} is newer.*\({future - 1}\)"):
        Store(path)


def test_closed_store_raises(tmp_path):
    store = Store(tmp_path / "tw.sqlite3")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.sessions()


def test_readers_do_not_block_the_writer_and_see_only_commits(tmp_path):
    path = tmp_path / "tw.sqlite3"
    with Store(path) as writer:
        session_id = _session(writer)
        writer.add_events(session_id, [_event(0)])

        reader = sqlite3.connect(path, isolation_level=None, timeout=0.1)
        reader.execute("BEGIN")  # a long read transaction holds a snapshot
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 1

        # the writer commits while the reader is mid-transaction (would fail with a
        # rollback journal: the reader's SHARED lock blocks the commit)
        assert writer.add_events(session_id, [_event(i) for i in range(1, 50)]) == 49
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 1  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 50

        # a second Store reads while another connection holds an uncommitted write
        other = sqlite3.connect(path, isolation_level=None, timeout=0.1)
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO events (session_id, sample_index, t_s, channel, channel_label, amplitude_uv,"
            " duration_ms, confidence, detector) VALUES (?, 0, 0, 0, 'x', 1, 1, 0, 'manual')",
            (session_id,),
        )
        with Store(path) as second:
            assert len(second.events(session_id)) == 50
        other.execute("ROLLBACK")
        other.close()
        reader.close()


def test_full_disk_raises_store_error_and_writes_nothing_of_the_batch(tmp_path):
    path = tmp_path / "tw.sqlite3"
    with Store(path) as store:
        session_id = _session(store)
        store.add_events(session_id, [_event(i) for i in range(10)])
        conn = store._conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow: SQLITE_FULL
        with pytest.raises(StoreError, match=r"tw.sqlite3: database or disk is full.*nothing of it was written"):
            store.add_events(session_id, [_event(100 + i) for i in range(5000)])
        assert not conn.in_transaction
        assert len(store.events(session_id)) == 10
        conn.execute("PRAGMA max_page_count = 1073741823")
        assert store.add_events(session_id, [_event(20)]) == 1
    with Store(path) as store:
        assert len(store.events()) == 11


def test_artefacts_and_quality_round_trip(tmp_path):
    with Store(tmp_path / "a.sqlite3") as store:
        sid = _session(store)
        segs = [dict(kind="voluntary", channel=None, start_index=4000, end_index=9000, t_start_s=2.0, t_end_s=4.5,
                     detail="sustained activity 0.8 s"),
                dict(kind="pop", channel=1, start_index=100, end_index=400, t_start_s=0.05, t_end_s=0.2)]
        assert store.add_artefacts(sid, segs) == 2
        got = store.artefacts(sid)
        assert [(a["kind"], a["channel"], a["start_index"]) for a in got] == [("pop", 1, 100), ("voluntary", None, 4000)]
        assert got[0]["detail"] is None
        quality = [{"channel": 0, "noise_floor_uv": 2.5, "mains_hz": 50.0, "lead_off": False}]
        store.set_quality(sid, quality)
        assert store.sessions()[0]["quality"] == quality
        with pytest.raises(StoreError, match="no session 99"):
            store.add_artefacts(99, segs)
        with pytest.raises(StoreError, match="no session 99"):
            store.set_quality(99, quality)
        assert len(store.artefacts(sid)) == 2


def test_event_features_are_stored_when_present(tmp_path):
    with Store(tmp_path / "f.sqlite3") as store:
        sid = _session(store)
        plain = _event(1)
        featured = dataclasses.replace(_event(2), n_phases=3, polarity=-1, acc_response_mg=2.5, unit_id=4) \
            if hasattr(plain, "unit_id") else None
        store.add_events(sid, [plain] + ([featured] if featured else []))
        rows = store.events(sid)
        assert rows[0]["unit_id"] is None and rows[0]["n_phases"] is None
        if featured:
            assert (rows[1]["n_phases"], rows[1]["polarity"], rows[1]["acc_response_mg"], rows[1]["unit_id"]) == (3, -1, 2.5, 4)


def test_uncounted_candidates_are_stored_but_not_read_as_twitches(tmp_path):
    """Issue #19, what counts: the detector's candidates (counted False) are kept in the
    store; events(), event_counts() and session_events() return counted twitches only."""
    from twitchwatch.detect import TwitchEvent
    from twitchwatch.store import Store

    with Store(tmp_path / "tw.sqlite") as st:
        sid = st.start_session(device_id="d", firmware_version="f", boot_id=1, source="test")
        evs = [TwitchEvent(sample_index=i, t_s=i / 1000, channel=0, channel_label="a", amplitude_uv=10.0,
                           duration_ms=3.0, confidence=0.3, detector="x", counted=(i % 2 == 0), main_phase_ms=2.0)
               for i in range(6)]
        st.add_events(sid, evs)
        assert [e["sample_index"] for e in st.events(sid)] == [0, 2, 4]
        assert len(st.events(sid, candidates=True)) == 6
        assert {e["counted"] for e in st.events(candidates=True)} == {0, 1}
        assert st.event_counts() == {sid: 3}
        assert len(st.session_events(sid)) == 3
        assert st.events(sid)[0]["main_phase_ms"] == 2.0


def _sqlite_bytes_used() -> int | None:
    """Bytes SQLite holds in this process (``sqlite3_memory_used``: every connection's
    page cache, schema, statements), from the library Python's sqlite3 loaded; None
    where it cannot be reached."""
    import ctypes

    try:
        lib = ctypes.CDLL("libsqlite3.so.0")
    except OSError:
        return None
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return int(lib.sqlite3_memory_used())


def test_a_live_runs_writer_holds_a_small_page_cache_however_much_it_writes(tmp_path):
    """Issue 17: a live run's connection kept SQLite's default page cache (2,000 KiB),
    which filled at ~7 kB a minute in the soaks, for hours. The store sink now limits its
    connection to ``LIVE_PAGE_CACHE_KIB`` (256): after 60,000 events (more pages than
    either bound), what SQLite holds grew by less than 1 MB (with the default: ~2 MB)."""
    from twitchwatch.sinks import StoreSink

    if _sqlite_bytes_used() is None:
        pytest.skip("libsqlite3.so.0 cannot be loaded here to read its memory counter")
    with Store(tmp_path / "live.sqlite3") as store:
        StoreSink(store)
        sid = _session(store)
        before = _sqlite_bytes_used()
        for k in range(600):
            store.add_events(sid, [_event(100 * k + i, channel=i % 2) for i in range(100)])
        grown = _sqlite_bytes_used() - before
        pages = store._connection().execute("PRAGMA page_count").fetchone()[0]
        page_size = store._connection().execute("PRAGMA page_size").fetchone()[0]
    assert pages * page_size > 1.5 * 2_000 * 1024  # the database outgrew both caches
    assert grown < 1_000_000, grown
