"""Wire bytes of a reference device stream, built with this package's encoder.

For tests and benchmarks that need realistic serial input without the firmware:
the reference front end of docs/protocol.md (2 EMG channels int24 at 2 kHz,
3 accelerometer channels int16 at 1 kHz, 20 samples per frame), band-limited
noise of a few µV and a resting accelerometer (≈ 1 g on Z).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frame import FrameType
from .messages import ChannelInfo, Hello, StreamInfo
from .payloads import build_data_payload, build_hello_payload, encode_frame

EMG_SCALE_UV = 2.42 / 6 / 8388607 * 1e6  # ADS1292R, Vref 2.42 V, gain 6: µV per LSB
ACC_SCALE_MG = 0.061  # LSM6DSO at ±2 g: mg per LSB


def reference_hello(boot_id: int = 0xC0FFEE01, samples_per_frame: int = 20) -> Hello:
    """The HELLO of the reference front end (as in tests/vectors/hello_reference.json)."""
    emg = tuple(ChannelInfo(1, f"EMG {i}", "uV", float(np.float32(EMG_SCALE_UV))) for i in (1, 2))
    acc = tuple(ChannelInfo(k, f"ACC {a}", "mg", float(np.float32(ACC_SCALE_MG)))
                for k, a in ((2, "X"), (3, "Y"), (4, "Z")))
    return Hello(boot_id, "sim-0001", "0.1.0", (
        StreamInfo(0, 2000.0, 3, samples_per_frame, emg, 2_000_000),
        StreamInfo(1, 1000.0, 2, samples_per_frame, acc, 1_000_000),
    ))


@dataclass
class SyntheticStream:
    """A reference stream as wire bytes plus the samples it carries.

    ``wire``: serial bytes (leading ``0x00``, HELLO, then interleaved DATA frames in
    device-time order); ``samples[stream_id]``: int32 (n, n_channels) raw counts;
    ``n_frames``: frames in ``wire``; ``duration_s``: device time covered.
    """

    hello: Hello
    wire: bytes
    samples: dict[int, np.ndarray]
    n_frames: int
    duration_s: float


def synthetic_stream(duration_s: float = 10.0, seed: int = 1, boot_id: int = 0xC0FFEE01,
                     first_seq: int = 0, first_index: int = 0, emg_rms_uv: float = 5.0) -> SyntheticStream:
    """Build ``duration_s`` of the reference stream (whole frames only).

    ``first_index`` offsets every stream's sample index (to exercise the 2**32 wrap).
    """
    rng = np.random.default_rng(seed)
    hello = reference_hello(boot_id)
    frames: list[tuple[float, int, bytes]] = []  # (device time of the frame's last sample, order, payload)
    samples: dict[int, np.ndarray] = {}
    for s in hello.streams:
        spf = s.samples_per_frame
        n_frames = int(duration_s * s.sample_rate_hz) // spf
        n = n_frames * spf
        if s.sample_format == 3:
            x = rng.normal(0.0, emg_rms_uv / EMG_SCALE_UV, size=(n, s.n_channels))
        else:
            x = rng.normal(0.0, 2.0 / ACC_SCALE_MG, size=(n, s.n_channels))
            x[:, 2] += 1000.0 / ACC_SCALE_MG
        lim = 2 ** (8 * s.sample_format - 1)
        x = np.clip(np.round(x), -lim, lim - 1).astype(np.int32)
        samples[s.stream_id] = x
        for k in range(n_frames):
            idx = first_index + k * spf
            t_us = idx * 10**9 // s.sample_rate_mhz
            payload = build_data_payload(s.stream_id, idx, t_us, x[k * spf:(k + 1) * spf], s.sample_format)
            t_last_s = (idx + spf - 1) / s.sample_rate_hz
            frames.append((t_last_s, s.stream_id, payload))
    frames.sort(key=lambda f: (f[0], f[1]))
    out = bytearray(b"\0")
    out += encode_frame(FrameType.HELLO, first_seq, build_hello_payload(hello))
    for i, (_, _, payload) in enumerate(frames, start=1):
        out += encode_frame(FrameType.DATA, first_seq + i, payload)
    return SyntheticStream(hello, bytes(out), samples, len(frames) + 1, duration_s)
