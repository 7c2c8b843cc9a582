"""Reading a link in a thread of its own, so the device never waits for the host's work.

A live run reads its link between other work (decoding, detection, SQLite, the
dashboard): while that work runs, the device's bytes wait in the operating system's
buffer. That buffer is small (a pty holds about 17 kB, 0.75 s of the full stream; a
USB serial port's is a few tens of kB) and what happens when it fills is the device's
loss: the virtual board blocks in its write and its loop falls behind, a real port's
driver discards bytes. :class:`ReadAhead` takes the bytes out as they come, in a
daemon thread calling the link's own ``read``, each chunk stamped when it arrived.

Bounded by design: at most ``max_bytes`` wait here (:data:`READ_AHEAD_MAX_BYTES`, 4 MB:
about three minutes of the full stream, ~22 kB/s); beyond that the thread stops reading
until the run takes some, and the operating system's buffer applies back-pressure as
before. Nothing is dropped here. Only a full collection of Python's garbage collector
or a long C call holding the GIL keeps the thread from running (docs/reliability.md).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from .base import TransportClosed, host_time_s

#: most bytes read ahead and not yet taken (about 190 s of the full stream at ~22 kB/s)
READ_AHEAD_MAX_BYTES = 4 << 20
#: most bytes one :meth:`ReadAhead.take` hands over (whole chunks; at least one): about
#: what a pty held before, so a run behind works through its backlog in pieces of this
#: size, each with its own arrival time (a capture's records stay this small)
TAKE_MAX_BYTES = 16 << 10
#: how long the thread's own read waits (s): the longest it takes to notice a stop
_POLL_S = 0.05


class ReadAhead:
    """Calls ``read_fn(timeout_s) -> (host_s, bytes)`` in a thread and queues the chunks.

    :meth:`take` returns the oldest chunks queued, joined, up to :data:`TAKE_MAX_BYTES`
    (at least one chunk), stamped with the newest of them's time (each byte had arrived
    by then). When ``read_fn`` raises
    :class:`TransportClosed` (or anything else), :meth:`take` returns what was queued
    before and then raises it.
    """

    def __init__(self, read_fn: Callable[[float], tuple[float, bytes]], name: str,
                 max_bytes: int = READ_AHEAD_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self._read_fn = read_fn
        self._chunks: collections.deque[tuple[float, bytes]] = collections.deque()
        self._queued = 0
        self.peak_bytes = 0  # most bytes that waited here at once
        self._ended: BaseException | None = None
        self._stop = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"read-ahead {name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._queued >= self.max_bytes and not self._stop:
                    self._cond.wait(_POLL_S)
                if self._stop:
                    return
            try:
                host_s, data = self._read_fn(_POLL_S)
            except BaseException as exc:  # noqa: BLE001 - handed to the reader, never lost
                with self._cond:
                    self._ended = exc if isinstance(exc, TransportClosed) else \
                        TransportClosed(f"the link's reader failed: {type(exc).__name__}: {exc}")
                    self._cond.notify_all()
                return
            if data:
                with self._cond:
                    self._chunks.append((host_s, data))
                    self._queued += len(data)
                    self.peak_bytes = max(self.peak_bytes, self._queued)
                    self._cond.notify_all()

    def take(self, timeout_s: float) -> tuple[float, bytes]:
        """What arrived, waiting at most ``timeout_s`` s for something; ``(now, b"")``
        on timeout. Raises :class:`TransportClosed` once the link ended and all it
        read was taken."""
        with self._cond:
            if not self._chunks and self._ended is None:
                self._cond.wait_for(lambda: self._chunks or self._ended is not None, max(0.0, timeout_s))
            if self._chunks:
                host_s, first = self._chunks.popleft()
                parts = [first]
                n = len(first)
                while self._chunks and n + len(self._chunks[0][1]) <= TAKE_MAX_BYTES:
                    host_s, chunk = self._chunks.popleft()
                    parts.append(chunk)
                    n += len(chunk)
                self._queued -= n
                self._cond.notify_all()
                return host_s, b"".join(parts)
            if self._ended is not None:
                raise TransportClosed(str(self._ended)) from self._ended
        return host_time_s(), b""

    @property
    def queued_bytes(self) -> int:
        """Bytes read and not taken yet (a run that keeps up holds a few frames)."""
        return self._queued

    @property
    def ended(self) -> bool:
        """True once the link ended (what was read may still wait to be taken)."""
        return self._ended is not None

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop the thread (it ends within one of its reads); idempotent."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
