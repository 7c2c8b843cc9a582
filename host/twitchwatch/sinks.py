"""Where a run's results go: one small interface, :class:`Sink`, and the sinks behind it.

A run (:class:`~twitchwatch.pipeline.Pipeline`) tells every sink, in its order:

- :meth:`Sink.session_started` — a device (or file) described itself (HELLO, a reset's
  new HELLO, a recording's header): a new session of the run begins;
- :meth:`Sink.run_started` — within a session, the device's sample count starts again
  (a START that restarted it): what is keyed by sample index starts again;
- :meth:`Sink.samples` — decoded sample blocks, as they arrive (a file's, as physical
  values at scale 1);
- :meth:`Sink.events` — detected events, every one (counted twitches and uncounted
  candidates: a sink that shows twitches keeps those with ``counted``);
- :meth:`Sink.artefacts` — artefact segments the detector rejected (store rows);
- :meth:`Sink.quality` — the latest signal quality per EMG channel;
- :meth:`Sink.session_ended` — the session's end, with its stats and recorded time;
- :meth:`Sink.close` — the run is over; what failed is left in :attr:`Sink.warnings`.

A sink never ends the run for an error of its own: it says what failed in
:attr:`Sink.warnings` (drained into the run's summary) and goes on counting what it missed.

The sinks here: :class:`StoreSink` (the SQLite store, through a
:class:`~twitchwatch.store.backlog.WriteBacklog`, with an end-of-session hook such as cause
annotation that the caller passes in), :class:`EventsFileSink` (``--events-out``, JSON
lines), :class:`ItemSink` (one block, one twitch at a time: the dashboard's
:class:`~twitchwatch.dashboard.hub.LiveHub`, the LSL outlet
:class:`~twitchwatch.lsl.LslSink`) and :class:`CallbackSink` (plain functions: tests,
the demo's scorer). The capture (``--capture``) records the link's bytes before decoding, so it is
the link's tap (:class:`SideOutput` in the pipeline), not a sink of decoded results.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from twitchwatch import TwitchwatchError

if TYPE_CHECKING:
    from twitchwatch.detect import TwitchEvent
    from twitchwatch.protocol import Hello, SampleBlock
    from twitchwatch.sessiontime import SignalTime
    from twitchwatch.store import Store

log = logging.getLogger(__name__)


@dataclasses.dataclass
class RunSession:
    """One session of a run: what a sink knows of it.

    ``started_at``: unix s on the source's clock (when its HELLO arrived, a file's start,
    or now); the store corrects it at the end to the session's first sample. ``id``: the
    store's session id once its row is written (None without a store, or while the
    database is full)."""

    hello: Hello
    source_name: str
    started_at: float
    body_site: str | None = None
    source_sha256: str | None = None
    id: int | None = None


class Sink:
    """One output of a run; every method does nothing unless a sink overrides it."""

    def __init__(self) -> None:
        self.warnings: list[str] = []  #: what failed in this sink (the run's summary takes them)

    def session_started(self, session: RunSession) -> None:
        """A session begins (before any of its samples or events)."""

    def run_started(self, session: RunSession) -> None:
        """The sample count starts again in the same session (a START restarted it)."""

    def samples(self, blocks: list[SampleBlock]) -> None:
        """Decoded sample blocks, in the order they arrived (a file's: physical values, scale 1)."""

    def events(self, session: RunSession | None, events: list[TwitchEvent]) -> None:
        """Detected events (counted twitches and candidates); ``session`` is None before any."""

    def artefacts(self, session: RunSession | None, rows: list[dict[str, Any]]) -> None:
        """Artefact segments (store rows: kind, channel, indices, ``t_start_s``/``t_end_s``, detail)."""

    def quality(self, session: RunSession | None, rows: list[dict[str, Any]]) -> None:
        """The latest signal quality, one row per EMG channel (replaces the previous)."""

    def session_ended(self, session: RunSession, stats: dict[str, Any], signal: SignalTime) -> None:
        """The session's end: ``stats`` for the store, ``signal`` its recorded time."""

    def close(self) -> None:
        """The run is over (called once, also after an error)."""


class SideOutput:
    """An output written as the run goes (the events JSONL, the capture) that must not end
    the run: on its first write error (full disk, pulled drive) it is closed, and from then
    on what it would have got is counted; :meth:`close` gives the warning for the summary."""

    def __init__(self, what: str, unit: str, missed_phrase: str) -> None:
        self.what, self.unit, self.missed_phrase = what, unit, missed_phrase
        self.path: Path | None = None
        self.target: Any = None  # the open file or CaptureWriter; None when closed or failed
        self.error: str | None = None
        self.written = 0  # units written before the error (events; capture: bytes)
        self.missed = 0

    def open(self, path: Path, target: Any) -> None:
        self.path, self.target, self.error, self.written, self.missed = path, target, None, 0, 0

    def write(self, write: Callable[[Any], object], amount: int) -> None:
        """``write(target)`` of ``amount`` units; once the output has failed, only counted."""
        if self.target is None:
            if self.error is not None:
                self.missed += amount
            return
        try:
            write(self.target)
            self.written += amount
        except OSError as exc:
            self.error = exc.strerror or str(exc)
            self.missed += amount
            log.warning("%s %s: writing failed (%s) after %d %s; the run goes on without it",
                        self.what, self.path, self.error, self.written, self.unit)
            self._close_target()

    def _close_target(self) -> None:
        target, self.target = self.target, None
        if target is not None:
            try:
                target.close()
            except OSError as exc:  # the buffered rest could not be written either
                self.error = self.error or (exc.strerror or str(exc))

    def close(self) -> str | None:
        """Close; the summary's warning if writing failed (then reset for the next run)."""
        self._close_target()
        if self.error is None:
            return None
        warning = (f"{self.what} {self.path}: writing failed ({self.error}) after {self.written} {self.unit}; "
                   f"the {self.missed} {self.unit} {self.missed_phrase}")
        self.error, self.written, self.missed = None, 0, 0
        return warning


def open_for_writing(path: Path, opener: Callable[[Path], Any]) -> Any:
    """``opener(path)``, an OSError turned into the one-line :class:`TwitchwatchError` a run gives."""
    try:
        return opener(path)
    except OSError as exc:
        raise TwitchwatchError(f"cannot open {path} for writing: {exc.strerror or exc}") from exc


class EventsFileSink(Sink):
    """``--events-out``: every event as one JSON object per line (appended), with the
    ``session_id`` its store session has when it is written (None without a store)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._out = SideOutput("events file", "events", "after them are not in it, or the first of them only in "
                               "part (every event is in the database, if one is used)")

        def opener(p: Path) -> Any:
            p.parent.mkdir(parents=True, exist_ok=True)
            return p.open("a", encoding="utf-8")

        self._out.open(self.path, open_for_writing(self.path, opener))

    def events(self, session: RunSession | None, events: list[TwitchEvent]) -> None:
        session_id = None if session is None else session.id
        self._out.write(lambda f: (f.write("".join(json.dumps(dict(e.to_json_dict(), session_id=session_id)) + "\n"
                                                   for e in events)), f.flush()), len(events))

    def close(self) -> None:
        warning = self._out.close()
        if warning:
            self.warnings.append(warning)


class _SessionWriter:
    """One store session's writes, all through the run's :class:`WriteBacklog`: while the
    database is full even the session's row waits, so each write reads the session's id
    when it runs (after the row's, in order)."""

    def __init__(self, store: Store, backlog: Any, session: RunSession, on_started: Callable[[int], None]) -> None:
        self.store, self.backlog, self.session = store, backlog, session

        def start() -> None:
            session.id = store.start_session(
                device_id=session.hello.device_id, firmware_version=session.hello.firmware_version,
                boot_id=session.hello.boot_id, source=session.source_name, body_site=session.body_site,
                started_at=session.started_at, source_sha256=session.source_sha256)
            on_started(session.id)

        backlog.write("session start", start, 1)

    def _session_id(self) -> int:
        assert self.session.id is not None  # the session's row is written before any write that follows it
        return self.session.id

    def add_events(self, events: list[TwitchEvent]) -> None:
        self.backlog.write("events", lambda: self.store.add_events(self._session_id(), events), len(events))

    def add_artefacts(self, rows: list[dict[str, Any]]) -> None:
        self.backlog.write("artefacts", lambda: self.store.add_artefacts(self._session_id(), rows), len(rows))

    def set_quality(self, quality: list[dict[str, Any]]) -> None:
        self.backlog.write("quality", lambda: self.store.set_quality(self._session_id(), quality), 1,
                           key=("quality", id(self)))

    def end(self, stats: dict[str, Any], signal: SignalTime) -> bool:
        """Write the session's end: it lasted as long as its signal (``started_at`` the wall
        time of its first sample when known, ``ended_at`` that plus the signal's span); True
        when all of the session is in the database."""
        started_at = signal.first_wall_s if signal.first_wall_s is not None else self.session.started_at
        ended_at = started_at + signal.span_s
        self.backlog.write("session end", lambda: self.store.end_session(
            self._session_id(), ended_at=ended_at, stats=stats, started_at=started_at), 1)
        return self.backlog.retry(force=True)


#: called with the store and a session's id once all of that session is in the database
AfterSession = Callable[["Store", int], None]


class StoreSink(Sink):
    """The SQLite store: a session row per session, its events, artefact segments, signal
    quality and end; while the database is full the writes wait (:class:`WriteBacklog`)
    and the run goes on.

    ``after_session(store, session_id)`` runs once all of a session is in the database
    (e.g. cause annotation); its failure is a warning, never an error: the recording is
    safe by then. A session not all written is not handed to it (a warning says so)."""

    def __init__(self, store: Store, after_session: AfterSession | None = None) -> None:
        from twitchwatch.store.backlog import WriteBacklog

        from twitchwatch.store.store import LIVE_PAGE_CACHE_KIB

        super().__init__()
        self.store = store
        store.limit_page_cache(LIVE_PAGE_CACHE_KIB)  # a run of hours only appends: a small cache, full early
        self.after_session = after_session
        self.backlog = WriteBacklog(f"database {store.path}")
        self.session_ids: list[int] = []  #: the run's sessions, as their rows are written
        self._writer: _SessionWriter | None = None

    @property
    def events_waiting(self) -> int:
        """Events detected but not yet in the database (it is full)."""
        return self.backlog.waiting_events

    @property
    def events_not_written(self) -> int:
        """After :meth:`close`: events that never reached the database."""
        return self.backlog.not_written.get("events", 0)

    def session_started(self, session: RunSession) -> None:
        self._writer = _SessionWriter(self.store, self.backlog, session, self.session_ids.append)

    def events(self, session: RunSession | None, events: list[TwitchEvent]) -> None:
        if self._writer is not None:
            self._writer.add_events(events)

    def artefacts(self, session: RunSession | None, rows: list[dict[str, Any]]) -> None:
        if self._writer is not None:
            self._writer.add_artefacts(rows)

    def quality(self, session: RunSession | None, rows: list[dict[str, Any]]) -> None:
        if self._writer is not None:
            self._writer.set_quality(rows)

    def session_ended(self, session: RunSession, stats: dict[str, Any], signal: SignalTime) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        if writer.end(stats, signal):
            assert session.id is not None  # all of it is written
            self._after(session.id)
        elif self.after_session is not None:
            self.warnings.append(
                f"cause annotation of {'session ' + str(session.id) if session.id else 'the session'} skipped: "
                f"not all of its data is in the database; run 'twitchwatch causes' once it is")

    def _after(self, session_id: int) -> None:
        if self.after_session is None:
            return
        try:
            self.after_session(self.store, session_id)
        except Exception as exc:  # noqa: BLE001 - the recording is safe; say what failed
            log.warning("cause annotation of session %d failed: %s", session_id, exc)
            self.warnings.append(f"cause annotation of session {session_id} failed "
                                 f"({type(exc).__name__}: {exc}); its twitches are stored, "
                                 f"run 'twitchwatch causes' to retry")

    def close(self) -> None:
        warning = self.backlog.close()
        if warning:
            self.warnings.append(warning)


def annotate_session(store: Store, session_id: int) -> None:
    """The end-of-session hook a recording run passes to :class:`StoreSink`: candidate
    causes for the session's twitches, from what the person logged."""
    from twitchwatch.annotations import annotate_stored

    annotate_stored(store, session_ids={session_id})


class ItemSink(Sink):
    """A sink that takes one item at a time: :meth:`on_hello` with each session's HELLO
    (before its samples), :meth:`on_block` with each decoded block, :meth:`on_event`
    with each COUNTED twitch (candidates are stored, not shown). Subclasses override
    those (the dashboard's hub, the LSL outlet)."""

    def on_hello(self, hello: Hello) -> None:
        """A session's HELLO (the device's, a reset's, a recording's)."""

    def on_block(self, block: SampleBlock) -> None:
        """One decoded sample block."""

    def on_event(self, event: TwitchEvent) -> None:
        """One counted twitch."""

    def session_started(self, session: RunSession) -> None:
        self.on_hello(session.hello)

    def samples(self, blocks: list[SampleBlock]) -> None:
        for block in blocks:
            self.on_block(block)

    def events(self, session: RunSession | None, events: list[TwitchEvent]) -> None:
        for e in events:
            if getattr(e, "counted", True):
                self.on_event(e)


class CallbackSink(ItemSink):
    """Plain functions as an :class:`ItemSink`: ``hello_fn``, ``block_fn``, ``event_fn``
    (each None: nothing). Each is read when called, so it may be replaced mid-run."""

    def __init__(self, on_block: Callable[[SampleBlock], None] | None = None,
                 on_event: Callable[[TwitchEvent], None] | None = None,
                 on_hello: Callable[[Hello], None] | None = None) -> None:
        super().__init__()
        self.block_fn, self.event_fn, self.hello_fn = on_block, on_event, on_hello

    def on_hello(self, hello: Hello) -> None:
        if self.hello_fn is not None:
            self.hello_fn(hello)

    def on_block(self, block: SampleBlock) -> None:
        if self.block_fn is not None:
            self.block_fn(block)

    def on_event(self, event: TwitchEvent) -> None:
        if self.event_fn is not None:
            self.event_fn(event)
