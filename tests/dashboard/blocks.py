"""Synthetic SampleBlocks for the dashboard tests: 2 EMG channels (µV) at 2 kHz,
one accelerometer (X, Y, Z in mg) at 1 kHz, as the firmware describes them."""

from __future__ import annotations

import numpy as np

from twitchwatch.protocol.messages import ChannelInfo, SampleBlock, StreamInfo

EMG_RATE_HZ = 2000.0
ACC_RATE_HZ = 1000.0
EMG_INFO = StreamInfo(0, EMG_RATE_HZ, 3, 20, (ChannelInfo(1, "EMG 1", "uV", 0.01), ChannelInfo(1, "EMG 2", "uV", 0.01)),
                      2_000_000)
ACC_INFO = StreamInfo(1, ACC_RATE_HZ, 2, 10, (ChannelInfo(2, "ACC X", "mg", 0.1), ChannelInfo(3, "ACC Y", "mg", 0.1),
                                              ChannelInfo(4, "ACC Z", "mg", 0.1)), 1_000_000)


def emg_counts(n: int, seed: int = 0) -> np.ndarray:
    """(n, 2) int32 counts: noise plus a slow offset (which the display high-pass removes)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 500, (n, 2)) + 20000).astype(np.int32)


def blocks(stream: StreamInfo, counts: np.ndarray, sizes: list[int], first_index: int = 0,
           host_time_s: float = 0.0) -> list[SampleBlock]:
    """Split ``counts`` into consecutive blocks of the given sizes (cycled)."""
    out, i, k = [], 0, 0
    while i < len(counts):
        n = sizes[k % len(sizes)]
        out.append(SampleBlock(stream.stream_id, stream, first_index + i, 0, counts[i:i + n], host_time_s))
        i += n
        k += 1
    return out
