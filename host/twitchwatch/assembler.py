"""The stream assembler: decoded messages in; contiguous samples, gaps and run boundaries out.

One job, no I/O, its state explicit. The frame decoder (:class:`~twitchwatch.protocol.FrameDecoder`)
hands on messages in the order the device sent them: sample blocks, and between them
the :class:`~twitchwatch.protocol.Gap`, :class:`~twitchwatch.protocol.DeviceReset`,
:class:`~twitchwatch.protocol.StreamRestart`, HELLO, STATUS and TEXT messages.
:func:`assemble` cuts that list where anything but a block comes: each
:class:`Samples` holds the blocks that arrived one after another (so each stream's are
contiguous, nothing happened between them) with each stream's samples as
:class:`StreamPiece` s, still raw counts (converted once, when the detector runs:
:meth:`StreamPiece.physical` of several pieces equals each block's
:meth:`~twitchwatch.protocol.SampleBlock.physical` one after another, bit for bit).

A recording file has no frames: its blocks of physical samples go through
:class:`FileAssembler`, which finds the rows the file is known to miss (a gap, never
filled in) as the decoder does for lost frames, and makes each block a
:class:`~twitchwatch.protocol.SampleBlock` for the sinks.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator, Union

import numpy as np

from twitchwatch.protocol import Gap, Hello, Message, SampleBlock


@dataclasses.dataclass
class StreamPiece:
    """Contiguous samples of one stream: ``n`` rows from ``first_index``, as one array or
    a list of arrays (concatenated in order), raw counts times ``scales`` (physical units
    per count, by channel), or physical values when ``scales`` is None.
    ``first_host_s``: when its first block arrived (host clock, s), None for a file."""

    stream_id: int
    first_index: int
    n: int
    rate_hz: float
    data: np.ndarray | list[np.ndarray]
    scales: np.ndarray | None = None
    first_host_s: float | None = None


def physical_columns(pieces: list[StreamPiece], cols: np.ndarray) -> np.ndarray:
    """Columns ``cols`` of pieces of one stream, one after another, as a C-contiguous
    float64 array in physical units.

    Raw counts are converted here, once per piece (a read's blocks) rather than per frame:
    ``raw × scale`` elementwise (int32 → float64 is exact), the same values bit for
    bit as :meth:`SampleBlock.physical` per block and then concatenating."""
    parts = []
    for piece in pieces:
        data = piece.data
        if isinstance(data, list):
            data = np.concatenate(data)
        parts.append(data if piece.scales is None else data * piece.scales)
    joined = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return np.ascontiguousarray(joined[:, cols])


@dataclasses.dataclass
class Samples:
    """Blocks that arrived one after another (no other message between them): ``blocks``
    in arrival order, and ``by_stream``: each stream's blocks, and its samples as pieces
    (one per stream unless a stream's blocks were not contiguous, never expected)."""

    blocks: list[SampleBlock]
    by_stream: dict[int, tuple[list[SampleBlock], list[StreamPiece]]]


def pieces_of(blocks: list[SampleBlock]) -> dict[int, tuple[list[SampleBlock], list[StreamPiece]]]:
    """Each stream's blocks (in order of first appearance) and their contiguous pieces."""
    by_stream: dict[int, list[SampleBlock]] = {}
    for block in blocks:
        by_stream.setdefault(block.stream_id, []).append(block)
    out: dict[int, tuple[list[SampleBlock], list[StreamPiece]]] = {}
    for stream_id, mine in by_stream.items():
        pieces: list[StreamPiece] = []
        info = mine[0].info
        first = end = mine[0].first_sample_index
        host_s = mine[0].host_time_s
        arrays: list[np.ndarray] = []
        for block in mine:
            if block.first_sample_index != end or block.info is not info:  # not contiguous: never expected
                pieces.append(StreamPiece(stream_id, first, end - first, info.sample_rate_hz, arrays, info.scales,
                                          host_s))
                info, first, end, arrays = block.info, block.first_sample_index, block.first_sample_index, []
                host_s = block.host_time_s
            arrays.append(block.samples)
            end += block.samples.shape[0]
        pieces.append(StreamPiece(stream_id, first, end - first, info.sample_rate_hz,
                                  arrays[0] if len(arrays) == 1 else arrays, info.scales, host_s))
        out[stream_id] = (mine, pieces)
    return out


def assemble(messages: list[Message]) -> Iterator[Union[Samples, Message]]:
    """The decoder's messages with consecutive sample blocks gathered into one :class:`Samples`."""
    blocks: list[SampleBlock] = []
    for msg in messages:
        if isinstance(msg, SampleBlock):
            blocks.append(msg)
            continue
        if blocks:
            yield Samples(blocks, pieces_of(blocks))
            blocks = []
        yield msg
    if blocks:
        yield Samples(blocks, pieces_of(blocks))


class FileAssembler:
    """A recording's blocks of physical samples: the gaps in them (rows the file is known
    to miss), the pieces for the detector, and each block as a device would have sent it
    (a :class:`SampleBlock` of physical values at scale 1, for the dashboard and LSL).
    State: each stream's next expected row index."""

    def __init__(self, hello: Hello) -> None:
        self.infos = {s.stream_id: s for s in hello.streams}
        self.rates_hz = {s.stream_id: s.sample_rate_hz for s in hello.streams}
        self.next_index: dict[int, int] = {}

    def block(self, stream_id: int, first_index: int, data: np.ndarray,
              host_s: float) -> tuple[Gap | None, StreamPiece, SampleBlock]:
        """One block of the file, handed on at ``host_s`` (host clock): the gap before it
        (None if it follows on), its samples, and the block."""
        expected = self.next_index.get(stream_id, first_index)
        gap = None
        if first_index > expected:  # never filled in
            gap = Gap(stream_id, expected, first_index - expected, 0.0)
        self.next_index[stream_id] = first_index + len(data)
        data = np.asarray(data, dtype=np.float64)
        rate_hz = self.rates_hz[stream_id]
        block = SampleBlock(stream_id, self.infos[stream_id], first_index, round(first_index * 1e6 / rate_hz), data,
                            host_s)
        return gap, StreamPiece(stream_id, first_index, data.shape[0], rate_hz, data), block
