"""FrameDecoder behaviour: chunking, corruption, gaps, resets, wrap."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twitchwatch.protocol import (
    DecoderStats,
    DeviceReset,
    FrameDecoder,
    Gap,
    Hello,
    SampleBlock,
    StreamRestart,
    build_data_payload,
    build_hello_payload,
    encode_frame,
)
from twitchwatch.protocol.cobs import cobs_decode_short, decode_segment
from twitchwatch.protocol.frame import FrameType
from twitchwatch.protocol.messages import new_sample_block
from twitchwatch.protocol.synthetic import reference_hello, synthetic_stream

STREAM = synthetic_stream(duration_s=0.5, seed=3)  # 76 frames
WIRE = STREAM.wire


def comparable(msgs):
    """Messages as plain tuples (arrays as lists) for equality checks."""
    out = []
    for m in msgs:
        if isinstance(m, SampleBlock):
            out.append(("block", m.stream_id, m.first_sample_index, m.t_first_us, m.seq, m.samples.tolist()))
        else:
            out.append(m)
    return out


BACKENDS = [cobs_decode_short] + ([decode_segment] if decode_segment is not cobs_decode_short else [])


def decode_all(chunks, host_time_s=0.0, backend=None):
    dec = FrameDecoder(cobs_backend=backend)
    msgs = []
    for c in chunks:
        msgs += dec.feed(c, host_time_s)
    msgs += dec.flush()  # the end of the stream: frames waiting for a missing seq
    return msgs, dec.stats


def split_at(data: bytes, cuts) -> list[bytes]:
    cuts = sorted(set(c % (len(data) + 1) for c in cuts))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def check_samples_are_sent(msgs, stream=STREAM, index_offset=0):
    """Every emitted sample equals the one sent at that index; returns samples seen."""
    seen = 0
    for m in msgs:
        if isinstance(m, SampleBlock):
            sent = stream.samples[m.stream_id]
            i = m.first_sample_index - index_offset
            assert 0 <= i and i + m.n_samples <= len(sent)
            np.testing.assert_array_equal(m.samples, sent[i:i + m.n_samples])
            seen += m.n_samples
    return seen


def frame_of(ftype, seq, payload):
    return encode_frame(ftype, seq, payload)


def data_wire(seq, stream_id, index, n=20, value=7, hello=None):
    info = (hello or reference_hello()).stream(stream_id)
    samples = np.full((n, info.n_channels), value, dtype=np.int32)
    t_us = index * 10**9 // info.sample_rate_mhz
    return frame_of(FrameType.DATA, seq, build_data_payload(stream_id, index, t_us, samples, info.sample_format))


def hello_wire(seq=0, boot_id=0xC0FFEE01):
    return frame_of(FrameType.HELLO, seq, build_hello_payload(reference_hello(boot_id)))


def test_whole_stream_decodes_exactly():
    msgs, stats = decode_all([WIRE])
    assert isinstance(msgs[0], Hello)
    blocks = [m for m in msgs if isinstance(m, SampleBlock)]
    assert len(blocks) == STREAM.n_frames - 1
    assert check_samples_are_sent(msgs) == sum(a.shape[0] for a in STREAM.samples.values())
    for sid, sent in STREAM.samples.items():
        got = np.concatenate([b.samples for b in blocks if b.stream_id == sid])
        np.testing.assert_array_equal(got, sent)
    nonzero = {k: v for k, v in stats.as_dict().items() if v}
    assert nonzero == {"bytes_in": len(WIRE), "frames_ok": STREAM.n_frames}


def test_fast_block_equals_dataclass_block():
    info = reference_hello().stream(0)
    arr = np.arange(6, dtype=np.int32).reshape(3, 2)
    assert new_sample_block(0, info, 5, 6, arr, 1.5, 9) == SampleBlock(0, info, 5, 6, arr, 1.5, 9)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(WIRE)), max_size=60))
def test_chunk_size_invariant(cuts):
    whole, whole_stats = decode_all([WIRE])
    parts, part_stats = decode_all(split_at(WIRE, cuts))
    assert comparable(parts) == comparable(whole)
    assert part_stats == whole_stats


NOISY = (b"\x55" * 300 + WIRE[:400] + bytes(range(1, 256)) + b"\0\0" + WIRE[1000:3000]
         + b"\x01\x02\x03" + WIRE[3000:])


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(NOISY)), max_size=80))
def test_chunk_size_invariant_with_garbage(backend, cuts):
    whole, whole_stats = decode_all([NOISY], backend=cobs_decode_short)
    parts, part_stats = decode_all(split_at(NOISY, cuts), backend=backend)
    assert comparable(parts) == comparable(whole)
    assert part_stats == whole_stats
    assert whole_stats.too_long >= 1 and whole_stats.bytes_in == len(NOISY)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.lists(st.integers(min_value=0, max_value=2000), max_size=20))
def test_random_bytes_never_raise(data, cuts):
    msgs, stats = decode_all(split_at(data, cuts))
    assert stats.bytes_in == len(data)
    assert all(not isinstance(m, SampleBlock) for m in msgs)  # no HELLO, so no samples


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=200, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, len(WIRE) - 1), st.integers(0, 7)), min_size=1, max_size=30),
       cuts=st.lists(st.integers(min_value=0, max_value=len(WIRE)), max_size=20))
def test_bit_flips_never_give_a_wrong_sample(backend, flips, cuts):
    data = bytearray(WIRE)
    for pos, bit in flips:
        data[pos] ^= 1 << bit
    msgs, stats = decode_all(split_at(bytes(data), cuts), backend=backend)
    ref_msgs, ref_stats = decode_all([bytes(data)], backend=cobs_decode_short)
    assert comparable(msgs) == comparable(ref_msgs) and stats == ref_stats
    check_samples_are_sent(msgs)
    assert stats.frames_ok <= STREAM.n_frames


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(WIRE)), st.integers(0, 300)), min_size=1, max_size=10),
       st.binary(max_size=50))
def test_truncations_and_insertions_never_give_a_wrong_sample(cuts, junk):
    data = WIRE
    for pos, n in sorted(cuts, reverse=True):
        data = data[:pos] + junk + data[pos + n:]
    msgs, stats = decode_all([data])
    check_samples_are_sent(msgs)


def test_truncated_frame_then_resync():
    wire = (hello_wire() + data_wire(1, 0, 0) + data_wire(2, 0, 20)[:50] + b"\0"
            + data_wire(3, 0, 40) + data_wire(4, 0, 60))
    msgs, stats = decode_all([wire])
    assert [type(m) for m in msgs] == [Hello, SampleBlock, Gap, SampleBlock, SampleBlock]
    assert stats.crc_errors + stats.cobs_errors == 1
    assert (stats.seq_gaps, stats.frames_lost) == (1, 1)
    assert msgs[2] == Gap(0, 20, 20, 0.0)
    assert stats.samples_lost == 20


def test_seq_and_sample_gaps():
    wire = (hello_wire(0) + data_wire(1, 0, 0) + data_wire(4, 0, 60) + data_wire(5, 1, 0) + data_wire(6, 1, 20))
    msgs, stats = decode_all([wire], host_time_s=7.0)
    assert [type(m) for m in msgs] == [Hello, SampleBlock, Gap, SampleBlock, SampleBlock, SampleBlock]
    assert msgs[2] == Gap(stream_id=0, first_missing_index=20, n_missing=40, host_time_s=7.0)
    assert (stats.seq_gaps, stats.frames_lost, stats.samples_lost) == (1, 2, 40)


def test_data_before_hello_is_dropped_and_counted():
    wire = data_wire(5, 0, 100) + data_wire(6, 0, 120) + hello_wire(7) + data_wire(8, 0, 140)
    msgs, stats = decode_all([wire])
    assert [type(m) for m in msgs] == [Hello, SampleBlock]
    assert msgs[1].first_sample_index == 140
    assert stats.data_before_hello == 2
    assert stats.seq_gaps == 0


def test_device_reset_restarts_tracking():
    wire = (hello_wire(0, boot_id=1) + data_wire(1, 0, 0) + data_wire(2, 0, 20)
            + hello_wire(0, boot_id=2) + data_wire(1, 0, 0) + data_wire(2, 0, 20))
    msgs, stats = decode_all([wire])
    assert [type(m) for m in msgs] == [Hello, SampleBlock, SampleBlock, DeviceReset, SampleBlock, SampleBlock]
    reset = msgs[3]
    assert reset.old_boot_id == 1 and reset.hello.boot_id == 2
    assert [m.first_sample_index for m in msgs if isinstance(m, SampleBlock)] == [0, 20, 0, 20]
    assert (stats.resets, stats.seq_gaps, stats.out_of_order, stats.samples_lost) == (1, 0, 0, 0)


def test_same_boot_hello_is_a_hello_and_keeps_tracking():
    wire = hello_wire(0) + data_wire(1, 0, 0) + hello_wire(2) + data_wire(3, 0, 20)
    msgs, stats = decode_all([wire])
    assert [type(m) for m in msgs] == [Hello, SampleBlock, Hello, SampleBlock]
    assert msgs[3].first_sample_index == 20
    assert stats.resets == 0


def test_start_after_hello_restarts_the_stream_index():
    """START resets indices to 0 and the device sends HELLO first: a new run, not out-of-order."""
    wire = hello_wire(0) + data_wire(1, 0, 0) + data_wire(2, 0, 20) + hello_wire(3) + data_wire(4, 0, 0)
    msgs, stats = decode_all([wire])
    assert [type(m) for m in msgs] == [Hello, SampleBlock, SampleBlock, Hello, StreamRestart, SampleBlock]
    assert msgs[4] == StreamRestart(0, 40, 0, 0.0)
    assert (stats.stream_restarts, stats.out_of_order) == (1, 0)


def test_backward_index_without_hello_is_out_of_order():
    wire = hello_wire(0) + data_wire(1, 0, 0) + data_wire(2, 0, 20) + data_wire(3, 0, 0) + data_wire(4, 0, 40)
    msgs, stats = decode_all([wire])
    assert [m.first_sample_index for m in msgs if isinstance(m, SampleBlock)] == [0, 20, 40]
    assert stats.out_of_order == 1 and stats.samples_lost == 0


def test_index_wrap_is_unwrapped():
    stream = synthetic_stream(duration_s=0.1, first_index=2**32 - 50, seed=5)
    msgs, stats = decode_all([stream.wire])
    for sid in (0, 1):
        idx = [m.first_sample_index for m in msgs if isinstance(m, SampleBlock) and m.stream_id == sid]
        assert idx == sorted(idx) and idx[-1] > 2**32
        assert all(b - a == 20 for a, b in zip(idx, idx[1:]))
    check_samples_are_sent(msgs, stream, index_offset=2**32 - 50)
    assert stats.samples_lost == 0 and stats.out_of_order == 0


def test_seq_wrap_is_not_a_gap():
    wire = hello_wire(2**32 - 2) + data_wire(2**32 - 1, 0, 0) + data_wire(0, 0, 20)
    msgs, stats = decode_all([wire])
    assert stats.seq_gaps == 0 and len(msgs) == 3


def test_malformed_payloads():
    hello = reference_hello()
    bad_hello = build_hello_payload(hello)[:-3]
    unknown_stream = frame_of(FrameType.DATA, 2, build_data_payload(9, 0, 0, np.zeros((2, 2)), 3))
    wire = (hello_wire(0) + frame_of(FrameType.HELLO, 1, bad_hello) + unknown_stream
            + frame_of(FrameType.STATUS, 3, b"\x01\x02") + frame_of(FrameType.REPLY, 4, b""))
    msgs, stats = decode_all([wire])
    assert [type(m) for m in msgs] == [Hello]
    assert stats.malformed == 4


def test_stats_as_dict_lists_every_counter():
    names = set(DecoderStats().as_dict())
    assert {"bytes_in", "frames_ok", "garbage_bytes", "cobs_errors", "crc_errors", "too_short", "too_long",
            "version_errors", "unknown_type", "malformed", "data_before_hello", "seq_gaps", "frames_lost",
            "samples_lost", "out_of_order", "resets"} <= names
    assert all(v == 0 for v in DecoderStats().as_dict().values())


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096])
def test_empty_and_small_feeds(chunk):
    dec = FrameDecoder()
    assert dec.feed(b"", 0.0) == []
    msgs = []
    for i in range(0, len(WIRE), chunk):
        msgs += dec.feed(WIRE[i:i + chunk], 0.0)
    assert len([m for m in msgs if isinstance(m, SampleBlock)]) == STREAM.n_frames - 1
