"""Do two versions of the host replay a capture to the same outputs, bit for bit?

Replays each capture through ``Pipeline`` (SQLite + JSONL, as ``twitchwatch replay``)
under two host trees, each in its own subprocess with its own ``PYTHONPATH``, with
the detector after every read (0) and once per second of signal (1.0), and compares:
the JSONL events file byte for byte, every decoded block (stream, indices, times,
seq, raw samples), every array handed to the detector (bytes, dtype, shape, first
index), the SQLite tables (times of day masked: ``started_at``, ``ended_at``,
``created_at``, ``applied_at``) and the run summary (host duration excluded).

Run (the old tree from ``git archive``)::

    git archive 83336a4 host | tar -x -C /tmp/old
    PYTHONPATH=host .venv/bin/python bench/replay_identity.py /tmp/old/host CAPTURE.twcap [...]

Exit status 0 when every output of every capture matches.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE_HOST = Path(__file__).resolve().parents[1] / "host"
_MASKED = {"started_at", "ended_at", "created_at", "applied_at"}


def _worker(capture: str, out: str, detect_every_s: float) -> None:
    """In the subprocess: replay ``capture`` and write what it produced under ``out``."""
    import sqlite3

    import numpy as np

    from twitchwatch import detect
    from twitchwatch.pipeline import Pipeline
    from twitchwatch.store import Store
    from twitchwatch.transports import ReplaySource

    out_dir = Path(out)
    calls: list[list] = []

    def digest(a: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()

    def spy(name: str):
        original = getattr(detect.TwitchDetector, name)

        def wrapped(self, data, first_index, *args, **kwargs):
            calls.append([name, int(first_index), str(data.dtype), list(data.shape),
                          bool(data.flags.c_contiguous), digest(data)])
            return original(self, data, first_index, *args, **kwargs)
        setattr(detect.TwitchDetector, name, wrapped)

    spy("process_emg")
    spy("process_acc")
    blocks: list[list] = []

    def on_block(b) -> None:
        blocks.append([b.stream_id, b.first_sample_index, b.t_first_us, b.host_time_s.hex(), b.seq,
                       str(b.samples.dtype), list(b.samples.shape), digest(b.samples)])

    with Store(out_dir / "store.sqlite3") as store, ReplaySource(capture) as source:
        pipe = Pipeline(source, source_name="identity", store=store, events_out=out_dir / "events.jsonl",
                        on_block=on_block, detect_every_s=detect_every_s)
        summary = pipe.run()
    conn = sqlite3.connect(out_dir / "store.sqlite3")
    tables = {}
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        cur = conn.execute(f"SELECT * FROM {name} ORDER BY rowid")
        cols = [c[0] for c in cur.description]
        tables[name] = [[None if c in _MASKED else (v.hex() if isinstance(v, float) else v)
                         for c, v in zip(cols, row)] for row in cur]
    conn.close()
    summ = {k: v for k, v in summary.__dict__.items() if k != "duration_host_s"}
    (out_dir / "outputs.json").write_text(json.dumps(
        {"blocks": blocks, "detector_calls": calls, "tables": tables, "summary": summ}, default=repr))


def _run(host: Path, capture: Path, out: Path, detect_every_s: float) -> dict:
    out.mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=str(host))
    subprocess.run([sys.executable, __file__, "--worker", str(capture), str(out), repr(detect_every_s)],
                   env=env, check=True, cwd=out)
    outputs = json.loads((out / "outputs.json").read_text())
    events = out / "events.jsonl"
    outputs["events_jsonl"] = events.read_bytes() if events.exists() else b""
    return outputs


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], sys.argv[3], float(sys.argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old_host", type=Path, help="the other version's host/ folder")
    ap.add_argument("captures", type=Path, nargs="+")
    ap.add_argument("--new-host", type=Path, default=HERE_HOST, help=f"default {HERE_HOST}")
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as d:
        for i, cap in enumerate(args.captures):
            for every in (0.0, 1.0):
                old = _run(args.old_host, cap, Path(d) / f"{i}-{every}-old", every)
                new = _run(args.new_host, cap, Path(d) / f"{i}-{every}-new", every)
                same = {k: old[k] == new[k] for k in old}
                ok &= all(same.values())
                n_events = old["events_jsonl"].count(b"\n")
                print(f"{cap.name} detect_every_s={every:g}: {len(old['blocks'])} blocks, "
                      f"{len(old['detector_calls'])} detector calls, {n_events} events, "
                      f"{sum(len(t) for t in old['tables'].values())} table rows: "
                      + ("identical" if all(same.values()) else
                         "DIFFERENT in " + ", ".join(k for k, v in same.items() if not v)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
