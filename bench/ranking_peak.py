"""Peak Python memory and CPU of one live cause ranking, by the number of twitches kept.

The dashboard ranks causes every 5 s over every kept twitch (up to 20,000):
``analysis.rank_live_times`` gives ``causes.annotate_session`` one dict per twitch. This
runs one ranking of N twitches (40 a minute, in a live session with nothing logged) and
reports the peak of ``tracemalloc``'s traced memory (bytes a kept twitch) and, in a
second untraced run, its CPU time.

Usage::

    python bench/ranking_peak.py --n 1000 5000 20000

Results: docs/reliability.md (the sixth session's hour).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def measure(counts: list[int], now: float = 1.8e9) -> list[dict[str, float]]:
    from twitchwatch.dashboard import analysis
    from twitchwatch.store import Store

    path = Path(tempfile.mkdtemp(prefix="twrank-")) / "rank.sqlite3"
    with Store(path) as store:
        store.start_session(device_id="d", firmware_version="0.1.0", boot_id=1, source="bench",
                            body_site="left calf", started_at=now - 9 * 3600)
    inputs = analysis.load_inputs(path, now)
    out = []
    for n in counts:
        times = [now - 9 * 3600 + 1.5 * k for k in range(n)]
        tracemalloc.start()
        analysis.rank_live_times(times, inputs, now)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        t0 = time.process_time()
        analysis.rank_live_times(times, inputs, now)
        cpu_s = time.process_time() - t0
        out.append({"twitches": n, "peak_mb": round(peak / 1e6, 2), "peak_bytes_a_twitch": round(peak / n),
                    "cpu_s": round(cpu_s, 3)})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, nargs="+", default=[1000, 5000, 20000], help="twitches kept")
    args = p.parse_args(argv)
    print(json.dumps(measure(args.n), indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
    sys.exit(main())
