"""Many tabs and a stalled client: acquisition goes on, the stalled client loses
(counted) frames, the others keep getting fresh ones. Real uvicorn server, real
sockets; no timing is asserted (speed lives in bench/)."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time

from twitchwatch.dashboard import Dashboard, LiveHub
from twitchwatch.store import Store

from .blocks import EMG_INFO, blocks, emg_counts


def _stalled_client(port: int, token: str) -> socket.socket:
    """A WebSocket client that authenticates and then never reads (tiny receive buffer)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0]
    payload = json.dumps({"token": token}).encode()
    mask = os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    return s


class _Tab(threading.Thread):
    """A healthy page: reads every message and acknowledges trace frames."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.frame_ids: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from websockets.sync.client import connect

        with connect(self.url.replace("http://", "ws://") + "ws") as ws:
            ws.send(json.dumps({"token": self.token}))
            while not self.stop.is_set():
                try:
                    msg = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                if msg["type"] == "trace":
                    self.frame_ids.append(msg["id"])
                    ws.send(json.dumps({"type": "drawn", "id": msg["id"]}))


def test_a_stalled_client_and_many_tabs_do_not_hold_up_acquisition(tmp_path):
    db = tmp_path / "tw.sqlite3"
    Store(db).close()
    hub = LiveHub()
    dash = Dashboard(hub, db, port=0)
    dash.start()
    try:
        token = dash.app.token
        stalled = _stalled_client(dash.port, token)
        tabs = [_Tab(dash.url, token) for _ in range(8)]
        for tab in tabs:
            tab.start()
        all_blocks = blocks(EMG_INFO, emg_counts(2000 * 60), [20])
        fed = 0
        stalled_dropped = 0
        for b in all_blocks:  # ~real time, until the stalled client has visibly lost frames
            hub.on_block(b)
            fed += 1
            if fed % 100 == 0:
                stalled_dropped = max([c.dropped for c in list(dash.app.clients)] + [0])
                if stalled_dropped >= 30 and fed >= 1000:
                    break
            time.sleep(0.005)
        assert stalled_dropped >= 30, "the stalled client never filled its queue"
        frames_before = [len(t.frame_ids) for t in tabs]
        for b in blocks(EMG_INFO, emg_counts(400, seed=9), [20], first_index=all_blocks[fed - 1].end_sample_index):
            hub.on_block(b)
            time.sleep(0.005)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(len(t.frame_ids) > n for t, n in zip(tabs, frames_before)):
            time.sleep(0.05)
        # every healthy tab still gets new frames while the stalled one is dropping its own
        assert all(len(t.frame_ids) > n for t, n in zip(tabs, frames_before))
        assert hub.blocks_seen == fed + 20
        for tab in tabs:
            tab.stop.set()
            tab.join(5)
        stalled.close()
    finally:
        dash.stop()
