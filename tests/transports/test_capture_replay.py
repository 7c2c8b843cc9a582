"""Capture files and replay, on real files."""

import os
import struct
import time

import pytest

from twitchwatch.protocol import FrameDecoder, SampleBlock
from twitchwatch.protocol.synthetic import synthetic_stream
from twitchwatch.transports import (
    CaptureFormatError,
    CaptureWriter,
    EndOfCapture,
    ReplaySource,
    TransportClosed,
    read_capture,
)
from twitchwatch.transports.capture import FILE_HEADER_BYTES, RECORD_HEADER_BYTES, CaptureTail

STREAM = synthetic_stream(duration_s=0.3)


def chunks_of(data, size=100, t0=100.0, dt=0.01):
    return [(t0 + i * dt, data[j:j + size]) for i, j in enumerate(range(0, len(data), size))]


def write_capture(path, chunks):
    with CaptureWriter(path) as w:
        for t, c in chunks:
            w.write(t, c)
    return path


def test_roundtrip_keeps_bytes_and_times(tmp_path):
    chunks = chunks_of(b"\x13garbage" + STREAM.wire)
    path = write_capture(tmp_path / "a.twcap", chunks + [(9.0, b"")])
    reader = read_capture(path)
    records = list(reader)
    assert [(r.host_time_s, r.data) for r in records] == chunks
    assert reader.tail is None and reader.n_records == len(chunks)
    assert reader.header.format_version == 2
    assert abs(reader.header.created_unix_s - time.time()) < 60
    assert os.path.getsize(path) == FILE_HEADER_BYTES + sum(RECORD_HEADER_BYTES + len(c) for _, c in chunks)


def test_writer_refuses_to_overwrite(tmp_path):
    path = write_capture(tmp_path / "a.twcap", [])
    with pytest.raises(FileExistsError):
        CaptureWriter(path)
    CaptureWriter(path, overwrite=True).close()


def test_every_truncation_reads_the_whole_records_before_it(tmp_path):
    chunks = chunks_of(STREAM.wire, size=700)[:4]
    full = write_capture(tmp_path / "full.twcap", chunks).read_bytes()
    ends = [FILE_HEADER_BYTES]
    for _, c in chunks:
        ends.append(ends[-1] + RECORD_HEADER_BYTES + len(c))
    for cut in range(FILE_HEADER_BYTES, len(full)):
        path = tmp_path / "cut.twcap"
        path.write_bytes(full[:cut])
        reader = read_capture(path)
        records = list(reader)
        n_whole = sum(1 for e in ends[1:] if e <= cut)
        assert [r.data for r in records] == [c for _, c in chunks[:n_whole]], cut
        if cut in ends:
            assert reader.tail is None
        else:
            assert reader.tail.offset == ends[n_whole] and reader.tail.n_bytes == cut - ends[n_whole]
            assert "truncated" in reader.tail.reason


def test_a_damaged_record_is_skipped_and_the_reader_goes_on(tmp_path):
    """Issue 17, item 3: one flipped payload byte cost everything after it."""
    chunks = chunks_of(STREAM.wire, size=500)[:3]
    path = write_capture(tmp_path / "a.twcap", chunks)
    raw = bytearray(path.read_bytes())
    second = FILE_HEADER_BYTES + RECORD_HEADER_BYTES + 500
    raw[second + RECORD_HEADER_BYTES + 10] ^= 0x01
    path.write_bytes(bytes(raw))
    reader = read_capture(path)
    assert [r.data for r in reader] == [chunks[0][1], chunks[2][1]]
    assert reader.tail is None
    assert reader.skipped == [CaptureTail(second, RECORD_HEADER_BYTES + 500, "record CRC mismatch")]


@pytest.mark.parametrize("byte", range(RECORD_HEADER_BYTES))
def test_every_header_byte_of_a_record_is_checked(tmp_path, byte):
    """Issue 17, item 2: a record's time and length are covered by its CRC: a flipped bit
    anywhere in its header loses that record only, never dates the others wrongly."""
    chunks = chunks_of(STREAM.wire, size=400)[:4]
    path = write_capture(tmp_path / "a.twcap", chunks)
    raw = bytearray(path.read_bytes())
    second = FILE_HEADER_BYTES + RECORD_HEADER_BYTES + 400
    for bit in range(8):
        damaged = bytearray(raw)
        damaged[second + byte] ^= 1 << bit
        path.write_bytes(bytes(damaged))
        reader = read_capture(path)
        got = [(r.host_time_s, r.data) for r in reader]
        assert got == [chunks[0], chunks[2], chunks[3]], (byte, bit)
        assert reader.bytes_skipped == RECORD_HEADER_BYTES + 400


def test_random_damage_never_raises_and_keeps_times_in_order(tmp_path):
    import random

    rng = random.Random(4)
    chunks = chunks_of(STREAM.wire, size=97)
    clean = write_capture(tmp_path / "a.twcap", chunks).read_bytes()
    for trial in range(60):
        raw = bytearray(clean)
        for _ in range(rng.randrange(1, 6)):
            i = rng.randrange(FILE_HEADER_BYTES, len(raw))
            if rng.random() < 0.6:
                raw[i] ^= 1 << rng.randrange(8)
            else:
                del raw[i:i + rng.randrange(1, 200)]
        path = tmp_path / "d.twcap"
        path.write_bytes(bytes(raw))
        records = list(read_capture(path))
        times = [r.host_time_s for r in records]
        assert times == sorted(times)
        assert {r.data for r in records} <= {c for _, c in chunks}
        assert len(records) >= len(chunks) - 12  # each damage costs at most the records it touches


def test_an_old_format_1_capture_is_read_and_its_times_checked(tmp_path):
    """Format 1 (CRC over the payload only): still read; a damaged time is replaced by the
    previous record's instead of making a replay wait for ever or date samples in 1995."""
    import binascii

    chunks = chunks_of(STREAM.wire, size=500)[:4]
    header = struct.pack("<8sHHdd", b"\x89TWCAP\r\n", 1, 0, 1.7e9, 100.0)
    raw = header + struct.pack("<I", binascii.crc32(header))
    for i, (t, c) in enumerate(chunks):
        if i == 2:
            t = 1e300
        raw += struct.pack("<HIdI", 0x5754, len(c), t, binascii.crc32(c)) + c
    path = tmp_path / "v1.twcap"
    path.write_bytes(raw)
    reader = read_capture(path)
    got = [(r.host_time_s, r.data) for r in reader]
    assert reader.header.format_version == 1
    assert [d for _, d in got] == [c for _, c in chunks]
    assert [t for t, _ in got] == [chunks[0][0], chunks[1][0], chunks[1][0], chunks[3][0]]
    assert reader.times_fixed == 1


@pytest.mark.parametrize("content", [b"", b"hello world, not a capture at all", b"\x89TWCAP\r\n" + b"\0" * 10])
def test_not_a_capture(tmp_path, content):
    path = tmp_path / "x.bin"
    path.write_bytes(content)
    with pytest.raises(CaptureFormatError, match="not a twitchwatch capture"):
        read_capture(path)


def test_unknown_version_and_damaged_header(tmp_path):
    path = write_capture(tmp_path / "a.twcap", [])
    raw = bytearray(path.read_bytes())
    raw[8] = 3
    path.write_bytes(bytes(raw))
    with pytest.raises(CaptureFormatError, match="CRC"):
        read_capture(path)
    import binascii
    fields = bytes(raw[:28])
    path.write_bytes(fields + struct.pack("<I", binascii.crc32(fields)))
    with pytest.raises(CaptureFormatError, match="version 3"):
        read_capture(path)


def test_replay_gives_the_same_messages_as_live(tmp_path):
    chunks = chunks_of(b"\x01\x02" + STREAM.wire, size=333)
    path = write_capture(tmp_path / "a.twcap", chunks)
    live = FrameDecoder()
    live_msgs = [m for t, c in chunks for m in live.feed(c, t)]
    replay = FrameDecoder()
    replay_msgs = []
    with ReplaySource(path) as src:
        with pytest.raises(EndOfCapture, match=f"end of capture .*{len(chunks)} records"):
            while True:
                t, c = src.read(1.0)
                replay_msgs += replay.feed(c, t)
        with pytest.raises(TransportClosed):
            src.read(0.1)
    assert replay_msgs == live_msgs
    assert replay.stats == live.stats
    assert sum(isinstance(m, SampleBlock) for m in replay_msgs) == STREAM.n_frames - 1


def test_replay_reports_a_damaged_tail(tmp_path):
    path = write_capture(tmp_path / "a.twcap", chunks_of(STREAM.wire, size=500)[:3])
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 7)
    src = ReplaySource(path)
    src.read(0.1)
    src.read(0.1)
    with pytest.raises(EndOfCapture, match="damaged bytes"):
        src.read(0.1)


def test_replay_realtime_paces_and_times_out(tmp_path):
    chunks = [(10.0, b"a"), (10.4, b"b"), (10.8, b"c")]
    path = write_capture(tmp_path / "a.twcap", chunks)
    src = ReplaySource(path, realtime=True, speed=2.0)  # 0.8 s recorded -> 0.4 s
    t0 = time.monotonic()
    got = []
    with pytest.raises(EndOfCapture):
        while True:
            t, c = src.read(0.05)
            if c:
                got.append((t, c))
    elapsed = time.monotonic() - t0
    assert got == chunks
    assert 0.35 < elapsed < 1.5
    assert src.closed
    with pytest.raises(TransportClosed):
        src.write(b"\x00late\x00")


def test_replay_write_is_discarded(tmp_path):
    src = ReplaySource(write_capture(tmp_path / "a.twcap", [(1.0, b"x")]))
    src.write(b"abc")
    assert src.bytes_discarded == 3
