"""Capture files: the raw received chunks with their host receive times.

Format (docs/capture-format.md): a 32-byte file header, then records
``[magic u16][len u32][host_time_s f64][crc32 u32][payload]``, all little-endian;
in format 2 the CRC covers the record's magic, length and time as well as its
payload (format 1, still read: the payload only).  Records hold the bytes exactly as
read from the link (garbage included), so a replay feeds the decoder what the live
run fed it.  The reader resynchronises after a damaged record (the next record whose
CRC holds) and keeps host times monotonic within bounds.
"""

from __future__ import annotations

import binascii
import logging
import math
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from .. import TwitchwatchError

log = logging.getLogger(__name__)

FILE_MAGIC = b"\x89TWCAP\r\n"  # non-ASCII first byte and CR LF catch text-mode damage
FORMAT_VERSION = 2  # written; 1 is still read (its CRC covers the payload only)
READABLE_VERSIONS = (1, 2)
_FILE_HEADER = struct.Struct("<8sHHdd")  # magic, version, flags, created_unix_s, created_monotonic_s
FILE_HEADER_BYTES = _FILE_HEADER.size + 4  # + crc32 of the header fields: 32
RECORD_MAGIC = 0x5754  # b"TW" little-endian
_RECORD = struct.Struct("<HIdI")  # magic, payload length, host_time_s, crc32 of payload
RECORD_HEADER_BYTES = _RECORD.size  # 18
_RECORD_MAGIC_BYTES = struct.pack("<H", RECORD_MAGIC)
MAX_RECORD_BYTES = 1 << 20  # the writer splits longer chunks; a format-2 reader rejects longer records
MAX_RECORD_BYTES_V1 = 1 << 24  # format 1's limit
#: host times of records: the longest step forward between two records accepted as
#: true (a link quiet that long ends a live run long before); a step back, a longer step
#: or a time that is not a number is taken as damage and replaced by the previous time
MAX_RECORD_STEP_S = 3600.0
_MAX_MONOTONIC_S = 1e10  # a monotonic clock (s since boot) beyond this is damage (300 years)
_SCAN_BYTES = 1 << 16  # read this much at a time when looking for the next record
DEFAULT_FSYNC_INTERVAL_S = 1.0


class CaptureFormatError(TwitchwatchError):
    """The file is not a twitchwatch capture (or a version this host cannot read)."""


@dataclass(frozen=True)
class CaptureHeader:
    """File header: when the capture was made, on both host clocks.

    ``created_monotonic_s`` is on the clock of the records' ``host_time_s``, so
    ``created_unix_s + (host_time_s - created_monotonic_s)`` is a record's wall time.
    """

    format_version: int
    created_unix_s: float
    created_monotonic_s: float


@dataclass(frozen=True)
class CaptureRecord:
    """One received chunk: host receive time (s, monotonic clock) and its bytes."""

    host_time_s: float
    data: bytes
    offset: int  # byte offset of the record in the file


@dataclass(frozen=True)
class CaptureTail:
    """Damaged bytes skipped: ``n_bytes`` from ``offset``, and why (the first bad record's
    fault).  As :attr:`CaptureReader.tail`: what follows the last good record."""

    offset: int
    n_bytes: int
    reason: str


class CaptureWriter:
    """Append raw chunks to a new capture file.

    Durability: every record is written whole and flushed to the OS (a crashed
    *process* loses nothing); the file is ``fsync``-ed at most every
    ``fsync_interval_s`` seconds and on :meth:`close` (a crashed *machine* loses at
    most that much, and the reader drops the torn last record).

    Args:
        path: the capture file; it must not exist unless ``overwrite``.
        fsync_interval_s: seconds between fsyncs (0: after every record).

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        OSError: the file cannot be created or written.
    """

    def __init__(self, path: str | os.PathLike[str], fsync_interval_s: float = DEFAULT_FSYNC_INTERVAL_S,
                 overwrite: bool = False) -> None:
        self.path = os.fspath(path)
        self.fsync_interval_s = fsync_interval_s
        self.n_records = 0
        self.n_bytes = 0
        self._file = open(self.path, "wb" if overwrite else "xb")
        self.created_unix_s = time.time()
        self.created_monotonic_s = time.monotonic()
        fields = _FILE_HEADER.pack(FILE_MAGIC, FORMAT_VERSION, 0, self.created_unix_s, self.created_monotonic_s)
        self._file.write(fields + struct.pack("<I", binascii.crc32(fields)))
        self._file.flush()
        self._fsync()

    def write(self, host_time_s: float, data: bytes) -> None:
        """Append one chunk received at ``host_time_s``; empty chunks are skipped."""
        if not data:
            return
        if len(data) > MAX_RECORD_BYTES:
            for i in range(0, len(data), MAX_RECORD_BYTES):
                self.write(host_time_s, data[i:i + MAX_RECORD_BYTES])
            return
        fields = _RECORD.pack(RECORD_MAGIC, len(data), host_time_s, 0)[:RECORD_HEADER_BYTES - 4]
        crc = binascii.crc32(data, binascii.crc32(fields))
        self._file.write(fields + struct.pack("<I", crc) + bytes(data))
        self._file.flush()
        self.n_records += 1
        self.n_bytes += len(data)
        if time.monotonic() - self._last_fsync_s >= self.fsync_interval_s:
            self._fsync()

    def _fsync(self) -> None:
        os.fsync(self._file.fileno())
        self._last_fsync_s = time.monotonic()

    def close(self) -> None:
        """Flush, fsync and close; idempotent."""
        if not self._file.closed:
            self._file.flush()
            self._fsync()
            self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class CaptureReader:
    """Read a capture: header at once, records lazily.

    Iterating yields every whole, CRC-valid record.  A damaged stretch (a flipped bit, a
    record torn by a crash, bytes lost) is skipped up to the next record whose header
    and CRC hold, without raising: every skipped stretch is in :attr:`skipped` (and
    logged as a warning), and the one that runs to the end of the file, if any, is
    :attr:`tail`.  A record's host time that is not a number, goes back, or steps
    forward more than :data:`MAX_RECORD_STEP_S` is replaced by the previous record's
    (counted in :attr:`times_fixed`), so a replay can neither wait for ever nor date
    samples in another year.

    Raises:
        CaptureFormatError: (on construction) the file does not start with a valid
            capture header or has an unknown format version.
        OSError: the file cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.tail: CaptureTail | None = None
        self.skipped: list[CaptureTail] = []
        self.times_fixed = 0
        self.n_records = 0
        with open(self.path, "rb") as f:
            raw = f.read(FILE_HEADER_BYTES)
        if len(raw) < FILE_HEADER_BYTES or not raw.startswith(FILE_MAGIC):
            raise CaptureFormatError(f"{self.path} is not a twitchwatch capture (no capture header)")
        magic, version, _flags, unix_s, mono_s = _FILE_HEADER.unpack_from(raw)
        (crc,) = struct.unpack_from("<I", raw, _FILE_HEADER.size)
        if crc != binascii.crc32(raw[:_FILE_HEADER.size]):
            raise CaptureFormatError(f"{self.path}: capture header is damaged (CRC mismatch)")
        if version not in READABLE_VERSIONS:
            raise CaptureFormatError(f"{self.path}: capture format version {version}, "
                                     f"this host reads {', '.join(map(str, READABLE_VERSIONS))}")
        if not (math.isfinite(unix_s) and math.isfinite(mono_s)):
            raise CaptureFormatError(f"{self.path}: capture header holds a time that is not a number")
        self.header = CaptureHeader(version, unix_s, mono_s)
        self._max_bytes = MAX_RECORD_BYTES if version >= 2 else MAX_RECORD_BYTES_V1

    @property
    def bytes_skipped(self) -> int:
        """Damaged bytes skipped in all (the tail included)."""
        return sum(t.n_bytes for t in self.skipped)

    def _record_at(self, f, offset: int, size: int) -> tuple[float, bytes] | str:
        """The record at ``offset``: (host time, payload), or why there is none."""
        f.seek(offset)
        head = f.read(RECORD_HEADER_BYTES)
        if len(head) < RECORD_HEADER_BYTES:
            return "truncated record header"
        magic, n, host_time_s, crc = _RECORD.unpack(head)
        if magic != RECORD_MAGIC or not 0 < n <= self._max_bytes:
            return "bad record header"
        if offset + RECORD_HEADER_BYTES + n > size:
            return f"truncated record ({size - offset - RECORD_HEADER_BYTES} of {n} bytes)"
        data = f.read(n)
        if len(data) < n:
            return f"truncated record ({len(data)} of {n} bytes)"
        if self.header.format_version >= 2:
            good = binascii.crc32(data, binascii.crc32(head[:RECORD_HEADER_BYTES - 4])) == crc
        else:
            good = binascii.crc32(data) == crc
        return (host_time_s, data) if good else "record CRC mismatch"

    def _next_record_offset(self, f, start: int, size: int) -> int | None:
        """The offset of the first whole, CRC-valid record at or after ``start``."""
        pos = start
        while pos < size - RECORD_HEADER_BYTES:
            f.seek(pos)
            block = f.read(_SCAN_BYTES + 1)
            i = block.find(_RECORD_MAGIC_BYTES)
            while i != -1:
                if not isinstance(self._record_at(f, pos + i, size), str):
                    return pos + i
                i = block.find(_RECORD_MAGIC_BYTES, i + 1)
            pos += _SCAN_BYTES
        return None

    def _sane_time(self, host_time_s: float, previous_s: float) -> float:
        if math.isfinite(host_time_s) and previous_s <= host_time_s <= previous_s + MAX_RECORD_STEP_S:
            return host_time_s
        self.times_fixed += 1
        if self.times_fixed <= 3:
            log.warning("%s: a record's host time %r is not a time that follows %.3f s; the previous one is used",
                        self.path, host_time_s, previous_s)
        return previous_s

    def __iter__(self) -> Iterator[CaptureRecord]:
        self.tail = None
        self.skipped = []
        self.times_fixed = 0
        self.n_records = 0
        previous_s: float | None = None
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            offset = FILE_HEADER_BYTES
            while offset < size:
                got = self._record_at(f, offset, size)
                if isinstance(got, str):
                    resume = self._next_record_offset(f, offset + 1, size)
                    end = size if resume is None else resume
                    damage = CaptureTail(offset, end - offset, got)
                    self.skipped.append(damage)
                    then = "to the end" if resume is None else f"up to the next good record at byte {resume}"
                    log.warning("%s: %s at byte %d; %d bytes skipped (%s)", self.path, got, offset, end - offset, then)
                    if resume is None:
                        self.tail = damage
                        return
                    offset = resume
                    continue
                host_time_s, data = got
                if previous_s is None:  # the first record: any monotonic-clock time
                    if not (math.isfinite(host_time_s) and abs(host_time_s) < _MAX_MONOTONIC_S):
                        self.times_fixed += 1
                        host_time_s = self.header.created_monotonic_s
                    previous_s = host_time_s
                host_time_s = previous_s = self._sane_time(host_time_s, previous_s)
                yield CaptureRecord(host_time_s, data, offset)
                self.n_records += 1
                offset += RECORD_HEADER_BYTES + len(data)


def read_capture(path: str | os.PathLike[str]) -> CaptureReader:
    """Open a capture for reading; iterate the result for its records.

    Raises CaptureFormatError / OSError as :class:`CaptureReader`.
    """
    return CaptureReader(path)
