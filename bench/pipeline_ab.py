"""Old vs new host, side by side: a fast replay (detector once per second of signal,
SQLite + JSONL) of one capture, the two host trees alternated round by round.

This machine's speed drifts by ±20 % within minutes, so only alternated, same-capture
runs are compared. Each run is a subprocess with its own ``PYTHONPATH``, pinned to one
core (``taskset``), best of ``--repeat`` replays; it prints wall and process CPU time
as × real time, and the ratio of every round.

Run (the old tree from ``git archive``; a capture from ``bench/pipeline_bench.py``'s
``make_capture``)::

    git archive 83336a4 host | tar -x -C /tmp/old
    PYTHONPATH=host .venv/bin/python bench/pipeline_ab.py /tmp/old/host CAPTURE.twcap --seconds 120
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE_HOST = Path(__file__).resolve().parents[1] / "host"
_WORKER = r"""
import json, sys, tempfile, time
from pathlib import Path
from twitchwatch.pipeline import Pipeline
from twitchwatch.store import Store
from twitchwatch.transports import ReplaySource
capture, repeat = sys.argv[1], int(sys.argv[2])
runs = []
with tempfile.TemporaryDirectory() as d:
    for r in range(repeat):
        store = Store(Path(d) / f"{r}.sqlite3")
        with ReplaySource(capture) as source:
            pipe = Pipeline(source, source_name="bench", store=store, events_out=Path(d) / f"{r}.jsonl",
                            detect_every_s=1.0)
            t0, c0 = time.perf_counter(), time.process_time()
            summary = pipe.run()
            runs.append((time.perf_counter() - t0, time.process_time() - c0, summary.events))
        store.close()
print(json.dumps(runs))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old_host", type=Path, help="the old version's host/ folder")
    ap.add_argument("capture", type=Path)
    ap.add_argument("--seconds", type=float, required=True, help="seconds of signal in the capture")
    ap.add_argument("--new-host", type=Path, default=HERE_HOST, help=f"default {HERE_HOST}")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3, help="replays per run; the best counts (default 3)")
    ap.add_argument("--cpu", default="1", help="taskset core list (default 1)")
    args = ap.parse_args()
    trees = {"old": args.old_host, "new": args.new_host}
    for r in range(args.rounds):
        best = {}
        for name, host in trees.items():
            out = subprocess.run(["taskset", "-c", args.cpu, sys.executable, "-c", _WORKER, str(args.capture),
                                  str(args.repeat)], env=dict(os.environ, PYTHONPATH=str(host)),
                                 capture_output=True, text=True, check=True).stdout
            runs = json.loads(out)
            wall_s, cpu_s = min(w for w, _, _ in runs), min(c for _, c, _ in runs)
            best[name] = wall_s
            print(f"round {r + 1} {name}: {args.seconds / wall_s:5.0f}x real time (wall), "
                  f"{args.seconds / cpu_s:5.0f}x (CPU), {runs[0][2]} events", flush=True)
        print(f"round {r + 1}: new/old speed {best['old'] / best['new']:.2f}", flush=True)


if __name__ == "__main__":
    main()
