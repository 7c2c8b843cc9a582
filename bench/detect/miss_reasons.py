"""Why the engine misses what the ideal detector finds, per truth twitch (issue #19).

    PYTHONPATH=host .venv/bin/python bench/detect/miss_reasons.py SCENARIO [--seeds 1000,1001]
        [--minutes 5] [--list] [--config "dict(k=5.0)"]

Development use only: run it on the **dev** split (the scenario as it is, seeds 1000..
or the development seeds 2000..), never on the test split. Every candidate the engine
classifies is recorded through a wrapper of ``TwitchDetector._classify`` (channel,
start, peak, peak / sigma, the rule's kind and detail; diagnostic only) and every
event's ``counted`` flag with why it is not counted (spike, train, not clear). Each
truth twitch is then one of: **counted** (a counted event within +-15 ms, same
channel), **uncounted** (an event that is not counted: why), **rejected** (a candidate
within +-15 ms rejected by a rule: which), **below threshold** (no candidate at all),
with the ideal detector's probability of finding it (``ideal.py``) and its p2p over
the channel's 20-450 Hz noise RMS. Counted false detections are listed with the
simulator component that dominates the 20-450 Hz band at them (as
``false_twitches.py``).
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
for _p in (REPO, REPO / "host"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bench.detect.runners import run_engine  # noqa: E402


def diagnose(name: str, seed: int, seconds: float, config: dict | None = None, wide: bool = False) -> dict:
    from scipy import signal as sps

    from bench.detect.ideal import ideal_probabilities
    from twitchwatch.detect import DetectorConfig, TwitchDetector
    from twitchwatch.detect import engine as eng
    from twitchwatch.sim import simulate
    from twitchwatch.sim.scenarios import SCENARIOS

    units = SCENARIOS[name].units_per_channel
    if wide:  # the test split's wider ranges and front end, drawn with a development seed
        from bench.detect.split_bench import TEST_SEED, apply_front_end, draw_test_variant, front_filter

        if TEST_SEED <= seed < TEST_SEED + 100:
            raise SystemExit(f"seed {seed} is a test-split seed: use development seeds (2000..)")
        sc, draws = draw_test_variant(name, seed)
        units = sc.units_per_channel
        rec = simulate(sc, seconds, seed, components=True)
        emg, acc = apply_front_end(rec, draws["front_end"], draws["clock"])
        comps = {k: front_filter(v, float(rec.emg_rate_hz), draws["front_end"]) for k, v in rec.components.items()}
        print(f"  wide draw seed {seed}: {sc.emg_rate_hz:.0f} Hz, front end {draws['front_end']}, "
              f"ecg {sc.ecg_uv:.0f} µV {sc.ecg_bpm} bpm QRS {sc.ecg_qrs_ms} ms, noise {sc.noise_white_uv:.1f}/"
              f"{sc.noise_pink_uv:.1f} µV, amplitude {sc.twitch_amplitude_uv}")
    else:
        rec = simulate(name, seconds, seed, components=True)
        emg, acc, comps = rec.emg_uv, rec.acc_mg, rec.components
    fs, afs = float(rec.emg_rate_hz), float(rec.acc_rate_hz)
    p_ideal = (ideal_probabilities(rec, comps["noise"], comps["twitch"], units) if rec.twitches else np.zeros(0))
    qrs = np.array(sorted((s.start_index + s.end_index) // 2 for s in rec.segments if s.kind == "ecg"), dtype=np.int64)
    sos = sps.butter(2, (20.0, min(450.0, 0.45 * fs)), "bandpass", fs=fs, output="sos")
    bg_rms = np.sqrt(np.mean(sps.sosfiltfilt(sos, comps["noise"], axis=0)[int(fs):] ** 2, axis=0))
    band = {k: sps.sosfiltfilt(sos, v, axis=0) for k, v in comps.items() if v.shape == emg.shape}
    cands: list[dict] = []
    orig_classify, orig_emit = eng.TwitchDetector._classify, eng.TwitchDetector._emit

    def classify(self, cand):
        kind = orig_classify(self, cand)
        segs = [a for a in self._artefacts if a.channel == cand.channel and a.start_index == cand.start - self.gap]
        cands.append(dict(ch=cand.channel, start=cand.start, peak=cand.peak, last=cand.last, z=cand.peak_ratio,
                          kind=kind or "twitch", detail=segs[-1].detail if segs else "",
                          sigma=float(cand.sigma), extra=dict(cand.extra)))
        return kind

    def emit(self, cand, resp, acc_floor):
        n0 = len(self._ready)
        c0 = dict(self.counts)
        orig_emit(self, cand, resp, acc_floor)
        ev = self._ready[n0]
        why = "" if ev.counted else ("spike" if self.counts["not_counted_spike"] > c0["not_counted_spike"] else
                                     "train" if self.counts["not_counted_train"] > c0["not_counted_train"] else
                                     "not clear")
        cands.append(dict(ch=cand.channel, start=cand.start, peak=ev.sample_index, z=cand.peak_ratio, kind="event",
                          counted=ev.counted, why=why, unit=ev.unit_id))

    eng.TwitchDetector._classify, eng.TwitchDetector._emit = classify, emit
    try:
        cfg = DetectorConfig(**config) if config else None
        run_engine(lambda: TwitchDetector(fs, tuple(rec.emg_labels), acc_rate_hz=afs, config=cfg),
                   emg, fs, acc, afs, block_ms=100.0, collect_artefacts=False)
    finally:
        eng.TwitchDetector._classify, eng.TwitchDetector._emit = orig_classify, orig_emit
    tol = int(round(0.015 * fs))
    events = [c for c in cands if c["kind"] == "event"]
    decided = [c for c in cands if c["kind"] != "event"]
    rows = []
    used: set[int] = set()
    for i, t in enumerate(rec.twitches):
        ev = [j for j, e in enumerate(events) if e["ch"] == t.channel and abs(e["peak"] - t.sample_index) <= tol
              and j not in used]
        ev.sort(key=lambda j: (not events[j]["counted"], abs(events[j]["peak"] - t.sample_index)))
        row = dict(i=i, t=t.sample_index / fs, ch=t.channel, unit=t.unit_id, pp=t.amplitude_uv,
                   snr=t.amplitude_uv / max(float(bg_rms[t.channel]), 1e-9), p=float(p_ideal[i]),
                   qrs_ms=float("nan") if qrs.size == 0 else
                   float((t.sample_index - qrs[np.argmin(np.abs(qrs - t.sample_index))]) * 1e3 / fs))
        if ev:
            used.add(ev[0])
            e = events[ev[0]]
            row.update(fate="counted" if e["counted"] else "uncounted", why=e.get("why", ""), z=e["z"])
        else:
            near = [c for c in decided if c["ch"] == t.channel and c["start"] - tol <= t.sample_index <= c["last"] + tol]
            near.sort(key=lambda c: abs(c["peak"] - t.sample_index))
            if near:
                c = near[0]
                row.update(fate="rejected", why=f"{c['kind']}: {c['detail']}", z=c["z"])
            else:
                ya = np.abs(band["twitch"][max(0, t.sample_index - tol):t.sample_index + tol, t.channel]).max()
                row.update(fate="below threshold", why="", z=float("nan"), clean_peak=float(ya))
        rows.append(row)
    false = []
    for j, e in enumerate(events):
        if j in used or not e["counted"]:
            continue
        s = e["peak"]
        amp = {k: float(np.abs(v[max(0, s - int(0.003 * fs)):s + int(0.003 * fs) + 1, e["ch"]]).max())
               for k, v in band.items()}
        top = sorted(amp.items(), key=lambda kv: -kv[1])[:3]
        false.append(dict(t=s / fs, ch=e["ch"], z=e["z"], cause=", ".join(f"{k} {v:.0f}" for k, v in top)))
    return dict(rows=rows, false=false, bg_rms=bg_rms.tolist(), n_cands=len(decided))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--seeds", default="1000,1001")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--list", action="store_true", help="one line per missed twitch and per false detection")
    ap.add_argument("--wide", action="store_true", help="the test split's wider ranges, with these (dev) seeds")
    ap.add_argument("--config", default="", help="DetectorConfig overrides, a Python dict literal")
    args = ap.parse_args(argv)
    config = eval(args.config) if args.config else None  # noqa: S307 (a developer's command line)
    fates: collections.Counter = collections.Counter()
    reasons: collections.Counter = collections.Counter()
    ideal = 0.0
    n = 0
    nfalse = 0
    minutes = 0.0
    for seed in (int(s) for s in args.seeds.split(",")):
        d = diagnose(args.scenario, seed, args.minutes * 60.0, config, args.wide)
        print(f"seed {seed}: noise RMS {', '.join(f'{v:.1f}' for v in d['bg_rms'])} µV, {d['n_cands']} candidates, "
              f"{len(d['rows'])} twitches, {len(d['false'])} counted false")
        for r in d["rows"]:
            n += 1
            ideal += r["p"]
            fates[r["fate"]] += 1
            if r["fate"] != "counted":
                key = r["why"].split(" (")[0].split(":")[0] if r["fate"] == "rejected" else r["why"]
                reasons[(r["fate"], key)] += 1
                if args.list:
                    print(f"  MISS {r['t']:7.3f} s ch{r['ch']} unit {r['unit']} p2p {r['pp']:5.0f} µV snr {r['snr']:5.1f} "
                          f"ideal {r['p']:.2f} z {r['z']:5.1f} QRS {r['qrs_ms']:+6.0f} ms {r['fate']}: {r['why']}")
        nfalse += len(d["false"])
        minutes += args.minutes
        for f in d["false"]:
            print(f"  FALSE {f['t']:7.3f} s ch{f['ch']} z {f['z']:5.1f}: {f['cause']}")
    tp = fates["counted"]
    f1 = 2 * tp / max(1, 2 * tp + nfalse + n - tp)
    fi = 2 * ideal / max(1e-9, 2 * ideal + 0.2 * minutes + n - ideal)
    print(f"{args.scenario}: {n} twitches, ideal expects {ideal:.1f} found; " +
          ", ".join(f"{k} {v}" for k, v in fates.most_common()) +
          f"; counted false {nfalse}; F1 {f1:.3f}, ideal F1 {fi:.3f}, ratio {f1 / fi if fi else float('nan'):.2f}")
    for (fate, why), v in reasons.most_common():
        print(f"  {v:4d}  {fate}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
