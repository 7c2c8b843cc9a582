"""Golden vectors of tests/vectors: exact fields, exact bytes, exact error counters."""

import numpy as np
import pytest

from twitchwatch.protocol import (
    Command,
    FrameDecoder,
    Hello,
    Reply,
    SampleBlock,
    Status,
    Text,
    Timing,
    build_frame,
    cobs_decode,
    cobs_encode,
    encode_command,
    parse_frame,
)
from twitchwatch.protocol import build_data_payload, encode_frame
from twitchwatch.protocol.frame import FrameType

from protocol_vectors import BAD, GOOD, VECTORS

ERROR_COUNTER = {"cobs": "cobs_errors", "crc": "crc_errors", "too_short": "too_short", "too_long": "too_long",
                 "version": "version_errors", "unknown_type": "unknown_type", "malformed": "malformed"}
ERROR_COUNTERS = set(ERROR_COUNTER.values()) | {"data_before_hello", "out_of_order", "seq_gaps"}
HELLO = VECTORS["hello_reference"]


def decode_after_hello(wire: bytes, seq: int | None = None):
    """Feed the reference HELLO (seq 0, or the one before ``seq`` so the frame under test
    comes next in seq order), then ``wire`` and the end of the stream; return (messages,
    stats delta)."""
    dec = FrameDecoder()
    hello = bytes.fromhex(HELLO["wire_hex"])
    if seq is not None:
        hello = encode_frame(FrameType.HELLO, (seq - 1) & 0xFFFFFFFF, bytes.fromhex(HELLO["frame_hex"])[6:-4])
    first = dec.feed(hello, 1.0)
    assert [type(m) for m in first] == [Hello]
    before = dec.stats.as_dict()
    msgs = dec.feed(wire, 2.0) + dec.flush()
    after = dec.stats.as_dict()
    return msgs, {k: after[k] - before[k] for k in after}


def test_every_vector_is_covered():
    assert set(GOOD) | set(BAD) == set(VECTORS)
    assert len(BAD) == 7


@pytest.mark.parametrize("name", sorted(GOOD))
def test_cobs_and_frame_bytes(name):
    v = GOOD[name]
    frame = bytes.fromhex(v["frame_hex"])
    wire = bytes.fromhex(v["wire_hex"])
    assert cobs_encode(frame) + b"\0" == wire
    assert cobs_decode(wire[:-1]) == frame
    f = parse_frame(frame, accepted_types=None)
    assert (f.frame_type, f.seq) == (v["type"], v["seq"])
    assert build_frame(f.frame_type, f.seq, f.payload) == frame


@pytest.mark.parametrize("name", sorted(n for n in GOOD if n.startswith("command_")))
def test_encode_command_reproduces_vectors(name):
    v = GOOD[name]
    wire = encode_command(Command(v["fields"]["command"]), v["fields"]["arg"], v["seq"])
    assert wire == bytes.fromhex(v["wire_hex"])


@pytest.mark.parametrize("name", sorted(n for n in GOOD if n.startswith("command_")))
def test_command_frames_are_not_accepted_from_the_device(name):
    msgs, delta = decode_after_hello(bytes.fromhex(GOOD[name]["wire_hex"]))
    assert msgs == []
    assert delta["unknown_type"] == 1


def test_hello_fields():
    dec = FrameDecoder()
    (hello,) = dec.feed(bytes.fromhex(HELLO["wire_hex"]), 3.5)
    f = HELLO["fields"]
    assert isinstance(hello, Hello)
    assert (hello.boot_id, hello.device_id, hello.firmware_version) == (f["boot_id"], f["device_id"], f["firmware_version"])
    assert (hello.seq, hello.host_time_s) == (0, 3.5)
    assert len(hello.streams) == len(f["streams"])
    for got, want in zip(hello.streams, f["streams"]):
        assert got.stream_id == want["stream_id"]
        assert got.sample_rate_mhz == want["sample_rate_mhz"]
        assert got.sample_rate_hz == want["sample_rate_mhz"] / 1000
        assert got.sample_format == want["sample_format"]
        assert got.samples_per_frame == want["samples_per_frame"]
        assert len(got.channels) == len(want["channels"])
        for gc, wc in zip(got.channels, want["channels"]):
            assert (gc.kind, gc.label, gc.unit) == (wc["kind"], wc["label"], wc["unit"])
            assert np.float32(gc.scale) == np.float32(wc["scale"])
        assert got.scales.dtype == np.float64 and got.scales.shape == (len(want["channels"]),)
    assert hello.stream(1).sample_rate_hz == 1000.0
    with pytest.raises(KeyError):
        hello.stream(9)


@pytest.mark.parametrize("name", sorted(n for n in GOOD if n.startswith("data_")))
def test_data_fields(name):
    v = GOOD[name]
    msgs, delta = decode_after_hello(bytes.fromhex(v["wire_hex"]), v["seq"])
    (block,) = [m for m in msgs if isinstance(m, SampleBlock)]
    f = v["fields"]
    assert block.stream_id == f["stream_id"]
    assert block.first_sample_index == f["first_sample_index"]
    assert block.t_first_us == f["t_first_us"]
    assert block.seq == v["seq"]
    assert block.host_time_s == 2.0
    want = np.array(f["samples"], dtype=np.int32)
    assert block.samples.dtype == np.int32
    assert block.samples.shape == want.shape
    np.testing.assert_array_equal(block.samples, want)
    assert not block.samples.flags.writeable
    np.testing.assert_allclose(block.physical(), want * block.info.scales)
    assert delta["frames_ok"] == 1
    assert all(delta[k] == 0 for k in ERROR_COUNTERS - {"seq_gaps"})


@pytest.mark.parametrize("name,cls", [("status", Status), ("status_ext", Status), ("reply_ping", Reply), ("text", Text), ("text_max", Text)])
def test_other_fields(name, cls):
    v = GOOD[name]
    dec = FrameDecoder()
    (msg,) = dec.feed(bytes.fromhex(v["wire_hex"]), 4.0)
    assert isinstance(msg, cls)
    for key, value in v["fields"].items():
        assert getattr(msg, key) == value
    assert (msg.seq, msg.host_time_s) == (v["seq"], 4.0)


def test_timing_fields():
    """Each stamp's stream, index and board time as the vector gives them."""
    v = GOOD["timing"]
    msgs, delta = decode_after_hello(bytes.fromhex(v["wire_hex"]), v["seq"])
    (msg,) = msgs
    assert isinstance(msg, Timing) and (msg.seq, msg.host_time_s) == (v["seq"], 2.0)
    got = [(s.stream_id, s.sample_index, s.board_us) for s in msg.stamps]
    assert got == [(s["stream_id"], s["sample_index"], s["t_board_us"]) for s in v["fields"]["stamps"]]
    assert delta["frames_ok"] == 1 and delta["malformed"] == 0


def test_timing_stamp_index_unwraps_near_its_stream():
    """A stamp's u32 index is unwrapped like DATA's: near the stream's next index, ahead
    of it (samples read, not sent yet) or behind; a stamp of an unknown stream is
    dropped; a TIMING of no stamp or of a wrong length is malformed."""
    from twitchwatch.protocol import build_timing_payload

    dec = FrameDecoder()
    dec.feed(bytes.fromhex(HELLO["wire_hex"]), 1.0)
    data = encode_frame(FrameType.DATA, 1, build_data_payload(1, 0xFFFFFFF0, 0, np.zeros((20, 3)), 2))
    dec.feed(data, 1.0)  # the accelerometer's next index is now 2**32 + 4
    t = encode_frame(FrameType.TIMING, 2, build_timing_payload([(1, 8, 77), (1, 0xFFFFFFFF, 78), (9, 1, 79)]))
    (msg,) = [m for m in dec.feed(t, 2.0) if isinstance(m, Timing)]
    assert [(s.stream_id, s.sample_index, s.board_us) for s in msg.stamps] == [
        (1, 2**32 + 8, 77), (1, 0xFFFFFFFF, 78)]
    before = dec.stats.malformed
    dec.feed(encode_frame(FrameType.TIMING, 3, b"\x00"), 3.0)
    dec.feed(encode_frame(FrameType.TIMING, 4, build_timing_payload([(0, 1, 2)])[:-1]), 3.0)
    assert dec.stats.malformed == before + 2


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_vector_counts_exactly_its_error(name):
    v = BAD[name]
    msgs, delta = decode_after_hello(bytes.fromhex(v["wire_hex"]))
    assert msgs == []
    counter = ERROR_COUNTER[v["error"]]
    assert delta[counter] == 1
    assert {k: d for k, d in delta.items() if k in ERROR_COUNTERS and k != counter and d} in ({}, {"seq_gaps": 1})
    assert delta["frames_ok"] == 0


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_vector_in_a_fresh_decoder(name):
    """Without a HELLO first the framing errors are the same (DATA checks aside)."""
    v = BAD[name]
    dec = FrameDecoder()
    assert dec.feed(bytes.fromhex(v["wire_hex"]), 0.0) == []
    counter = ERROR_COUNTER[v["error"]]
    stats = dec.stats.as_dict()
    if name == "bad_data_length":
        assert stats["data_before_hello"] == 1
    else:
        assert stats[counter] == 1


@pytest.mark.parametrize("name", sorted(n for n in GOOD if not n.startswith("command_")))
def test_every_single_bit_flip_is_a_crc_error(name):
    """Flip each bit of the frame (then COBS-encode): a CRC error, never a message."""
    frame = bytes.fromhex(GOOD[name]["frame_hex"])
    dec = FrameDecoder()
    dec.feed(bytes.fromhex(HELLO["wire_hex"]), 0.0)
    for bit in range(8 * len(frame)):
        flipped = bytearray(frame)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert dec.feed(cobs_encode(bytes(flipped)) + b"\0", 1.0) == [], bit
    assert dec.stats.crc_errors == 8 * len(frame)
    assert dec.stats.frames_ok == 1


@pytest.mark.parametrize("name", sorted(n for n in GOOD if not n.startswith("command_")))
def test_every_wire_bit_flip_yields_no_message(name):
    """Flip each bit on the wire (code bytes and delimiter included): some error is
    counted and nothing is emitted, except a flip in the final delimiter that only
    delays the frame."""
    wire = bytes.fromhex(GOOD[name]["wire_hex"])
    for bit in range(8 * (len(wire) - 1)):
        flipped = bytearray(wire)
        flipped[bit // 8] ^= 1 << (bit % 8)
        dec = FrameDecoder()
        dec.feed(bytes.fromhex(HELLO["wire_hex"]), 0.0)
        before = dec.stats.errors
        assert dec.feed(bytes(flipped), 1.0) == [], bit
        assert dec.stats.errors > before, bit


def test_frame_type_enum_matches_spec():
    assert [int(t) for t in FrameType] == [1, 2, 3, 4, 5, 6, 0x81]
    assert [int(c) for c in Command] == [1, 2, 3, 4, 5, 16]
