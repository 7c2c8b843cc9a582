"""Where the engine's CPU time goes, and what numba's first compile costs.

    PYTHONPATH=host .venv/bin/python bench/detect/engine_cost.py [--seconds 120] [--repeat 3]
    PYTHONPATH=host .venv/bin/python bench/detect/engine_cost.py --first-call

Default: ``control_clean`` (no candidate) and ``mixed`` (seed 1000), fed as a live stream
(``bench.detect.runners.run_engine``) in 100-ms and 1-s blocks, best of ``repeat``:
process CPU per second of signal, the mains estimate per window (a process-CPU timer
around ``MainsCanceller._run_estimate``) and the rest per EMG + accelerometer block pair.

``--first-call``: two fresh processes with an empty numba cache directory, each running
the engine over 10 s of ``mixed`` in 100-ms blocks: the first compiles every kernel (what
a machine's first run pays), the second loads them from the cache.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for p in (REPO, REPO / "host"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

_FIRST_RUN = """
import sys, time
t0 = time.perf_counter()
from twitchwatch.detect import TwitchDetector
from twitchwatch.sim import simulate
rec = simulate("mixed", 10.0, 1000)
t1 = time.perf_counter()
det = TwitchDetector(float(rec.emg_rate_hz), tuple(rec.emg_labels), acc_rate_hz=float(rec.acc_rate_hz))
for k in range(rec.emg_uv.shape[0] // 200):
    det.process_emg(rec.emg_uv[k * 200 : (k + 1) * 200], k * 200)
    det.process_acc(rec.acc_mg[k * 100 : (k + 1) * 100], k * 100)
det.flush()
print(f"import {t1 - t0:.2f} s, engine over the first 10 s of signal {time.perf_counter() - t1:.2f} s")
"""


def first_call() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(REPO / "host"))
        for label in ("empty cache (compiles)", "cached"):
            out = subprocess.run([sys.executable, "-c", _FIRST_RUN], env=env, capture_output=True, text=True, check=True)
            print(f"{label:24s} {out.stdout.strip()}")


def split(seconds: float, repeat: int) -> None:
    from bench.detect.runners import run_engine
    from twitchwatch.detect import TwitchDetector
    from twitchwatch.detect import mains
    from twitchwatch.sim import simulate

    spent = {"s": 0.0, "n": 0}
    run_estimate = mains.MainsCanceller._run_estimate

    def timed(self, floor_uv):
        t = time.process_time()
        run_estimate(self, floor_uv)
        spent["s"] += time.process_time() - t
        spent["n"] += 1

    mains.MainsCanceller._run_estimate = timed
    for scenario in ("control_clean", "mixed"):
        rec = simulate(scenario, seconds, 1000)
        rate, acc_rate = float(rec.emg_rate_hz), float(rec.acc_rate_hz)
        for block_ms in (100.0, 1000.0):
            best = None
            for _ in range(repeat):
                spent.update(s=0.0, n=0)
                t = time.process_time()
                run = run_engine(lambda: TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=acc_rate), rec.emg_uv,
                                 rate, rec.acc_mg, acc_rate, block_ms=block_ms, collect_artefacts=False)
                cpu = time.process_time() - t
                if best is None or cpu < best[0]:
                    best = (cpu, spent["s"], spent["n"], len(run.events))
            cpu, est, n_est, n_events = best
            pairs = seconds * 1000.0 / block_ms
            print(f"{scenario:14s} {block_ms:5.0f} ms blocks: {seconds / cpu:5.0f}x real time, "
                  f"{cpu / seconds * 1e3:.2f} ms CPU per s of signal; mains estimate {est / n_est * 1e6:.0f} us "
                  f"per window ({est / seconds * 1e3:.2f} ms/s); the rest {(cpu - est) / pairs * 1e6:.0f} us "
                  f"per block pair; {n_events} events")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="signal seconds per stream")
    ap.add_argument("--repeat", type=int, default=3, help="best of")
    ap.add_argument("--first-call", action="store_true", help="time numba's first compile instead")
    args = ap.parse_args()
    if args.first_call:
        first_call()
    else:
        split(args.seconds, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
