"""Two versions of the detection engine side by side, in one process: same events? how fast?

    .venv/bin/python bench/detect/engine_ab.py equiv OLD_DETECT_DIR [--minutes M] [--seeds N] [--blocks 10 100 1000]
    .venv/bin/python bench/detect/engine_ab.py speed OLD_DETECT_DIR [--minutes M] [--repeat R] [--blocks 100 1000]
    .venv/bin/python bench/detect/engine_ab.py interleaved OLD_DETECT_DIR [--minutes 10] [--scenarios mixed ...] [--rate 2000]

``OLD_DETECT_DIR`` is another checkout's ``host/twitchwatch/detect`` directory, e.g.
``git archive fcd527d host | tar -x -C /tmp/engine_old`` then
``/tmp/engine_old/host/twitchwatch/detect``. The package is self-contained (relative
imports only), so it is loaded under another name next to the current one.

``equiv``: every simulator scenario (``twitchwatch.sim``, seeds 1000..), fed as a live
stream (``bench.detect.runners.run_engine``: EMG and accelerometer blocks interleaved)
in each block length; compares, old vs new: the events (every field, and the EMG index
at which each was returned), the artefact segments, the counters, the final channel
quality, and every candidate's features at its decision (bit for bit: floats by their
hex form, arrays by their bytes). Exit status 1 on any difference. ``--gaps``: the same
with lost blocks announced by ``mark_gap`` (filters restart, floor reset).

``speed``: process CPU time and wall time of the engine alone (no artefact collection),
old and new alternated, best of ``repeat``, on the ``mixed`` scenario and on the
synthetic stream of ``tests/detect/engine_throughput.py``. Only the ratio of the two is
meaningful on a shared machine; the day-to-day speed of the machine varies.

``interleaved``: old and new fed the same 1-s blocks (``--blocks``) of each scenario (seed
1, EMG at ``--rate``) in one process, block by block, which one goes first alternating
every block: the process CPU each spent, their ratio, and whether they said the same
(events, artefacts, counters, quality). Both see the same load at the same moments,
which makes this the steadiest comparison on a busy machine (separate runs there differ
by 10-20 %). As a fast replay does, BLAS is held at one thread
(``mains.hold_one_blas_thread``, where the version has it).

Numba caches the OLD package's kernels in its own ``__pycache__`` under the name it is
loaded as here (``twitchwatch_detect_old``): a tree used as OLD cannot then be imported as
``twitchwatch`` from the same cache (ModuleNotFoundError); use a throw-away export.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
for p in (REPO, REPO / "host", REPO / "tests" / "detect"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench.detect.runners import StreamRun, run_engine  # noqa: E402


def load_detect(path: Path, name: str):
    """Import the detect package at ``path`` as the top-level package ``name``."""
    spec = importlib.util.spec_from_file_location(name, path / "__init__.py", submodule_search_locations=[str(path)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _canon(v):
    """A comparable, exact form: floats by hex (NaN equal to NaN), arrays by dtype, shape, bytes."""
    if isinstance(v, (float, np.floating)):
        return float(v).hex()
    if isinstance(v, np.ndarray):
        return (str(v.dtype), v.shape, v.tobytes())
    if isinstance(v, (list, tuple)):
        return tuple(_canon(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _canon(x)) for k, x in v.items()))
    if isinstance(v, (np.integer, np.bool_)):
        return v.item()
    return v


CAND_FIELDS = ("channel", "start", "last", "peak", "peak_abs", "peak_ratio", "overlong", "need_emg", "sigma",
               "amp_pp", "duration_ms", "n_phases", "polarity", "shape", "lf_pp", "step_uv", "rail", "burst",
               "act_pre", "act_post", "act_post_low", "act_recent", "ecg_shape", "ecg_beat", "lobes",
               "motion_onset", "extra", "is_event")


def run_with_gaps(make, emg, rate, acc, acc_rate, block_ms: float) -> StreamRun:
    """As ``run_engine``, but some blocks are lost and announced with ``mark_gap``: EMG
    blocks 37, 38, 113 and 300-359 of every 400 (the last longer than the noise floor's
    history), accelerometer blocks 71, 72 and 250 of every 400 (block numbers at 100 ms
    blocks, scaled to ``block_ms``)."""
    b_emg, b_acc = max(1, int(round(block_ms * 1e-3 * rate))), max(1, int(round(block_ms * 1e-3 * acc_rate)))
    scale = 100.0 / block_ms

    def lost(k: int, spans) -> bool:
        t = (k / scale) % 400
        return any(a <= t < b for a, b in spans)

    det = make()
    events, returned_at, artefacts = [], [], []
    n, m = emg.shape[0], acc.shape[0]
    t0 = time.perf_counter()
    for k in range(-(-n // b_emg)):
        s, e = k * b_emg, min(n, (k + 1) * b_emg)
        if lost(k, ((37, 39), (113, 114), (300, 360))):
            det.mark_gap("emg", s, e - s)
            out = []
        else:
            out = det.process_emg(emg[s:e], s)
        a0, a1 = k * b_acc, min(m, (k + 1) * b_acc)
        if a1 > a0:
            if lost(k, ((71, 73), (250, 251))):
                det.mark_gap("acc", a0, a1 - a0)
            else:
                out = out + det.process_acc(acc[a0:a1], a0)
        events.extend(out)
        returned_at.extend([e] * len(out))
        artefacts.extend(det.pop_artefacts())
    tail = det.flush()
    events.extend(tail)
    returned_at.extend([None] * len(tail))
    artefacts.extend(det.pop_artefacts())
    return StreamRun(events=events, wall_s=time.perf_counter() - t0, returned_at=returned_at, artefacts=artefacts)


def run_recorded(mod, rec, block_ms: float, gaps: bool = False) -> dict:
    """One streamed run; everything the engine says, plus each candidate at its decision."""
    rate, acc_rate = float(rec.emg_rate_hz), float(rec.acc_rate_hz)
    cands: list = []

    def make():
        det = mod.TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=acc_rate)
        inner = det._decide

        def decide(cand):
            inner(cand)
            cands.append(tuple(_canon(getattr(cand, f)) for f in CAND_FIELDS))

        det._decide = decide
        make.det = det
        return det

    run = (run_with_gaps if gaps else run_engine)(make, rec.emg_uv, rate, rec.acc_mg, acc_rate, block_ms=block_ms)
    det = make.det
    return {
        # the version string is left out: a version bump alone is not a difference
        "events": [_canon(tuple(v for k, v in vars(e).items() if k != "detector")) for e in run.events],
        "returned_at": list(run.returned_at),
        "artefacts": [_canon(tuple(vars(a).values())) for a in run.artefacts],
        "counts": dict(det.counts),
        "quality": [_canon(tuple(vars(q).values())) for q in det.quality()],
        "candidates": cands,
    }


def _first_diff(a: list, b: list) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at #{i}: old {str(x)[:300]} / new {str(y)[:300]}"
    return f"lengths {len(a)} vs {len(b)}"


def equiv(old, new, args) -> int:
    from twitchwatch.sim import SCENARIOS, simulate

    n_bad = 0
    totals = dict.fromkeys(("events", "artefacts", "candidates"), 0)
    runs = 0
    for sc in (args.scenarios or list(SCENARIOS)):
        for seed in range(1000, 1000 + args.seeds):
            rec = simulate(sc, args.minutes * 60.0, seed)
            for block_ms in args.blocks:
                t0 = time.perf_counter()
                a = run_recorded(old, rec, block_ms, args.gaps)
                t1 = time.perf_counter()
                b = run_recorded(new, rec, block_ms, args.gaps)
                t2 = time.perf_counter()
                runs += 1
                bad = [k for k in a if a[k] != b[k]]
                for k in totals:
                    totals[k] += len(a[k])
                status = "same" if not bad else "DIFFERENT: " + ", ".join(bad)
                print(f"{sc:22s} seed {seed} {block_ms:6g} ms: {len(a['events']):4d} events, "
                      f"{len(a['artefacts']):4d} artefacts, {len(a['candidates']):5d} candidates; "
                      f"old {t1 - t0:5.2f} s, new {t2 - t1:5.2f} s: {status}", flush=True)
                for k in bad:
                    n_bad += 1
                    x, y = a[k], b[k]
                    print(f"    {k}: " + (_first_diff(x, y) if isinstance(x, list) else f"old {x} / new {y}"))
    print(f"{runs} runs, {totals['events']} events, {totals['artefacts']} artefact segments, "
          f"{totals['candidates']} candidates compared: " + ("all identical" if not n_bad else f"{n_bad} differences"))
    return 1 if n_bad else 0


def _time_run(feed) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    feed()
    return time.process_time() - c0, time.perf_counter() - w0


def speed(old, new, args) -> int:
    from detect_synth import RATE_HZ, make_recording
    from engine_synth import quiet_acc
    from twitchwatch.sim import simulate

    streams = []
    rec = simulate("mixed", args.minutes * 60.0, 1000)
    streams.append(("mixed (seed 1000)", rec.emg_uv, float(rec.emg_rate_hz), tuple(rec.emg_labels),
                    rec.acc_mg, float(rec.acc_rate_hz)))
    dur = args.minutes * 60.0
    emg, _truth = make_recording(0, dur)
    emg[:, 1] += 20.0 * np.sin(2 * np.pi * 50.0 * np.arange(emg.shape[0]) / RATE_HZ)
    streams.append(("engine_throughput synthetic", emg, float(RATE_HZ), ("emg0", "emg1"),
                    quiet_acc(int(dur * 1000), 0), 1000.0))
    print(f"{args.minutes:g} min per stream, best of {args.repeat} (old and new alternated); "
          "x real time = signal seconds / seconds")
    print(f"{'stream':30s} {'block':>7s}  {'old CPU':>8s} {'new CPU':>8s} {'ratio':>6s}  "
          f"{'old wall':>8s} {'new wall':>8s} {'ratio':>6s}")
    for name, emg_uv, rate, labels, acc, acc_rate in streams:
        secs = emg_uv.shape[0] / rate
        for block_ms in args.blocks:
            best = {"old": [math.inf, math.inf], "new": [math.inf, math.inf]}
            for _ in range(args.repeat):
                for tag, mod in (("old", old), ("new", new)):
                    cpu, wall = _time_run(lambda: run_engine(
                        lambda: mod.TwitchDetector(rate, labels, acc_rate_hz=acc_rate), emg_uv, rate, acc, acc_rate,
                        block_ms=block_ms, collect_artefacts=False))
                    best[tag] = [min(best[tag][0], cpu), min(best[tag][1], wall)]
            oc, ow = (secs / v for v in best["old"])
            nc, nw = (secs / v for v in best["new"])
            print(f"{name:30s} {block_ms:5g}ms  {oc:7.0f}x {nc:7.0f}x {nc / oc:5.2f}x  {ow:7.0f}x {nw:7.0f}x {nw / ow:5.2f}x",
                  flush=True)
    return 0


def interleaved(old, new, args) -> int:
    from twitchwatch.sim import simulate

    for mod in (new, old):
        mains = importlib.import_module(mod.__name__ + ".mains")
        if hasattr(mains, "hold_one_blas_thread"):
            mains.hold_one_blas_thread()
    block_s = args.blocks[0] * 1e-3
    print(f"{args.minutes:g} min per scenario, seed 1, EMG at {args.rate:g} Hz, {block_s * 1e3:g} ms blocks, "
          "old and new alternating block by block; process CPU s")
    n_bad = 0
    for sc in (args.scenarios or ["mixed", "benign_clean", "ecg_contaminated", "electrode_pops"]):
        rec = simulate(sc, args.minutes * 60.0, 1, emg_rate_hz=args.rate)
        rate, acc_rate = float(rec.emg_rate_hz), float(rec.acc_rate_hz)
        be, ba = max(1, int(round(block_s * rate))), max(1, int(round(block_s * acc_rate)))
        dets = {k: m.TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=acc_rate) for k, m in
                (("old", old), ("new", new))}
        for m in (old, new):  # every compiled kernel loaded (or compiled) before timing: a throw-away run
            warm = m.TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=acc_rate)
            run_engine(lambda: warm, rec.emg_uv[: int(20 * rate)], rate, rec.acc_mg[: int(20 * acc_rate)], acc_rate,
                       block_ms=block_s * 1e3, collect_artefacts=False)
        for d in dets.values():
            d.process_emg(rec.emg_uv[:1], 0)
            d.process_acc(rec.acc_mg[:1], 0)
        cpu = dict.fromkeys(dets, 0.0)
        said: dict[str, list] = {k: [[], []] for k in dets}
        n_blocks = -(-(rec.emg_uv.shape[0] - 1) // be)
        for k in range(n_blocks):
            e0, e1 = 1 + k * be, min(rec.emg_uv.shape[0], 1 + (k + 1) * be)
            a0, a1 = min(rec.acc_mg.shape[0], 1 + k * ba), min(rec.acc_mg.shape[0], 1 + (k + 1) * ba)
            for tag in (("old", "new") if k % 2 else ("new", "old")):
                d = dets[tag]
                t = time.process_time()
                out = d.process_emg(rec.emg_uv[e0:e1], e0)
                if a1 > a0:
                    out += d.process_acc(rec.acc_mg[a0:a1], a0)
                cpu[tag] += time.process_time() - t
                said[tag][0] += out
                said[tag][1] += d.pop_artefacts()
        for tag, d in dets.items():
            said[tag][0] += d.flush()
            said[tag][1] += d.pop_artefacts()

        def canon(tag):
            d = dets[tag]
            return ([_canon(tuple(v for k, v in vars(e).items() if k != "detector")) for e in said[tag][0]],
                    [_canon(tuple(vars(a).values())) for a in said[tag][1]], dict(d.counts),
                    [_canon(tuple(vars(q).values())) for q in d.quality()])

        same = canon("old") == canon("new")
        n_bad += not same
        print(f"{sc:22s} old {cpu['old']:7.3f}  new {cpu['new']:7.3f}  new/old {cpu['new'] / cpu['old']:5.3f}  "
              f"{len(said['new'][0]):4d} events: {'same' if same else 'DIFFERENT'}", flush=True)
    return 1 if n_bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("equiv", "speed", "interleaved"))
    ap.add_argument("old", type=Path, help="the other version's host/twitchwatch/detect directory")
    ap.add_argument("--minutes", type=float, default=None, help="minutes per stream (equiv 2, speed 5)")
    ap.add_argument("--seeds", type=int, default=1, help="equiv: seeds per scenario (1000, 1001, ...)")
    ap.add_argument("--scenarios", nargs="*", default=None, help="equiv: scenario names (default all)")
    ap.add_argument("--blocks", type=float, nargs="*", default=None, help="block lengths, ms")
    ap.add_argument("--repeat", type=int, default=3, help="speed: best of")
    ap.add_argument("--gaps", action="store_true", help="equiv: lose some blocks (mark_gap), see run_with_gaps")
    ap.add_argument("--rate", type=float, default=2000.0, help="interleaved: EMG rate, Hz (default 2000)")
    args = ap.parse_args()
    if args.minutes is None:
        args.minutes = {"equiv": 2.0, "speed": 5.0, "interleaved": 10.0}[args.mode]
    if args.blocks is None:
        args.blocks = {"equiv": [10.0, 100.0, 1000.0], "speed": [100.0, 1000.0], "interleaved": [1000.0]}[args.mode]
    old = load_detect(args.old.resolve(), "twitchwatch_detect_old")
    import twitchwatch.detect as new

    return {"equiv": equiv, "speed": speed, "interleaved": interleaved}[args.mode](old, new, args)


if __name__ == "__main__":
    sys.exit(main())
