"""Whole replay, × real time: `twitchwatch replay` as a user runs it (issue #19, item 6).

**One file.** An EDF+ recording of the simulator (``--scenario``, default ``mixed``:
twitches, ECG, contractions, movement, pops, hum) of ``--minutes`` (default 60) with 2 EMG
channels at 2 kHz and a 3-axis accelerometer at 1 kHz is replayed by
``twitchwatch replay FILE --db DB --events-out EVENTS.jsonl -q`` in a child process: the
whole process (start-up, EDF decode, detection, SQLite, JSONL), one core. Reported: wall
time and the child's CPU time (user + system, ``resource.RUSAGE_CHILDREN``), as × real
time, and the same for a 10 s file (the start-up cost: imports and the compiled kernels'
cache). On a shared machine the CPU time is the steadier figure.

**Many files** (``--files N``, default 4, of ``--file-minutes`` each, default 15, other
seeds): ``twitchwatch replay F1 ... FN`` with ``--jobs 1`` and with ``--jobs J``
(default: every core), wall time of each, and whether both wrote the same events file.

    .venv/bin/python bench/replay_bench.py [--minutes 60] [--files 4] [--file-minutes 15] [--jobs J]

**Where the time goes** (``--parts``): the one-file replay run in this process instead, with
a process-CPU timer around each part (imports, the detector's EMG and accelerometer calls,
which hold its decisions, artefact and quality records, the outputs, the session's end);
what is left of the run is reading the file and the pipeline around the detector. Building
the detector includes loading numba's typing tables and its first compiled kernels from
numba's disk cache (its filters' designs from the design cache, ``detect/designs.py``);
the rest load on their first calls, inside the parts that make them.

    .venv/bin/python bench/replay_bench.py --parts [--minutes 60]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "host"))

from twitchwatch.formats import write_edf  # noqa: E402
from twitchwatch.replay_jobs import default_jobs  # noqa: E402
from twitchwatch.sim import simulate  # noqa: E402

BIN = Path(sys.executable).with_name("twitchwatch")


def make_edf(path: Path, scenario: str, seconds: float, seed: int) -> None:
    rec = simulate(scenario, seconds, seed=seed)
    with warnings.catch_warnings():  # pyedflib: a 9-character physical minimum (the rail) is rounded
        warnings.simplefilter("ignore", UserWarning)
        write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels), acc_mg=rec.acc_mg,
                  acc_rate_hz=rec.acc_rate_hz, start_unix_s=1_760_000_000 + seed)


def replay(files: list[Path], folder: Path, tag: str, jobs: int | None = None) -> tuple[float, float, Path]:
    """(wall s, child CPU s, events file) of one `twitchwatch replay` run."""
    events = folder / f"{tag}.jsonl"
    cmd = [str(BIN), "replay", *map(str, files), "--db", str(folder / f"{tag}.sqlite3"), "--events-out", str(events),
           "-q"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    env = dict(os.environ, XDG_DATA_HOME=str(folder / "xdg"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"replay failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, events


_PARTS = """
import sys, time
t00 = time.process_time()
from twitchwatch.cli import main
t_import = time.process_time() - t00
from twitchwatch import detectrun, pipeline
from twitchwatch.detect import engine
spent = {}
def wrap(owner, name, label):
    fn = getattr(owner, name)
    def call(*a, **k):
        t = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - t
    setattr(owner, name, call)
wrap(detectrun.DetectionRun, "make_detector", "building the detector (its filters; numba's first kernel loads)")
wrap(engine.TwitchDetector, "process_emg", "detector: EMG blocks (the block step)")
wrap(engine.TwitchDetector, "process_acc", "detector: accelerometer blocks (and the decisions waiting for them)")
wrap(engine.TwitchDetector, "flush", "detector: end of stream")
wrap(detectrun.DetectionRun, "_artefacts", "artefact records")
wrap(detectrun.DetectionRun, "_maybe_quality", "quality records")
wrap(pipeline.Pipeline, "_log_events", "events and held records to the outputs")
wrap(pipeline.Pipeline, "_close_session", "session end (its last records, cause annotation)")
wrap(pipeline.Pipeline, "run_recording", "the run")
t0 = time.process_time()
try:
    main(sys.argv[1:])
except SystemExit:
    pass
total = time.process_time() - t00
run = spent.pop("the run")
inner = sum(spent.values())  # every part is inside the run (the session ends in it too)
print("@@")
print(f"{'imports (the command line)':70s} {t_import:6.2f}")
for k, v in spent.items():
    print(f"{k:70s} {v:6.2f}")
print(f"{'the rest of the run (reading the file, the pipeline around the detector)':70s} {run - inner:6.2f}")
print(f"{'the rest (imports inside the run, opening the store and the file)':70s} {total - t_import - run:6.2f}")
print(f"{'total CPU':70s} {total:6.2f}")
"""


def parts(path: Path, folder: Path, seconds: float) -> None:
    """Where one replay's CPU goes (``--parts``): the replay in a child process with timers."""
    env = dict(os.environ, XDG_DATA_HOME=str(folder / "xdg"), PYTHONPATH=str(REPO / "host"))
    out = subprocess.run([sys.executable, "-c", _PARTS, "replay", str(path), "--db", str(folder / "parts.sqlite3"),
                          "--events-out", str(folder / "parts.jsonl"), "-q"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"replay failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    print(f"\nCPU s by part, {seconds / 60:g} min replayed in one process:")
    print(out.stdout.split("@@\n", 1)[-1].rstrip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the one-file replay (default 60)")
    ap.add_argument("--scenario", default="mixed", help="simulator scenario (default mixed)")
    ap.add_argument("--files", type=int, default=4, help="files for the --jobs comparison (default 4; 0 skips it)")
    ap.add_argument("--file-minutes", type=float, default=15.0, help="length of each of those (default 15)")
    ap.add_argument("--jobs", type=int, default=None, help="--jobs for the parallel run (default: every core)")
    ap.add_argument("--parts", action="store_true", help="where one replay's CPU goes, instead of the timings")
    args = ap.parse_args()
    if args.parts:
        with tempfile.TemporaryDirectory() as d:
            long = Path(d) / "long.edf"
            make_edf(long, args.scenario, args.minutes * 60.0, 1)
            parts(long, Path(d), args.minutes * 60.0)
        return
    jobs = args.jobs or default_jobs()
    print(f"command: python bench/replay_bench.py --minutes {args.minutes:g} --scenario {args.scenario} "
          f"--files {args.files} --file-minutes {args.file_minutes:g}" + (f" --jobs {args.jobs}" if args.jobs else ""))
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        long, short = tmp / "long.edf", tmp / "short.edf"
        make_edf(long, args.scenario, args.minutes * 60.0, 1)
        make_edf(short, args.scenario, 10.0, 2)
        print(f"\n{'run':52s} {'wall s':>8s} {'CPU s':>8s} {'x RT wall':>10s} {'x RT CPU':>9s}")
        for name, f, seconds in (("10 s file (start-up cost)", short, 10.0),
                                 (f"{args.minutes:g} min file, one process", long, args.minutes * 60.0)):
            wall, cpu, _ = replay([f], tmp, name.split()[0] + "s")
            print(f"{name:52s} {wall:8.2f} {cpu:8.2f} {seconds / wall:10.0f} {seconds / cpu:9.0f}")
        if args.files > 0:
            files = []
            for i in range(args.files):
                p = tmp / f"f{i}.edf"
                make_edf(p, args.scenario, args.file_minutes * 60.0, 10 + i)
                files.append(p)
            total = args.files * args.file_minutes * 60.0
            results = {}
            for j in (1, jobs):
                wall, cpu, events = replay(files, tmp, f"jobs{j}", jobs=j)
                results[j] = events.read_text()
                print(f"{f'{args.files} x {args.file_minutes:g} min, --jobs {j}':52s} {wall:8.2f} {cpu:8.2f} "
                      f"{total / wall:10.0f} {total / cpu:9.0f}")
            print(f"\nevents file the same with --jobs 1 and --jobs {jobs}: {results[1] == results[jobs]}")


if __name__ == "__main__":
    main()
