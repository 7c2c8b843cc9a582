"""Soak run: the virtual board at full rate, in real time, with the dashboard open.

The real firmware (MicroPython Unix port, 2 EMG × 2 kHz + 3 ACC × 1 kHz) streams over
a pty to the whole pipeline (decoder → detector → SQLite → events file), the dashboard
serves it, and one WebSocket client (what a browser tab does) reads every message.
Every minute it samples: this process's resident memory (and the firmware's), the
decoder's and the source's loss counters, events, and the dashboard's messages sent
and dropped. The run should show flat memory and zero loss.

Usage::

    nice -n -5 python bench/soak.py --minutes 10 --out bench/results/soak.json
    python bench/soak.py --minutes 0.2          # a smoke run
    python bench/soak.py --minutes 12 --trim-every-s 0   # without the live run's heap trimming

Results: docs/reliability.md ("Soak").
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ctypes
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def rss_mb(pid: int | str = "self") -> float | None:
    """Resident memory of a process (MB), from /proc; None where there is none."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def memory_parts(pid: int | str = "self") -> dict[str, float]:
    """Resident memory by kind (MB, /proc status): anonymous (heaps), file-backed
    (code and libraries paged in, mapped files) and shared memory."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":")[0]
            if key in ("RssAnon", "RssFile", "RssShmem", "Threads"):
                value = int(line.split()[1])
                out[key] = value if key == "Threads" else round(value / 1024, 2)
    except OSError:
        pass
    return out


def anon_mappings() -> dict[str, tuple[int, int]]:
    """This process's anonymous mappings (the brk heap included): start address →
    (size kB, resident kB), from /proc/self/smaps."""
    out: dict[str, tuple[int, int]] = {}
    key: str | None = None
    size = 0
    try:
        text = Path("/proc/self/smaps").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
            anonymous = len(head) == 5 or head[5] == "[heap]"
            key = head[0].split("-")[0] if anonymous else None
            size = 0
        elif key is not None and head[0] == "Size:":
            size = int(head[1])
        elif key is not None and head[0] == "Rss:":
            out[key] = (size, int(head[1]))
    return out


def mappings_grown(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
                   top: int = 10) -> list[dict[str, Any]]:
    """The anonymous mappings whose resident memory grew most (kB), new ones included."""
    grown = [{"start": k, "size_kb": v[0], "rss_kb": v[1], "grew_kb": v[1] - before.get(k, (0, 0))[1]}
             for k, v in after.items()]
    return sorted(grown, key=lambda g: -g["grew_kb"])[:top]


def schedstat_ms(pid: int | str = "self") -> dict[str, float]:
    """CPU time a process ran and time it waited, runnable, for a CPU (ms, cumulative,
    from ``/proc/PID/schedstat``: all its threads' ``sum_exec_runtime`` and
    ``run_delay``); empty where there is none (not Linux, or schedstats off)."""
    out = {"cpu_ms": 0.0, "wait_ms": 0.0}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        for task in tasks:
            run_ns, wait_ns = (int(v) for v in (task / "schedstat").read_text().split()[:2])
            out["cpu_ms"] += run_ns / 1e6
            out["wait_ms"] += wait_ns / 1e6
    except (OSError, ValueError):
        return {}
    return {k: round(v, 1) for k, v in out.items()}


def parse_stalls(stderr: bytes) -> list[dict[str, int]]:
    """The board's ``stall:`` lines (``unix_main.py --stall-report-ms``) as dicts:
    ``t_ms`` (since it started), ``gap_ms`` between two loop passes, ``write_ms`` of it
    spent blocked in writes to the pty."""
    out = []
    for line in stderr.decode("ascii", "replace").splitlines():
        if line.startswith("stall: "):
            try:
                out.append({k: int(v) for k, v in (part.split("=") for part in line[7:].split())})
            except ValueError:
                continue
    return out


def stall_summary(stalls: list[dict[str, int]], drop_ms: int) -> dict[str, Any]:
    """How many gaps there were, the longest, and of those of ``drop_ms`` or more (long
    enough for the board's 80 ms rings to overflow) how many were mostly spent blocked in
    a write (the host not reading) rather than waiting for a CPU."""
    long_ = [s for s in stalls if s["gap_ms"] >= drop_ms]
    return {"n": len(stalls), "max_gap_ms": max((s["gap_ms"] for s in stalls), default=0),
            "max_write_ms": max((s["write_ms"] for s in stalls), default=0),
            f"n_ge_{drop_ms}ms": len(long_),
            f"n_ge_{drop_ms}ms_mostly_write": sum(1 for s in long_ if 2 * s["write_ms"] >= s["gap_ms"])}


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def split_losses(problems: dict[str, int]) -> dict[str, int]:
    """Samples the board itself dropped (its buffers full while it waited for a CPU:
    counted in its STATUS, marked as gaps) apart from what went missing or damaged
    between the board and the store (link, decoder, host: every other counter)."""
    at_source = int(problems.get("samples_dropped_at_source", 0))
    on_host = max(0, int(problems.get("samples_lost", 0)) - at_source)
    other = sum(v for k, v in problems.items() if k not in ("samples_dropped_at_source", "samples_lost"))
    return {"samples_dropped_at_source": at_source, "samples_lost_on_host": on_host, "other_problems": other}


def malloc_stats_mb() -> dict[str, float]:
    """glibc's own account (``mallinfo2``, MB): bytes in use by malloc (``in_use``, every
    thread's arena; Python's small objects live in 256 kB pymalloc arenas inside it or in
    mmaps), freed but kept (``free``: fragmentation a ``malloc_trim`` may hand back), and
    large blocks in their own mmaps (``mmapped``); plus Python's live small blocks
    (``py_blocks``, ``sys.getallocatedblocks``). Empty where glibc is not the allocator."""
    try:
        info = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    info.restype = _Mallinfo2
    m = info()
    return {"in_use_mb": round(m.uordblks / 1e6, 2), "free_mb": round(m.fordblks / 1e6, 2),
            "mmapped_mb": round(m.hblkhd / 1e6, 2), "py_blocks": sys.getallocatedblocks()}


def pymalloc_mb() -> dict[str, float]:
    """Python's small-object allocator (``sys._debugmallocstats``, CPython): its arenas
    (1 MiB each, mmapped: outside glibc's ``mallinfo`` and out of ``malloc_trim``'s
    reach; an arena goes back only when every object in it is gone) and the bytes in
    live blocks in them (MB). Empty where the interpreter has no such report."""
    import re

    fn = getattr(sys, "_debugmallocstats", None)
    if fn is None:
        return {}
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        try:
            os.dup2(tmp.fileno(), 2)
            fn()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode("ascii", "replace")
    out: dict[str, float] = {}
    for key, name in (("arenas_mb", r"# arenas allocated current\s*=\s*([\d,]+)"),
                      ("blocks_mb", r"# bytes in allocated blocks\s*=\s*([\d,]+)")):
        m = re.search(name, text)
        if m:
            v = int(m.group(1).replace(",", ""))
            out[key] = round(v * (1 << 20) / 1e6 if key == "arenas_mb" else v / 1e6, 2)
    return out


def sqlite_mb() -> float | None:
    """Memory SQLite holds in this process (MB: page caches of every open connection,
    statements, ...), from the library's own counter (``sqlite3_memory_used``)."""
    import sqlite3  # noqa: F401 - the module loads the library this asks

    try:
        lib = ctypes.CDLL("libsqlite3.so.0")
    except OSError:
        return None
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return round(lib.sqlite3_memory_used() / 1e6, 2)


def numba_stats() -> dict[str, int]:
    """Numba's share: arrays its compiled code allocated and did not free yet (NRT
    meminfos, outside tracemalloc's sight) and compiled specialisations (each new one
    costs LLVM memory)."""
    out: dict[str, int] = {}
    try:
        from numba.core.registry import CPUDispatcher
        from numba.core.runtime import rtsys
    except ImportError:
        return out
    try:
        st = rtsys.get_allocation_stats()
        out["nrt_live"] = int(st.alloc - st.free)
        out["nrt_mi_live"] = int(st.mi_alloc - st.mi_free)
    except RuntimeError:  # stats not enabled
        pass
    # the dispatchers are module globals: found there, not by walking every live object
    # (gc.get_objects over ~10^5 objects held the GIL long enough to stall the run)
    seen: set[int] = set()
    compiled = 0
    for mod in list(sys.modules.values()):
        for o in list(getattr(mod, "__dict__", {}).values()):
            if isinstance(o, CPUDispatcher) and id(o) not in seen:
                seen.add(id(o))
                compiled += len(o.overloads)
    out["compiled"] = compiled
    return out


def malloc_trim_mb() -> dict[str, float | None]:
    """RSS before and after glibc's ``malloc_trim(0)`` (free heap pages handed back to
    the OS): what of the resident memory was only freed-but-kept allocator arena."""
    from twitchwatch import heap

    before = rss_mb()
    if not heap.TRIM_AVAILABLE:
        return {"before_mb": before, "after_mb": None}
    heap.malloc_trim()
    return {"before_mb": before, "after_mb": rss_mb()}


class HeapProbe:
    """Where Python memory grows: ``tracemalloc`` snapshots compared with a baseline
    (the allocation sites that grew most, with their tracebacks) and live objects
    counted by type (``gc``; dicts of plain values are not tracked by gc, so events
    show in tracemalloc only). Diagnostic only: tracing slows allocation down, so it
    starts at the baseline, not before."""

    def __init__(self, frames: int, top: int = 12) -> None:
        import tracemalloc

        self.tm = tracemalloc
        self.frames = frames
        self.top = top
        self.base: Any = None
        self.base_types: collections.Counter[str] | None = None

    @staticmethod
    def _types() -> collections.Counter[str]:
        return collections.Counter(type(o).__name__ for o in gc.get_objects())

    def sample(self) -> dict[str, Any]:
        """The first call starts tracing (the baseline: nothing allocated before it is
        traced, so what a later call finds alive was allocated since and kept)."""
        if not self.tm.is_tracing():
            self.tm.start(self.frames)
        snap = self.tm.take_snapshot().filter_traces([self.tm.Filter(False, self.tm.__file__)])
        types = self._types()
        traced_mb = self.tm.get_traced_memory()[0] / 1e6
        if self.base is None:
            self.base, self.base_types = snap, types
            return {"traced_mb": round(traced_mb, 2), "baseline": True}
        assert self.base_types is not None
        stats = snap.compare_to(self.base, "traceback")
        grown = [{"kb": round(st.size_diff / 1024, 1), "count": st.count_diff,
                  "where": [f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in st.traceback][::-1]}
                 for st in sorted(stats, key=lambda st: -st.size_diff)[:self.top]]
        type_diff = {k: types[k] - self.base_types.get(k, 0) for k in types}
        return {"traced_mb": round(traced_mb, 2), "grown": grown,
                "types_grown": dict(sorted(type_diff.items(), key=lambda kv: -kv[1])[:self.top])}


def start_native_tracker(path: Path, interval_s: float) -> Any:
    """Start memray tracing every allocation of this process, with its native (C) stack
    as well as the Python one, into ``path``; RSS and the heap size are recorded every
    ``interval_s`` (the snapshots ``bench/native_heap.py`` compares). Started before the
    run's threads: memray follows the Python stack of the threads started after it. Python's small
    objects are not traced one by one (their 1 MiB arenas are, as mmaps): what is traced
    is what glibc's malloc hands out, the memory ``mallinfo2`` counts as in use.
    Diagnostic only (memray is in the ``memprofile`` extra): tracing slows every
    allocation down."""
    import memray

    path.unlink(missing_ok=True)
    tracker = memray.Tracker(path, native_traces=True, memory_interval_ms=max(1, round(interval_s * 1e3)))
    tracker.__enter__()
    return tracker


class LoopWatch:
    """How long the host went without reading the board, and what it was doing then.

    Wraps ``source.read``: the time from one read's return to the next read's call is
    the host's work between reads, while the board's bytes wait in the pty (about
    0.75 s of the stream fits; beyond, the board blocks in its write). A gap longer than
    ``limit_s`` is recorded with the stack the main thread was in (sampled by a watcher
    thread once the gap passed ``limit_s``) and the time the garbage collector ran in it
    (``gc.callbacks``: a full collection holds the GIL, no thread reads meanwhile)."""

    def __init__(self, source: Any, limit_s: float = 0.25) -> None:
        self.limit_s = limit_s
        self.stalls: list[dict[str, Any]] = []
        self.gc_ms = {0: 0.0, 1: 0.0, 2: 0.0}
        self.gc_n = {0: 0, 1: 0, 2: 0}
        self.gc_worst_ms = {0: 0.0, 1: 0.0, 2: 0.0}
        self._gc_t = 0.0
        self._gc_in_gap = 0.0
        self._since = time.monotonic()
        self._where: list[str] | None = None
        self._t0 = time.monotonic()
        self._main = threading.get_ident()
        self._read = source.read
        self._stop = threading.Event()
        source.read = self.read
        gc.callbacks.append(self._on_gc)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_t = time.perf_counter()
        else:
            ms = (time.perf_counter() - self._gc_t) * 1e3
            g = info.get("generation", 2)
            self.gc_ms[g] += ms
            self.gc_n[g] += 1
            self.gc_worst_ms[g] = max(self.gc_worst_ms[g], ms)
            self._gc_in_gap += ms

    def _watch(self) -> None:
        """Every ``limit_s`` of a gap, the main thread's innermost frames (up to 6 samples)."""
        while not self._stop.wait(0.02):
            where = self._where
            gap_s = time.monotonic() - self._since
            if gap_s > self.limit_s * (1 + len(where or ())) and len(where or ()) < 6:
                frame = sys._current_frames().get(self._main)
                stack = []
                while frame is not None and len(stack) < 6:
                    stack.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name}")
                    frame = frame.f_back
                self._where = (where or []) + [" < ".join(stack)]

    def read(self, timeout_s: float) -> Any:
        gap_s = time.monotonic() - self._since
        if gap_s > self.limit_s:
            self.stalls.append({"at_s": round(time.monotonic() - self._t0, 1), "gap_ms": round(gap_s * 1e3),
                                "gc_ms": round(self._gc_in_gap), "where": self._where})
        try:
            return self._read(timeout_s)
        finally:
            self._since = time.monotonic()
            self._gc_in_gap = 0.0
            self._where = None

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        return {"limit_ms": round(self.limit_s * 1e3), "n": len(self.stalls),
                "max_gap_ms": max((st["gap_ms"] for st in self.stalls), default=0),
                "gc": {f"gen{g}": {"n": self.gc_n[g], "total_ms": round(self.gc_ms[g]), "worst_ms": round(self.gc_worst_ms[g], 1)}
                       for g in (0, 1, 2)},
                "stalls": self.stalls}


class WsReader:
    """A WebSocket client reading every dashboard message in a thread, and answering
    each trace frame with ``drawn`` as the page does (a browser tab)."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.messages = 0
        self.bytes = 0
        self.drawn = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        import websockets

        try:
            origin = self.url.replace("ws://", "http://").split("/ws")[0]
            async with websockets.connect(self.url, origin=origin, max_size=None) as ws:  # type: ignore[arg-type]
                await ws.send(json.dumps({"token": self.token}))
                while not self._stop.is_set():
                    try:
                        msg = await asyncio.wait_for(ws.recv(), timeout=1.0)
                    except asyncio.TimeoutError:
                        continue
                    self.messages += 1
                    self.bytes += len(msg)
                    if msg.startswith('{"type":"trace"'):
                        await ws.send(json.dumps({"type": "drawn", "id": json.loads(msg)["id"]}))
                        self.drawn += 1
        except Exception as exc:  # noqa: BLE001 - reported in the results
            self.error = f"{type(exc).__name__}: {exc}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


def soak(minutes: float, every_s: float = 60.0, seed: int = 1, trace_frames: int = 0,
         baseline_min: float = 2.0, trim_each_row: bool = False, dashboard: bool = True,
         trim_every_s: float | None = None, stall_report_ms: int = 40,
         memray_out: Path | None = None, memray_interval_s: float = 60.0) -> dict[str, Any]:
    from twitchwatch.dashboard import Dashboard, LiveHub
    from twitchwatch.pipeline import Pipeline
    from twitchwatch.store import Store
    from twitchwatch.transports import VirtualBoard

    from twitchwatch.detect.warmup import warm_up

    try:  # count numba's own allocations (cheap counters; numba_stats reads them)
        from numba.core.runtime import _nrt_python

        _nrt_python.memsys_enable_stats()
    except (ImportError, AttributeError):
        pass
    warm_up()  # as twitchwatch stream does before START: the detector's kernels loaded
    probe = HeapProbe(trace_frames) if trace_frames else None
    maps_base: dict[str, tuple[int, int]] | None = None
    # from here, before the board, the dashboard and their threads start: memray follows
    # the Python stack of threads started after it (bench/native_heap.py --baseline-min
    # compares the snapshots after the start-up)
    native: Any = start_native_tracker(memray_out, memray_interval_s) if memray_out is not None else None
    tmp = Path(tempfile.mkdtemp(prefix="twsoak-"))
    hub = LiveHub() if dashboard else None
    rows: list[dict[str, Any]] = []
    latest: dict[str, Any] = {}
    vboard = VirtualBoard(seed=seed, realtime=True,
                          extra_args=("--stall-report-ms", str(stall_report_ms)) if stall_report_ms else ())
    with Store(tmp / "soak.sqlite3") as store:
        source = vboard.open()
        watch = LoopWatch(source)
        firmware_nice = os.getpriority(os.PRIO_PROCESS, vboard.pid) if vboard.pid else None
        dash = reader = None
        if hub is not None:  # without: the same run, to tell the dashboard's share of what grows
            dash = Dashboard(hub, store.path, port=0)
            dash.start()
            reader = WsReader(f"ws://127.0.0.1:{dash.port}/ws", dash.app.token)
            reader.start()
        start = time.monotonic()
        next_row = start

        def on_status(st: Any) -> None:
            nonlocal next_row, maps_base, native, memray_out
            if hub is not None:
                hub.on_status(st)
            latest.update(device_s=st.device_elapsed_s, problems=dict(st.problems), events=st.events)
            now = time.monotonic()
            if now >= next_row:
                next_row += every_s
                row = {"minute": round((now - start) / 60, 2), "device_s": round(st.device_elapsed_s, 1),
                       "host_rss_mb": rss_mb(), "firmware_rss_mb": rss_mb(vboard.pid) if vboard.pid else None,
                       "events": st.events, "problems": dict(st.problems),
                       "ws_messages": reader and reader.messages, "ws_mb": reader and round(reader.bytes / 1e6, 1),
                       "dashboard_dropped": dash and dash.app.messages_dropped + sum(c.dropped for c in dash.app.clients)}
                row.update(split_losses(st.problems))
                row["loadavg_1min"] = round(os.getloadavg()[0], 2)
                row["host_sched_ms"] = schedstat_ms()
                row["firmware_sched_ms"] = schedstat_ms(vboard.pid) if vboard.pid else {}
                row["board_stalls"] = len(parse_stalls(vboard.stderr))
                row["host_read_gaps"] = len(watch.stalls)
                ahead = getattr(source, "read_ahead", None)  # the host's reading thread: is the run keeping up?
                if ahead is not None:
                    row["read_ahead_kb"] = {"queued": round(ahead.queued_bytes / 1e3, 1),
                                            "peak": round(ahead.peak_bytes / 1e3, 1)}
                if hub is not None and dash is not None:  # the live state's bounded collections, filling
                    row["dashboard_state"] = {"twitches_kept": hub.events_kept,
                                              "twitches_not_shown": hub.events_not_shown,
                                              "frames_awaited": dash.app.latency.frames_awaited,
                                              "client_queued": sum(c.queue.qsize() for c in dash.app.clients)}
                row["host_parts_mb"] = memory_parts()
                row["malloc"] = malloc_stats_mb()
                row["pymalloc"] = pymalloc_mb()
                row["sqlite_mb"] = sqlite_mb()
                row["numba"] = numba_stats()
                if trim_each_row:
                    row["trimmed_rss_mb"] = malloc_trim_mb()["after_mb"]
                row["gc_counts"] = gc.get_count()  # (what a walk of every object would cost is not paid here)
                maps = anon_mappings()
                row["anon_mappings"] = len(maps)
                if maps_base is None and row["minute"] >= baseline_min:
                    maps_base = maps
                elif maps_base is not None:
                    row["anon_grown_kb"] = [(g["start"], g["size_kb"], g["grew_kb"])
                                            for g in mappings_grown(maps_base, maps, 5)]
                if probe is not None and row["minute"] >= baseline_min:
                    row["heap"] = probe.sample()
                if native is not None and now - start + every_s > minutes * 60:  # the last row: stop tracing
                    native.__exit__(None, None, None)
                    native, memray_out = None, None
                    row["memray_stopped"] = True
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)

        pipe = Pipeline(source, source_name="soak", store=store, events_out=tmp / "soak.jsonl",
                        sinks=[hub] if hub is not None else [], on_status=on_status,
                        trim_heap_every_s=trim_every_s)
        deadline = start + minutes * 60
        try:
            summary = pipe.run(should_stop=lambda: time.monotonic() >= deadline)
            if native is not None:
                native.__exit__(None, None, None)
            trim = malloc_trim_mb()
            stalls = parse_stalls(vboard.stderr)
            host_gaps = watch.stop()
        finally:
            if reader is not None and dash is not None:
                reader.stop()
                dash.stop()
            vboard.close()
    rss = [r["host_rss_mb"] for r in rows if r["host_rss_mb"] is not None]
    loads = [r["loadavg_1min"] for r in rows]
    return {
        "minutes": minutes, "device_s": round(summary.signal_s, 1), "host_s": round(summary.duration_host_s, 1),
        "samples": summary.samples, "events": summary.events, "problems": summary.problems(),
        "ended_because": summary.ended_because, "losses": split_losses(summary.problems()),
        "loadavg_1min": {"min": min(loads), "mean": round(sum(loads) / len(loads), 2), "max": max(loads)} if loads else None,
        "host_nice": os.getpriority(os.PRIO_PROCESS, 0), "firmware_nice": firmware_nice,
        "priority_note": vboard.priority_note,
        "rss_first_mb": rss[0] if rss else None, "rss_last_mb": rss[-1] if rss else None,
        "rss_max_mb": max(rss) if rss else None,
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "trim_every_s": trim_every_s,
        "trims": pipe.heap_trimmer and {"calls": pipe.heap_trimmer.calls, "total_ms": round(pipe.heap_trimmer.total_s * 1e3, 1),
                                        "worst_ms": round(pipe.heap_trimmer.worst_s * 1e3, 2)},
        "board_stalls": stall_summary(stalls, 70), "board_stall_lines": stalls, "host_read_gaps": host_gaps,
        "read_ahead_peak_kb": source.read_ahead and round(source.read_ahead.peak_bytes / 1e3, 1),
        "ws_messages": reader and reader.messages, "ws_drawn_sent": reader and reader.drawn,
        "latency_frames_drawn": dash and dash.app.latency.frames_drawn, "ws_error": reader and reader.error, "malloc_trim": trim,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    from twitchwatch.heap import LIVE_TRIM_EVERY_S

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--every-s", type=float, default=60.0, help="seconds between samples (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES",
                   help="diagnose: trace allocations (traceback depth FRAMES) and report what grew since "
                        "--baseline-min, with live objects by type (slows the host down)")
    p.add_argument("--baseline-min", type=float, default=2.0, help="minute of the heap baseline (default 2)")
    p.add_argument("--trim-each-row", action="store_true",
                   help="diagnose: hand freed heap pages back (malloc_trim) at each row and record the RSS after")
    p.add_argument("--no-dashboard", action="store_true",
                   help="diagnose: the same run without the dashboard and its client")
    p.add_argument("--trim-every-s", type=float, default=LIVE_TRIM_EVERY_S, metavar="S",
                   help="hand free heap pages back (malloc_trim, glibc) every S seconds during the run, as "
                        f"Pipeline(trim_heap_every_s=S) does; 0: never (default {LIVE_TRIM_EVERY_S:g}, as a "
                        "live stream or demo)")
    p.add_argument("--stall-report-ms", type=int, default=40, metavar="MS",
                   help="the board reports loop gaps longer than MS (unix_main.py; 0: off; default 40)")
    p.add_argument("--memray", type=Path, metavar="FILE",
                   help="diagnose: trace every malloc with its native and Python stack (memray, the 'memprofile' "
                        "extra) from the start (after the detector's warm-up) to the last row into FILE; "
                        "bench/native_heap.py FILE says which stacks' live bytes grew after the start-up")
    p.add_argument("--memray-interval-s", type=float, default=60.0, metavar="S",
                   help="seconds between memray's heap snapshots (default 60)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    result = soak(args.minutes, args.every_s, args.seed, args.tracemalloc, args.baseline_min, args.trim_each_row,
                  not args.no_dashboard, args.trim_every_s or None, args.stall_report_ms, args.memray,
                  args.memray_interval_s)
    result["command"] = " ".join(sys.argv)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0 if not result["problems"] and result["ws_error"] is None else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
    sys.exit(main())
