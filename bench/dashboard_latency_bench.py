"""Dashboard latency and cost: host receipt of a frame → the browser has drawn it.

The virtual board (the firmware's simulated front end under MicroPython, full stream:
2 kHz × 2 EMG + 1 kHz × 3 ACC, in real time) streams through a pty into the pipeline
with the dashboard on; headless Debian Chromium (Playwright) shows the page. For each
trace frame the server notes the host receive time (``time.monotonic``) of the newest
EMG block in it; the page, after drawing the frame inside ``requestAnimationFrame``,
sends ``drawn`` back, and the server takes the difference on the same clock: an upper
bound on receipt → drawn (it includes the return trip over the WebSocket).

Side by side, in one run:
  * **decimated** (what ships): min/max per screen column, 1000 columns per 5 s;
  * **every sample**: the same page sent all 10 000 samples per channel per frame, as
    a dashboard that plots raw points (the usual first attempt) does;
  * **no dashboard**: the pipeline alone, for the host CPU it costs.

Browser CPU: Chromium's own ``Performance.getMetrics`` ``TaskDuration`` (renderer main
thread busy time) and the CPU time of every Chromium process (``/proc``), per second
of wall time. Host CPU: this process's CPU time (pipeline + server threads).

Run: ``.venv/bin/python bench/dashboard_latency_bench.py [--seconds 30]
[--screenshot docs/dashboard.png]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from twitchwatch.dashboard import Dashboard, LiveHub
from twitchwatch.pipeline import Pipeline
from twitchwatch.store import Store
from twitchwatch.transports import VirtualBoard

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WARMUP_S = 4.0
RESULTS = Path(__file__).parent / "results"


def _chromium_cpu_s() -> float:
    """CPU seconds (user + system) of every Chromium process descended from this one."""
    ticks = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        procs[int(entry)] = (int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / ticks)
    me = os.getpid()
    total = 0.0
    for pid, (_, comm, cpu) in procs.items():
        p, seen = pid, 0
        while p in procs and p != me and seen < 50:
            p, seen = procs[p][0], seen + 1
        if p == me and "chrom" in comm:
            total += cpu
    return total


class _Browser(threading.Thread):
    """Opens the page, measures the browser's CPU between ``start_measure`` and ``stop``."""

    def __init__(self, url: str, screenshot: str | None) -> None:
        super().__init__(daemon=True)
        self.url, self.screenshot = url, screenshot
        self.ready = threading.Event()
        self.start_measure = threading.Event()
        self.stop = threading.Event()
        self.result: dict = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
            self.ready.set()

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(self.url)
            self.ready.set()
            self.start_measure.wait()

            def task_s() -> float:
                metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                return metrics["TaskDuration"]
            t0, task0, cpu0 = time.monotonic(), task_s(), _chromium_cpu_s()
            frames0 = int(page.get_attribute("#trace", "data-frames-drawn") or 0)
            self.stop.wait()
            wall = time.monotonic() - t0
            frames = int(page.get_attribute("#trace", "data-frames-drawn") or 0) - frames0
            self.result = {"renderer_main_thread_pct": 100 * (task_s() - task0) / wall,
                           "all_chromium_cpu_pct": 100 * (_chromium_cpu_s() - cpu0) / wall,
                           "frames_drawn_per_s": frames / wall}
            if self.screenshot:
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=self.screenshot, full_page=True)
            browser.close()


def run_mode(mode: str, seconds: float, tmp: Path, screenshot: str | None) -> dict:
    store = Store(tmp / f"{mode}.sqlite3")
    hub = dash = browser = None
    if mode != "no dashboard":
        hub = LiveHub(columns=1000 if mode == "decimated" else 10_000)
        dash = Dashboard(hub, store.path, port=0)
        dash.start()
        browser = _Browser(dash.url, screenshot)
        browser.start()
        if not browser.ready.wait(60) or browser.error:
            raise RuntimeError(f"the browser did not open the page: {browser.error}")
    try:
        with VirtualBoard(seed=1, duration_s=WARMUP_S + seconds + 1, realtime=True) as source:
            pipe = Pipeline(source, source_name="bench", store=store,
                            sinks=[hub] if hub is not None else [], on_status=hub and hub.on_status)
            state = {"cpu0": 0.0, "t0": 0.0, "n0": 0}

            def should_stop() -> bool:
                now = time.monotonic()
                if not state["t0"] and pipe.summary.samples.get(0, 0) >= 2000 * WARMUP_S:
                    state.update(t0=now, cpu0=time.process_time(),
                                 n0=0 if dash is None else len(dash.app.latency.latencies_s))
                    if browser is not None:
                        browser.start_measure.set()
                return bool(state["t0"]) and now - state["t0"] >= seconds
            summary = pipe.run(should_stop=should_stop)
            wall = time.monotonic() - state["t0"]
            host_cpu = 100 * (time.process_time() - state["cpu0"]) / wall
        row: dict = {"mode": mode, "seconds": round(wall, 1), "host_process_cpu_pct": round(host_cpu, 1),
                     "samples_dropped_at_source": summary.samples_dropped_at_source,
                     "samples_lost": summary.decoder.get("samples_lost", 0)}
        if dash is not None and browser is not None:
            browser.stop.set()
            browser.join(60)
            lat = np.array(list(dash.app.latency.latencies_s)[state["n0"]:]) * 1000
            row.update({
                "frames_sent": dash.app.latency.frames_sent, "frames_drawn_acked": int(lat.size),
                "latency_ms_median": round(float(np.median(lat)), 1),
                "latency_ms_p95": round(float(np.percentile(lat, 95)), 1),
                "latency_ms_p99": round(float(np.percentile(lat, 99)), 1),
                "latency_ms_max": round(float(lat.max()), 1),
                "within_100ms_pct": round(100 * float((lat <= 100).mean()), 1),
                **{k: round(v, 1) for k, v in browser.result.items()},
                "frame_bytes": dash.app.last_trace_bytes,
                "_latencies_ms": lat.tolist(),
            })
        return row
    finally:
        if dash is not None:
            dash.stop()
        store.close()


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for row in rows:
        if "_latencies_ms" in row:
            ax.hist(row["_latencies_ms"], bins=np.arange(0, 301, 5), alpha=0.6, label=row["mode"])
    ax.axvline(100, color="k", ls="--", lw=1, label="target 100 ms")
    ax.set_xlabel("host receipt → drawn in Chromium (ms)")
    ax.set_ylabel("trace frames")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measured seconds per mode (default 30)")
    ap.add_argument("--screenshot", metavar="PNG", help="also save a screenshot of the decimated run's page")
    args = ap.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} not found: apt-get install chromium")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("decimated", "every sample", "no dashboard"):
            print(f"{mode}: {WARMUP_S:g} s warm-up + {args.seconds:g} s measured ...", file=sys.stderr, flush=True)
            rows.append(run_mode(mode, args.seconds, Path(tmp), args.screenshot if mode == "decimated" else None))
    RESULTS.mkdir(exist_ok=True)
    plot(rows, RESULTS / "dashboard_latency.png")
    public = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    (RESULTS / "dashboard_latency.json").write_text(json.dumps(
        {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
         "rows": public}, indent=1))
    cols = ["mode", "latency_ms_median", "latency_ms_p95", "latency_ms_max", "within_100ms_pct",
            "frames_drawn_per_s", "frame_bytes", "renderer_main_thread_pct", "all_chromium_cpu_pct",
            "host_process_cpu_pct", "samples_dropped_at_source"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in public:
        print("| " + " | ".join(str(r.get(c, "–")) for c in cols) + " |")
    print(f"plot: {RESULTS / 'dashboard_latency.png'}", file=sys.stderr)


if __name__ == "__main__":
    main()
