"""Engine-only scoring of the simulator scenarios, with every false detection listed.

    PYTHONPATH=host .venv/bin/python bench/detect/false_twitches.py [--seeds 2000,2001,2002]
        [--minutes 5] [--scenarios a,b] [--jobs 2] [--out file.json]

The benchmark's streams and scoring (``bench.detect_bench.sim_truth``, ``score_stream``,
100 ms interleaved blocks), engine only, so a development loop takes ~1-2 minutes; use
development seeds (2000..), not the benchmark's 1000-1002. Prints per scenario the
hits, false and missed detections, the false ones in controls and inside
voluntary/motion truth segments, the pooled F1 / sensitivity / precision and false per
minute, then one ``FP`` line per false detection inside a truth segment or in a control:
the segment (kind, start, end s), the three simulator components with the largest
20-450 Hz amplitude within +-3 ms of it (zero-phase band-pass of ``components``: what
caused it), and the candidate's features at release (p-p, duration, phases, peak/sigma,
accelerometer response, low-band p-p, rule 10b's other-channel activity, background
fractions) read through a wrapper of ``TwitchDetector._emit`` (diagnostic only).
``FAINT=0`` in the environment runs with ``faint_step_fraction=0`` (engine 1.8's rules).
"""
import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
for _p in (REPO, REPO / "host"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bench.detect.runners import run_engine  # noqa: E402
from bench.detect.scoring import Tally, score_stream  # noqa: E402
from bench.detect_bench import cause_segments, classify_false, segment_at, sim_truth  # noqa: E402


def one(job):
    sc, sd, minutes = job
    from twitchwatch.sim import simulate
    from twitchwatch.detect import TwitchDetector
    import twitchwatch.detect.engine as E
    rec = simulate(sc, minutes * 60, sd, components=True)
    from scipy import signal as sps
    sos = sps.butter(2, (20, 450), "bandpass", fs=rec.emg_rate_hz, output="sos")
    comp_bp = {k: sps.sosfiltfilt(sos, v, axis=0) for k, v in rec.components.items() if not k.startswith("acc") and np.abs(v).max() > 0}
    info = {}
    orig = E.TwitchDetector._emit
    def emit(self, cand, resp, acc_floor):
        info[(cand.peak, cand.channel)] = dict(amp=round(cand.amp_pp,1), dur=round(cand.duration_ms,2), ph=cand.n_phases,
            ratio=round(cand.peak_ratio,1), sigma=round(float(cand.sigma),2), resp=None if resp is None else round(resp,2),
            lf=round(cand.lf_pp,1), other=round(cand.act_other,2), extra={k: round(v,3) for k,v in cand.extra.items() if isinstance(v,float)})
        return orig(self, cand, resp, acc_floor)
    E.TwitchDetector._emit = emit
    rate = float(rec.emg_rate_hz)
    import os
    from twitchwatch.detect import DetectorConfig
    cfg = DetectorConfig(faint_step_fraction=float(os.environ["FAINT"])) if "FAINT" in os.environ else None
    run = run_engine(lambda: TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=float(rec.acc_rate_hz), config=cfg),
                     rec.emg_uv, rate, rec.acc_mg, float(rec.acc_rate_hz), block_ms=100.0)
    E.TwitchDetector._emit = orig
    truth, xtalk, segs = sim_truth(rec)
    ev = run.pairs()
    n = rec.emg_uv.shape[0]
    tally, m = score_stream(truth, ev, rate, n, is_control=bool(rec.is_control), artefact_segments=segs, crosstalk=xtalk, tol_ms=15.0)
    all_segs = cause_segments(rec)
    causes = classify_false(ev, m, xtalk, all_segs, rate)
    fps = []
    for di in m.unmatched_detections:
        i, c = ev[di]
        seg = segment_at(all_segs, i, c)
        w = int(0.003 * rate)
        attr = {k: round(float(np.abs(v[max(0,i-w):i+w+1, c]).max()), 1) for k, v in comp_bp.items()}
        attr = dict(sorted(attr.items(), key=lambda kv: -kv[1])[:3])
        fps.append(dict(attr=attr, sc=sc, seed=sd, t=round(i / rate, 4), ch=c, seg=None if seg is None else (seg[3], round(seg[0]/rate,3), round(seg[1]/rate,3)), **info.get((i, c), {})))
    return sc, sd, tally, fps, causes


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="2000,2001,2002")
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--scenarios", default="")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    from twitchwatch.sim.scenarios import SCENARIOS
    scs = [s for s in a.scenarios.split(",") if s] or list(SCENARIOS)
    seeds = [int(s) for s in a.seeds.split(",")]
    jobs = [(sc, sd, a.minutes) for sc in scs for sd in seeds]
    t0 = time.time()
    tot = Tally(); allfp = []
    per = {}
    with ProcessPoolExecutor(a.jobs) as ex:
        for sc, sd, t, fps, causes in ex.map(one, jobs):
            tot = tot.add(t); allfp += fps
            per[sc] = per[sc].add(t) if sc in per else t
    for sc, t in per.items():
        print(f"{sc:22s} tp {t.tp:4d} fp {t.fp:3d} fn {t.fn:3d} ctrlfp {t.control_fp} segfp {t.segment_fp} segmin {t.segment_minutes:.2f}")
    print(f"POOLED F1 {tot.f1:.4f} sens {tot.sensitivity:.4f} prec {tot.precision:.4f} tp {tot.tp} fp {tot.fp} fn {tot.fn}")
    print(f"controls {tot.control_fp}/{tot.control_minutes:.1f} min = {tot.control_fp_per_min:.3f}/min; segments {tot.segment_fp}/{tot.segment_minutes:.2f} min = {tot.segment_fp_per_min:.3f}/min")
    for f in allfp:
        if f["seg"] is not None or f["sc"].startswith("control"):
            print("FP", json.dumps(f))
    print(f"elapsed {time.time()-t0:.0f}s")
    if a.out:
        json.dump(dict(fps=allfp, pooled=tot.to_json_dict()), open(a.out, "w"))
