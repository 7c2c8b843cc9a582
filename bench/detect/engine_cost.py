"""Where the engine's CPU time goes, and what numba's first compile costs.

    PYTHONPATH=host .venv/bin/python bench/detect/engine_cost.py [--seconds 120] [--repeat 3]
    PYTHONPATH=host .venv/bin/python bench/detect/engine_cost.py --kernels [--seconds 120] [--repeat 3]
    PYTHONPATH=host .venv/bin/python bench/detect/engine_cost.py --first-call

Default: ``control_clean`` (no candidate) and ``mixed`` (seed 1000), fed as a live stream
(``bench.detect.runners.run_engine``) in 100-ms and 1-s blocks, best of ``repeat``:
process CPU per second of signal, the mains estimate per window (a process-CPU timer
around ``MainsCanceller._run_estimate``) and the rest per EMG + accelerometer block pair.

``--kernels``: the same streams in 1-s blocks with a timer around every call from Python
into compiled code (each numba kernel of ``twitchwatch.detect``, the sos loop behind
:class:`~twitchwatch.detect.streamfilt.SosState` among them, and the mains estimate's grid spectrum,
a BLAS product plus a kernel): the CPU that is arithmetic, and the rest, the Python and
small numpy calls between the kernels. Compiling everything would remove at most the
rest (a lower bound on the CPU left: the kernels' share).

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


def kernels(seconds: float, repeat: int) -> None:
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import twitchwatch.detect as detect_pkg
    from bench.detect.runners import run_engine
    from twitchwatch.detect import TwitchDetector, mains
    from twitchwatch.sim import simulate

    spent: dict[str, float] = {}

    def timed(fn, name):
        def call(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
        return call

    # every module-level name bound to a numba kernel (calls from one kernel into another
    # are compiled in and stay uncounted: they are inside their caller's time)
    wrappers: dict[int, object] = {}
    for info in pkgutil.iter_modules(detect_pkg.__path__):
        module = importlib.import_module(f"twitchwatch.detect.{info.name}")
        for name, value in list(vars(module).items()):
            if isinstance(value, CPUDispatcher):
                wrapper = wrappers.setdefault(id(value), timed(value, value.__name__))
                setattr(module, name, wrapper)
    grid = mains.MainsCanceller._grid_spectrum
    mains.MainsCanceller._grid_spectrum = timed(grid, "mains grid spectrum (BLAS + kernel)")
    print(f"1-s blocks, {seconds:g} s per stream, best of {repeat} (process CPU; the kernels' share by wall-clock timers)")
    for scenario in ("control_clean", "mixed"):
        rec = simulate(scenario, seconds, 1000)
        rate, acc_rate = float(rec.emg_rate_hz), float(rec.acc_rate_hz)
        best = None
        for _ in range(repeat):
            spent.clear()
            t = time.process_time()
            run_engine(lambda: TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=acc_rate), rec.emg_uv,
                       rate, rec.acc_mg, acc_rate, block_ms=1000.0, collect_artefacts=False)
            cpu = time.process_time() - t
            if best is None or cpu < best[0]:
                best = (cpu, dict(spent))
        cpu, parts = best
        inside = sum(parts.values())
        print(f"{scenario:14s} {cpu / seconds * 1e3:.2f} ms CPU per s of signal ({seconds / cpu:.0f}x real time): "
              f"compiled code {inside / seconds * 1e3:.2f} ms/s (alone: {seconds / inside:.0f}x), "
              f"the rest {(cpu - inside) / seconds * 1e3:.2f} ms/s")
        for name, s in sorted(parts.items(), key=lambda kv: -kv[1]):
            print(f"    {name:38s} {s / seconds * 1e3:.3f} ms/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="signal seconds per stream")
    ap.add_argument("--repeat", type=int, default=3, help="best of")
    ap.add_argument("--first-call", action="store_true", help="time numba's first compile instead")
    ap.add_argument("--kernels", action="store_true", help="split the CPU into compiled kernels and the rest")
    args = ap.parse_args()
    if args.first_call:
        first_call()
    elif args.kernels:
        kernels(args.seconds, args.repeat)
    else:
        split(args.seconds, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
