"""The decoder's order rules (docs/protocol.md, "Duplicates, reordering and restarts"):
the cases of tests/vectors/order/seq_order.json, and the same streams in any chunking."""

import json
import pathlib

import numpy as np
import pytest

from twitchwatch.protocol import (
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
from twitchwatch.protocol.decoder import REORDER_WINDOW
from twitchwatch.protocol.frame import FrameType
from twitchwatch.protocol.synthetic import reference_hello

SPEC = json.loads((pathlib.Path(__file__).resolve().parents[1] / "vectors" / "order" / "seq_order.json").read_text())
CASES = {c["name"]: c for c in SPEC["cases"]}


def wire_of(arrivals) -> bytes:
    out = b""
    for kind, seq, arg in arrivals:
        if kind == "HELLO":
            out += encode_frame(FrameType.HELLO, seq, build_hello_payload(reference_hello(arg)))
        else:
            info = reference_hello().stream(0)
            samples = np.full((20, info.n_channels), arg % 1000, dtype=np.int32)
            out += encode_frame(FrameType.DATA, seq, build_data_payload(0, arg, arg * 10**9 // info.sample_rate_mhz,
                                                                        samples, info.sample_format))
    return out


def described(msgs) -> list:
    out: list = []
    for m in msgs:
        if isinstance(m, SampleBlock):
            out.append(m.first_sample_index)
        elif isinstance(m, Gap):
            out.append(f"Gap {m.first_missing_index}+{m.n_missing}")
        elif isinstance(m, StreamRestart):
            out.append(f"StreamRestart {m.previous_end_index}->{m.first_sample_index}")
        else:
            out.append(type(m).__name__)
    return out


def run(wire: bytes, chunk: int | None = None):
    dec = FrameDecoder()
    msgs = []
    step = chunk or len(wire)
    for i in range(0, len(wire), step):
        msgs += dec.feed(wire[i:i + step], 0.0)
    msgs += dec.flush()
    return msgs, dec.stats.as_dict()


def test_the_window_is_the_documented_one():
    assert SPEC["reorder_window"] == REORDER_WINDOW


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("chunk", [None, 1, 37])
def test_order_case(name, chunk):
    case = CASES[name]
    msgs, stats = run(wire_of(case["arrivals"]), chunk)
    assert described(msgs) == case["messages"], case["why"]
    for key, want in case["counters"].items():
        assert stats[key] == want, (key, case["why"])


def test_a_duplicate_delivers_no_sample_twice_and_a_swap_loses_none():
    """The probe's finding: one duplicated and one swapped frame in a 30-s stream."""
    from twitchwatch.protocol.synthetic import synthetic_stream

    stream = synthetic_stream(duration_s=3.0, seed=11)
    frames = [f + b"\0" for f in stream.wire.split(b"\0") if f]
    damaged = frames[:50] + [frames[49]] + frames[50:100] + [frames[101], frames[100]] + frames[102:]
    msgs, stats = run(b"".join(damaged))
    for sid, sent in stream.samples.items():
        got = np.concatenate([m.samples for m in msgs if isinstance(m, SampleBlock) and m.stream_id == sid])
        np.testing.assert_array_equal(got, sent)  # every sample once, in order
    assert (stats["duplicates"], stats["reordered"]) == (1, 1)
    assert stats["samples_lost"] == stats["stream_restarts"] == stats["out_of_order"] == 0
    assert not any(isinstance(m, (Gap, StreamRestart, DeviceReset)) for m in msgs)
    assert sum(isinstance(m, Hello) for m in msgs) == 1


def test_frames_waiting_are_bounded():
    """Memory is bounded by design: at most a window of frames waits for a missing seq."""
    wire = wire_of([["HELLO", 0, 0xC0FFEE01]] + [["DATA", s, 20 * s] for s in range(2, 200)])
    dec = FrameDecoder()
    peak = 0
    for i in range(0, len(wire), 50):
        dec.feed(wire[i:i + 50], 0.0)
        peak = max(peak, dec.frames_waiting)
    assert peak <= REORDER_WINDOW + 1
    assert dec.stats.frames_lost == 1
