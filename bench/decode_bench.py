"""Decode throughput of twitchwatch.protocol.FrameDecoder, against what a user
would otherwise write.

Builds 60 s of the full reference stream (2 kHz × 2 EMG ch int24 + 1 kHz × 3 ACC
ch int16, 20 samples/frame, 150 frames/s), from the firmware running as a virtual
board when firmware/unix_main.py exists (``--source firmware``), else from this
package's encoder (``--source synthetic``), then times on one core:

1. FrameDecoder fed in chunks of 64, 512 and 4096 bytes (typical USB reads),
   with its pure-Python COBS and, if the ``cobs`` package is installed, with it;
2. COBS alone: this package's decoders, the ``cobs`` package from PyPI (C, if
   installed) and a naive per-byte decoder;
3. a naive whole decoder (per-byte delimiter scan and COBS, per-sample
   ``int.from_bytes``) on a shorter slice;
4. FrameDecoder on the same stream as a lossy radio delivers it: 1 % of frames
   duplicated and 1 % of neighbouring pairs swapped (what the reordering window of
   issue #17 handles), checked to give the same samples as the clean stream.

Run: ``.venv/bin/python bench/decode_bench.py [--seconds 60] [--source auto|firmware|synthetic]``
"""

from __future__ import annotations

import argparse
import binascii
import platform
import struct
import sys
import time

import numpy as np

from twitchwatch.protocol import FrameDecoder, SampleBlock, cobs_decode
from twitchwatch.protocol import cobs as cobs_module
from twitchwatch.protocol.cobs import cobs_decode_short
from twitchwatch.protocol.synthetic import synthetic_stream
from twitchwatch.transports import TransportClosed, VirtualBoard
from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR, ENTRY_POINT

CHUNK_SIZES = (64, 512, 4096)


def firmware_stream(seconds: float) -> bytes:
    data = bytearray()
    with VirtualBoard(seed=1, duration_s=seconds) as src:
        try:
            while True:
                data += src.read(1.0)[1]
        except TransportClosed:
            pass
    return bytes(data)


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def naive_cobs_decode(enc: bytes) -> bytes:
    """What one writes from the Wikipedia description: byte by byte."""
    out = bytearray()
    code = 0xFF
    left = 0
    for b in enc:
        if left:
            out.append(b)
            left -= 1
        else:
            if code != 0xFF:
                out.append(0)
            code = b
            left = code - 1
    if left:
        raise ValueError("truncated")
    return bytes(out)


def naive_decode(data: bytes, hello_streams: dict[int, tuple[int, int]]) -> int:
    """A per-byte serial decoder: scan, COBS, CRC, per-sample unpack. Returns samples seen."""
    n_samples_seen = 0
    buf = bytearray()
    for b in data:
        if b != 0:
            buf.append(b)
            continue
        if not buf:
            continue
        try:
            frame = naive_cobs_decode(bytes(buf))
        except ValueError:
            buf.clear()
            continue
        buf.clear()
        if len(frame) < 10 or binascii.crc32(frame[:-4]) != struct.unpack("<I", frame[-4:])[0]:
            continue
        if frame[1] != 2:
            continue
        sid, n, _, _ = struct.unpack_from("<BBIQ", frame, 6)
        n_ch, width = hello_streams[sid]
        pos = 20
        rows = []
        for _ in range(n):
            row = []
            for _ in range(n_ch):
                row.append(int.from_bytes(frame[pos:pos + width], "little", signed=True))
                pos += width
            rows.append(row)
        n_samples_seen += n
    return n_samples_seen


def disordered(wire: bytes, fraction: float, seed: int = 7) -> tuple[bytes, int, int]:
    """The stream with ``fraction`` of its frames sent twice and ``fraction`` of
    neighbouring pairs swapped; returns (bytes, duplicates, swaps)."""
    rng = np.random.default_rng(seed)
    frames = [f + b"\0" for f in wire.split(b"\0") if f]
    swaps = 0
    i = 1
    while i < len(frames) - 1:
        if rng.random() < fraction:
            frames[i], frames[i + 1] = frames[i + 1], frames[i]
            swaps += 1
            i += 2
        else:
            i += 1
    out: list[bytes] = []
    dups = 0
    for f in frames:
        out.append(f)
        if rng.random() < fraction:
            out.append(f)
            dups += 1
    return b"".join(out), dups, swaps


def _samples(msgs) -> dict[int, np.ndarray]:
    per_stream: dict[int, list[np.ndarray]] = {}
    for m in msgs:
        if isinstance(m, SampleBlock):
            per_stream.setdefault(m.stream_id, []).append(np.asarray(m.samples))
    return {k: np.concatenate(v) for k, v in per_stream.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--source", choices=("auto", "firmware", "synthetic"), default="auto")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    source = args.source
    if source == "auto":
        source = "firmware" if (DEFAULT_FIRMWARE_DIR / ENTRY_POINT).exists() else "synthetic"
    t0 = time.perf_counter()
    wire = firmware_stream(args.seconds) if source == "firmware" else synthetic_stream(args.seconds).wire
    build_s = time.perf_counter() - t0

    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1]] + sys.argv)}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"stream: {args.seconds:g} s from {source} ({build_s:.1f} s to build), {len(wire)} bytes, "
          f"{len(wire) / args.seconds / 1e3:.1f} kB/s on the wire")

    dec = FrameDecoder()
    msgs = dec.feed(wire, 0.0)
    n_frames = dec.stats.frames_ok
    n_blocks = sum(isinstance(m, SampleBlock) for m in msgs)
    errors = {k: v for k, v in dec.stats.as_dict().items() if v and k not in ("bytes_in", "frames_ok")}
    print(f"frames: {n_frames} ok ({n_blocks} DATA, {n_frames / args.seconds:.0f}/s); other counters: {errors or 'none'}")
    print()
    print(f"{'decoder':44s} {'chunk B':>8s} {'time ms':>9s} {'x real time':>12s} {'MB/s':>7s} {'us/frame':>9s}")

    def row(name, chunk, seconds_taken, n_bytes=len(wire), covered_s=args.seconds, frames=n_frames):
        print(f"{name:44s} {chunk:>8} {seconds_taken * 1e3:9.1f} {covered_s / seconds_taken:12.0f} "
              f"{n_bytes / seconds_taken / 1e6:7.2f} {seconds_taken / frames * 1e6:9.2f}")

    backends = [("python COBS", cobs_decode_short)]
    if cobs_module.COBS_BACKEND != "python":
        backends.append(("C COBS", cobs_module.decode_segment))
    for label, backend in backends:
        for size in CHUNK_SIZES:
            chunks = [wire[i:i + size] for i in range(0, len(wire), size)]

            def run():
                d = FrameDecoder(cobs_backend=backend)
                for c in chunks:
                    d.feed(c, 0.0)
            row(f"twitchwatch FrameDecoder, {label}", size, best_of(run, args.repeats))

    messy, n_dups, n_swaps = disordered(wire, 0.01)
    check = FrameDecoder()
    got = _samples(check.feed(messy, 0.0) + check.flush())
    clean = FrameDecoder()
    want = _samples(clean.feed(wire, 0.0) + clean.flush())
    same = all(k in got and np.array_equal(got[k], want[k]) for k in want)
    for size in (64, 512):
        chunks = [messy[i:i + size] for i in range(0, len(messy), size)]

        def run_messy():
            d = FrameDecoder()
            for c in chunks:
                d.feed(c, 0.0)
        row("FrameDecoder, 1 % dup + 1 % swapped frames", size, best_of(run_messy, args.repeats),
            n_bytes=len(messy))
    print(f"{'':44s} ({n_dups} duplicates, {n_swaps} swaps; samples equal to the clean stream's: {same}; "
          f"duplicates counted: {check.stats.duplicates})")

    segments = [s for s in wire.split(b"\0") if s]
    row("COBS only: twitchwatch fast path (per frame)", "-", best_of(
        lambda: [cobs_decode_short(s) for s in segments], args.repeats))
    row("COBS only: twitchwatch cobs_decode (general)", "-", best_of(
        lambda: [cobs_decode(s) for s in segments], args.repeats))
    try:
        from cobs import cobs as pypi_cobs  # type: ignore[import-not-found]
    except ImportError:
        print(f"{'COBS only: cobs (PyPI, C)':44s}  not installed (pip install cobs)")
    else:
        row("COBS only: cobs (PyPI, C extension)", "-", best_of(
            lambda: [pypi_cobs.decode(s) for s in segments], args.repeats))
    row("COBS only: naive per-byte Python", "-", best_of(
        lambda: [naive_cobs_decode(s) for s in segments], max(1, args.repeats // 2)))

    part_s = min(args.seconds, 10.0)
    part = wire[:int(len(wire) * part_s / args.seconds)]
    hello = dec.hello
    streams = {s.stream_id: (s.n_channels, s.sample_format) for s in hello.streams}
    frac_frames = int(n_frames * part_s / args.seconds)
    row("naive per-byte full decoder (first part)", "all", best_of(
        lambda: naive_decode(part, streams), 1), len(part), part_s, frac_frames)


if __name__ == "__main__":
    main()
