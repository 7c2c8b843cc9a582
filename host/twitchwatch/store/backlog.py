"""Store writes that wait while the database is full, so a full disk does not end a run.

A live run writes events, artefact segments and signal quality to the store as it goes.
When SQLite reports the database or its disk full (:class:`.StoreFullError`: nothing of
that write was stored), :class:`WriteBacklog` keeps the write, and every later one, in
memory in their order, and tries them again, oldest first, at most every
``retry_every_s`` seconds (host time) as new writes come: once there is room again
(space freed, a file deleted), everything waiting is written and the store is complete.
Meanwhile the run goes on: detection, the dashboard and the events file (``--events-out``)
are not held up.

What waits is bounded (``max_waiting_events``, about 40 MB at the default): past that,
new events are counted as lost instead of held. At the end of the run the caller calls
:meth:`WriteBacklog.close`, which tries once more and returns the warning for the run's
summary: how long the database was full and what was written late, or what could not be
written at all (lost: it was held in memory only).

Any other store error (an unknown session, a damaged file) is raised as before: those are
not conditions that pass.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Callable

from .errors import StoreFullError

log = logging.getLogger(__name__)

#: kinds of write and the words a warning uses for their items
_UNITS = {"events": "events", "artefacts": "artefact segments", "quality": "signal-quality records",
          "session start": "session starts", "session end": "session ends"}


class WriteBacklog:
    """Store writes in order, held while the database is full; see the module docstring.

    Args:
        what: names the database in messages (its path).
        retry_every_s: least host time (s) between two attempts while writes wait.
        max_waiting_events: events held at most; later ones are counted lost.
        clock: host clock in seconds (tests pass their own).
    """

    def __init__(self, what: str, retry_every_s: float = 5.0, max_waiting_events: int = 200_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.retry_every_s = float(retry_every_s)
        self.max_waiting_events = int(max_waiting_events)
        self._clock = clock
        self._waiting: deque[tuple[str, Callable[[], object], int, object]] = deque()  # (kind, write, items, key)
        self._waiting_events = 0
        self._next_try_s = 0.0
        self._full_since_s: float | None = None  # host time of the first failure of this spell
        self.error: str | None = None  # the store's message, kept for the warning
        self.full_s = 0.0  # host seconds the database spent full, over closed spells
        self.written_late: dict[str, int] = {}  # kind -> items written after waiting
        self.lost: dict[str, int] = {}  # kind -> items dropped past max_waiting_events
        self.not_written: dict[str, int] = {}  # kind -> items never written (set by close)

    @property
    def waiting(self) -> dict[str, int]:
        """Items waiting to be written, by kind."""
        out: dict[str, int] = {}
        for kind, _, items, _ in self._waiting:
            out[kind] = out.get(kind, 0) + items
        return out

    @property
    def waiting_events(self) -> int:
        """Events waiting to be written."""
        return self._waiting_events

    def write(self, kind: str, write: Callable[[], object], items: int, key: object = None) -> None:
        """Do ``write()`` (a store call writing ``items`` of ``kind``) now, or after the
        writes waiting before it. A write with a ``key`` (not None) replaces a waiting one
        with the same key: for writes that set a value, where only the last counts.
        Raises the store's errors except a full database."""
        if self._waiting:
            if kind == "events" and self._waiting_events + items > self.max_waiting_events:
                self.lost[kind] = self.lost.get(kind, 0) + items
            else:
                self._hold(kind, write, items, key)
            self.retry()
            return
        try:
            write()
        except StoreFullError as exc:
            self._full(exc)
            self._hold(kind, write, items, key)

    def _hold(self, kind: str, write: Callable[[], object], items: int, key: object) -> None:
        if key is not None:
            self._waiting = deque(w for w in self._waiting if w[3] != key)
        self._waiting.append((kind, write, items, key))
        if kind == "events":
            self._waiting_events += items

    def retry(self, force: bool = False) -> bool:
        """Write what waits, oldest first, if ``retry_every_s`` has passed since the last
        attempt (or ``force``); True when nothing waits any more."""
        if not self._waiting:
            return True
        if not force and self._clock() < self._next_try_s:
            return False
        while self._waiting:
            kind, write, items, _ = self._waiting[0]
            try:
                write()
            except StoreFullError as exc:
                self._full(exc)
                return False
            self._waiting.popleft()
            if kind == "events":
                self._waiting_events -= items
            self.written_late[kind] = self.written_late.get(kind, 0) + items
        assert self._full_since_s is not None  # a write waited, so a spell began
        spell_s = self._clock() - self._full_since_s
        self.full_s += spell_s
        log.warning("%s takes writes again after %.0f s: wrote what had waited (%s)", self.what,
                    spell_s, _count_words(self.written_late))
        self._full_since_s = None
        return True

    def _full(self, exc: StoreFullError) -> None:
        now = self._clock()
        self._next_try_s = now + self.retry_every_s
        if self._full_since_s is None:
            self._full_since_s = now
            self.error = str(exc)
            log.warning("%s is full; the run goes on, and what it would write waits in memory "
                        "(tried again every %g s)", self.what, self.retry_every_s)

    def close(self) -> str | None:
        """Try once more what waits; the warning for the run's summary, or None if the
        database was never full. Whatever still waits is dropped (and said)."""
        self.retry(force=True)
        if self._full_since_s is not None:
            self.full_s += self._clock() - self._full_since_s
        if self.error is None:
            return None
        parts = [f"{self.what}: the database was full ({self.error}) for {self.full_s:.0f} s of the run"]
        if self.written_late:
            parts.append(f"written once there was room: {_count_words(self.written_late)}")
        not_written = self.waiting
        for kind, n in self.lost.items():
            not_written[kind] = not_written.get(kind, 0) + n
        self.not_written = not_written
        if not_written:
            parts.append(f"NOT in the database: {_count_words(not_written)} (the events are in the events file "
                         f"if one was given)")
        self._waiting.clear()
        self._waiting_events = 0
        return "; ".join(parts)


def _count_words(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {_UNITS.get(kind, kind)}" for kind, n in counts.items() if n)
