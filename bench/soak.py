"""Soak run: the virtual board at full rate, in real time, with the dashboard open.

The real firmware (MicroPython Unix port, 2 EMG × 2 kHz + 3 ACC × 1 kHz) streams over
a pty to the whole pipeline (decoder → detector → SQLite → events file), the dashboard
serves it, and one WebSocket client (what a browser tab does) reads every message.
Every minute it samples: this process's resident memory (and the firmware's), the
decoder's and the source's loss counters, events, and the dashboard's messages sent
and dropped. The run should show flat memory and zero loss.

Usage::

    nice python bench/soak.py --minutes 10 --out bench/results/soak.json
    python bench/soak.py --minutes 0.2          # a smoke run

Results: docs/reliability.md ("Soak").
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


class WsReader:
    """A WebSocket client reading every dashboard message in a thread (a browser tab)."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.messages = 0
        self.bytes = 0
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
        except Exception as exc:  # noqa: BLE001 - reported in the results
            self.error = f"{type(exc).__name__}: {exc}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


def soak(minutes: float, every_s: float = 60.0, seed: int = 1) -> dict[str, Any]:
    from twitchwatch.dashboard import Dashboard, LiveHub
    from twitchwatch.pipeline import Pipeline
    from twitchwatch.store import Store
    from twitchwatch.transports import VirtualBoard

    from twitchwatch.detect.warmup import warm_up

    warm_up()  # as twitchwatch stream does before START: the detector's kernels loaded
    tmp = Path(tempfile.mkdtemp(prefix="twsoak-"))
    hub = LiveHub()
    rows: list[dict[str, Any]] = []
    latest: dict[str, Any] = {}
    vboard = VirtualBoard(seed=seed, realtime=True)
    with Store(tmp / "soak.sqlite3") as store:
        source = vboard.open()
        dash = Dashboard(hub, store.path, port=0)
        dash.start()
        reader = WsReader(f"ws://127.0.0.1:{dash.port}/ws", dash.app.token)
        reader.start()
        start = time.monotonic()
        next_row = start

        def on_status(st: Any) -> None:
            nonlocal next_row
            hub.on_status(st)
            latest.update(device_s=st.device_elapsed_s, problems=dict(st.problems), events=st.events)
            now = time.monotonic()
            if now >= next_row:
                next_row += every_s
                row = {"minute": round((now - start) / 60, 2), "device_s": round(st.device_elapsed_s, 1),
                       "host_rss_mb": rss_mb(), "firmware_rss_mb": rss_mb(vboard.pid) if vboard.pid else None,
                       "events": st.events, "problems": dict(st.problems),
                       "ws_messages": reader.messages, "ws_mb": round(reader.bytes / 1e6, 1),
                       "dashboard_dropped": dash.app.messages_dropped + sum(c.dropped for c in dash.app.clients)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)

        pipe = Pipeline(source, source_name="soak", store=store, events_out=tmp / "soak.jsonl",
                        sinks=[hub], on_status=on_status)
        deadline = start + minutes * 60
        try:
            summary = pipe.run(should_stop=lambda: time.monotonic() >= deadline)
        finally:
            reader.stop()
            dash.stop()
            vboard.close()
    rss = [r["host_rss_mb"] for r in rows if r["host_rss_mb"] is not None]
    return {
        "minutes": minutes, "device_s": round(summary.signal_s, 1), "host_s": round(summary.duration_host_s, 1),
        "samples": summary.samples, "events": summary.events, "problems": summary.problems(),
        "ended_because": summary.ended_because,
        "rss_first_mb": rss[0] if rss else None, "rss_last_mb": rss[-1] if rss else None,
        "rss_max_mb": max(rss) if rss else None,
        "ws_messages": reader.messages, "ws_error": reader.error, "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--every-s", type=float, default=60.0, help="seconds between samples (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    result = soak(args.minutes, args.every_s, args.seed)
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
