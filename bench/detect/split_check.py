"""Does the engine give the same result for any block split? (a check, not a timing)

    .venv/bin/python bench/detect/split_check.py [--minutes 2] [--seeds 2] [--blocks 100 333 1000 1700]

Every simulator scenario (``twitchwatch.sim``, seeds 1000..), fed as a live stream
(``bench.detect.runners.run_engine``: EMG and accelerometer blocks interleaved) in 10 ms
blocks as the reference and in each of ``--blocks`` (ms); compares the events (every
field of ``to_json_dict()``), the artefact segments and the final channel quality,
exactly. Prints each difference and exits with status 1 if there is any.

The test suite checks two scenarios for 30 s
(``test_simulator_streams_give_the_same_result_for_any_block_length``); run this after
changing the engine. Engine 1.3 differed in 35 of 128 runs (16 scenarios x 2 seeds x
2 min x 4 splits: the mains estimate used the floor at the caller's block start); 1.5
differs in none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
for p in (REPO, REPO / "host"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench.detect.runners import run_engine  # noqa: E402
from twitchwatch.detect import DETECTOR_VERSION, TwitchDetector  # noqa: E402
from twitchwatch.sim import simulate  # noqa: E402
from twitchwatch.sim.scenarios import SCENARIOS  # noqa: E402

REFERENCE_BLOCK_MS = 10.0


def outcome(rec, block_ms: float) -> tuple[list, list, list]:
    """(events as JSON dicts, artefact segments, final quality) of one split."""
    detectors = []

    def make():
        detectors.append(TwitchDetector(rec.emg_rate_hz, rec.emg_labels, rec.acc_rate_hz))
        return detectors[-1]

    run = run_engine(make, rec.emg_uv, rec.emg_rate_hz, rec.acc_mg, rec.acc_rate_hz, block_ms=block_ms)
    artefacts = sorted((a.start_index, a.end_index, -1 if a.channel is None else a.channel, a.kind)
                       for a in run.artefacts)
    quality = [(q.noise_floor_uv, q.mains_hz, q.mains_uv, q.usable_fraction) for q in detectors[-1].quality()]
    return [e.to_json_dict() for e in run.events], artefacts, quality


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=2.0, help="minutes per stream (default 2)")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per scenario, from 1000 (default 2)")
    ap.add_argument("--blocks", type=float, nargs="+", default=[100.0, 333.0, 1000.0, 1700.0],
                    help="block lengths to compare with 10 ms blocks, ms")
    args = ap.parse_args()
    print(f"engine {DETECTOR_VERSION}; {len(SCENARIOS)} scenarios x {args.seeds} seeds x {args.minutes:g} min; "
          f"{REFERENCE_BLOCK_MS:g} ms blocks against {', '.join(f'{b:g}' for b in args.blocks)} ms")
    jobs = [(name, 1000 + s) for name in SCENARIOS for s in range(args.seeds)]
    differing, n_runs, n_events = [], 0, 0
    for name, seed in tqdm(jobs, unit="stream", file=sys.stderr):
        rec = simulate(name, args.minutes * 60.0, seed)
        reference = outcome(rec, REFERENCE_BLOCK_MS)
        n_events += len(reference[0])
        for block_ms in args.blocks:
            n_runs += 1
            got = outcome(rec, block_ms)
            if got != reference:
                parts = [what for what, a, b in zip(("events", "artefacts", "quality"), got, reference) if a != b]
                differing.append(f"{name} seed {seed}, {block_ms:g} ms blocks: {', '.join(parts)} differ "
                                 f"({len(got[0])} vs {len(reference[0])} events)")
    for line in differing:
        print("DIFFERS:", line)
    print(f"{len(differing)} of {n_runs} splits differ from the reference ({n_events} reference events in all)")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
