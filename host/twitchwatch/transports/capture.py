"""Capture files: the raw received chunks with their host receive times.

Format (docs/capture-format.md): a 32-byte file header, then records
``[magic u16][len u32][host_time_s f64][crc32 u32 of payload][payload]``, all
little-endian.  Records hold the bytes exactly as read from the link (garbage
included), so a replay feeds the decoder what the live run fed it.
"""

from __future__ import annotations

import binascii
import logging
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from .. import TwitchwatchError

log = logging.getLogger(__name__)

FILE_MAGIC = b"\x89TWCAP\r\n"  # non-ASCII first byte and CR LF catch text-mode damage
FORMAT_VERSION = 1
_FILE_HEADER = struct.Struct("<8sHHdd")  # magic, version, flags, created_unix_s, created_monotonic_s
FILE_HEADER_BYTES = _FILE_HEADER.size + 4  # + crc32 of the header fields: 32
RECORD_MAGIC = 0x5754  # b"TW" little-endian
_RECORD = struct.Struct("<HIdI")  # magic, payload length, host_time_s, crc32 of payload
RECORD_HEADER_BYTES = _RECORD.size  # 18
MAX_RECORD_BYTES = 1 << 24  # a reader rejects longer records as corrupt
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
    """What follows the last good record: ``n_bytes`` from ``offset`` were skipped."""

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
        head = _RECORD.pack(RECORD_MAGIC, len(data), host_time_s, binascii.crc32(data))
        self._file.write(head + bytes(data))
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

    Iterating yields every record up to the last whole, CRC-valid one.  Anything
    after it (a record torn by a crash, or damage) is skipped without raising and
    described in :attr:`tail` (also logged as a warning); ``tail`` is None for a
    clean file.  Stopping at the first bad record is deliberate: record
    boundaries after damage cannot be trusted.

    Raises:
        CaptureFormatError: (on construction) the file does not start with a valid
            capture header or has an unknown format version.
        OSError: the file cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.tail: CaptureTail | None = None
        self.n_records = 0
        with open(self.path, "rb") as f:
            raw = f.read(FILE_HEADER_BYTES)
        if len(raw) < FILE_HEADER_BYTES or not raw.startswith(FILE_MAGIC):
            raise CaptureFormatError(f"{self.path} is not a twitchwatch capture (no capture header)")
        magic, version, _flags, unix_s, mono_s = _FILE_HEADER.unpack_from(raw)
        (crc,) = struct.unpack_from("<I", raw, _FILE_HEADER.size)
        if crc != binascii.crc32(raw[:_FILE_HEADER.size]):
            raise CaptureFormatError(f"{self.path}: capture header is damaged (CRC mismatch)")
        if version != FORMAT_VERSION:
            raise CaptureFormatError(f"{self.path}: capture format version {version}, "
                                     f"this host reads {FORMAT_VERSION}")
        self.header = CaptureHeader(version, unix_s, mono_s)

    def __iter__(self) -> Iterator[CaptureRecord]:
        self.tail = None
        self.n_records = 0
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            offset = FILE_HEADER_BYTES
            f.seek(offset)
            while offset < size:
                head = f.read(RECORD_HEADER_BYTES)
                reason = None
                if len(head) < RECORD_HEADER_BYTES:
                    reason = "truncated record header"
                else:
                    magic, n, host_time_s, crc = _RECORD.unpack(head)
                    if magic != RECORD_MAGIC or n > MAX_RECORD_BYTES:
                        reason = "bad record header"
                    else:
                        data = f.read(n)
                        if len(data) < n:
                            reason = f"truncated record ({len(data)} of {n} bytes)"
                        elif binascii.crc32(data) != crc:
                            reason = "record CRC mismatch"
                if reason is not None:
                    self.tail = CaptureTail(offset, size - offset, reason)
                    log.warning("%s: %s at byte %d; %d bytes skipped", self.path, reason, offset, size - offset)
                    return
                yield CaptureRecord(host_time_s, data, offset)
                self.n_records += 1
                offset += RECORD_HEADER_BYTES + n


def read_capture(path: str | os.PathLike[str]) -> CaptureReader:
    """Open a capture for reading; iterate the result for its records.

    Raises CaptureFormatError / OSError as :class:`CaptureReader`.
    """
    return CaptureReader(path)
