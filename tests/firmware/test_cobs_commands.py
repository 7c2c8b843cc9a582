"""COBS round trips and the device's COMMAND parser (CPython, same code as on the device)."""

import random
import struct
import sys

import pytest

from conftest import VECTORS

sys.path.insert(0, str(VECTORS))
import make_vectors  # noqa: E402  (the spec-only reference encoder)
import wire_cobs  # noqa: E402
import wire_frames  # noqa: E402


def _stream_decode(wire):
    d = wire_cobs.Decoder(1000)
    out = []
    for b in wire:
        n = d.feed_byte(b)
        if n >= 0:
            out.append(bytes(d.buf[:n]))
    return out, d.errors


CASES = [b"", b"\0", b"\0\0", b"\x01", bytes(range(1, 255)), bytes(range(1, 256)),
         bytes([7]) * 253, bytes([7]) * 254, bytes([7]) * 255, bytes([7]) * 508,
         bytes([7]) * 254 + b"\0", b"\0" + bytes([9]) * 254, bytes(244)]


@pytest.mark.parametrize("data", CASES, ids=lambda d: f"len{len(d)}")
def test_cobs_round_trip_and_reference(data):
    wire = wire_cobs.encode(data)
    assert wire == make_vectors.cobs(data) + b"\0"
    assert wire.count(0) == 1 and wire[-1] == 0
    assert len(wire) <= wire_cobs.max_encoded_len(len(data)) + 1
    assert wire_cobs.decode(wire) == data
    frames, errors = _stream_decode(wire)
    assert frames == [data] and errors == 0


def test_cobs_random_round_trips():
    rng = random.Random(5)
    for _ in range(500):
        n = rng.randrange(0, 600)
        data = bytes(rng.choice((0, 0, 1, 255, rng.randrange(256))) for _ in range(n))
        wire = wire_cobs.encode(data)
        assert wire == make_vectors.cobs(data) + b"\0"
        assert wire_cobs.decode(wire) == data


def test_decoder_rejects_code_past_delimiter_and_resyncs():
    good = wire_cobs.encode(b"hello")
    frames, errors = _stream_decode(bytes([0x09, 1, 2, 3, 0]) + good)
    assert frames == [b"hello"] and errors == 1
    with pytest.raises(ValueError):
        wire_cobs.decode(bytes([0x09, 1, 2, 3, 0]))


def test_decoder_drops_overlong_run():
    d = wire_cobs.Decoder(244)
    got = [d.feed_byte(0x55) for _ in range(300)] + [d.feed_byte(0)]
    assert all(n < 0 for n in got) and d.errors == 1
    ok = wire_cobs.encode(b"abc")
    assert [n for n in (d.feed_byte(b) for b in ok) if n >= 0] == [3]


def test_empty_frames_ignored():
    frames, errors = _stream_decode(b"\0\0\0" + wire_cobs.encode(b"x") + b"\0")
    assert frames == [b"x"] and errors == 0


def _command_wire(cmd, arg, seq=5):
    w = wire_frames.FrameWriter(seq)
    n = w.build_command(cmd, arg)
    return bytes(w.wire[: w.to_wire(n)])


def _feed(parser, wire):
    got = []
    for b in wire:
        if parser.feed(b):
            got.append((parser.command, parser.arg))
    return got


def test_command_parser_accepts_vectors():
    import json

    p = wire_frames.CommandParser()
    for name, cmd, arg in (("start", 1, 0), ("stop", 2, 0), ("ping", 3, 0x12345678), ("hello", 4, 0)):
        wire = bytes.fromhex(json.loads((VECTORS / f"command_{name}.json").read_text())["wire_hex"])
        assert _feed(p, wire) == [(cmd, arg)]
    assert p.accepted == 4 and p.rejected == 0


def test_command_parser_ignores_and_counts_corrupt_commands():
    p = wire_frames.CommandParser()
    good = _command_wire(3, 0xCAFEF00D)
    frame = bytearray(wire_cobs.decode(good))
    bad_crc = bytearray(frame)
    bad_crc[7] ^= 1
    bad_version = bytearray(frame)
    bad_version[0] = 2
    bad_version[-4:] = struct.pack("<I", __import__("binascii").crc32(bytes(bad_version[:-4])))
    w = wire_frames.FrameWriter()
    not_command = bytes(w.wire[: w.to_wire(w.build_reply(3, 0, 1))])
    junk = [wire_cobs.encode(bytes(bad_crc)), wire_cobs.encode(bytes(bad_version)), not_command,
            bytes([0x09, 1, 2, 3, 0]), wire_cobs.encode(bytes(frame[:6]))]
    got = _feed(p, b"".join(junk) + good)
    assert got == [(3, 0xCAFEF00D)]
    assert p.rejected == len(junk) and p.accepted == 1
