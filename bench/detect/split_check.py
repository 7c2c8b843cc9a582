"""Does the engine give the same result for any block split? (a check, not a timing)

    .venv/bin/python bench/detect/split_check.py [--minutes 2] [--seeds 2] [--blocks 100 333 1000 1700]

Every simulator scenario (``twitchwatch.sim``, seeds 1000..), fed as a live stream
(``bench.detect.engine_ab.run_recorded``: EMG and accelerometer blocks interleaved) in
10 ms blocks as the reference and in each of ``--blocks`` (ms); compares, bit for bit,
the events (every field, in the order returned), the artefact segments, the counters,
the final channel quality and every candidate's features at its decision (candidates and
artefacts as sets: which channel's come first may follow the split). Prints each
difference and exits with status 1 if there is any.

The test suite checks two scenarios for 30 s
(``test_simulator_streams_give_the_same_result_for_any_block_length``); run this after
changing the engine. At the defaults (16 scenarios x 2 seeds x 2 min x 4 splits) engine
1.3 differed in 41 of 128 splits (the mains estimate used the floor at the caller's
block start). Engine 1.5 differs in 1: the features of a 1.6 s electrode-pop cluster
(``act_pre``, `electrode_pops` seed 1000, 333 ms blocks) read EMG from further back than
the ring is sure to hold at every split (capacity 2 s minus a 0.5 s piece); its events,
artefacts, counters and quality are identical (docs/detection.md, limits).
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

import twitchwatch.detect as detect  # noqa: E402
from bench.detect.engine_ab import run_recorded  # noqa: E402
from twitchwatch.sim import simulate  # noqa: E402
from twitchwatch.sim.scenarios import SCENARIOS  # noqa: E402

REFERENCE_BLOCK_MS = 10.0


def outcome(rec, block_ms: float) -> dict:
    """Everything the engine says on one split (``run_recorded``), without when each
    event came out (that follows the split by design)."""
    run = run_recorded(detect, rec, block_ms)
    del run["returned_at"]
    run["artefacts"] = sorted(run["artefacts"], key=repr)
    run["candidates"] = sorted(run["candidates"], key=repr)
    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=2.0, help="minutes per stream (default 2)")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per scenario, from 1000 (default 2)")
    ap.add_argument("--blocks", type=float, nargs="+", default=[100.0, 333.0, 1000.0, 1700.0],
                    help="block lengths to compare with 10 ms blocks, ms")
    args = ap.parse_args()
    print(f"engine {detect.DETECTOR_VERSION}; {len(SCENARIOS)} scenarios x {args.seeds} seeds x {args.minutes:g} min; "
          f"{REFERENCE_BLOCK_MS:g} ms blocks against {', '.join(f'{b:g}' for b in args.blocks)} ms")
    jobs = [(name, 1000 + s) for name in SCENARIOS for s in range(args.seeds)]
    differing, n_runs, n_events = [], 0, 0
    for name, seed in tqdm(jobs, unit="stream", file=sys.stderr):
        rec = simulate(name, args.minutes * 60.0, seed)
        reference = outcome(rec, REFERENCE_BLOCK_MS)
        n_events += len(reference["events"])
        for block_ms in args.blocks:
            n_runs += 1
            got = outcome(rec, block_ms)
            if got != reference:
                parts = [what for what in reference if got[what] != reference[what]]
                differing.append(f"{name} seed {seed}, {block_ms:g} ms blocks: {', '.join(parts)} differ "
                                 f"({len(got['events'])} vs {len(reference['events'])} events)")
    for line in differing:
        print("DIFFERS:", line)
    print(f"{len(differing)} of {n_runs} splits differ from the reference ({n_events} reference events in all)")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
