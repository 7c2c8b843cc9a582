"""Replay a capture file as a :class:`ByteSource`."""

from __future__ import annotations

import os
import time

from .base import ByteSource, TransportClosed
from .capture import CaptureReader, CaptureRecord


class EndOfCapture(TransportClosed):
    """Every record of the capture has been read (a :class:`TransportClosed`)."""


class ReplaySource(ByteSource):
    """The chunks of a capture, in order, with their recorded host times.

    ``read`` returns one recorded chunk per call with its *original* host receive
    time.  At the end it raises :class:`EndOfCapture` (a :class:`TransportClosed`,
    so a pipeline ends as when a cable is pulled); a damaged tail is named in the
    message.  Commands written to a replay are discarded (counted in
    ``bytes_discarded``): the recording cannot answer them.

    Args:
        path: capture file.
        realtime: pace chunks like the recording, scaled by ``speed`` (2.0 =
            twice as fast); otherwise return them as fast as they are read.

    Raises:
        CaptureFormatError: ``path`` is not a capture (on construction).
    """

    def __init__(self, path: str | os.PathLike[str], realtime: bool = False, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.reader = CaptureReader(path)
        self.realtime = realtime
        self.speed = speed
        self.bytes_discarded = 0
        self._records = iter(self.reader)
        self._next: CaptureRecord | None = None
        self._closed = False
        self._t0_record_s: float | None = None
        self._t0_wall_s = 0.0
        self._last_time_s = self.reader.header.created_monotonic_s

    def describe(self) -> str:
        return f"capture {self.reader.path}"

    def wall_clock_offset_s(self) -> float:
        """The recording machine's unix − monotonic offset, from the capture header."""
        header = self.reader.header
        return header.created_unix_s - header.created_monotonic_s

    @property
    def closed(self) -> bool:
        return self._closed

    def read(self, timeout_s: float) -> tuple[float, bytes]:
        """Next recorded chunk; with ``realtime``, waits up to ``timeout_s`` for it
        to be due and returns ``(current replay time, b"")`` if it is not yet."""
        if self._closed:
            raise TransportClosed(f"{self.describe()} is closed")
        if self._next is None:
            self._next = next(self._records, None)
            if self._next is None:
                self._closed = True
                reader = self.reader
                tail = reader.tail
                extra = f"; {tail.n_bytes} damaged bytes at the end skipped ({tail.reason})" if tail else ""
                inside = [d for d in reader.skipped if d is not tail]
                if inside:
                    extra += (f"; {sum(d.n_bytes for d in inside)} damaged bytes in {len(inside)} place(s) skipped "
                              f"({inside[0].reason} at byte {inside[0].offset}{', ...' if len(inside) > 1 else ''})")
                if reader.times_fixed:
                    extra += f"; {reader.times_fixed} record time(s) out of order replaced by the previous one"
                raise EndOfCapture(f"end of capture {self.reader.path} "
                                   f"({self.reader.n_records} records){extra}")
        record = self._next
        if self.realtime:
            now = time.monotonic()
            if self._t0_record_s is None:
                self._t0_record_s, self._t0_wall_s = record.host_time_s, now
            due = self._t0_wall_s + (record.host_time_s - self._t0_record_s) / self.speed
            if due - now > timeout_s:
                time.sleep(max(0.0, timeout_s))
                replay_now = self._t0_record_s + (time.monotonic() - self._t0_wall_s) * self.speed
                return replay_now, b""
            if due > now:
                time.sleep(due - now)
        self._next = None
        self._last_time_s = record.host_time_s
        return record.host_time_s, record.data

    clock_name = "the clock of the computer that recorded the capture"

    def damage(self) -> dict[str, int]:
        """Damaged capture bytes skipped and record times replaced (so far)."""
        found = {"capture_bytes_skipped": self.reader.bytes_skipped, "capture_times_fixed": self.reader.times_fixed}
        return {k: v for k, v in found.items() if v}

    def write(self, data: bytes) -> None:
        """Discard ``data`` (a recording cannot take commands)."""
        if self._closed:
            raise TransportClosed(f"{self.describe()} is closed")
        self.bytes_discarded += len(data)

    def close(self) -> None:
        self._closed = True
        if hasattr(self._records, "close"):
            self._records.close()
