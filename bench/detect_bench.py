"""Scored twitch-detection benchmark: our engine and the usual alternatives, side by side.

Run:  .venv/bin/python bench/detect_bench.py [--minutes M] [--seeds N] [--quick] [--out DIR]

Every detector sees the same simulated streams (``twitchwatch.sim.simulate``, fixed
seeds) in the same run:

- **twitchwatch engine** (``TwitchDetector`` with the accelerometer), fed as a live
  stream: 100 ms blocks of EMG and accelerometer interleaved in time order;
- **twitchwatch threshold-0.1** (the first detector, ``ThresholdDetector``), 100 ms EMG
  blocks;
- **NeuroKit2**, **BioSPPy**, **MAD 5σ threshold**: offline on each whole channel, as
  their users run them (exact calls in ``bench/detect/baselines.py``).

Scoring (``bench/detect/scoring.py``): one-to-one matching within ±15 ms on the same
channel; sensitivity, precision, F1; false twitches per minute in twitch-free controls
and inside voluntary/motion truth segments; median |timing error|; throughput (signal
seconds / processing seconds, including filtering), each pooled rate and score with its 95 %
interval (``bench/detect/intervals.py``). Then: real recordings (injected
twitches on real rest EMG, and events per minute on unaltered files), the engine's
latency in 10 ms blocks, the targets with PASS/MISS, and plots. Results go to stdout and
``<out>/detect_bench.md``, ``<out>/detect_bench.json`` and ``<out>/*.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "host"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench.detect import baselines as bl  # noqa: E402
from bench.detect import intervals as ci  # noqa: E402
from bench.detect import real as realdata  # noqa: E402
from bench.detect.runners import StreamRun, run_engine, run_threshold  # noqa: E402
from bench.detect.scoring import Tally, match_events, score_stream  # noqa: E402

ENGINE = "twitchwatch engine"
THRESHOLD = "twitchwatch threshold-0.1"
NK = "NeuroKit2 emg_process"
BIO = "BioSPPy emg.emg"
MAD = "MAD 5σ threshold"
DETECTORS = (ENGINE, THRESHOLD, NK, BIO, MAD)
SHORT = {ENGINE: "engine", THRESHOLD: "thr-0.1", NK: "NeuroKit2", BIO: "BioSPPy", MAD: "MAD 5σ"}

TOL_MS = 15.0
BASE_SEED = 1000
ARTEFACT_KINDS = ("voluntary", "motion")

TARGET_F1 = 0.95
TARGET_FP_PER_MIN = 0.2
TARGET_XRT = 1000.0
TARGET_LATENCY_MS = 50.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- running
@dataclass
class Detections:
    events: list[tuple[int, int]]  # sorted (sample_index, channel)
    cpu_s: float
    error: str | None = None
    run: StreamRun | None = None


def _fmt_exc(exc: BaseException) -> str:
    return f"error: {type(exc).__name__}: {str(exc)[:160]}"


def run_all_detectors(
    emg_uv: np.ndarray,
    rate_hz: float,
    labels: tuple[str, ...],
    acc_mg: np.ndarray | None,
    acc_rate_hz: float | None,
    *,
    nk_public: bool = False,
) -> dict[str, Detections]:
    """Every detector on one stream. ``nk_public``: run NeuroKit2 through its public
    ``emg_process`` (slow per-sample formatting) instead of the identical fast path."""
    from twitchwatch.detect import ThresholdDetector, TwitchDetector

    out: dict[str, Detections] = {}
    try:
        run = run_engine(lambda: TwitchDetector(rate_hz, labels, acc_rate_hz=acc_rate_hz), emg_uv, rate_hz,
                         acc_mg, acc_rate_hz, block_ms=100.0)
        out[ENGINE] = Detections(run.pairs(), run.wall_s, None, run)
    except Exception as exc:  # noqa: BLE001
        out[ENGINE] = Detections([], math.nan, _fmt_exc(exc))
        log(f"{ENGINE}: {traceback.format_exc(limit=3)}")
    try:
        run = run_threshold(lambda: ThresholdDetector(rate_hz, labels), emg_uv, rate_hz, block_ms=100.0)
        out[THRESHOLD] = Detections(run.pairs(), run.wall_s, None, run)
    except Exception as exc:  # noqa: BLE001
        out[THRESHOLD] = Detections([], math.nan, _fmt_exc(exc))
    for name, fn in ((NK, bl.neurokit2_events if nk_public else bl.neurokit2_events_fast),
                     (BIO, bl.biosppy_events), (MAD, bl.mad_events)):
        try:
            ev, cpu, err = bl.run_per_channel(fn, emg_uv, rate_hz)
            out[name] = Detections(ev, cpu, err)
        except Exception as exc:  # noqa: BLE001 - e.g. the package is missing
            out[name] = Detections([], math.nan, _fmt_exc(exc))
    return out


@dataclass
class SimResults:
    tallies: dict[str, dict[str, Tally]] = field(default_factory=dict)  # scenario -> det -> tally
    raster: dict | None = None
    sim_seconds: float = 0.0
    nk_public: dict[str, dict] = field(default_factory=dict)  # scenario -> {x_rt, same}
    fp_causes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # det -> sc -> cause -> n
    amp_bins: dict[str, list[list[int]]] = field(default_factory=dict)  # det -> [[hit, total] per bin]
    problems: list[str] = field(default_factory=list)


def sim_truth(rec) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int, int | None]]]:
    truth = [(int(t.sample_index), int(t.channel)) for t in rec.twitches]
    xtalk = [(int(t.sample_index), int(ch)) for t in rec.twitches for ch, _amp in getattr(t, "crosstalk", ())]
    segs = [(int(s.start_index), int(s.end_index), s.channel) for s in rec.segments if s.kind in ARTEFACT_KINDS]
    return truth, xtalk, segs


FP_CAUSES = ("crosstalk", "voluntary", "motion", "ecg", "pop", "mains_burst", "lead_off", "warm-up", "none")
WARMUP_S = 2.0


AMP_EDGES_UV = (0.0, 75.0, 100.0, 150.0, 250.0, math.inf)  # truth peak-to-peak bins, µV


def cause_segments(rec) -> list[tuple[int, int, int | None, str]]:
    """Every truth segment as (start, end, channel, kind), in :data:`FP_CAUSES` order
    (voluntary/motion before ecg, pop, ...): the order :func:`classify_false` tries them."""
    order = {k: j for j, k in enumerate(FP_CAUSES)}
    segs = [(int(x.start_index), int(x.end_index), x.channel, x.kind) for x in rec.segments]
    return sorted(segs, key=lambda t: order.get(t[3], 99))


def amp_bin(a: float) -> int:
    return next(i for i in range(len(AMP_EDGES_UV) - 1) if AMP_EDGES_UV[i] <= a < AMP_EDGES_UV[i + 1])


def segment_at(segments, i: int, c: int):
    """The first of ``segments`` ((start, end, channel, kind), end exclusive; channel None
    = every channel) that holds sample ``i`` of channel ``c``, or None."""
    return next((seg for seg in segments if seg[0] <= i < seg[1] and (seg[2] is None or seg[2] == c)), None)


def classify_false(det_events, match, xtalk, segments, rate_hz, tol_ms=TOL_MS) -> dict[str, int]:
    """Where each unmatched detection falls: a twitch's crosstalk copy (±tol, same channel),
    else the first truth segment kind containing it (on its channel), else the first
    ``WARMUP_S`` seconds, else ``none`` (a false twitch on clean background)."""
    counts = dict.fromkeys(FP_CAUSES, 0)
    tol = tol_ms * rate_hz / 1000.0
    xt = {}
    for i, c in xtalk:
        xt.setdefault(c, []).append(i)
    xt = {c: np.sort(np.asarray(v)) for c, v in xt.items()}
    for di in match.unmatched_detections:
        i, c = det_events[di]
        arr = xt.get(c)
        if arr is not None and len(arr):
            k = np.searchsorted(arr, i)
            near = [arr[j] for j in (k - 1, k) if 0 <= j < len(arr)]
            if any(abs(int(x) - i) <= tol for x in near):
                counts["crosstalk"] += 1
                continue
        seg = segment_at(segments, i, c)
        kind = None if seg is None else seg[3]
        if kind in counts:
            counts[kind] += 1
        elif i < WARMUP_S * rate_hz:
            counts["warm-up"] += 1
        else:
            counts["none"] += 1
    return counts


def warm_up_engine() -> float:
    """Run the engine once on 3 s of ``mixed`` so numba compiles its kernels (or loads
    them from its on-disk cache) before anything is timed; returns the seconds it took.
    A live user's first run pays this once (``bench/detect/engine_cost.py --first-call``)."""
    from twitchwatch.detect import TwitchDetector
    from twitchwatch.sim import simulate

    t0 = time.perf_counter()
    rec = simulate("mixed", 3.0, 0)
    rate, acc_rate = float(rec.emg_rate_hz), float(rec.acc_rate_hz)
    run_engine(lambda: TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=acc_rate), rec.emg_uv, rate,
               rec.acc_mg, acc_rate, block_ms=100.0)
    return time.perf_counter() - t0


def run_simulated(scenarios: list[str], seeds: list[int], duration_s: float, raster_scenario: str,
                  raster_s: float, nk_check_s: float) -> SimResults:
    from tqdm import tqdm
    from twitchwatch.sim import simulate

    res = SimResults()
    jobs = [(sc, sd) for sc in scenarios for sd in seeds]
    bar = tqdm(jobs, desc="simulated", unit="stream", file=sys.stderr, dynamic_ncols=True)
    for sc, sd in bar:
        bar.set_postfix_str(f"{sc} seed {sd}")
        t0 = time.perf_counter()
        rec = simulate(sc, duration_s, sd)
        res.sim_seconds += time.perf_counter() - t0
        rate = float(rec.emg_rate_hz)
        labels = tuple(rec.emg_labels)
        truth, xtalk, segs = sim_truth(rec)
        dets = run_all_detectors(rec.emg_uv, rate, labels, rec.acc_mg, float(rec.acc_rate_hz))
        n = rec.emg_uv.shape[0]
        per = res.tallies.setdefault(sc, {})
        all_segs = cause_segments(rec)
        for name, d in dets.items():
            tally, _m = score_stream(truth, d.events, rate, n, is_control=bool(rec.is_control),
                                     artefact_segments=segs, crosstalk=xtalk, tol_ms=TOL_MS)
            causes = classify_false(d.events, _m, xtalk, all_segs, rate)
            bins = res.amp_bins.setdefault(name, [[0, 0] for _ in range(len(AMP_EDGES_UV) - 1)])
            hit = {ti for ti, _di in _m.pairs}
            for ti, tw in enumerate(rec.twitches):
                b = amp_bin(float(tw.amplitude_uv))
                bins[b][1] += 1
                bins[b][0] += ti in hit
            acc = res.fp_causes.setdefault(name, {}).setdefault(sc, dict.fromkeys(FP_CAUSES, 0))
            for k, v in causes.items():
                acc[k] += v
            tally.signal_s = n / rate
            tally.cpu_s = d.cpu_s
            if d.error:
                tally.errors.append(f"{sc}/{sd}: {d.error}")
            per[name] = per[name].add(tally) if name in per else tally
        if sd == seeds[0] and nk_check_s > 0:
            # NeuroKit2's public call (what its users run) on the first nk_check_s seconds:
            # its throughput, and a check that the fast path gives the same events.
            clip = rec.emg_uv[: int(nk_check_s * rate)]
            try:
                pub, cpu, err = bl.run_per_channel(bl.neurokit2_events, clip, rate)
                fast, _cpu, _err = bl.run_per_channel(bl.neurokit2_events_fast, clip, rate)
                res.nk_public[sc] = {"x_realtime": clip.shape[0] / rate / cpu if cpu > 0 else math.nan,
                                     "same_events": pub == fast, "error": err}
                if pub != fast:
                    res.problems.append(f"NeuroKit2 fast path differs from emg_process on {sc}")
            except Exception as exc:  # noqa: BLE001
                res.nk_public[sc] = {"x_realtime": math.nan, "same_events": None, "error": _fmt_exc(exc)}
        if sc == raster_scenario and sd == seeds[0]:
            lim = int(raster_s * rate)
            res.raster = {
                "scenario": sc, "seed": sd, "rate_hz": rate, "seconds": min(raster_s, n / rate),
                "labels": list(labels),
                "truth": [e for e in truth if e[0] < lim],
                "crosstalk": [e for e in xtalk if e[0] < lim],
                "segments": [(s, e, c, k) for (s, e, c), k in
                             zip([(int(x.start_index), int(x.end_index), x.channel) for x in rec.segments],
                                 [x.kind for x in rec.segments]) if s < lim],
                "detections": {name: [e for e in d.events if e[0] < lim] for name, d in dets.items()},
            }
    return res


RATE_EDGE_MS = 150.0  # a false twitch this close to a segment's start or end is at its onset / offset


def _rate_stream(job: tuple[str, int, float, dict]) -> tuple[Tally, list[tuple[str, float]]]:
    """Engine only, 100 ms blocks: one stream's tally and, per false twitch inside a
    voluntary/motion truth segment on its channel, (kind, ms from the nearer segment edge).
    ``job``: scenario, seed, seconds, simulator overrides."""
    from twitchwatch.detect import TwitchDetector
    from twitchwatch.sim import simulate

    sc, sd, duration_s, overrides = job
    rec = simulate(sc, duration_s, sd, **overrides)
    rate = float(rec.emg_rate_hz)
    run = run_engine(lambda: TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=float(rec.acc_rate_hz)),
                     rec.emg_uv, rate, rec.acc_mg, float(rec.acc_rate_hz), block_ms=100.0, collect_artefacts=False)
    truth, xtalk, segs = sim_truth(rec)
    ev = run.pairs()
    tally, m = score_stream(truth, ev, rate, rec.emg_uv.shape[0], is_control=bool(rec.is_control),
                            artefact_segments=segs, crosstalk=xtalk, tol_ms=TOL_MS)
    where = []
    vm = [(a, b, ch, k) for a, b, ch, k in cause_segments(rec) if k in ("voluntary", "motion")]
    for di in m.unmatched_detections:
        i, c = ev[di]
        seg = segment_at(vm, i, c)
        if seg is not None:
            where.append((seg[3], min(i - seg[0], seg[1] - i) * 1000.0 / rate))
    return tally, where


def _rate_summary(tot: Tally, where: list[tuple[str, float]]) -> dict:
    return {"control_fp": tot.control_fp, "control_minutes": tot.control_minutes,
            "control_ci95": list(ci.poisson_rate_ci(tot.control_fp, tot.control_minutes)),
            "segment_fp": tot.segment_fp, "segment_minutes": tot.segment_minutes,
            "segment_ci95": list(ci.poisson_rate_ci(tot.segment_fp, tot.segment_minutes)),
            "segment_fp_by_kind": {k: sum(1 for kk, _d in where if kk == k) for k in ("voluntary", "motion")},
            "segment_fp_within_edge": sum(1 for _k, d in where if d <= RATE_EDGE_MS)}


def measure_engine_rates(scenarios: list[str], seeds: list[int], duration_s: float, jobs: int = 2) -> dict:
    """The engine alone over more seeds, on the scenarios with twitch-free control time or
    voluntary/motion segments: the two false-twitch rates with more minutes behind them
    (their 95 % intervals on the main run's minutes are wide). Two processes.

    The scenarios with walking run a second time with ``cable_spikes_follow_motion=False``
    (the simulator before 2026-12-04: cable spikes at a constant rate over a bout, from its
    first sample, before the accelerometer shows any movement); ``"cable_independent"``
    holds the rates with those streams in place of the default ones (every other stream is
    the same under both)."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm
    from twitchwatch.sim import SCENARIOS

    chosen = [s for s in scenarios if SCENARIOS[s].is_control or SCENARIOS[s].voluntary_per_min > 0
              or SCENARIOS[s].walking_fraction > 0]
    walking = [s for s in chosen if SCENARIOS[s].walking_fraction > 0]
    independent = {"cable_spikes_follow_motion": False}
    work = [(sc, sd, duration_s, {}) for sc in chosen for sd in seeds]
    work += [(sc, sd, duration_s, independent) for sc in walking for sd in seeds]
    parts: dict[str, tuple[Tally, list]] = {k: (Tally(), []) for k in ("other", "walking", "walking_independent")}
    with ProcessPoolExecutor(max(1, jobs)) as ex:
        for job, (t, w) in zip(work, tqdm(ex.map(_rate_stream, work), total=len(work), desc="rates",
                                          unit="stream", file=sys.stderr, dynamic_ncols=True)):
            key = "other" if job[0] not in walking else "walking_independent" if job[3] else "walking"
            parts[key] = (parts[key][0].add(t), parts[key][1] + w)
    (other, w_other), (walk, w_walk), (indep, w_indep) = (parts[k] for k in ("other", "walking", "walking_independent"))
    out = {"scenarios": chosen, "seeds": list(seeds), "minutes_per_stream": duration_s / 60.0,
           "edge_ms": RATE_EDGE_MS, **_rate_summary(other.add(walk), w_other + w_walk)}
    if walking:
        out["cable_independent"] = {"scenarios": walking, **_rate_summary(other.add(indep), w_other + w_indep)}
    return out


def measure_engine_throughput(scenario: str, duration_s: float, seed: int, repeat: int = 3,
                              block_ms: float = 100.0) -> dict:
    """Best of ``repeat`` runs of the engine alone (``block_ms`` blocks, EMG + accelerometer).

    ``x_realtime`` is on the process's CPU time (every thread of it: what the engine costs
    on one core, helper threads included, whatever else runs on the machine); the wall-time
    rate is given too."""
    from twitchwatch.detect import TwitchDetector
    from twitchwatch.sim import simulate

    rec = simulate(scenario, duration_s, seed)
    rate, labels = float(rec.emg_rate_hz), tuple(rec.emg_labels)
    best, best_wall = math.inf, math.inf
    for _ in range(repeat):
        c0 = time.process_time()
        run = run_engine(lambda: TwitchDetector(rate, labels, acc_rate_hz=float(rec.acc_rate_hz)),
                         rec.emg_uv, rate, rec.acc_mg, float(rec.acc_rate_hz), block_ms=block_ms,
                         collect_artefacts=False)
        best = min(best, time.process_time() - c0)
        best_wall = min(best_wall, run.wall_s)
    seconds = rec.emg_uv.shape[0] / rate
    return {"scenario": scenario, "seconds": seconds, "best_cpu_s": best, "best_wall_s": best_wall,
            "x_realtime": seconds / best, "x_realtime_wall": seconds / best_wall, "repeat": repeat,
            "block_ms": block_ms}


def measure_latency(scenarios: list[str], duration_s: float, seeds: list[int]) -> dict:
    """Engine fed 10 ms blocks; latency of each matched event returned before flush(),
    over every seed (the maximum is a worst case: one seed alone can miss it)."""
    from tqdm import tqdm
    from twitchwatch.detect import TwitchDetector
    from twitchwatch.sim import simulate

    lat_ms: list[float] = []
    per: dict[str, dict] = {}
    flushed = 0
    jobs = [(sc, seed) for sc in scenarios for seed in seeds]
    pooled: dict[str, list[float]] = {sc: [] for sc in scenarios}
    xrt: dict[str, list[float]] = {sc: [] for sc in scenarios}
    for sc, seed in tqdm(jobs, desc="latency", unit="stream", file=sys.stderr, dynamic_ncols=True):
        rec = simulate(sc, duration_s, seed)
        rate, labels = float(rec.emg_rate_hz), tuple(rec.emg_labels)
        run = run_engine(lambda: TwitchDetector(rate, labels, acc_rate_hz=float(rec.acc_rate_hz)),
                         rec.emg_uv, rate, rec.acc_mg, float(rec.acc_rate_hz), block_ms=10.0,
                         collect_artefacts=False)
        dets = [(int(e.sample_index), int(e.channel)) for e in run.events]  # returned order
        truth = [(int(t.sample_index), int(t.channel)) for t in rec.twitches]
        m = match_events(truth, dets, rate, TOL_MS)
        these = []
        for ti, di in m.pairs:
            at = run.returned_at[di]
            if at is None:
                flushed += 1
                continue
            these.append((at - int(rec.twitches[ti].end_index)) * 1000.0 / rate)
        lat_ms += these
        pooled[sc] += these
        xrt[sc].append(rec.emg_uv.shape[0] / rate / run.wall_s)
    for sc, these in pooled.items():
        per[sc] = {"n": len(these), "median_ms": float(np.median(these)) if these else math.nan,
                   "max_ms": float(np.max(these)) if these else math.nan,
                   "x_realtime_10ms_blocks": float(np.median(xrt[sc]))}
    return {"n": len(lat_ms), "median_ms": float(np.median(lat_ms)) if lat_ms else math.nan,
            "p95_ms": float(np.percentile(lat_ms, 95)) if lat_ms else math.nan,
            "max_ms": float(np.max(lat_ms)) if lat_ms else math.nan, "flushed": flushed,
            "per_scenario": per, "seeds": list(seeds), "seconds": duration_s}


# ---------------------------------------------------------------------------- real data
def run_real(root: Path, seeds: list[int], max_minutes: float | None) -> dict:
    from tqdm import tqdm

    out: dict = {"root": str(root), "injected": {}, "unaltered": {}, "notes": []}
    if not root.is_dir():
        out["skipped"] = f"{root} does not exist"
        return out
    recs = realdata.load_all(root)
    if max_minutes is not None:
        for r in recs:
            r.emg_uv = r.emg_uv[: int(max_minutes * 60 * r.rate_hz)]
    by_name = {r.name: r for r in recs}
    try:
        from twitchwatch.sim import inject_twitches
    except Exception as exc:  # noqa: BLE001
        inject_twitches = None
        out["notes"].append(f"injection skipped: cannot import twitchwatch.sim.inject_twitches ({exc})")
    jobs = []
    if inject_twitches is not None:
        jobs += [("inject", name, sd) for name in realdata.INJECTION_BACKGROUNDS if name in by_name for sd in seeds]
    jobs += [("plain", r.name, None) for r in recs]
    plain_runs: dict = {}  # name -> every detector on the unaltered recording (once per name)

    def plain(r):
        if r.name not in plain_runs:
            labels = tuple(f"ch{i}" for i in range(r.emg_uv.shape[1]))
            plain_runs[r.name] = run_all_detectors(r.emg_uv, r.rate_hz, labels, None, None)
        return plain_runs[r.name]

    for kind, name, sd in tqdm(jobs, desc="real", unit="stream", file=sys.stderr, dynamic_ncols=True):
        r = by_name[name]
        labels = tuple(f"ch{i}" for i in range(r.emg_uv.shape[1]))
        activity = realdata.activity_segments(r.emg_uv, r.rate_hz) if r.emg_uv.shape[1] == 1 else []
        if kind == "inject":
            sig, twitches = inject_twitches(r.emg_uv, r.rate_hz, sd, exclude=[(s, e) for s, e, _ in activity])
            sig = np.asarray(sig, dtype=np.float64)
            if sig.ndim == 1:
                sig = sig[:, None]
            truth = [(int(t.sample_index), int(t.channel)) for t in twitches]
            dets = run_all_detectors(sig, r.rate_hz, labels, None, None)
            background = plain(r)
            per = out["injected"].setdefault(name, {"minutes": 0.0, "excluded_minutes": 0.0, "tallies": {}})
            for det, d in dets.items():
                tally, _ = score_stream(truth, d.events, r.rate_hz, sig.shape[0], is_control=False,
                                        exclude=activity, background=background[det].events, tol_ms=TOL_MS)
                tally.signal_s, tally.cpu_s = sig.shape[0] / r.rate_hz, d.cpu_s
                if d.error:
                    tally.errors.append(f"{name}/{sd}: {d.error}")
                t = per["tallies"]
                t[det] = t[det].add(tally) if det in t else tally
            per["minutes"] += r.minutes
            per["excluded_minutes"] += sum(e - s for s, e, _ in activity) / r.rate_hz / 60.0
        else:
            dets = plain(r)
            row = {"rate_hz": r.rate_hz, "minutes": r.minutes, "channels": r.emg_uv.shape[1], "note": r.note,
                   "activity_minutes": sum(e - s for s, e, _ in activity) / r.rate_hz / 60.0, "detectors": {}}
            for det, d in dets.items():
                inside = sum(1 for i, _c in d.events if any(s <= i < e for s, e, _ in activity))
                rest_min = r.minutes - row["activity_minutes"]
                row["detectors"][det] = {
                    "events": len(d.events), "per_min": len(d.events) / r.minutes,
                    "outside_activity_per_min": (len(d.events) - inside) / rest_min if rest_min > 0 else math.nan,
                    "error": d.error,
                }
            out["unaltered"][name] = row
    return out


# ---------------------------------------------------------------------------- formatting
def f3(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def f2(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def f1(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def fint(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.0f}"


def fci(interval: tuple[float, float], fmt) -> str:
    """``low–high`` with ``fmt`` for each end; ``–`` when there is no interval."""
    lo, hi = interval
    return "–" if math.isnan(lo) or math.isnan(hi) else f"{fmt(lo)}–{fmt(hi)}"


def with_ci(text: str, interval: tuple[float, float], fmt) -> str:
    return text if math.isnan(interval[0]) else f"{text} ({fci(interval, fmt)})"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def error_note(t: Tally) -> str:
    if not t.errors:
        return ""
    return f" {t.errors[0]}" + (f" (+{len(t.errors) - 1} more)" if len(t.errors) > 1 else "")


def pooled(res: SimResults, det: str, which: str = "all") -> Tally:
    tot = Tally()
    for sc, per in res.tallies.items():
        if det not in per:
            continue
        if which == "twitch" and per[det].control_minutes > 0:
            continue
        tot = tot.add(per[det])
    return tot


def intervals_of(t: Tally) -> dict[str, tuple[float, float]]:
    """95 % intervals of a pooled tally: Wilson for sensitivity and precision, bootstrap over
    its streams for F1, exact Poisson for the false twitches per minute."""
    return {
        "sensitivity": ci.wilson_ci(t.tp, t.tp + t.fn),
        "precision": ci.wilson_ci(t.tp, t.tp + t.fp),
        "f1": ci.f1_bootstrap_ci(t.streams),
        "control_fp_per_min": ci.poisson_rate_ci(t.control_fp, t.control_minutes),
        "segment_fp_per_min": ci.poisson_rate_ci(t.segment_fp, t.segment_minutes),
    }


INTERVAL_METHODS = {
    "level": ci.LEVEL,
    "sensitivity": "Wilson score interval (scipy.stats.binomtest(...).proportion_ci(method='wilson'))",
    "precision": "Wilson score interval (scipy.stats.binomtest(...).proportion_ci(method='wilson'))",
    "f1": f"percentile bootstrap over scenario x seed streams ({ci.N_BOOT} resamples, numpy seed {ci.BOOT_SEED})",
    "control_fp_per_min": "exact (Garwood) Poisson interval for the count over the minutes (scipy.stats.chi2.ppf)",
    "segment_fp_per_min": "exact (Garwood) Poisson interval for the count over the minutes (scipy.stats.chi2.ppf)",
}


def throughput_of(res: SimResults, det: str) -> float:
    if det == NK and res.nk_public:
        vals = [v["x_realtime"] for v in res.nk_public.values() if v.get("x_realtime") == v.get("x_realtime")]
        return float(np.median(vals)) if vals else math.nan
    return pooled(res, det).x_realtime


def render(res: SimResults, real: dict, lat: dict | None, thr: dict | None, args, meta: dict,
           rates: dict | None = None) -> tuple[str, dict]:
    out: list[str] = []
    out.append("# Twitch detection benchmark\n")
    out.append(f"Command: `{meta['command']}`  ")
    out.append(f"Engine: `{meta['engine_version']}`; {meta['scenarios_n']} scenarios x {len(meta['seeds'])} seeds "
               f"(seeds {meta['seeds'][0]}..{meta['seeds'][-1]}) x {meta['minutes']:g} min; matching ±{TOL_MS:g} ms, "
               f"same channel, one-to-one. Machine: {meta['machine']}. Wall time {meta['wall_s']:.0f} s. "
               f"Before timing, the engine ran once on 3 s of signal ({meta['warmup_s']:.1f} s: numba compiling its "
               "kernels, or loading them from its cache); × real time excludes that one-off cost "
               "(`bench/detect/engine_cost.py --first-call` measures it).\n")

    # overall
    dets = [d for d in DETECTORS if any(d in per for per in res.tallies.values())]
    rows = []
    overall_ci = {}
    for d in dets:
        t = pooled(res, d)
        iv = overall_ci[d] = intervals_of(t)
        f1x = 2 * t.tp / (2 * t.tp + t.fp - t.crosstalk_fp + t.fn) if (2 * t.tp + t.fp + t.fn) else math.nan
        rows.append([d, with_ci(f3(t.sensitivity), iv["sensitivity"], f3),
                     with_ci(f3(t.precision), iv["precision"], f3), with_ci(f"**{f3(t.f1)}**", iv["f1"], f3),
                     str(t.fp), str(t.crosstalk_fp), f3(f1x),
                     with_ci(f2(t.control_fp_per_min), iv["control_fp_per_min"], f2),
                     with_ci(f2(t.segment_fp_per_min), iv["segment_fp_per_min"], f2),
                     f1(t.median_abs_error_ms), fint(throughput_of(res, d)) + error_note(t)])
    out.append("## Overall (all scenarios pooled; controls add their false twitches)\n")
    out.append(table(["detector", "sensitivity", "precision", "F1", "false", "of which crosstalk copies",
                      "F1 if copies were not counted", "false/min controls", "false/min voluntary+motion", "median abs err ms", "× real time"], rows))
    out.append("")
    out.append("`false` counts every unmatched detection; `crosstalk copies` are the false ones that coincide "
               "(±15 ms) with a twitch's copy on the other channel (the simulator records each twitch once, "
               "on its largest channel). NeuroKit2's × real time is its public `emg_process` call "
               "(median over scenarios, first "
               f"{meta['nk_check_s']:g} s of seed {meta['seeds'][0]}); its scores use the identical fast path.\n")
    n_streams = max((len(pooled(res, d).streams) for d in dets), default=0)
    out.append("In parentheses: the 95 % interval. Sensitivity and precision: Wilson score interval (each "
               "twitch, or each detection, an independent trial). F1: percentile bootstrap over the "
               f"{n_streams} scenario × seed streams ({ci.N_BOOT} resamples of the streams with replacement, their "
               "hits, false and missed summed, F1 recomputed; fixed seed). False twitches per minute: exact "
               "(Garwood) Poisson interval for the count over the minutes. None of them covers the choice of "
               "scenarios or of the simulator itself.\n")

    # per scenario F1
    out.append("## Per scenario: F1 (sensitivity / precision); controls: false twitches per minute\n")
    rows = []
    for sc, per in res.tallies.items():
        row = [sc]
        for d in dets:
            t = per.get(d)
            if t is None:
                row.append("–")
            elif t.control_minutes > 0:
                row.append(f"{f2(t.control_fp_per_min)}/min" + (" ⚠" if t.errors else ""))
            else:
                row.append(f"{f3(t.f1)} ({f3(t.sensitivity)}/{f3(t.precision)})" + (" ⚠" if t.errors else ""))
        rows.append(row)
    out.append(table(["scenario"] + [SHORT[d] for d in dets], rows))
    out.append("")

    # sensitivity by amplitude
    out.append("## Sensitivity by truth amplitude (peak-to-peak on its channel, all twitch scenarios)\n")
    labels = [f"{AMP_EDGES_UV[i]:g}–{AMP_EDGES_UV[i + 1]:g} µV".replace("–inf µV", "+ µV")
              for i in range(len(AMP_EDGES_UV) - 1)]
    rows = []
    for b, lab in enumerate(labels):
        row = [lab, str(next(iter(res.amp_bins.values()))[b][1]) if res.amp_bins else "0"]
        for d in dets:
            h, n = res.amp_bins.get(d, [[0, 0]] * len(labels))[b]
            row.append(f3(h / n) if n else "–")
        rows.append(row)
    out.append(table(["amplitude", "twitches"] + [SHORT[d] for d in dets], rows))
    out.append("")

    # where the false detections fall
    out.append("## Where the false detections fall (all scenarios; counts)\n")
    out.append("Each unmatched detection is put in the first class that holds: a crosstalk copy of a twitch "
               "(±15 ms, same channel), inside a truth segment of that kind (on its channel), within the first "
               f"{WARMUP_S:g} s of the stream (warm-up), else `none` (clean background).\n")
    rows = []
    for d in dets:
        tot = dict.fromkeys(FP_CAUSES, 0)
        for per in res.fp_causes.get(d, {}).values():
            for k, v in per.items():
                tot[k] += v
        rows.append([d] + [str(tot[k]) for k in FP_CAUSES] + [str(sum(tot.values()))])
    out.append(table(["detector"] + list(FP_CAUSES) + ["total"], rows))
    out.append("")
    if ENGINE in res.fp_causes:
        rows = [[sc] + [str(v[k]) for k in FP_CAUSES] for sc, v in res.fp_causes[ENGINE].items() if sum(v.values())]
        if rows:
            out.append("Engine's false detections by scenario:\n")
            out.append(table(["scenario"] + list(FP_CAUSES), rows))
            out.append("")

    # per scenario details
    out.append("## Per scenario details\n")
    rows = []
    for sc, per in res.tallies.items():
        for d in dets:
            t = per.get(d)
            if t is None:
                continue
            rows.append([sc, SHORT[d], str(t.tp + t.fn), str(t.tp), str(t.fp), str(t.fn), str(t.crosstalk_fp),
                         f3(t.sensitivity), f3(t.precision), f3(t.f1), f2(t.control_fp_per_min),
                         f2(t.segment_fp_per_min), f1(t.median_abs_error_ms),
                         fint(res.nk_public.get(sc, {}).get("x_realtime", math.nan) if d == NK else t.x_realtime),
                         (t.errors[0] if t.errors else "")])
    out.append(table(["scenario", "detector", "truth", "hit", "false", "missed", "xtalk", "Se", "P", "F1",
                      "false/min ctrl", "false/min vol+motion", "med abs err ms", "×RT", "error"], rows))
    out.append("")

    # real data
    out.append("## Real recordings\n")
    if real.get("skipped"):
        out.append(f"Skipped: {real['skipped']}.\n")
    else:
        for note in real.get("notes", []):
            out.append(f"- {note}")
        if real["injected"]:
            out.append("### Simulated twitches injected into real rest EMG (`inject_twitches`, "
                       f"seeds {meta['seeds'][0]}..{meta['seeds'][-1]}); voluntary activity ±0.5 s excluded\n")
            rows = []
            tot = {d: Tally() for d in dets}
            for name, v in real["injected"].items():
                row = [name, f"{v['minutes']:.1f} ({v['excluded_minutes']:.1f} excl.)"]
                for d in dets:
                    t = v["tallies"].get(d)
                    if t is None:
                        row.append("–")
                        continue
                    tot[d] = tot[d].add(t)
                    row.append(f"{f3(t.f1)} ({f3(t.sensitivity)}/{f3(t.precision)})" + (" ⚠" if t.errors else ""))
                rows.append(row)
            rows.append(["**all**", ""] + [f"**{f3(tot[d].f1)}** ({f3(tot[d].sensitivity)}/{f3(tot[d].precision)})"
                                            for d in dets])
            out.append(table(["background", "minutes"] + [SHORT[d] for d in dets], rows))
            out.append("")
            out.append("Cells: F1 (sensitivity / precision). " + "; ".join(
                f"{SHORT[d]} median abs err {f1(tot[d].median_abs_error_ms)} ms" for d in dets) + ".\n")
            out.append("Where the false detections on these backgrounds fall: the rest recordings carry no labels, "
                       "so a detection that matches no injected twitch counts as false even where the background "
                       "itself holds a potential. `on background` counts the false ones that coincide (±15 ms, "
                       "one-to-one) with an event the same detector reports on the unaltered recording; they stay "
                       "counted as false everywhere else in this report. A high count says the injection itself "
                       "made few new false detections; it does not say the background events are real potentials "
                       "(a detector that fires on background noise is lifted just as much). How often each "
                       "detector fires on the unaltered recordings is in the next table.\n")
            out.append(table(["detector", "false", "on background", "precision", "precision with those set aside"],
                             [[SHORT[d], str(tot[d].fp), str(tot[d].background_fp), f3(tot[d].precision),
                               f3(tot[d].precision_without_background)] for d in dets]))
            out.append("")
        out.append("### Unaltered real recordings (no labels): events per minute (outside detected voluntary "
                   "activity)\n")
        rows = []
        for name, v in real["unaltered"].items():
            row = [name, f"{v['rate_hz']:g}", f"{v['minutes']:.2f}"]
            for d in dets:
                x = v["detectors"].get(d)
                if x is None:
                    row.append("–")
                elif x.get("error"):
                    row.append(f"{f1(x['per_min'])} ⚠ {x['error']}")
                else:
                    row.append(f"{f1(x['per_min'])} ({f1(x['outside_activity_per_min'])})")
            rows.append(row)
        out.append(table(["recording", "Hz", "min"] + [SHORT[d] for d in dets], rows))
        out.append("")
        out.append("What the files are (SOURCE.md): " + "; ".join(
            f"{k}: {v['note']}" for k, v in real["unaltered"].items()) + ".\n")

    # latency and throughput
    out.append("## Engine latency and throughput\n")
    if lat:
        out.append(f"10 ms blocks (EMG + accelerometer), {lat['n']} matched events over "
                   f"{len(lat['per_scenario'])} twitch scenarios (seeds {', '.join(map(str, lat['seeds']))}, {lat['seconds']:g} s each): "
                   f"latency from the truth potential's end to the end of the block that returned the event: "
                   f"median **{f1(lat['median_ms'])} ms**, 95th percentile {f1(lat['p95_ms'])} ms, "
                   f"max **{f1(lat['max_ms'])} ms**; {lat['flushed']} matched events came only from flush().\n")
        rows = [[sc, str(v["n"]), f1(v["median_ms"]), f1(v["max_ms"]), fint(v["x_realtime_10ms_blocks"])]
                for sc, v in lat["per_scenario"].items()]
        out.append(table(["scenario", "events", "median ms", "max ms", "× real time (10 ms blocks, median over seeds)"], rows))
        out.append("")
    if thr:
        out.append(f"Throughput, engine alone, best of {thr['repeat']} on `{thr['scenario']}` "
                   f"({thr['seconds']:g} s, 2 EMG at 2 kHz + 3-axis accelerometer at 1 kHz, 100 ms blocks, one "
                   f"process): **{fint(thr['x_realtime'])}× real time** on the process's CPU time "
                   f"({fint(thr.get('x_realtime_wall', math.nan))}× on wall time).\n")
        if "replay_1s" in thr:
            r1 = thr["replay_1s"]
            out.append(f"In 1 s blocks (what a fast replay feeds it): {fint(r1['x_realtime'])}× real time on CPU "
                       f"time ({fint(r1['x_realtime_wall'])}× on wall time).\n")

    # targets
    eng = pooled(res, ENGINE) if any(ENGINE in per for per in res.tallies.values()) else Tally()
    targets = []

    def tgt(name: str, value: float, ok: bool, fmt: str, interval: tuple[float, float] | None = None,
            target: float | None = None, more: str = "", ifmt=f2) -> None:
        entry = {"target": name, "value": value, "pass": bool(ok)}
        line = f"- **{'PASS' if ok else 'MISS'}** {name}: {fmt}"
        if interval is not None:
            lo, hi = interval
            inside = None if math.isnan(lo) or math.isnan(hi) else bool(lo <= target <= hi)
            entry.update({"ci95": list(interval), "target_inside_ci95": inside})
            line += f" (95 % CI {fci(interval, ifmt)}: {ci.target_phrase(lo, hi, target, more)})"
        targets.append(entry)
        out.append(line)

    if rates:
        sd = rates["seeds"]
        out.append("## Engine false-twitch rates over more seeds\n")
        out.append(f"The engine alone (100 ms blocks) on the {len(rates['scenarios'])} scenarios with twitch-free "
                   f"control time or voluntary/motion segments ({', '.join(rates['scenarios'])}), seeds "
                   f"{sd[0]}..{sd[-1]} x {rates['minutes_per_stream']:g} min: the two false-twitch rates with more "
                   f"minutes behind them than the main run's (which are among these streams). The targets below "
                   f"are judged on these.\n")
        kinds = rates["segment_fp_by_kind"]
        per_min = lambda k, m: k / m if m else math.nan  # noqa: E731
        indep = rates.get("cable_independent")

        def rate_rows(r: dict, suffix: str) -> list[list[str]]:
            return [[f"{name}{suffix}", str(r[f"{key}_fp"]), f"{r[f'{key}_minutes']:.1f}",
                     with_ci(f2(per_min(r[f"{key}_fp"], r[f"{key}_minutes"])), tuple(r[f"{key}_ci95"]), f2)]
                    for name, key in (("twitch-free controls", "control"), ("voluntary/motion segments", "segment"))]

        rows = rate_rows(rates, "")
        if indep:
            rows += rate_rows(indep, " — cable spikes independent of movement")
        out.append(table(["", "false twitches", "minutes", "per min (95 % CI)"], rows))
        out.append("")
        out.append(f"Of the false twitches inside voluntary/motion segments: {kinds['voluntary']} in voluntary, "
                   f"{kinds['motion']} in motion segments; {rates['segment_fp_within_edge']} lie within "
                   f"{rates['edge_ms']:g} ms of the segment's start or end (onsets, where the accelerometer and "
                   f"the EMG have not yet shown the movement or contraction).\n")
        if indep:
            ik = indep["segment_fp_by_kind"]
            out.append(f"*Cable spikes independent of movement*: the scenarios with walking "
                       f"({', '.join(indep['scenarios'])}) run again with `cable_spikes_follow_motion=False`, the "
                       f"simulator before 2026-12-04, whose cable-motion spikes come at a constant rate from a "
                       f"walking bout's first sample, before the accelerometer shows any movement (the default now "
                       f"thins them by the bout's movement envelope; docs/simulator.md). The other streams are the "
                       f"same under both. There: {ik['voluntary']} in voluntary, {ik['motion']} in motion "
                       f"segments, {indep['segment_fp_within_edge']} within {rates['edge_ms']:g} ms of an edge. "
                       f"The targets are judged on the default simulator; this row shows what that choice is "
                       f"worth.\n")

    out.append("## Targets (twitchwatch engine)\n")
    eng_ci = intervals_of(eng)
    tgt(f"overall F1 ≥ {TARGET_F1}", eng.f1, eng.f1 >= TARGET_F1, f3(eng.f1), eng_ci["f1"], TARGET_F1,
        "streams", f3)
    for name, key, fp, minutes in (("in controls", "control", eng.control_fp, eng.control_minutes),
                                   ("during voluntary/motion", "segment", eng.segment_fp, eng.segment_minutes)):
        main_run = f"{f2(fp / minutes if minutes else math.nan)}/min, {fp} in {minutes:.1f} min"
        if rates:
            k, mins = rates[f"{key}_fp"], rates[f"{key}_minutes"]
            rate = k / mins if mins else math.nan
            indep = rates.get("cable_independent")
            alt = ""
            if indep:
                ik, im = indep[f"{key}_fp"], indep[f"{key}_minutes"]
                alt = (f"; with cable spikes independent of movement (simulator before 2026-12-04): "
                       f"{f2(ik / im if im else math.nan)}/min, {ik} in {im:.1f} min")
            tgt(f"false twitches {name} ≤ {TARGET_FP_PER_MIN}/min", rate, bool(mins) and rate <= TARGET_FP_PER_MIN,
                f"{f2(rate)}/min, {k} in {mins:.1f} min over seeds {rates['seeds'][0]}..{rates['seeds'][-1]} "
                f"(main run: {main_run}{alt})", tuple(rates[f"{key}_ci95"]), TARGET_FP_PER_MIN, "minutes")
        else:
            tgt(f"false twitches {name} ≤ {TARGET_FP_PER_MIN}/min", fp / minutes if minutes else math.nan,
                minutes > 0 and fp / minutes <= TARGET_FP_PER_MIN, main_run,
                eng_ci[f"{key}_fp_per_min"], TARGET_FP_PER_MIN, "minutes")
    xrt = thr["x_realtime"] if thr else eng.x_realtime
    in_1s = f" (1 s blocks: {fint(thr['replay_1s']['x_realtime'])}×)" if thr and "replay_1s" in thr else ""
    tgt(f"≥ {TARGET_XRT:g}× real time on one core", xrt, xrt >= TARGET_XRT, f"{fint(xrt)}× in 100 ms blocks{in_1s}")
    if lat:
        tgt(f"latency ≤ {TARGET_LATENCY_MS:g} ms (max)", lat["max_ms"], lat["max_ms"] <= TARGET_LATENCY_MS,
            f"median {f1(lat['median_ms'])} ms, max {f1(lat['max_ms'])} ms")
    out.append("")
    for p in res.problems:
        out.append(f"- problem: {p}")
    out.append("Plots: `f1_per_scenario.png`, `false_per_min_controls.png`, "
               f"`raster_{res.raster['scenario'] if res.raster else 'none'}.png` in the output folder.\n")

    data = {
        "meta": meta,
        "scenarios": {sc: {d: t.to_json_dict() for d, t in per.items()} for sc, per in res.tallies.items()},
        "overall": {d: {**pooled(res, d).to_json_dict(), "x_realtime_reported": throughput_of(res, d),
                        "ci95": {k: list(v) for k, v in overall_ci[d].items()}} for d in dets},
        "interval_methods": INTERVAL_METHODS,
        "neurokit2_public_call": res.nk_public,
        "real": _real_json(real),
        "latency": lat,
        "engine_rates": rates,
        "engine_throughput": thr,
        "targets": targets,
        "problems": res.problems,
        "false_detection_causes": res.fp_causes,
        "sensitivity_by_amplitude": {"edges_uv": list(AMP_EDGES_UV), "hit_total": res.amp_bins},
    }
    return "\n".join(out), data


def _real_json(real: dict) -> dict:
    j = {k: v for k, v in real.items() if k != "injected"}
    j["injected"] = {name: {**{k: v for k, v in val.items() if k != "tallies"},
                            "detectors": {d: t.to_json_dict() for d, t in val["tallies"].items()}}
                     for name, val in real.get("injected", {}).items()}
    return j


def _nan_to_none(obj):
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {str(k): _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, np.generic):
        return _nan_to_none(obj.item())
    return obj


# ---------------------------------------------------------------------------- plots
def plots(res: SimResults, outdir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    dets = [d for d in DETECTORS if any(d in per for per in res.tallies.values())]
    colors = dict(zip(DETECTORS, ["#1b7837", "#7fbf7b", "#2166ac", "#b2182b", "#888888"]))
    twitch = [sc for sc, per in res.tallies.items() if not any(t.control_minutes > 0 for t in per.values())]
    controls = [sc for sc in res.tallies if sc not in twitch]
    w = 0.8 / max(1, len(dets))
    if twitch:
        fig, ax = plt.subplots(figsize=(max(8, 1.0 * len(twitch) + 2), 4.5))
        x = np.arange(len(twitch))
        for i, d in enumerate(dets):
            vals = [res.tallies[sc][d].f1 if d in res.tallies[sc] else np.nan for sc in twitch]
            ax.bar(x + (i - (len(dets) - 1) / 2) * w, np.nan_to_num(vals), w, label=d, color=colors[d])
        ax.axhline(TARGET_F1, color="k", ls="--", lw=0.8, label=f"target {TARGET_F1}")
        ax.set_xticks(x, twitch, rotation=30, ha="right")
        ax.set_ylabel("F1 (±15 ms, same channel)")
        ax.set_ylim(0, 1.05)
        ax.set_title("Twitch detection F1 per scenario")
        ax.set_xlim(-0.5, len(twitch) - 0.5)
        ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3))
        fig.tight_layout()
        fig.savefig(outdir / "f1_per_scenario.png", dpi=110)
        plt.close(fig)
        made.append("f1_per_scenario.png")
    if controls:
        fig, ax = plt.subplots(figsize=(max(7, 1.2 * len(controls) + 2), 4.5))
        x = np.arange(len(controls))
        for i, d in enumerate(dets):
            vals = [res.tallies[sc][d].control_fp_per_min if d in res.tallies[sc] else np.nan for sc in controls]
            xs = x + (i - (len(dets) - 1) / 2) * w
            v = np.nan_to_num(np.asarray(vals, dtype=float))
            ax.bar(xs, np.where(v > 0, v, np.nan), w, label=d, color=colors[d])
            for xi, vi in zip(xs, v):
                if vi <= 0:
                    ax.text(xi, 0.012, "0", ha="center", va="bottom", fontsize=7, color=colors[d])
        ax.axhline(TARGET_FP_PER_MIN, color="k", ls="--", lw=0.8, label=f"target {TARGET_FP_PER_MIN}/min")
        ax.set_yscale("log")
        ax.set_ylim(0.01, None)
        ax.set_xlim(-0.5, len(controls) - 0.5)
        ax.set_xticks(x, controls, rotation=20, ha="right")
        ax.set_ylabel("false twitches per minute (log; zeros written as 0)")
        ax.set_title("Twitch-free controls")
        ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.25))
        fig.tight_layout()
        fig.savefig(outdir / "false_per_min_controls.png", dpi=110)
        plt.close(fig)
        made.append("false_per_min_controls.png")
    r = res.raster
    if r:
        rate = r["rate_hz"]
        nch = len(r["labels"])
        rows_per_ch = len(dets) + 1
        fig, ax = plt.subplots(figsize=(14, 1.0 + 0.35 * rows_per_ch * nch))
        kind_col = {"voluntary": "#fdb863", "motion": "#b2abd2", "pop": "#f4a582", "ecg": "#d9f0d3",
                    "mains_burst": "#c7eae5", "lead_off": "#bababa"}
        yt, yl = [], []
        for ch in range(nch):
            base = ch * (rows_per_ch + 1)
            for s, e, c, k in r["segments"]:
                if c is None or c == ch:
                    ax.axvspan(s / rate, e / rate, ymin=0, ymax=1, color=kind_col.get(k, "#eeeeee"), alpha=0.25, lw=0)
            y = base + rows_per_ch - 1
            ts = [i / rate for i, c in r["truth"] if c == ch]
            ax.vlines(ts, y - 0.4, y + 0.4, color="k", lw=1.2)
            xs = [i / rate for i, c in r["crosstalk"] if c == ch]
            ax.vlines(xs, y - 0.4, y + 0.4, color="k", lw=0.8, linestyles="dotted")
            yt.append(y)
            yl.append(f"{r['labels'][ch]} truth")
            for j, d in enumerate(dets):
                y = base + rows_per_ch - 2 - j
                ts = [i / rate for i, c in r["detections"].get(d, []) if c == ch]
                ax.vlines(ts, y - 0.4, y + 0.4, color=colors[d], lw=1.0)
                yt.append(y)
                yl.append(f"{r['labels'][ch]} {SHORT[d]}")
        ax.set_yticks(yt, yl, fontsize=7)
        ax.set_xlim(0, r["seconds"])
        ax.set_xlabel("time (s)")
        ax.set_title(f"{r['scenario']} (seed {r['seed']}): truth (black; dotted = crosstalk copy) and detections; "
                     "shaded = truth segments (orange voluntary, purple motion, red pop, grey lead-off)", fontsize=9)
        fig.tight_layout()
        name = f"raster_{r['scenario']}.png"
        fig.savefig(outdir / name, dpi=110)
        plt.close(fig)
        made.append(name)
    return made


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="minutes per simulated stream (default 5)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per scenario (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 seed x 0.5 min, short real files")
    ap.add_argument("--scenarios", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--raster", default="mixed", help="scenario drawn in the raster plot")
    ap.add_argument("--no-real", action="store_true", help="skip the real recordings")
    ap.add_argument("--real-root", default=None, help="folder of the real recordings "
                    "(default <repo>/../shared/data/real)")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--rate-seeds", type=int, default=20, help="seeds of the engine-only false-twitch rate run "
                    "(default 20; 0 skips it)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results"))
    args = ap.parse_args(argv)

    from twitchwatch.detect import DETECTOR_VERSION
    from twitchwatch.sim import SCENARIOS

    if args.quick:
        args.minutes, args.seeds, args.rate_seeds = min(args.minutes, 0.5), 1, 0
    scenarios = [s for s in args.scenarios.split(",") if s] or list(SCENARIOS)
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenarios: {', '.join(unknown)}")
    seeds = [BASE_SEED + i for i in range(args.seeds)]
    duration_s = args.minutes * 60.0
    outdir = Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    raster = args.raster if args.raster in scenarios else next(
        (s for s in scenarios if not SCENARIOS[s].is_control), scenarios[0])
    t_start = time.perf_counter()
    warmup_s = warm_up_engine()
    log(f"engine warm-up (numba compile or cache load): {warmup_s:.1f} s, not counted in x real time")

    res = run_simulated(scenarios, seeds, duration_s, raster, raster_s=min(60.0, duration_s),
                        nk_check_s=min(60.0, duration_s))
    root = Path(args.real_root) if args.real_root else realdata.default_root(REPO)
    if args.no_real:
        real = {"skipped": "--no-real given", "injected": {}, "unaltered": {}}
    elif not root.is_dir():
        real = {"skipped": f"{root} is absent (expected <repo>/../shared/data/real)", "injected": {}, "unaltered": {}}
        log(f"real-data part skipped: {real['skipped']}")
    else:
        real = run_real(root, seeds, 0.5 if args.quick else None)
    rates = (measure_engine_rates(scenarios, [BASE_SEED + i for i in range(args.rate_seeds)], duration_s)
             if args.rate_seeds > 0 else None)
    twitch_sc = [s for s in scenarios if not SCENARIOS[s].is_control]
    lat = measure_latency(twitch_sc, duration_s, seeds) if twitch_sc else None
    thr = measure_engine_throughput("mixed" if "mixed" in SCENARIOS else scenarios[0], duration_s, seeds[0],
                                    repeat=1 if args.quick else 3)
    # the same in 1 s blocks: what a fast replay feeds (Pipeline detect_every_s=1.0)
    thr["replay_1s"] = measure_engine_throughput(thr["scenario"], duration_s, seeds[0],
                                                 repeat=1 if args.quick else 3, block_ms=1000.0)
    meta = {
        "command": "python bench/detect_bench.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "engine_version": DETECTOR_VERSION, "scenarios_n": len(scenarios), "seeds": seeds,
        "minutes": args.minutes, "nk_check_s": min(60.0, duration_s), "tol_ms": TOL_MS,
        "machine": f"{platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}",
        "wall_s": time.perf_counter() - t_start, "sim_seconds": res.sim_seconds, "warmup_s": warmup_s,
    }
    text, data = render(res, real, lat, thr, args, meta, rates)
    if not args.no_plots:
        data["plots"] = plots(res, outdir)
    (outdir / "detect_bench.md").write_text(text + "\n")
    (outdir / "detect_bench.json").write_text(json.dumps(_nan_to_none(data), indent=1, ensure_ascii=False) + "\n")
    print(text, flush=True)
    log(f"wrote {outdir / 'detect_bench.md'}, {outdir / 'detect_bench.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
