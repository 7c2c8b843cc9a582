"""Fuzz harness: hostile inputs to every reader of outside data (issue 17).

Targets (each input built from a seeded RNG, so every finding can be replayed with
``--seed``/``--start``):

- ``decoder``: a valid synthetic wire stream (HELLO + DATA of both streams), mutated:
  bit flips, cuts, insertions of random bytes, zero runs, runs without a delimiter,
  oversized frames, duplicated, dropped and swapped frames; fed to a
  :class:`FrameDecoder` in random chunks, then flushed. Checked: nothing raises, and
  every sample block handed on equals a frame that was sent (no wrong sample).
- ``capture``: a valid capture file (format 2), mutated the same way at the byte level
  (header included); read to the end with :class:`CaptureReader`. Checked: only
  ``CaptureFormatError`` escapes; every record returned is one that was written;
  record times never go back.
- ``edf``, ``csv``: a valid EDF+ (``write_edf``) or CSV file, mutated (header fields
  included); opened with ``open_recording`` and read block by block. Checked: only
  ``FormatError`` escapes (a damaged file is one line, never a traceback).
- ``dashboard``: POSTs to ``/api/log`` and ``/api/verdict`` of the real ASGI app
  (Starlette's TestClient, a real SQLite file) with random JSON (deep nesting, huge
  numbers, wrong types, random keys and strings) or random bytes. Checked: the answer
  is 200, 400, 413, never 500, and nothing escapes.

Each target runs in its own child process, so a crash in C code (a segfault in a
reader library) is reported as such instead of ending the harness. Results are printed
and written as JSON (``--out``); docs/reliability.md holds the last full run.

Usage::

    nice python bench/fuzz.py --target decoder --n 1000000
    nice python bench/fuzz.py --all --n-decoder 1000000 --n 100000 --out bench/results/fuzz.json
    python bench/fuzz.py --all --n-decoder 300 --n 100        # a smoke run (the test suite's)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

TARGETS = ("decoder", "capture", "edf", "csv", "dashboard")
_CHUNKS = (1,) + (7,) * 10 + (64, 300, 4096) * 60  # 1-byte reads in 1 of 200 inputs


# ------------------------------------------------------------------ mutations

def mutate(data: bytes, rng: random.Random, keep_prefix: int = 0) -> bytes:
    """1-4 byte-level mutations of ``data`` (the first ``keep_prefix`` bytes are kept
    in most inputs, so damage beyond a header is reached too)."""
    buf = bytearray(data)
    start = keep_prefix if rng.random() < 0.7 else 0
    for _ in range(rng.randint(1, 4)):
        if len(buf) <= start:
            buf += rng.randbytes(rng.randint(1, 64))
            continue
        i = rng.randrange(start, len(buf))
        kind = rng.random()
        if kind < 0.35:
            buf[i] ^= 1 << rng.randrange(8)
        elif kind < 0.5:
            del buf[i:i + rng.randint(1, 300)]
        elif kind < 0.65:
            buf[i:i] = rng.randbytes(rng.randint(1, 300))
        elif kind < 0.72:
            buf[i:i] = b"\0" * rng.randint(1, 64)
        elif kind < 0.78:
            buf[i:i] = rng.randbytes(rng.randint(250, 2000)).replace(b"\0", b"\1")  # no delimiter
        elif kind < 0.84:
            buf[i:i + 8] = bytes(rng.choice((0x00, 0xFF, 0x7F, 0x80)) for _ in range(8))
        elif kind < 0.92:
            j = rng.randrange(start, len(buf))
            buf[i:i] = buf[j:j + rng.randint(1, 400)]  # a copy of another stretch
        else:
            del buf[i:]
    return bytes(buf)


def frame_level(frames: list[bytes], rng: random.Random) -> list[bytes]:
    """Duplicate, drop or swap whole frames (what BLE and a lossy link do)."""
    out = list(frames)
    for _ in range(rng.randint(1, 5)):
        if len(out) < 3:
            break
        i = rng.randrange(1, len(out) - 1)
        kind = rng.random()
        if kind < 0.35:
            out.insert(i, out[i - 1])
        elif kind < 0.6:
            del out[i]
        elif kind < 0.85:
            out[i], out[i + 1] = out[i + 1], out[i]
        else:
            j = rng.randrange(len(out))
            out.insert(i, out[j])  # a stale frame from anywhere
    return out


# ------------------------------------------------------------------ targets

def _each_input(n: int, report: Callable[[int], None], counts: dict[str, Any],
                one_input: Callable[[int], str | None], refusal: tuple[type[Exception], ...] = ()) -> dict[str, Any]:
    """Every target's loop: run ``one_input(i)`` for i < n and count it. It returns a
    failure's description or None. An exception of a ``refusal`` type is the clear refusal
    the target should give (``refused_one_line``; it escapes if it is several lines), any
    other exception escaped. Returns the counts with the first failure."""
    first_failure = None
    for i in range(n):
        try:
            failure = one_input(i)
        except refusal as exc:
            counts["refused_one_line"] += 1
            failure = None
            if "\n" in str(exc):
                counts["escaped"] += 1
                failure = f"a refusal of several lines: {str(exc)[:200]!r}"
        except Exception:  # noqa: BLE001 - what the harness looks for
            counts["escaped"] += 1
            failure = traceback.format_exc(limit=4)
        if failure is not None and first_failure is None:
            first_failure = f"input {i}: {failure}"
        counts["inputs"] += 1
        report(i)
    return dict(counts, first_failure=first_failure)


def fuzz_decoder(n: int, seed: int, report: Callable[[int], None]) -> dict[str, Any]:
    import numpy as np

    from twitchwatch.protocol import FrameDecoder, SampleBlock
    from twitchwatch.protocol.synthetic import synthetic_stream

    stream = synthetic_stream(duration_s=0.06, seed=seed)  # HELLO + 9 DATA frames, ~1.1 kB
    frames = [f + b"\0" for f in stream.wire.split(b"\0") if f]
    sent: dict[tuple[int, int], np.ndarray] = {}
    for sid, samples in stream.samples.items():
        spf = 20
        for k in range(0, len(samples), spf):
            sent[(sid, k)] = samples[k:k + spf]
    rng = random.Random(seed)
    counts = {"inputs": 0, "escaped": 0, "wrong_samples": 0, "blocks": 0}

    def one_input(i: int) -> str | None:
        kind = rng.random()
        if kind < 0.3:
            data = b"".join(frame_level(frames, rng))
        elif kind < 0.9:
            data = mutate(b"".join(frame_level(frames, rng) if rng.random() < 0.3 else frames), rng)
        else:
            data = rng.randbytes(rng.randint(0, 2000))
        dec = FrameDecoder()
        msgs = []
        pos = 0
        step = rng.choice(_CHUNKS)  # one read size per input (1-byte reads now and then)
        while pos < len(data):
            msgs += dec.feed(data[pos:pos + step], float(i))
            pos += step
        msgs += dec.flush()
        failure = None
        for m in msgs:
            if isinstance(m, SampleBlock):
                counts["blocks"] += 1
                want = sent.get((m.stream_id, m.first_sample_index))
                if want is None or not np.array_equal(m.samples, want):
                    counts["wrong_samples"] += 1
                    failure = failure or f"wrong sample block at {m.first_sample_index}"
        return failure

    return _each_input(n, report, counts, one_input)


def fuzz_capture(n: int, seed: int, report: Callable[[int], None]) -> dict[str, Any]:
    from twitchwatch.protocol.synthetic import synthetic_stream
    from twitchwatch.transports import CaptureFormatError, CaptureWriter, read_capture
    from twitchwatch.transports.capture import FILE_HEADER_BYTES

    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="twfuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    clean_path = tmp / "clean.twcap"
    wire = synthetic_stream(duration_s=0.1, seed=seed).wire
    chunks = [(100.0 + 0.01 * k, wire[j:j + 97]) for k, j in enumerate(range(0, len(wire), 97))]
    with CaptureWriter(clean_path) as w:
        for t, c in chunks:
            w.write(t, c)
    clean = clean_path.read_bytes()
    written = {c for _, c in chunks}
    counts = {"inputs": 0, "escaped": 0, "refused_one_line": 0, "foreign_records": 0, "times_back": 0}
    path = tmp / "x.twcap"

    def one_input(i: int) -> None:
        path.write_bytes(mutate(clean, rng, keep_prefix=FILE_HEADER_BYTES))
        last = -1e300
        for rec in read_capture(path):
            if rec.data not in written:
                counts["foreign_records"] += 1
            if rec.host_time_s < last:
                counts["times_back"] += 1
            last = rec.host_time_s
        return None

    return _each_input(n, report, counts, one_input, refusal=(CaptureFormatError,))


def _fuzz_recording(n: int, seed: int, report: Callable[[int], None], kind: str) -> dict[str, Any]:
    import numpy as np

    from twitchwatch.formats import FormatError, open_recording, write_edf

    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="twfuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    gen = np.random.default_rng(seed)
    emg = gen.normal(0, 20, (2000, 2))
    if kind == "edf":
        src = tmp / "clean.edf"
        write_edf(src, emg, 1000.0, emg_labels=["EMG 1", "EMG 2"], acc_mg=gen.normal(0, 5, (1000, 3)),
                  acc_rate_hz=500.0, start_unix_s=1_700_000_000)
        keep = 256  # the fixed header
    else:
        src = tmp / "clean.csv"
        rows = "\n".join(f"{k / 1000:.3f},{a:.2f},{b:.2f}" for k, (a, b) in enumerate(emg[:200]))
        src.write_text("# sample_rate_hz = 1000\ntime_s,EMG 1,EMG 2\n" + rows + "\n")
        keep = 0
    clean = src.read_bytes()
    path = tmp / f"x.{kind}"
    counts = {"inputs": 0, "escaped": 0, "refused_one_line": 0, "read": 0, "samples": 0}

    def one_input(i: int) -> None:
        if kind == "csv" and rng.random() < 0.3:  # text-level damage: fields and numbers
            text = clean.decode()
            lines = text.split("\n")
            for _ in range(rng.randint(1, 4)):
                j = rng.randrange(len(lines))
                lines[j] = rng.choice(("", "nan,nan,nan", "1e309,-1e309,7", "a,b", "0,1,2,3,4", ",,,",
                                       "# sample_rate_hz = " + rng.choice(("0", "-5", "1e12", "nan", "30", "x")),
                                       "time_s;EMG 1", lines[rng.randrange(len(lines))] * rng.randint(1, 50)))
            data = "\n".join(lines).encode()
        else:
            data = mutate(clean, rng, keep_prefix=keep)
        path.write_bytes(data)
        with open_recording(path) as rec:
            for _, _, block in rec.iter_blocks(0.5):
                counts["samples"] += len(block)
        counts["read"] += 1
        return None

    return _each_input(n, report, counts, one_input, refusal=(FormatError,))


def fuzz_edf(n: int, seed: int, report: Callable[[int], None]) -> dict[str, Any]:
    return _fuzz_recording(n, seed, report, "edf")


def fuzz_csv(n: int, seed: int, report: Callable[[int], None]) -> dict[str, Any]:
    return _fuzz_recording(n, seed, report, "csv")


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.random()
    if depth > 3 or kind < 0.35:
        return rng.choice((None, True, False, 0, -1, 2**70, 1e308, -0.0, "", "x" * rng.randint(1, 300),
                           "caffeine", "symptom", "exposure", "weakness", "-2h", "10:00", "2099-01-01",
                           "\u0000\u202e\ud7ff", "confirmed", "rejected", "nan", rng.random() * 1e6))
    if kind < 0.7:
        keys = ("category", "kind", "value", "unit", "at", "until", "note", "site", "severity", "cause_id",
                "verdict", "name", "x" * rng.randint(1, 20))
        return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 6))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def fuzz_dashboard(n: int, seed: int, report: Callable[[int], None]) -> dict[str, Any]:
    import logging

    quiet_log = logging.getLogger("twitchwatch")
    old_level = quiet_log.level
    quiet_log.setLevel(logging.ERROR)  # the one-line refusals, 100,000 times
    try:
        return _post_random(n, seed, report)
    finally:
        quiet_log.setLevel(old_level)


def _post_random(n: int, seed: int, report: Callable[[int], None]) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from twitchwatch.dashboard import DashboardApp, LiveHub
    from twitchwatch.store import Store

    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="twfuzz-"))
    db = tmp / "d.sqlite3"
    Store(db).close()
    token = "t" * 32
    app = DashboardApp(LiveHub(window_s=1.0, columns=100), db, token)
    counts: dict[str, Any] = {"inputs": 0, "escaped": 0, "status": {}}
    loop = asyncio.new_event_loop()

    def one_input(i: int) -> str | None:
        path = rng.choice(("/api/log", "/api/verdict"))
        kind = rng.random()
        if kind < 0.15:  # entries of the right shape with hostile values: the write path too
            body = json.dumps({"category": rng.choice(("exposure", "symptom")),
                               "kind": rng.choice(("caffeine", "alcohol", "stress", "weakness", "cramps")),
                               "value": _random_json(rng, 4), "unit": rng.choice(("mg", "drinks", "score", "")),
                               "at": rng.choice(("-2h", "10:00", "now", "yesterday 09:00", "-1e9h", "")),
                               "note": rng.choice(("", "\u202e\u0000x", "y" * 2000))}).encode()
        elif kind < 0.6:
            body = json.dumps(_random_json(rng)).encode()
        elif kind < 0.75:
            depth = rng.randint(100, 20000)
            body = rng.choice((b"[", b'{"a":')) * depth + b"1"
        elif kind < 0.85:
            body = b'{"category": "exposure", "kind": "caffeine", "value": ' + b"9" * rng.randint(1, 20000) + b"}"
        else:
            body = rng.randbytes(rng.randint(0, 500))
        status, text = loop.run_until_complete(_post(app.app, path, body, token))
        code = str(status)
        counts["status"][code] = counts["status"].get(code, 0) + 1
        if status not in (200, 400, 413):
            counts["escaped"] += 1
            return f"{status} {text[:200]!r}"
        return None

    try:
        with TestClient(app.app, base_url="http://127.0.0.1:8765"):  # lifespan: the app's start-up ran
            return _each_input(n, report, counts, one_input)
    finally:
        loop.close()


async def _post(app: Any, path: str, body: bytes, token: str) -> tuple[int, str]:
    """One POST through the ASGI app itself (what uvicorn hands it), without a socket:
    ~1 ms instead of a test client's ~10 ms, so 100,000 requests take minutes."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1:8765"), (b"content-type", b"application/json"),
                         (b"x-twitchwatch-token", token.encode()), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8765)}
    sent = False
    status = 0
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(parts).decode("utf-8", "replace")


# ------------------------------------------------------------------ driver

def run_target(target: str, n: int, seed: int, quiet: bool) -> dict[str, Any]:
    """Run one target in this process; its result with time and peak memory."""
    fn = globals()[f"fuzz_{target}"]
    start = time.monotonic()
    step = max(1, n // 20)

    def report(i: int) -> None:
        if not quiet and (i + 1) % step == 0:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  {target}: {i + 1}/{n} ({time.monotonic() - start:.0f} s, peak {rss:.0f} MB)",
                  file=sys.stderr, flush=True)

    result = fn(n, seed, report)
    result.update(target=target, seed=seed, seconds=round(time.monotonic() - start, 1),
                  peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    return result


def run_in_child(target: str, n: int, seed: int, quiet: bool, timeout_s: float | None) -> dict[str, Any]:
    """The target in a child process: a crash (signal) or hang is a result, not the end."""
    cmd = [sys.executable, __file__, "--child", target, "--n", str(n), "--seed", str(seed)] + (["-q"] if quiet else [])
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=timeout_s, text=True)
    except subprocess.TimeoutExpired:
        return {"target": target, "inputs": n, "escaped": None, "first_failure": f"hung: more than {timeout_s} s"}
    if done.returncode != 0:
        return {"target": target, "inputs": n, "escaped": None,
                "first_failure": f"the child process ended with code {done.returncode} (a crash?)"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", choices=TARGETS, action="append", help="a target (repeatable)")
    p.add_argument("--all", action="store_true", help="every target")
    p.add_argument("--n", type=int, default=1000, help="inputs per target (the decoder: --n-decoder)")
    p.add_argument("--n-decoder", type=int, default=None, help="inputs for the decoder (default --n)")
    p.add_argument("--seed", type=int, default=17)
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    p.add_argument("--timeout-s", type=float, default=None, help="per target")
    p.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(run_target(args.child, args.n, args.seed, args.quiet)))
        return 0
    targets = list(TARGETS) if args.all else (args.target or [])
    if not targets:
        p.error("name a --target or --all")
    results = []
    for target in targets:
        n = args.n_decoder if target == "decoder" and args.n_decoder else args.n
        result = run_in_child(target, n, args.seed, args.quiet, args.timeout_s)
        results.append(result)
        print(json.dumps(result), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": " ".join(sys.argv), "results": results}, indent=1) + "\n")
    bad = [r for r in results if r.get("escaped") != 0 or r.get("wrong_samples") or r.get("foreign_records")
           or r.get("times_back")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
    sys.exit(main())
