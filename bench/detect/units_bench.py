"""Motor-unit identity against the simulator's truth: does the engine count the units right?

Clinicians care how many motor units fasciculate. The simulator knows which unit fired
each twitch; the engine gives every event a ``unit_id`` from online shape clustering.
Over the twitches the engine found (matched ±15 ms, same channel), per stream:

- **units (truth / engine)**: units with at least ``--min-events`` matched events in
  the truth, and engine ids with at least that many matched events;
- **purity**: share of matched events whose engine id's most common true unit is theirs
  (1.0: no engine id mixes units);
- **completeness**: share of matched events that carry their true unit's most common
  engine id (1.0: no unit is split over several ids);
- **ARI**: adjusted Rand index of the two labelings (1 identical, ~0 chance).

Side by side, the same metrics for what a user could do instead with the same events:
**amplitude bins** (one "unit" per ±25 % amplitude band, the by-eye habit of counting
potentials of distinct sizes), and an **offline reference** that sees the whole
recording at once: average-linkage hierarchical clustering (scipy) of the same unit-norm
shapes, cut at the engine's own distance (0.35), amplitude ratio ignored — what a
non-causal tool with the same shape measure would give.

Run: ``.venv/bin/python bench/detect/units_bench.py [--minutes 5] [--seeds 3]``
(seeds from 1000, the detection benchmark's; ``--first-seed`` for others).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "host"))
sys.path.insert(0, str(ROOT))

from bench.detect.runners import run_engine  # noqa: E402
from twitchwatch.sim.matching import match_events  # noqa: E402

TOL_MS = 15.0


def ari(a: list[int], b: list[int]) -> float:
    """Adjusted Rand index of two labelings of the same items (Hubert & Arabie 1985)."""
    n = len(a)
    if n < 2:
        return float("nan")
    pairs = Counter(zip(a, b))
    comb = lambda k: k * (k - 1) / 2.0  # noqa: E731
    s_ij = sum(comb(v) for v in pairs.values())
    s_a = sum(comb(v) for v in Counter(a).values())
    s_b = sum(comb(v) for v in Counter(b).values())
    expected = s_a * s_b / comb(n)
    top = 0.5 * (s_a + s_b) - expected
    return 1.0 if top == 0 else (s_ij - expected) / top


def purity(pred: list[int], true: list[int]) -> float:
    """Share of items whose predicted cluster's most common true label is theirs."""
    if not pred:
        return float("nan")
    by: dict[int, Counter] = {}
    for p, t in zip(pred, true):
        by.setdefault(p, Counter())[t] += 1
    return sum(c.most_common(1)[0][1] for c in by.values()) / len(pred)


def amplitude_bins(amps: list[float]) -> list[int]:
    """One label per ±25 % amplitude band (log-spaced bins of ratio 1.25²)."""
    return [int(np.floor(np.log(max(a, 1e-9)) / np.log(1.25 ** 2))) for a in amps]


def offline_shapes(shapes: list[np.ndarray], max_distance: float) -> list[int]:
    """Average-linkage clustering of unit-norm shapes, cut at ``max_distance`` (L2)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(shapes) < 2:
        return [0] * len(shapes)
    x = np.stack([s / (np.linalg.norm(s) or 1.0) for s in shapes])
    z = linkage(x, method="average", metric="euclidean")
    return [int(v) for v in fcluster(z, t=max_distance, criterion="distance")]


def evaluate(scenario: str, seconds: float, seed: int, min_events: int) -> dict:
    from twitchwatch.detect import TwitchDetector
    from twitchwatch.sim import simulate

    rec = simulate(scenario, seconds, seed)
    rate = float(rec.emg_rate_hz)
    det = TwitchDetector(rate, tuple(rec.emg_labels), acc_rate_hz=float(rec.acc_rate_hz))
    # the shape each event was clustered with (the engine's own feature, for the offline reference)
    shapes: dict[tuple[int, int], np.ndarray] = {}
    inner = det._emit

    def emit(cand, *rest):
        shapes[(cand.peak, cand.channel)] = cand.shape[2:-2].copy()
        inner(cand, *rest)

    det._emit = emit
    run = run_engine(lambda: det, rec.emg_uv, rate, rec.acc_mg, float(rec.acc_rate_hz), block_ms=100.0,
                     collect_artefacts=False)
    truth = [(int(t.sample_index), int(t.channel)) for t in rec.twitches]
    m = match_events(truth, [(int(e.sample_index), int(e.channel)) for e in run.events], rate, TOL_MS)
    true_u = [int(rec.twitches[ti].unit_id) for ti, _ in m.pairs]
    events = [run.events[di] for _, di in m.pairs]
    engine_u = [int(e.unit_id) for e in events]
    # labelings per channel are independent: prefix every label with the channel
    ch = [int(e.channel) for e in events]
    amp_u = [c * 10**6 + b for c, b in zip(ch, amplitude_bins([float(e.amplitude_uv) for e in events]))]
    off_u: list[int] = [0] * len(events)
    cfg = det.config
    for c in sorted(set(ch)):
        idx = [i for i, cc in enumerate(ch) if cc == c]
        labels = offline_shapes([shapes[(int(events[i].sample_index), c)] for i in idx], cfg.unit_max_distance)
        for i, lab in zip(idx, labels):
            off_u[i] = c * 10**6 + lab
    out = {"matched": len(events), "true_units": _count(true_u, min_events)}
    for name, lab in (("engine", engine_u), ("amplitude bins", amp_u), ("offline shapes", off_u)):
        out[name] = {"units": _count(lab, min_events), "purity": purity(lab, true_u),
                     "completeness": purity(true_u, lab), "ari": ari(true_u, lab), "labels": lab}
    out["true_labels"] = true_u
    return out


def _count(labels: list[int], min_events: int) -> int:
    return sum(1 for v in Counter(labels).values() if v >= min_events)


def main() -> None:
    from tqdm import tqdm

    from twitchwatch.detect import DETECTOR_VERSION
    from twitchwatch.sim import SCENARIOS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--min-events", type=int, default=3, help="events for a unit to count (default 3)")
    args = ap.parse_args()
    scenarios = [s for s, sc in SCENARIOS.items() if not sc.is_control and sc.twitch_rate_per_min > 0]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    print(f"command: python bench/detect/units_bench.py --minutes {args.minutes:g} --seeds {args.seeds} "
          f"--first-seed {args.first_seed} --min-events {args.min_events}")
    print(f"engine {DETECTOR_VERSION}; {len(scenarios)} scenarios x seeds {seeds} x {args.minutes:g} min; "
          f"matched events only (±{TOL_MS:g} ms)\n")
    methods = ("engine", "amplitude bins", "offline shapes")
    rows: dict[str, list[dict]] = {}
    for sc in tqdm(scenarios, desc="units", unit="scenario", file=sys.stderr, dynamic_ncols=True):
        rows[sc] = [evaluate(sc, args.minutes * 60, sd, args.min_events) for sd in seeds]
    head = f"{'scenario':22s} {'events':>6s} {'true units':>10s} | " + " | ".join(
        f"{m[:14]:>14s}: units purity compl   ARI" for m in methods)
    print(head)
    pooled = {m: {"true": [], "pred": []} for m in methods}
    for sc, rs in rows.items():
        cells = []
        for m in methods:
            u = sum(r[m]["units"] for r in rs)
            n = sum(r["matched"] for r in rs)
            w = lambda key: sum(r[m][key] * r["matched"] for r in rs if r["matched"]) / max(1, n)  # noqa: E731,B023
            cells.append(f"{'':14s}  {u:5d} {w('purity'):6.3f} {w('completeness'):5.3f} {w('ari'):5.3f}")
            for k, r in enumerate(rs):  # pooled: labels made unique per stream
                pooled[m]["true"] += [f"{sc}/{k}/{t}" for t in r["true_labels"]]
                pooled[m]["pred"] += [f"{sc}/{k}/{p}" for p in r[m]["labels"]]
        print(f"{sc:22s} {sum(r['matched'] for r in rs):6d} {sum(r['true_units'] for r in rs):10d} | " + " | ".join(cells))
    print()
    for m in methods:
        t, p = pooled[m]["true"], pooled[m]["pred"]
        print(f"overall {m:15s}: units {_count(p, args.min_events):4d} (truth {_count(t, args.min_events)}), "
              f"purity {purity(p, t):.3f}, completeness {purity(t, p):.3f}, ARI {ari(t, p):.3f}")


if __name__ == "__main__":
    main()
