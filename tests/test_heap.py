"""Handing free heap pages back in long runs (issue 17: ``twitchwatch.heap``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from twitchwatch.heap import HeapTrimmer, malloc_trim
from twitchwatch.pipeline import Pipeline
from twitchwatch.protocol.synthetic import synthetic_stream
from twitchwatch.transports import ByteSource, TransportClosed

glibc = pytest.mark.skipif(not HeapTrimmer(1.0).available, reason="the C library is not glibc: trimming is a no-op")


def _rss_anon_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon")


@glibc
def test_malloc_trim_hands_freed_heap_pages_back():
    """Blocks of 1-4 kB (glibc's heap, not pymalloc's arenas, not mmap) freed all but one
    in fifty: the heap keeps the pages until trimmed."""
    blocks = [bytearray(1024 + 64 * (i % 48)) for i in range(60_000)]  # ~150 MB
    for b in blocks:
        b[::512] = b"\x01" * len(b[::512])  # touched: resident
    kept = blocks[::50]
    del blocks, b
    before = _rss_anon_mb()
    assert malloc_trim() is True
    after = _rss_anon_mb()
    assert before - after > 50, (before, after)
    assert len(kept) == 1200


def test_trimmer_runs_at_most_once_per_period():
    now = [0.0]
    t = HeapTrimmer(60.0, clock=lambda: now[0])
    assert not t.tick()  # not before a period has passed since the start
    now[0] = 59.9
    assert not t.tick()
    now[0] = 60.0
    assert t.tick() is t.available
    now[0] = 100.0
    assert not t.tick()
    now[0] = 120.5
    assert t.tick() is t.available
    assert t.calls == (2 if t.available else 0)
    assert t.worst_s >= 0.0 and t.total_s >= t.worst_s
    with pytest.raises(ValueError):
        HeapTrimmer(0.0)


class _SlowSource(ByteSource):
    """A live-paced synthetic stream: one chunk each 50 ms (receive times real)."""

    def __init__(self, wire: bytes, pieces: int) -> None:
        step = len(wire) // pieces + 1
        self.chunks = [wire[i:i + step] for i in range(0, len(wire), step)]

    def read(self, timeout_s: float) -> tuple[float, bytes]:
        if not self.chunks:
            raise TransportClosed("ended")
        time.sleep(0.05)
        return time.monotonic(), self.chunks.pop(0)

    def close(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return not self.chunks


@glibc
def test_a_live_run_trims_its_heap_as_asked():
    pipe = Pipeline(_SlowSource(synthetic_stream(duration_s=2.0).wire, 60), source_name="test",
                    trim_heap_every_s=0.5)
    pipe.run()
    assert pipe.heap_trimmer is not None and pipe.heap_trimmer.calls >= 1
    assert Pipeline(None, source_name="x").heap_trimmer is None  # default: never
