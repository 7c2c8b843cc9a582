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
from twitchwatch.transports.capture import FILE_HEADER_BYTES, RECORD_HEADER_BYTES

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
    assert reader.header.format_version == 1
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


def test_damaged_record_stops_the_reader(tmp_path):
    chunks = chunks_of(STREAM.wire, size=500)[:3]
    path = write_capture(tmp_path / "a.twcap", chunks)
    raw = bytearray(path.read_bytes())
    second_payload = FILE_HEADER_BYTES + RECORD_HEADER_BYTES + 500 + RECORD_HEADER_BYTES
    raw[second_payload + 10] ^= 0x01
    path.write_bytes(bytes(raw))
    reader = read_capture(path)
    assert [r.data for r in reader] == [chunks[0][1]]
    assert reader.tail.reason == "record CRC mismatch"


@pytest.mark.parametrize("content", [b"", b"hello world, not a capture at all", b"\x89TWCAP\r\n" + b"\0" * 10])
def test_not_a_capture(tmp_path, content):
    path = tmp_path / "x.bin"
    path.write_bytes(content)
    with pytest.raises(CaptureFormatError, match="not a twitchwatch capture"):
        read_capture(path)


def test_unknown_version_and_damaged_header(tmp_path):
    path = write_capture(tmp_path / "a.twcap", [])
    raw = bytearray(path.read_bytes())
    raw[8] = 2
    path.write_bytes(bytes(raw))
    with pytest.raises(CaptureFormatError, match="CRC"):
        read_capture(path)
    import binascii
    fields = bytes(raw[:28])
    path.write_bytes(fields + struct.pack("<I", binascii.crc32(fields)))
    with pytest.raises(CaptureFormatError, match="version 2"):
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
