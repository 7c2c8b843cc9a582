"""Which structures hold the Python memory a live run keeps, item by item.

The soak (``bench/soak.py``) runs in real time, so an hour of it is an hour. This runs
the same pipeline (the real firmware under the MicroPython Unix port → decoder →
detector → SQLite → events file → the dashboard's hub, and optionally the dashboard's
server with a WebSocket client) on a virtual board that streams as fast as it can, and
samples the heap every ``--every-min`` minutes of *signal*:

- ``tracemalloc`` snapshots compared with a baseline, grouped by traceback: the
  allocation sites whose live memory grew, with their count of live blocks;
- live objects by type (``gc``) against the baseline;
- Python's small-object allocator (``sys._debugmallocstats``): arenas (1 MiB each) and
  the bytes in live blocks in them, and glibc's bytes in use (``mallinfo2``).

What grows per minute of signal here (events, per-event state, caches filling) grows
the same way in a live run; what a live run does per second of *wall* time (trace
frames, status messages, the ranking every 5 s) is compressed here and shows in the
real-time soak instead. Diagnostic only: tracing slows allocation down.

Usage::

    nice -n 10 python bench/heap_attribution.py --minutes 60 --every-min 10 --out bench/results/heap_attribution.json
    python bench/heap_attribution.py --minutes 60 --no-trace   # arenas only, no tracing overhead

Results: docs/reliability.md ("Where the memory goes").
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soak import HeapProbe, WsReader, malloc_stats_mb, pymalloc_mb, rss_mb  # noqa: E402


def attribute(minutes: float, every_min: float, seed: int = 1, frames: int = 8, baseline_min: float = 2.0,
              dashboard: bool = False, trace: bool = True, top: int = 15) -> dict[str, Any]:
    from twitchwatch.dashboard import Dashboard, LiveHub
    from twitchwatch.detect.warmup import warm_up
    from twitchwatch.pipeline import Pipeline
    from twitchwatch.store import Store
    from twitchwatch.transports import VirtualBoard

    warm_up()
    probe = HeapProbe(frames, top=top) if trace else None
    tmp = Path(tempfile.mkdtemp(prefix="twheap-"))
    hub = LiveHub()
    rows: list[dict[str, Any]] = []
    next_min = baseline_min
    t0 = time.monotonic()
    with Store(tmp / "heap.sqlite3") as store:
        vboard = VirtualBoard(seed=seed, duration_s=minutes * 60 + 1, realtime=False)
        source = vboard.open()
        dash = reader = None
        if dashboard:
            dash = Dashboard(hub, store.path, port=0)
            dash.start()
            reader = WsReader(f"ws://127.0.0.1:{dash.port}/ws", dash.app.token)
            reader.start()

        def on_status(st: Any) -> None:
            hub.on_status(st)
            if dash is None:
                hub.take()  # what the dashboard's broadcaster does when woken (here: once a status)

        def on_block(block: Any) -> None:
            """Samples by signal time, from the EMG blocks (whatever the run's speed)."""
            nonlocal next_min
            if block.stream_id != 0:
                return
            signal_min = (block.first_sample_index + block.n_samples) / block.info.sample_rate_hz / 60
            if signal_min < next_min:
                return
            next_min += every_min
            gc.collect()  # what is garbage is not what a run keeps
            row: dict[str, Any] = {"signal_min": round(signal_min, 2), "wall_s": round(time.monotonic() - t0, 1),
                                   "events": pipe.summary.events, "rss_mb": rss_mb(), "malloc": malloc_stats_mb(),
                                   "pymalloc": pymalloc_mb(), "hub_events_kept": hub.events_kept}
            if probe is not None:
                row["heap"] = probe.sample()
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "heap"}), file=sys.stderr, flush=True)

        pipe = Pipeline(source, source_name="heap", store=store, events_out=tmp / "heap.jsonl", sinks=[hub],
                        on_status=on_status, on_block=on_block)
        try:
            summary = pipe.run(should_stop=lambda: False)
        finally:
            if reader is not None and dash is not None:
                reader.stop()
                dash.stop()
            vboard.close()
    first, last = rows[0], rows[-1]
    span = max(last["signal_min"] - first["signal_min"], 1e-9)

    def per_min(get: Any) -> float | None:
        try:
            return round((get(last) - get(first)) / span, 4)
        except (KeyError, TypeError):
            return None

    return {"minutes": minutes, "every_min": every_min, "baseline_min": baseline_min, "dashboard": dashboard,
            "traced": trace, "frames": frames, "signal_s": round(summary.signal_s, 1), "events": summary.events,
            "problems": summary.problems(), "wall_s": round(time.monotonic() - t0, 1),
            "slopes_mb_per_signal_min": {
                "rss": per_min(lambda r: r["rss_mb"]),
                "glibc_in_use": per_min(lambda r: r["malloc"]["in_use_mb"]),
                "pymalloc_arenas": per_min(lambda r: r["pymalloc"]["arenas_mb"]),
                "pymalloc_live": per_min(lambda r: r["pymalloc"]["blocks_mb"])},
            "rows": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=30.0, help="minutes of signal (default 30)")
    p.add_argument("--every-min", type=float, default=5.0, help="minutes of signal between samples (default 5)")
    p.add_argument("--baseline-min", type=float, default=2.0, help="minute of signal of the baseline (default 2)")
    p.add_argument("--frames", type=int, default=8, help="traceback depth (default 8)")
    p.add_argument("--top", type=int, default=15, help="allocation sites and types listed per sample")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dashboard", action="store_true", help="also serve the dashboard, with one WebSocket client")
    p.add_argument("--no-trace", action="store_true", help="no tracemalloc: allocator counters only")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    result = attribute(args.minutes, args.every_min, args.seed, args.frames, args.baseline_min, args.dashboard,
                       not args.no_trace, args.top)
    result["command"] = " ".join(sys.argv)
    text = json.dumps(result, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
    sys.exit(main())
