"""Which native call stacks hold the glibc heap that grows in a soak (memray file in, table out).

``tracemalloc`` sees Python's own allocations only; the growth left in the soaks with
the dashboard open was in glibc's bytes in use (``mallinfo2``), outside it. This reads
what ``bench/soak.py --memray FILE`` recorded (every malloc, calloc, realloc, free and
mmap from the start, after the detector's warm-up, to the last row, each with its native C stack and the
Python stack above it, and a heap snapshot every ``--memray-interval-s``) and says, per
call stack, how many bytes allocated since the tracing began were still live at each
snapshot (``--baseline-min``: the snapshots of the start-up are left out of the
slopes). A cache or ring that fills to its bound rises, then stays level; what grows
without bound rises in every interval. So each stack gets its slope over the first and
the last half of the snapshots, and the stacks are listed by their last-half slope.

Usage::

    nice -n -5 python bench/soak.py --minutes 13 --memray /tmp/soak.bin
    python bench/native_heap.py /tmp/soak.bin --baseline-min 3 --top 20 --out bench/results/native_heap.json

Results: docs/reliability.md ("Where the memory goes").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: frames of the allocators themselves: a stack is named from the first frame below them
_PLUMBING = ("malloc", "calloc", "realloc", "free", "mmap", "PyMem_", "_PyMem_", "PyObject_Malloc",
             "PyObject_Calloc", "PyObject_Realloc", "_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc",
             "pymalloc_", "new_arena", "allocate_from_new_pool", "_PyObject_ArenaMmap", "memray::", "intercept::",
             "sqlite3Malloc", "sqlite3MemMalloc", "sqlite3DbMalloc", "sqlite3_malloc", "sqlite3Realloc",
             "sqlite3MemRealloc", "sqlite3_realloc", "NRT_", "nrt_", "PyDataMem_", "default_malloc", "default_calloc",
             "_npy_alloc", "npy_alloc", "PyArray_NewFromDescr_int", "_PyObject_GC_", "gc_alloc", "_PyType_Alloc")
_MMAP = (14,)  # memray.AllocatorType.MMAP (pymalloc's 1 MiB arenas come this way)


def _frame_text(frame: tuple[Any, ...]) -> str:
    func, filename, line = frame[0], str(frame[1]), frame[2]
    short = filename.split("site-packages/")[-1].split("/lib/python3")[-1].split("/")[-1] if filename else "?"
    return f"{func} {short}:{line}"


def _name(stack: list[tuple[Any, ...]]) -> str:
    """The first frame that is not an allocator's own, the innermost Python frame above
    it (the line of Python that asked), and the innermost frame of code outside the
    installed libraries and the standard library (this project's, or the bench's), if it
    is another."""
    native = next((f for f in stack if not str(f[0]).startswith(_PLUMBING)), stack[0] if stack else None)
    if native is None:
        return "?"
    python = [f for f in stack if str(f[1]).endswith(".py")]
    own = next((f for f in python if "site-packages" not in str(f[1]) and "/lib/python3" not in str(f[1])), None)
    parts = [native] + [f for f in (python[0] if python else None, own) if f is not None]
    names: list[str] = []
    for f in parts:
        if _frame_text(f) not in names:
            names.append(_frame_text(f))
    return " < ".join(names)


_LIBRARIES = (("uvicorn", "the ASGI server and WebSocket (uvicorn, websockets, starlette, anyio)"),
              ("websockets", "the ASGI server and WebSocket (uvicorn, websockets, starlette, anyio)"),
              ("starlette", "the ASGI server and WebSocket (uvicorn, websockets, starlette, anyio)"),
              ("anyio", "the ASGI server and WebSocket (uvicorn, websockets, starlette, anyio)"),
              ("h11", "the ASGI server and WebSocket (uvicorn, websockets, starlette, anyio)"),
              ("numba", "numba"), ("/asyncio/", "asyncio"), ("/json/", "json"))


def area(stack: list[tuple[Any, ...]]) -> str:
    """What a stack belongs to, from the innermost frame that says: SQLite, zlib (the
    WebSocket's permessage-deflate), numba's runtime, the web stack, asyncio, else the
    innermost module of ``twitchwatch`` (or the bench harness) that asked."""
    for f in stack:
        func, filename = str(f[0]), str(f[1])
        if func.startswith("sqlite3"):
            return "SQLite"
        if "deflate" in func or "inflate" in func or "zlib" in filename:
            return "zlib (permessage-deflate)"
        if func.startswith("NRT_"):
            return "numba NRT"
        if filename.endswith(".py"):
            if "/twitchwatch/" in filename:
                return "twitchwatch/" + filename.split("/twitchwatch/")[-1]
            if "/bench/" in filename:
                return "the bench harness (" + filename.split("/bench/")[-1] + ")"
            for key, name in _LIBRARIES:
                if key in filename:
                    return name
    return "other"


def _slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys over xs (None with fewer than 2 points)."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else None


def attribute(path: Path, top: int = 20, depth: int = 14, baseline_min: float = 0.0) -> dict[str, Any]:
    import memray

    reader = memray.FileReader(path)
    snaps = list(reader.get_memory_snapshots())
    if len(snaps) < 3:
        raise SystemExit(f"{path}: {len(snaps)} heap snapshots; need at least 3 (run longer, or a shorter "
                         f"--memray-interval-s)")
    t0 = snaps[0].time
    minutes = [(s.time - t0) / 60e3 for s in snaps]
    n = len(snaps)
    first = next((k for k, m in enumerate(minutes) if m >= baseline_min), 0)  # the start-up is left out of the slopes
    if n - first < 3:
        raise SystemExit(f"{path}: {n - first} heap snapshots from minute {baseline_min:g}; need at least 3")
    half = first + (n - first) // 2
    per_stack: list[dict[str, Any]] = []
    totals = {"malloc": [0] * n, "mmap": [0] * n}
    for rec in reader.get_temporal_allocation_records(merge_threads=True):
        live = [0] * n
        for iv in rec.intervals:
            end = n if iv.deallocated_before_snapshot is None else min(iv.deallocated_before_snapshot, n)
            for k in range(iv.allocated_before_snapshot, end):
                live[k] += iv.n_bytes
        kind = "mmap" if rec.allocator in _MMAP else "malloc"
        for k in range(n):
            totals[kind][k] += live[k]
        if not any(live):
            continue
        per_stack.append({"rec": rec, "kind": kind, "live": live})
    for item in per_stack:
        live = item["live"]
        item["first_half_b_per_min"] = _slope(minutes[first:half + 1], live[first:half + 1])
        item["last_half_b_per_min"] = _slope(minutes[half:], live[half:])
    per_stack.sort(key=lambda it: -(it["last_half_b_per_min"] or 0))
    out_stacks = []
    for item in per_stack[:top]:
        stack = item["rec"].hybrid_stack_trace(60)
        out_stacks.append({"site": _name(stack), "kind": item["kind"], "thread": item["rec"].thread_name,
                           "live_kb": [round(v / 1024, 1) for v in item["live"]],
                           "first_half_kb_per_min": round((item["first_half_b_per_min"] or 0) / 1024, 2),
                           "last_half_kb_per_min": round((item["last_half_b_per_min"] or 0) / 1024, 2),
                           "stack": [_frame_text(f) for f in stack if not str(f[0]).startswith(_PLUMBING)][:depth]})
    # the same, summed by site (many stacks share the frame that asked for the memory) and by area
    by_site: dict[str, dict[str, Any]] = {}
    by_area: dict[str, list[int]] = {}
    for item in per_stack:
        full = item["rec"].hybrid_stack_trace(60)
        if item["kind"] == "malloc":
            key = area(full)
            by_area[key] = [a + b for a, b in zip(by_area.get(key, [0] * n), item["live"])]
        site = _name(full)
        agg = by_site.setdefault(site, {"site": site, "live": [0] * n, "stacks": 0})
        agg["stacks"] += 1
        agg["live"] = [a + b for a, b in zip(agg["live"], item["live"])]
    sites = []
    for agg in by_site.values():
        sites.append({"site": agg["site"], "stacks": agg["stacks"], "live_kb": [round(v / 1024, 1) for v in agg["live"]],
                      "first_half_kb_per_min": round((_slope(minutes[first:half + 1], agg["live"][first:half + 1]) or 0) / 1024, 2),
                      "last_half_kb_per_min": round((_slope(minutes[half:], agg["live"][half:]) or 0) / 1024, 2)})
    sites.sort(key=lambda s: -s["last_half_kb_per_min"])
    areas = [{"area": name, "live_kb": [round(v / 1024, 1) for v in live],
              "grew_kb": round((live[n - 2] - live[first]) / 1024, 1),  # the last snapshot is the tracer's stop
              "first_half_kb_per_min": round((_slope(minutes[first:half + 1], live[first:half + 1]) or 0) / 1024, 2),
              "last_half_kb_per_min": round((_slope(minutes[half:n - 1], live[half:n - 1]) or 0) / 1024, 2)}
             for name, live in by_area.items()]
    areas.sort(key=lambda a: -a["grew_kb"])
    return {"file": str(path), "snapshots": n, "minutes": [round(m, 2) for m in minutes],
            "rss_mb": [round(s.rss / 1e6, 1) for s in snaps],
            "live_since_baseline_mb": {k: [round(v / 1e6, 3) for v in vals] for k, vals in totals.items()},
            "baseline_min": baseline_min, "from_min": round(minutes[first], 2), "to_min": round(minutes[n - 2], 2),
            "slopes_kb_per_min": {k: {"first_half": round((_slope(minutes[first:half + 1], vals[first:half + 1]) or 0) / 1024, 2),
                                      "last_half": round((_slope(minutes[half:], vals[half:]) or 0) / 1024, 2)}
                                  for k, vals in totals.items()},
            "areas_malloc": areas, "sites": sites[:top], "stacks": out_stacks}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("file", type=Path, help="what bench/soak.py --memray FILE wrote")
    p.add_argument("--top", type=int, default=20, help="sites and stacks listed (default 20)")
    p.add_argument("--depth", type=int, default=14, help="frames shown per stack (default 14)")
    p.add_argument("--baseline-min", type=float, default=0.0,
                   help="slopes from the first snapshot at or after this minute of the recording (default 0)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    result = attribute(args.file, args.top, args.depth, args.baseline_min)
    result["command"] = " ".join(sys.argv)
    text = json.dumps(result, indent=1)
    print(json.dumps({k: result[k] for k in ("snapshots", "minutes", "rss_mb", "live_since_baseline_mb",
                                             "slopes_kb_per_min")}, indent=1))
    print(f"glibc malloc by area: live bytes grown from minute {result['from_min']:g} to {result['to_min']:g} "
          f"(the last snapshot is the tracer's stop), and the slope over the last half:")
    for a in result["areas_malloc"]:
        print(f"{a['grew_kb']:9.1f} kB  {a['last_half_kb_per_min']:7.2f} kB/min (last half)  {a['area']}")
    print("sites (malloc and mmap), by last-half slope:")
    for s in result["sites"]:
        print(f"{s['last_half_kb_per_min']:8.2f} {s['first_half_kb_per_min']:8.2f} kB/min  {s['site']}  {s['live_kb'][-1]} kB")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
