"""The engine on a development split and a test split of the simulator, and on every real
recording at its own sample rate (issue #19, item 5: a benchmark that cannot be tuned to).

    .venv/bin/python bench/detect/split_bench.py [--minutes 3] [--seeds 1] [--jobs 1]
        [--scenarios a,b] [--no-real] [--out bench/results]

**dev**: the simulator's 16 scenarios as they are (seeds from 1000, the main benchmark's).
Rules are tuned on this split only (and on the development seeds 2000..).

**test**: each scenario redrawn with its own seed (from 7000) and its parameters drawn
from wider ranges than any dev scenario uses (:func:`draw_test_variant`, every range in
``TEST_RANGES``), plus two front-end effects applied to the recording: the electrodes'
and amplifier's filtering of the EMG (a first-order high-pass at 5-20 Hz and a
second-order low-pass at 250 Hz .. 0.45 fs, causal), and a clock error between EMG and
accelerometer (the accelerometer's time axis stretched by -500..+500 ppm and shifted
by -10..+10 ms, linear interpolation). These are drawn once per (scenario, seed) from
``numpy.random.default_rng([seed, crc32(name), 19])``; the draws are printed with the
results. Nothing in the engine was tuned on this split: look at it, do not tune to it.

Scored as the main benchmark scores (``score_stream``: one-to-one within +-15 ms on the
same channel; crosstalk copies are false positives), for the engine's **counted**
twitches (what a person reads) and, beside them, for every event it emits (counted and
uncounted candidates). Reported: per scenario, the mean over twitch scenarios and the
**worst** twitch scenario; false twitches per minute in the controls and inside
voluntary/motion truth segments, with 95 % intervals (``intervals.py``).

**real**: every recording ``real.load_all`` finds, at its own sample rate, EMG only (none
has an accelerometer with the EMG): events per minute, counted and all, over the whole
recording and over its rest stretches (outside ``real.activity_segments``). No labels
exist: every counted event at rest is taken as a false detection (the headline), which
overstates it where genuine spontaneous potentials exist.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
for _p in (REPO, REPO / "host"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bench.detect import intervals as ci  # noqa: E402
from bench.detect import real as realdata  # noqa: E402
from bench.detect.runners import run_engine  # noqa: E402
from bench.detect.scoring import Tally, score_stream  # noqa: E402

DEV_SEED = 1000
TEST_SEED = 7000
TOL_MS = 15.0
#: twitch peak-to-peak / background RMS in the detection band (noise, hum, wander)
SNR_BANDS = ((0.0, 5.0), (5.0, 10.0), (10.0, 20.0), (20.0, float("inf")))
#: p2p/RMS of a clear firing (a peak of ~8 sigma, the engine's count_k)
CLEAR_SNR = 16.0

#: the test split's ranges (uniform unless noted; "x" = a factor on the dev scenario's value)
TEST_RANGES = {
    "emg_rate_hz": "one of 1000, 2000, 4000 Hz",
    "noise_white_uv": "x 0.5-3 (log-uniform)",
    "noise_pink_uv": "x 0.3-4 (log-uniform): the noise's colour",
    "twitch_amplitude_uv": "both bounds x 0.5-1.5 (one log-uniform factor)",
    "twitch_duration_ms": "(4-8, 18-30) ms",
    "mmg": "mmg_prob 0.5-1, mmg_mg (1-5, 3-30) mg",
    "mains": "50 or 60 Hz, mains_uv x 0.5-3",
    "ecg": "where present: ecg_uv x 0.5-1.5, bpm (45-70, 80-110), QRS (50-70, 90-120) ms",
    "voluntary": "where present: rms x 0.5-2, onset ramp (0.02-0.1, 0.2-0.6) s",
    "pops": "where present: decay (20-80, 150-400) ms, step (100-300, 1000-5000) µV",
    "walking": "where present: cable spikes follow the movement or not (50 %), 0.5-3 spikes/s",
    "front end": "EMG high-pass 5-20 Hz (1st order), low-pass 250 Hz-0.45 fs (2nd order)",
    "clock": "accelerometer time axis x (1 +- 500 ppm), offset +-10 ms",
}


def _lu(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def draw_test_variant(name: str, seed: int) -> tuple[object, dict]:
    """The test split's version of scenario ``name`` for ``seed``: (Scenario, front-end
    and clock draws). Deterministic in (name, seed)."""
    from twitchwatch.sim.scenarios import SCENARIOS

    base = SCENARIOS[name]
    rng = np.random.default_rng([seed, zlib.crc32(name.encode()), 19])
    fs = float(rng.choice([1000.0, 2000.0, 4000.0]))
    a = _lu(rng, 0.5, 1.5)
    ch: dict = dict(
        emg_rate_hz=fs,
        noise_white_uv=base.noise_white_uv * _lu(rng, 0.5, 3.0),
        noise_pink_uv=base.noise_pink_uv * _lu(rng, 0.3, 4.0),
        twitch_amplitude_uv=(base.twitch_amplitude_uv[0] * a, base.twitch_amplitude_uv[1] * a),
        twitch_duration_ms=(float(rng.uniform(4, 8)), float(rng.uniform(18, 30))),
        mmg_prob=float(rng.uniform(0.5, 1.0)),
        mmg_mg=(float(rng.uniform(1, 5)), float(rng.uniform(3, 30))),
        mains_hz=float(rng.choice([50.0, 60.0])),
        mains_uv=base.mains_uv * _lu(rng, 0.5, 3.0),
    )
    if ch["mmg_mg"][1] < ch["mmg_mg"][0]:
        ch["mmg_mg"] = (ch["mmg_mg"][1], ch["mmg_mg"][0])
    # draws for the optional parts are always made (the stream of draws does not depend
    # on which parts the scenario has)
    ecg = (_lu(rng, 0.5, 1.5), (float(rng.uniform(45, 70)), float(rng.uniform(80, 110))),
           (float(rng.uniform(50, 70)), float(rng.uniform(90, 120))))
    vol = (_lu(rng, 0.5, 2.0), (float(rng.uniform(0.02, 0.1)), float(rng.uniform(0.2, 0.6))))
    pop = ((float(rng.uniform(20, 80)), float(rng.uniform(150, 400))),
           (float(rng.uniform(100, 300)), float(rng.uniform(1000, 5000))))
    walk = (bool(rng.random() < 0.5), float(rng.uniform(0.5, 3.0)))
    front = dict(hp_hz=float(rng.uniform(5, 20)), lp_hz=float(min(0.45 * fs, rng.uniform(250, 0.45 * fs))))
    clock = dict(ppm=float(rng.uniform(-500, 500)), offset_ms=float(rng.uniform(-10, 10)))
    if base.ecg_uv > 0:
        ch.update(ecg_uv=base.ecg_uv * ecg[0], ecg_bpm=ecg[1], ecg_qrs_ms=ecg[2])
    if base.voluntary_per_min > 0:
        ch.update(voluntary_rms_uv=(base.voluntary_rms_uv[0] * vol[0], base.voluntary_rms_uv[1] * vol[0]),
                  voluntary_ramp_s=vol[1])
    if base.pops_per_min > 0:
        ch.update(pop_tau_ms=pop[0], pop_uv=pop[1])
    if base.walking_fraction > 0:
        ch.update(cable_spikes_follow_motion=walk[0], cable_spikes_per_s=walk[1])
    return base.replace(**ch), dict(front_end=front, clock=clock)


def front_filter(x: np.ndarray, fs: float, front: dict | None) -> np.ndarray:
    """``x`` (n, C) through the drawn front-end filters (causal); unchanged for None."""
    from scipy import signal as sps

    if front is None:
        return x
    hp = sps.butter(1, front["hp_hz"], "highpass", fs=fs, output="sos")
    lp = sps.butter(2, front["lp_hz"], "lowpass", fs=fs, output="sos")
    return sps.sosfilt(lp, sps.sosfilt(hp, x, axis=0), axis=0)


def apply_front_end(rec, front: dict, clock: dict) -> tuple[np.ndarray, np.ndarray]:
    """(EMG through the drawn front-end filters, accelerometer on the drawn clock)."""
    from scipy import signal as sps

    from twitchwatch.sim.chipclock import chip_sample_times_s, resample_at

    emg = front_filter(rec.emg_uv, float(rec.emg_rate_hz), front)
    afs = float(rec.acc_rate_hz)
    # the accelerometer's sample k was taken at true time k/afs * (1 + ppm) + offset (the
    # chips' clock model of twitchwatch.sim.chipclock, without wander)
    t_true = chip_sample_times_s(rec.acc_mg.shape[0], afs, clock["ppm"], clock["offset_ms"] * 1e-3)
    return emg, resample_at(rec.acc_mg, afs, t_true)


def SCENARIOS_BY_NAME() -> dict:
    from twitchwatch.sim.scenarios import SCENARIOS

    return SCENARIOS


def run_stream(job: tuple[str, str, int, float]) -> dict:
    """One stream: (split, scenario, seed, seconds) -> scores for counted and all events."""
    from twitchwatch.detect import TwitchDetector
    from twitchwatch.sim import simulate

    split, name, seed, seconds = job
    draws: dict = {}
    if split == "test":
        sc, draws = draw_test_variant(name, seed)
        rec = simulate(sc, seconds, seed, components=True)
        emg, acc = apply_front_end(rec, draws["front_end"], draws["clock"])
    else:
        rec = simulate(name, seconds, seed, components=True)
        emg, acc = rec.emg_uv, rec.acc_mg
    # background RMS in the detection band: the noise component (white + 1/f) of the
    # channel, after the front end; hum and wander are left out (the engine's notches and
    # band-pass remove them). The SNR of a twitch is its peak-to-peak over this (the
    # issue's p2p / RMS bands)
    from scipy import signal as sps
    fs0 = float(rec.emg_rate_hz)
    bg = front_filter(rec.components["noise"], fs0, draws.get("front_end"))
    sos = sps.butter(2, (20.0, min(450.0, 0.45 * fs0)), "bandpass", fs=fs0, output="sos")
    bg_rms = np.sqrt(np.mean(sps.sosfiltfilt(sos, bg, axis=0)[int(fs0):] ** 2, axis=0))
    p_ideal = np.zeros(0)
    if rec.twitches:
        from bench.detect.ideal import ideal_probabilities

        front = draws.get("front_end")
        p_ideal = ideal_probabilities(rec, front_filter(rec.components["noise"], fs0, front),
                                      front_filter(rec.components["twitch"], fs0, front),
                                      int(sc.units_per_channel if split == "test" else
                                          SCENARIOS_BY_NAME()[name].units_per_channel))
    rec.components = {}
    fs, afs = float(rec.emg_rate_hz), float(rec.acc_rate_hz)
    t0 = time.process_time()
    run = run_engine(lambda: TwitchDetector(fs, tuple(rec.emg_labels), acc_rate_hz=afs), emg, fs, acc, afs,
                     block_ms=100.0, collect_artefacts=False)
    cpu = time.process_time() - t0
    from bench.detect_bench import sim_truth

    truth, xtalk, segs = sim_truth(rec)
    out = {"split": split, "scenario": name, "seed": seed, "rate_hz": fs, "control": bool(rec.is_control),
           "minutes": seconds / 60.0, "cpu_s": cpu, "draws": draws, "n_truth": len(truth)}
    snr = [t.amplitude_uv / max(float(bg_rms[t.channel]), 1e-9) for t in rec.twitches]
    # the conditional band: p2p/RMS 5-10 where the unit fired clearly before (an
    # earlier firing of the same unit at p2p/RMS >= CLEAR_SNR, i.e. a peak of ~8 sigma)
    seen: dict[int, int] = {}
    known_weak = []
    for i, t in enumerate(rec.twitches):
        if 5.0 <= snr[i] < 10.0 and seen.get(t.unit_id, 0) > 0:
            known_weak.append(i)
        if snr[i] >= CLEAR_SNR:
            seen[t.unit_id] = seen.get(t.unit_id, 0) + 1
    out["ideal_hits"] = float(p_ideal.sum())
    out["ideal_by_snr"] = [float(sum(p_ideal[i] for i, v in enumerate(snr) if lo <= v < hi)) for lo, hi in SNR_BANDS]
    for key, cand in (("counted", False), ("all", True)):
        tally, match = score_stream(truth, run.pairs(candidates=cand), fs, emg.shape[0],
                                    is_control=bool(rec.is_control), artefact_segments=segs, crosstalk=xtalk,
                                    tol_ms=TOL_MS)
        out[key] = {k: getattr(tally, k) for k in ("tp", "fp", "fn", "control_fp", "control_minutes", "segment_fp",
                                                    "segment_minutes", "crosstalk_fp")}
        hit = np.zeros(len(truth), bool)
        for ti, _di in match.pairs:
            hit[ti] = True
        for j, (lo, hi) in enumerate(SNR_BANDS):
            sel = [i for i, v in enumerate(snr) if lo <= v < hi]
            out[key][f"snr{j}_n"] = len(sel)
            out[key][f"snr{j}_hit"] = int(hit[sel].sum()) if sel else 0
        out[key]["known_weak_n"] = len(known_weak)
        out[key]["known_weak_hit"] = int(hit[known_weak].sum()) if known_weak else 0
    return out


def run_real(root: Path) -> list[dict]:
    from twitchwatch.detect import TwitchDetector

    rows = []
    for r in realdata.load_all(root):
        run = run_engine(lambda: TwitchDetector(r.rate_hz, tuple(f"ch{i}" for i in range(r.emg_uv.shape[1]))),
                         r.emg_uv, r.rate_hz, block_ms=100.0, collect_artefacts=False)
        act = realdata.activity_segments(r.emg_uv, r.rate_hz)
        busy = sum(b - a for a, b, _ in act)
        rest_min = (r.emg_uv.shape[0] - busy) / r.rate_hz / 60.0

        def at_rest(e) -> bool:
            return not any(a <= e.sample_index < b for a, b, _ in act)

        counted = [e for e in run.events if e.counted]
        rows.append({
            "rest": r.name in realdata.INJECTION_BACKGROUNDS,
            "name": r.name, "rate_hz": r.rate_hz, "minutes": r.minutes, "rest_minutes": rest_min, "note": r.note,
            "all": len(run.events), "counted": len(counted),
            "all_rest": sum(at_rest(e) for e in run.events), "counted_rest": sum(at_rest(e) for e in counted),
        })
    return rows


def _sum(rows: list[dict], key: str) -> dict:
    tot: dict = {}
    for r in rows:
        for k, v in r[key].items():
            tot[k] = tot.get(k, 0) + v
    return tot


def _f1(d: dict) -> float:
    den = 2 * d["tp"] + d["fp"] + d["fn"]
    return 2 * d["tp"] / den if den else float("nan")


def summarise(rows: list[dict], split: str, key: str) -> dict:
    mine = [r for r in rows if r["split"] == split]
    twitch = [r for r in mine if not r["control"]]
    per: dict[str, dict] = {}
    for r in mine:
        d = per.setdefault(r["scenario"], {k: 0 for k in r[key]})
        for k, v in r[key].items():
            d[k] += v
    f1s = {n: _f1(d) for n, d in per.items() if not any(r["control"] for r in mine if r["scenario"] == n)}
    from bench.detect.ideal import FALSE_PER_MIN

    def ideal(rs: list[dict]) -> float:
        h = sum(r["ideal_hits"] for r in rs)
        n = sum(r["n_truth"] for r in rs)
        fp = FALSE_PER_MIN * sum(r["minutes"] for r in rs)
        return 2 * h / (2 * h + fp + n - h) if n else float("nan")

    ideal_f1s = {n: ideal([r for r in mine if r["scenario"] == n]) for n in f1s}
    tot = _sum(mine, key)
    tw = _sum(twitch, key) if twitch else {"tp": 0, "fp": 0, "fn": 0}
    worst = min(f1s, key=lambda n: f1s[n]) if f1s else None
    streams = [(r[key]["tp"], r[key]["fp"], r[key]["fn"]) for r in twitch]
    return {
        "split": split, "events": key, "per_scenario": per, "f1_by_scenario": f1s,
        "f1_pooled": _f1(tw), "f1_pooled_ci": ci.f1_bootstrap_ci(streams) if streams else (float("nan"),) * 2,
        "f1_mean_over_scenarios": float(np.mean(list(f1s.values()))) if f1s else float("nan"),
        "worst": worst, "f1_worst": f1s.get(worst, float("nan")) if worst else float("nan"),
        "ideal_f1_by_scenario": ideal_f1s, "ideal_f1_pooled": ideal(twitch),
        "ideal_sensitivity_by_snr": [sum(r["ideal_by_snr"][j] for r in twitch) for j in range(len(SNR_BANDS))],
        "sensitivity_by_snr": [(tw.get(f"snr{j}_hit", 0), tw.get(f"snr{j}_n", 0)) for j in range(len(SNR_BANDS))],
        "known_weak": (tw.get("known_weak_hit", 0), tw.get("known_weak_n", 0)),
        "sensitivity": tw["tp"] / max(1, tw["tp"] + tw["fn"]),
        "precision": tw["tp"] / max(1, tw["tp"] + tw["fp"]),
        "control_fp": tot["control_fp"], "control_minutes": tot["control_minutes"],
        "control_rate": tot["control_fp"] / max(tot["control_minutes"], 1e-9),
        "control_ci": ci.poisson_rate_ci(tot["control_fp"], tot["control_minutes"]),
        "segment_fp": tot["segment_fp"], "segment_minutes": tot["segment_minutes"],
        "segment_rate": tot["segment_fp"] / max(tot["segment_minutes"], 1e-9),
        "segment_ci": ci.poisson_rate_ci(tot["segment_fp"], tot["segment_minutes"]),
    }


def render(rows: list[dict], real: list[dict], args, wall_s: float) -> str:
    out = ["# Detection benchmark: development split, test split, real recordings (issue #19)", "",
           f"Command: `.venv/bin/python bench/detect/split_bench.py --minutes {args.minutes} --seeds {args.seeds}"
           + (f" --scenarios {args.scenarios}" if args.scenarios else "") + (" --no-real" if args.no_real else "")
           + f"` ({wall_s / 60:.1f} min wall). How the splits are made: the module docstring of "
           "`bench/detect/split_bench.py`. Counted = the twitches a person reads (docs/detection.md, *What counts*); "
           "all = every event the engine emits, counted or not. 95 % intervals in parentheses.", ""]
    out += ["## Summary", "",
            "| split | events | F1 pooled | F1 mean over scenarios | worst scenario (F1) | sensitivity | precision "
            "| false/min in controls | false/min in voluntary + motion |", "|---|---|---|---|---|---|---|---|---|"]
    sums = {}
    for split in ("dev", "test"):
        for key in ("counted", "all"):
            if not any(r["split"] == split for r in rows):
                continue
            s = sums[(split, key)] = summarise(rows, split, key)
            lo, hi = s["f1_pooled_ci"]
            out.append(f"| {split} | {key} | {s['f1_pooled']:.3f} ({lo:.3f}-{hi:.3f}) | {s['f1_mean_over_scenarios']:.3f} "
                       f"| {s['worst']} ({s['f1_worst']:.3f}) | {s['sensitivity']:.3f} | {s['precision']:.3f} "
                       f"| {s['control_rate']:.2f} ({s['control_ci'][0]:.2f}-{s['control_ci'][1]:.2f}; "
                       f"{s['control_fp']} in {s['control_minutes']:.0f} min) "
                       f"| {s['segment_rate']:.2f} ({s['segment_ci'][0]:.2f}-{s['segment_ci'][1]:.2f}; "
                       f"{s['segment_fp']} in {s['segment_minutes']:.1f} min) |")
    out += ["", "Sensitivity by twitch peak-to-peak / background RMS (the 20-450 Hz RMS of its channel's noise "
            "component, white + 1/f; hum and wander left out): " + "; ".join(
                f"{split} {key}: " + ", ".join(
                    f"{'<5' if j == 0 else '>=20' if j == 3 else f'{int(SNR_BANDS[j][0])}-{int(SNR_BANDS[j][1])}'} "
                    f"{(h / n if n else float('nan')):.2f} ({h}/{n})" for j, (h, n) in enumerate(s["sensitivity_by_snr"]))
                for (split, key), s in sums.items()) + ".",
            "", "The same at p2p/RMS 5-10 **where the unit fired clearly before** (an earlier firing of the same unit "
            f"at p2p/RMS >= {CLEAR_SNR:g}; the issue's target >= 0.8): " + "; ".join(
                f"{split} {key}: " + (f"{s['known_weak'][0] / s['known_weak'][1]:.2f} ({s['known_weak'][0]}/"
                                      f"{s['known_weak'][1]})" if s["known_weak"][1] else "no such twitch (0/0)")
                for (split, key), s in sums.items()) + ".",
            "", "Ideal detector (`bench/detect/ideal.py`: whitened matched filter knowing every waveform, 0.2 false "
            "alarms/min): " + "; ".join(
                f"{split}: F1 {s['ideal_f1_pooled']:.3f}, sensitivity by band " + ", ".join(
                    f"{(h / n if n else float('nan')):.2f}" for h, (_, n) in zip(s["ideal_sensitivity_by_snr"],
                                                                                 s["sensitivity_by_snr"]))
                for (split, key), s in sums.items() if key == "counted") + "; engine F1 / ideal F1 per scenario "
            "in the tables below (target >= 0.90 in every scenario)."]
    for split in ("dev", "test"):
        if (split, "counted") not in sums:
            continue
        out += ["", f"## {split} split, per scenario (counted twitches; all events in parentheses)", "",
                "| scenario | rate Hz | truth | hits | false | missed | F1 | ideal F1 | F1 / ideal | false in controls | false in vol/motion |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        sc_, sa = sums[(split, "counted")], sums[(split, "all")]
        for name, d in sc_["per_scenario"].items():
            a = sa["per_scenario"][name]
            rates = sorted({int(r["rate_hz"]) for r in rows if r["split"] == split and r["scenario"] == name})
            n = sum(r["n_truth"] for r in rows if r["split"] == split and r["scenario"] == name)
            f1 = sc_["f1_by_scenario"].get(name)
            f1a = sa["f1_by_scenario"].get(name)
            fi = sc_["ideal_f1_by_scenario"].get(name)
            ratio = "" if f1 is None or not fi else f"{f1 / fi:.2f}"
            out.append(f"| {name} | {'/'.join(map(str, rates))} | {n} | {d['tp']} ({a['tp']}) | {d['fp']} ({a['fp']}) "
                       f"| {d['fn']} ({a['fn']}) | {'' if f1 is None else f'{f1:.3f} ({f1a:.3f})'} "
                       f"| {'' if fi is None else f'{fi:.3f}'} | {ratio} "
                       f"| {d['control_fp']} ({a['control_fp']}) | {d['segment_fp']} ({a['segment_fp']}) |")
    test_draws = [r for r in rows if r["split"] == "test"]
    if test_draws:
        out += ["", "## Test split draws", "", "Ranges: " + "; ".join(f"{k}: {v}" for k, v in TEST_RANGES.items()) + ".",
                "", "| scenario | seed | rate Hz | front end | clock |", "|---|---|---|---|---|"]
        for r in test_draws:
            fe, ck = r["draws"]["front_end"], r["draws"]["clock"]
            out.append(f"| {r['scenario']} | {r['seed']} | {int(r['rate_hz'])} | HP {fe['hp_hz']:.1f} Hz, LP "
                       f"{fe['lp_hz']:.0f} Hz | {ck['ppm']:+.0f} ppm, {ck['offset_ms']:+.1f} ms |")
    if real:
        rest = [r for r in real if r["rest"]]
        out += ["", "## Real recordings, each at its own sample rate (EMG only, no labels)", "",
                "**Headline: counted twitches per minute at rest** in the rest recordings (`real.INJECTION_BACKGROUNDS`: "
                "mostly rest, a few voluntary bursts), every one taken as a false twitch (no recording here holds "
                "labelled fasciculations; genuine spontaneous potentials would be counted as false too). Rest = outside "
                "`real.activity_segments` (50 ms RMS above 8x its median, +-0.5 s). Target <= 1/min each: "
                + ", ".join(f"{r['name']} {r['counted_rest'] / max(r['rest_minutes'], 1e-9):.2f}/min "
                            f"({'PASS' if r['counted_rest'] / max(r['rest_minutes'], 1e-9) <= 1.0 else 'MISS'})"
                            for r in rest) + ".",
                "The other recordings hold voluntary contractions throughout (needle EMG, HD-sEMG trapezoid, biceps "
                "cycles, intermittent contractions): their events are motor-unit potentials of that activity, and the "
                "activity detector used here does not find all of it; they are listed for what the engine reports, "
                "not as false-twitch rates.", "",
                "| recording | rest recording | Hz | min | rest min | counted /min at rest | all /min at rest | counted /min | all /min | note |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for r in real:
            rm = max(r["rest_minutes"], 1e-9)
            out.append(f"| {r['name']} | {'yes' if r['rest'] else 'no'} | {int(r['rate_hz'])} | {r['minutes']:.2f} | {r['rest_minutes']:.2f} "
                       f"| **{r['counted_rest'] / rm:.2f}** ({r['counted_rest']}) | {r['all_rest'] / rm:.1f} "
                       f"| {r['counted'] / r['minutes']:.1f} | {r['all'] / r['minutes']:.1f} | {r['note']} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    from twitchwatch.sim.scenarios import SCENARIOS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--scenarios", default="")
    ap.add_argument("--splits", default="dev,test")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--out", default=str(REPO / "bench" / "results"))
    args = ap.parse_args(argv)
    names = [s for s in args.scenarios.split(",") if s] or list(SCENARIOS)
    jobs = [(split, n, (DEV_SEED if split == "dev" else TEST_SEED) + k, args.minutes * 60.0)
            for split in args.splits.split(",") for n in names for k in range(args.seeds)]
    t0 = time.time()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as ex:
            rows = list(ex.map(run_stream, jobs))
    else:
        rows = []
        for j in jobs:
            rows.append(run_stream(j))
            r = rows[-1]
            print(f"{j[0]:4s} {j[1]:22s} {j[2]} {int(r['rate_hz'])} Hz: counted tp {r['counted']['tp']} fp "
                  f"{r['counted']['fp']} fn {r['counted']['fn']} | all tp {r['all']['tp']} fp {r['all']['fp']}",
                  file=sys.stderr, flush=True)
    real = [] if args.no_real else run_real(realdata.default_root(REPO))
    text = render(rows, real, args, time.time() - t0)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "detect_split.md").write_text(text, encoding="utf-8")
    (out / "detect_split.json").write_text(json.dumps({"rows": rows, "real": real}, indent=1, default=float),
                                           encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
