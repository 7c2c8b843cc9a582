"""All events against counted ones (issue #19, docs/detection.md *What counts*).

Usage:
  .venv/bin/python bench/detect/counting_check.py real
  .venv/bin/python bench/detect/counting_check.py sim SCENARIOS SECONDS SEEDS [SIM_OVERRIDES] [CONFIG]
e.g. ``sim benign_clean,mixed 120 2000 "dict(emg_rate_hz=1000.0)" "dict(min_main_phase_ratio=0.0)"``.
"""
import sys
from pathlib import Path

import numpy as np
REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "host")]
from bench.detect import real as realdata
from bench.detect.runners import run_engine
from bench.detect.scoring import match_events
from twitchwatch.detect import TwitchDetector
from twitchwatch.sim import simulate
from twitchwatch.sim.scenarios import SCENARIOS
mode = sys.argv[1]
if mode == "real":
    for r in realdata.load_all(realdata.default_root(REPO)):
        run = run_engine(lambda: TwitchDetector(r.rate_hz, ("a",)*r.emg_uv.shape[1]), r.emg_uv, r.rate_hz)
        n = len(run.events); k = sum(e.counted for e in run.events); sp = sum(1 for e in run.events if not e.counted)
        print(f"{r.name:45s} {r.minutes:5.2f} min  all {n/r.minutes:7.1f}/min  counted {k/r.minutes:7.2f}/min ({k})")
else:
    scen = sys.argv[2].split(",") if len(sys.argv) > 2 else list(SCENARIOS)
    dur = float(sys.argv[3]) if len(sys.argv) > 3 else 120
    seeds = [int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "2000").split(",")]
    extra = eval(sys.argv[5]) if len(sys.argv) > 5 else {}
    from twitchwatch.detect import DetectorConfig
    cfg = DetectorConfig(**(eval(sys.argv[6]) if len(sys.argv) > 6 else {}))
    tot = np.zeros(6)
    for sc in scen:
      for seed in seeds:
        rec = simulate(sc, dur, seed, **extra)
        fs = rec.emg_rate_hz
        run = run_engine(lambda: TwitchDetector(fs, rec.emg_labels, acc_rate_hz=rec.acc_rate_hz, config=cfg), rec.emg_uv, fs, rec.acc_mg, rec.acc_rate_hz)
        truth = [(t.sample_index, t.channel) for t in rec.twitches]
        tol = int(round(0.015 * fs))
        res = []
        for sel in (lambda e: True, lambda e: e.counted):
            det = sorted((e.sample_index, e.channel) for e in run.events if sel(e))
            m = match_events(truth, det, fs, 15.0)
            res += [m.tp, m.fp]
        res += [len(truth), 0]
        tot += res
        f = lambda h, fp, n: 2*h/(2*h+fp+(n-h)) if n+fp else 1
        print(f"{sc:22s} {seed} truth {len(truth):4d} | all: hit {res[0]:4d} fp {res[1]:3d} F1 {f(res[0],res[1],len(truth)):.3f} | counted: hit {res[2]:4d} fp {res[3]:3d} F1 {f(res[2],res[3],len(truth)):.3f}", flush=True)
    f = lambda h, fp, n: 2*h/(2*h+fp+(n-h))
    print(f"TOTAL truth {tot[4]:.0f} all F1 {f(tot[0],tot[1],tot[4]):.4f} sens {tot[0]/tot[4]:.4f} fp {tot[1]:.0f} | counted F1 {f(tot[2],tot[3],tot[4]):.4f} sens {tot[2]/tot[4]:.4f} fp {tot[3]:.0f}")
