"""WriteBacklog on a real SQLite file made full with ``PRAGMA max_page_count`` (SQLite's own
SQLITE_FULL path, the one a full disk takes): writes wait in order and land once there is
room; what never lands is said."""

from __future__ import annotations

import pytest

from twitchwatch.detect import TwitchEvent
from twitchwatch.store import Store, StoreError, StoreFullError
from twitchwatch.store.backlog import WriteBacklog


def _event(i: int) -> TwitchEvent:
    return TwitchEvent(sample_index=1000 + 10 * i, t_s=(1000 + 10 * i) / 2000.0, channel=0, channel_label="emg0",
                       amplitude_uv=50.0 + i, duration_ms=8.5, confidence=0.75, detector="test")


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _fill(store: Store) -> None:
    """No room to grow: the next write that needs a new page fails with SQLITE_FULL."""
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")


def _free(store: Store) -> None:
    store._conn.execute("PRAGMA max_page_count = 1073741823")


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "tw.sqlite3") as s:
        yield s


def _session(store: Store) -> int:
    return store.start_session(device_id="tw-1", firmware_version="0.1", boot_id=1, source="test")


def test_a_full_database_raises_store_full_error(store):
    sid = _session(store)
    _fill(store)
    with pytest.raises(StoreFullError, match="database or disk is full"):
        store.add_events(sid, [_event(i) for i in range(3000)])
    assert isinstance(StoreFullError("x"), StoreError)


def test_writes_wait_while_full_and_land_in_order_once_there_is_room(store):
    sid = _session(store)
    clock = Clock()
    backlog = WriteBacklog("database tw", retry_every_s=5.0, clock=clock)
    backlog.write("events", lambda: store.add_events(sid, [_event(i) for i in range(10)]), 10)
    _fill(store)
    batches = [[_event(100 + 1000 * b + i) for i in range(1000)] for b in range(3)]
    for batch in batches:
        backlog.write("events", lambda batch=batch: store.add_events(sid, batch), len(batch))
    # the first big batch needed pages: it and every later one wait, in order
    assert backlog.waiting_events > 0 and backlog.error is not None
    waiting_before = backlog.waiting_events
    _free(store)
    clock.t += 4.9  # not yet time to try again
    backlog.write("artefacts", lambda: store.add_artefacts(sid, [dict(kind="pop", channel=0, start_index=1,
                                                                      end_index=9, t_start_s=0.0, t_end_s=0.1,
                                                                      detail="x")]), 1)
    assert backlog.waiting_events == waiting_before
    clock.t += 0.2  # now it is: everything waiting is written
    assert backlog.retry()
    assert backlog.waiting_events == 0 and backlog.waiting == {}
    stored = store.events(sid)
    assert [e["sample_index"] for e in stored] == [e.sample_index for e in
                                                  [_event(i) for i in range(10)] + sum(batches, [])]
    assert len(store.artefacts(sid)) == 1
    warning = backlog.close()
    assert warning is not None and "database tw: the database was full" in warning and "for 5 s" in warning
    assert f"written once there was room: {waiting_before} events, 1 artefact segments" in warning
    assert "NOT in the database" not in warning


def test_what_never_lands_is_said_with_its_count(store):
    sid = _session(store)
    clock = Clock()
    backlog = WriteBacklog("database tw", clock=clock, max_waiting_events=2500)
    _fill(store)
    # 4 x 1000 events, at most 2500 held: the first two wait, the last two are lost
    for b in range(4):
        backlog.write("events", lambda b=b: store.add_events(sid, [_event(1000 * b + i) for i in range(1000)]), 1000)
    backlog.write("quality", lambda: store.set_quality(sid, [{"a": 1}]), 1, key=("quality", sid))
    assert backlog.waiting == {"events": 2000, "quality": 1} and backlog.lost == {"events": 2000}
    warning = backlog.close()  # tries once more: still full
    assert store.events(sid) == []
    assert backlog.not_written == {"events": 4000, "quality": 1}
    assert warning is not None and "NOT in the database: 4000 events, 1 signal-quality records" in warning


def test_a_waiting_value_write_is_replaced_by_a_later_one(store):
    sid = _session(store)
    clock = Clock()
    backlog = WriteBacklog("database tw", retry_every_s=1.0, clock=clock)
    _fill(store)
    backlog.write("events", lambda: store.add_events(sid, [_event(i) for i in range(3000)]), 3000)
    backlog.write("quality", lambda: store.set_quality(sid, [{"floor": 1}]), 1, key=("quality", sid))
    backlog.write("quality", lambda: store.set_quality(sid, [{"floor": 2}]), 1, key=("quality", sid))
    _free(store)
    clock.t += 1.0
    assert backlog.retry()
    assert backlog.written_late == {"events": 3000, "quality": 1}
    assert store.sessions()[0]["quality"] == [{"floor": 2}]


def test_other_store_errors_are_raised_not_held(store):
    backlog = WriteBacklog("database tw")
    with pytest.raises(StoreError, match="no session 99"):
        backlog.write("events", lambda: store.add_events(99, [_event(1)]), 1)
    assert backlog.waiting == {} and backlog.close() is None
