"""``python -m twitchwatch.sim [seconds] [scenario ...]``: generation time per scenario."""

import sys
import time

from . import SCENARIOS, simulate


def main(argv: list[str]) -> None:
    duration = float(argv[0]) if argv else 600.0
    names = argv[1:] or list(SCENARIOS)
    for name in names:
        t = time.perf_counter()
        rec = simulate(name, duration, seed=1)
        dt = time.perf_counter() - t
        print(f"{name:22s} {duration:6.0f} s simulated in {dt:5.2f} s  "
              f"twitches={len(rec.twitches):5d} segments={len(rec.segments):5d}")


if __name__ == "__main__":
    main(sys.argv[1:])
