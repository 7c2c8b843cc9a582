"""Whole host path, × real time: replay a capture through decode → detect → SQLite/JSONL.

A capture of the virtual board (the firmware's simulated front end under MicroPython,
full stream: 2 kHz × 2 EMG + 1 kHz × 3 ACC) is replayed as fast as possible through
:class:`twitchwatch.pipeline.Pipeline`, the code ``twitchwatch replay`` runs, with
and without its outputs, so the cost of each stage shows.

Run: ``.venv/bin/python bench/pipeline_bench.py [--seconds 120] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from twitchwatch.pipeline import Pipeline
from twitchwatch.protocol import FrameDecoder
from twitchwatch.store import Store
from twitchwatch.transports import ReplaySource, VirtualBoard, read_capture


def make_capture(path: Path, seconds: float) -> None:
    with VirtualBoard(seed=1, duration_s=seconds) as source:
        Pipeline(source, source_name="bench", capture=path).run()


def time_decoder_only(path: Path) -> tuple[float, float, int]:
    """(wall s, process CPU s, events) of decoding the capture's chunks."""
    records = [(r.host_time_s, r.data) for r in read_capture(path)]
    t0, c0 = time.perf_counter(), time.process_time()
    dec = FrameDecoder()
    for host_s, data in records:
        dec.feed(data, host_s)
    return time.perf_counter() - t0, time.process_time() - c0, 0


def time_pipeline(path: Path, tmp: Path, *, store: bool, jsonl: bool, run: int,
                  detect_every_s: float = 0.0) -> tuple[float, float, int]:
    """(wall s, process CPU s of all threads, events) of one replay through the pipeline
    (``detect_every_s``: 0 runs the detector after every read, as live)."""
    db = Store(tmp / f"b{run}.sqlite3") if store else None
    try:
        with ReplaySource(path) as source:
            pipe = Pipeline(source, source_name="bench", store=db,
                            events_out=tmp / f"b{run}.jsonl" if jsonl else None, detect_every_s=detect_every_s)
            t0, c0 = time.perf_counter(), time.process_time()
            summary = pipe.run()
            return time.perf_counter() - t0, time.process_time() - c0, summary.events
    finally:
        if db is not None:
            db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="seconds of stream to capture (default 120)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per row; the best is shown (default 3)")
    args = ap.parse_args()
    print(f"command: python bench/pipeline_bench.py --seconds {args.seconds:g} --repeat {args.repeat}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cap = tmp / "bench.twcap"
        t0 = time.perf_counter()
        make_capture(cap, args.seconds)
        print(f"capture: {args.seconds:g} s of stream from the virtual board in {time.perf_counter() - t0:.1f} s, "
              f"{cap.stat().st_size} bytes", file=sys.stderr)
        rows = [("decoder only (FrameDecoder.feed over the recorded chunks)", lambda r: time_decoder_only(cap))]
        rows += [
            ("pipeline: decode + detect", lambda r: time_pipeline(cap, tmp, store=False, jsonl=False, run=r)),
            ("pipeline: decode + detect + SQLite + JSONL",
             lambda r: time_pipeline(cap, tmp, store=True, jsonl=True, run=r + 100)),
            # what `twitchwatch replay` does as fast as possible: the same events
            ("  the same, detector once per second of signal",
             lambda r: time_pipeline(cap, tmp, store=True, jsonl=True, run=r + 200, detect_every_s=1.0)),
        ]
        # wall time: what a replay takes; CPU time (all threads): what one core pays
        print(f"\n{'path':58s} {'best s':>8s} {'x real time':>12s} {'x RT (CPU)':>11s} {'events':>7s}")
        for name, fn in rows:
            results = []
            for r in range(args.repeat):
                print(f"  {name}: run {r + 1}/{args.repeat}", file=sys.stderr)
                results.append(fn(r))
            best_s = min(w for w, _, _ in results)
            best_cpu_s = min(c for _, c, _ in results)
            print(f"{name:58s} {best_s:8.3f} {args.seconds / best_s:12.0f} {args.seconds / best_cpu_s:11.0f} "
                  f"{results[0][2]:7d}")


if __name__ == "__main__":
    main()
