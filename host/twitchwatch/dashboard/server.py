"""The dashboard's web server: Starlette (HTTP + WebSocket) under uvicorn, in a thread.

See docs/dashboard.md for the API, the messages and the security model. In short:
the page token guards every ``/api/*`` call and the WebSocket; the ``Host`` header
must be the served address on loopback; a WebSocket or POST from another origin is
refused; health data never appears in a URL or a log line (no access log).

One broadcaster task turns what the :class:`~twitchwatch.dashboard.hub.LiveHub`
collected into messages (at most :data:`MAX_FRAMES_PER_S` trace frames a second,
encoded once) and offers them to every client's bounded queue; a full queue drops
its oldest message and counts it, so one slow tab only loses frames itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import numpy as np

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from twitchwatch import TwitchwatchError
from twitchwatch.causes.entries import ACCEPTED, EntryError
from twitchwatch.dashboard import analysis
from twitchwatch.dashboard.hub import MAX_EVENTS_KEPT, LiveHub

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_PORT = 8765
MAX_FRAMES_PER_S = 30
CLIENT_QUEUE_MESSAGES = 8
MAX_BODY_BYTES = 16 * 1024
RANKING_EVERY_S = 5.0
RANKING_MAX_EVENTS = MAX_EVENTS_KEPT  # the newest live twitches the live ranking looks at: all the hub keeps
LATENCY_FRAMES_AWAITED = 1000  # trace frames whose "drawn" reply is still awaited (older ones are forgotten)
EVENTS_RERANKED = 50  # the newest twitches whose causes are re-sent after something is logged
MIN_ACCESS_TOKEN_CHARS = 16
TOKEN_HEADER = "x-twitchwatch-token"
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class _BadJson(EntryError):
    """A request body that is not a JSON object (one line to the sender, 400)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LatencyLog:
    """Host receipt of the newest EMG block in a trace frame → the page said it drew
    it (its ``drawn`` message arrived back here). Both ends on ``time.monotonic``,
    so this is an upper bound on receipt → drawn (it includes the return trip).

    Memory is fixed when made: the newest ``keep`` latencies in a preallocated ring
    (8 bytes each) and the frames awaiting their ``drawn`` in slots of two preallocated
    arrays (:data:`LATENCY_FRAMES_AWAITED` of them, by frame id: the server numbers its
    frames 1, 2, 3 ..., so a frame is forgotten once that many newer ones were sent); a tab
    open for days costs no more than one open for a minute, and no Python object is kept
    per frame (they were, in an ordered dict, among the run's short-lived objects)."""

    def __init__(self, keep: int = 100_000) -> None:
        self._ring = np.full(max(1, int(keep)), np.nan)  # written now: its pages are resident from the start
        self._n = 0  # latencies ever recorded
        self._await_id = np.full(LATENCY_FRAMES_AWAITED, -1, dtype=np.int64)  # -1: a free slot
        self._await_rx = np.zeros(LATENCY_FRAMES_AWAITED)
        self.frames_sent = 0
        self.frames_drawn = 0

    @property
    def latencies_s(self) -> np.ndarray:
        """The newest ``keep`` latencies (s), oldest first (a copy)."""
        keep = self._ring.shape[0]
        if self._n <= keep:
            return self._ring[:self._n].copy()
        i = self._n % keep
        return np.concatenate([self._ring[i:], self._ring[:i]])

    @property
    def frames_awaited(self) -> int:
        """Frames sent whose ``drawn`` has not come (at most :data:`LATENCY_FRAMES_AWAITED`)."""
        return int(np.count_nonzero(self._await_id >= 0))

    def sent(self, frame_id: int, host_rx_s: float) -> None:
        """Frame ``frame_id`` (an int ≥ 0) went out; its newest EMG block arrived at ``host_rx_s``."""
        self.frames_sent += 1
        i = frame_id % LATENCY_FRAMES_AWAITED
        self._await_id[i] = frame_id
        self._await_rx[i] = host_rx_s

    def drawn(self, frame_id: Any) -> None:
        """The page drew frame ``frame_id`` (whatever it sent: only an awaited id counts, once)."""
        if type(frame_id) is not int or not 0 <= frame_id < 2**62:
            return
        i = frame_id % LATENCY_FRAMES_AWAITED
        if self._await_id[i] != frame_id:
            return
        self._await_id[i] = -1
        self.frames_drawn += 1
        self._ring[self._n % self._ring.shape[0]] = time.monotonic() - float(self._await_rx[i])
        self._n += 1


class _Client:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=CLIENT_QUEUE_MESSAGES)
        self.dropped = 0

    def offer(self, text: str) -> None:
        """Queue a message; when full, drop the oldest (counted)."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(text)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=_SECURITY_HEADERS)


class DashboardApp:
    """The ASGI app and its live state (one per dashboard).

    Args:
        hub: the live state the pipeline feeds.
        db_path: the SQLite store (the same file the pipeline writes).
        token: the page/access token every API call and the WebSocket must give.
        embed_token: write the token into the page (loopback); False when the user
            must bring it (``--host`` with an access token).
        allowed_hosts: values of the ``Host`` header accepted (port stripped);
            ``["*"]`` for any.
    """

    def __init__(self, hub: LiveHub, db_path: Path, token: str, *, embed_token: bool = True,
                 allowed_hosts: list[str] | None = None) -> None:
        self.hub = hub
        self.db_path = Path(db_path)
        self.token = token
        self.embed_token = embed_token
        self.latency = LatencyLog()
        self.clients: set[_Client] = set()
        self.messages_dropped = 0
        self.last_trace_bytes = 0  # size of the latest trace frame as sent (JSON)
        self._wake: asyncio.Event | None = None
        self._frame_id = 0
        self._inputs: analysis.LiveInputs | None = None
        self._ranking: dict[str, Any] = {"causes": [], "red_flags": []}
        self._refresh: asyncio.Event | None = None
        self._last_status: dict[str, Any] | None = None
        self._page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        routes = [
            Route("/", self.index),
            Route("/api/accepted", self.accepted),
            Route("/api/log", self.log_entry, methods=["POST"]),
            Route("/api/verdict", self.verdict, methods=["POST"]),
            Route("/api/seen-doctor", self.seen_doctor, methods=["POST"]),
            Route("/api/sessions", self.sessions),
            Route("/api/sessions/{session_id:int}", self.session),
            WebSocketRoute("/ws", self.websocket),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ]
        middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or ["127.0.0.1", "localhost"])]
        self.app = Starlette(routes=routes, middleware=middleware, lifespan=self._lifespan)

    # ---- lifecycle ---------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._refresh = asyncio.Event()
        wake = self._wake
        self.hub.set_waker(lambda: loop.call_soon_threadsafe(wake.set))
        tasks = [asyncio.create_task(self._broadcast()), asyncio.create_task(self._rank_periodically())]
        try:
            yield
        finally:
            self.hub.set_waker(None)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # ---- checks ------------------------------------------------------------
    def _token_ok(self, given: str | None) -> bool:
        return isinstance(given, str) and hmac.compare_digest(given.encode(), self.token.encode())

    @staticmethod
    def _same_origin(headers: Any) -> bool:
        origin = headers.get("origin")
        if origin is None:
            return True  # not a browser: nothing to forge from another site, the token still applies
        return urlsplit(origin).netloc == headers.get("host", "")

    def _check(self, request: Request) -> JSONResponse | None:
        if not self._token_ok(request.headers.get(TOKEN_HEADER)):
            return _error(403, "missing or wrong page token (reload the dashboard page)")
        if not self._same_origin(request.headers):
            return _error(403, "requests from another site are refused")
        return None

    async def _json_body(self, request: Request) -> Any:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise EntryError("send the entry as JSON (Content-Type: application/json)")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise _TooLarge()
        try:
            value = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _BadJson(f"the request is not valid JSON ({exc})") from None
        except (ValueError, RecursionError):  # a 5,000-digit number, 5,000 nested brackets
            raise _BadJson("the request is not valid JSON (nested too deep, or a number too long)") from None
        if not isinstance(value, dict):
            raise _BadJson("send the entry as a JSON object ({...})")
        return value

    # ---- HTTP --------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        page = self._page.replace("{{TOKEN}}", self.token if self.embed_token else "")
        return HTMLResponse(page, headers=_SECURITY_HEADERS)

    async def accepted(self, request: Request) -> Response:
        return self._check(request) or JSONResponse(ACCEPTED, headers=_SECURITY_HEADERS)

    async def _write(self, request: Request, action: Any) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        try:
            body = await self._json_body(request)
            result = await run_in_threadpool(action, self.db_path, body)
        except _TooLarge:
            log.warning("dashboard: a request larger than %d kB was refused (413)", MAX_BODY_BYTES // 1024)
            return _error(413, f"the request is larger than {MAX_BODY_BYTES // 1024} kB")
        except _BadJson as exc:
            log.warning("dashboard: a request that is not a JSON object was refused (400)")
            return _error(400, str(exc))
        except EntryError as exc:  # the message may quote the entry: not logged (no health data in logs)
            log.warning("dashboard: an entry it cannot accept was refused (400)")
            return _error(400, str(exc))
        except TwitchwatchError as exc:  # the store could not write (disk full, locked ...): say so
            log.warning("dashboard write failed: %s", type(exc).__name__)
            return _error(500, f"could not save: {exc}")
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
            # a value of the wrong kind deep in the entry: the sender's fault, one line, no traceback
            log.warning("dashboard: a request was refused (400): %s", type(exc).__name__)
            return _error(400, f"the entry holds a value of the wrong kind ({type(exc).__name__})")
        if self._refresh is not None:
            self._refresh.set()  # rank again with what was just logged
        return JSONResponse(result, headers=_SECURITY_HEADERS)

    async def log_entry(self, request: Request) -> Response:
        return await self._write(request, analysis.log_entry)

    async def verdict(self, request: Request) -> Response:
        return await self._write(request, analysis.record_verdict)

    async def seen_doctor(self, request: Request) -> Response:
        return await self._write(request, analysis.seen_by_doctor)

    async def sessions(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        rows = await run_in_threadpool(analysis.list_sessions, self.db_path)
        return JSONResponse({"sessions": rows}, headers=_SECURITY_HEADERS)

    async def session(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        session_id = request.path_params["session_id"]
        detail = await run_in_threadpool(analysis.session_detail, self.db_path, session_id)
        if detail is None:
            return _error(404, f"no session {session_id}")
        return JSONResponse(detail, headers=_SECURITY_HEADERS)

    # ---- WebSocket ---------------------------------------------------------
    async def websocket(self, ws: WebSocket) -> None:
        if not self._same_origin(ws.headers):
            await ws.close(code=4403)
            return
        await ws.accept()
        try:
            first = await asyncio.wait_for(ws.receive_json(), timeout=10.0)
        except (asyncio.TimeoutError, WebSocketDisconnect, ValueError, KeyError):
            await _close(ws, 4403)
            return
        if not isinstance(first, dict) or not self._token_ok(first.get("token")):
            await _close(ws, 4403)
            return
        client = _Client(ws)
        for message in self._greeting():
            client.offer(message)
        self.clients.add(client)
        sender = asyncio.create_task(self._send_loop(client))
        try:
            while True:
                msg = await ws.receive_json()
                if isinstance(msg, dict) and msg.get("type") == "drawn":
                    self.latency.drawn(msg.get("id"))
        except (WebSocketDisconnect, ValueError, KeyError, RuntimeError):
            pass
        finally:
            self.clients.discard(client)
            self.messages_dropped += client.dropped
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    def _greeting(self) -> list[str]:
        out = []
        hello = self.hub.hello()
        if hello is not None:
            out.append(json.dumps(hello))
        for event in self.hub.recent_events(CLIENT_QUEUE_MESSAGES - 2):
            out.append(json.dumps({"type": "event", "event": self._event_json(event)}))
        return out

    @staticmethod
    async def _send_loop(client: _Client) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                await client.ws.send_text(await client.queue.get())

    # ---- broadcasting ------------------------------------------------------
    def _event_json(self, event: dict[str, Any]) -> dict[str, Any]:
        data = {k: v for k, v in event.items() if not k.startswith("_")}
        data["key"] = _event_key(event)
        if self._inputs is not None:
            try:
                data["causes"] = analysis.event_causes(data, self._inputs, time.time())
            except Exception as exc:  # noqa: BLE001 - the twitch is shown and stored regardless
                log.warning("cause ranking of a live twitch failed: %s", type(exc).__name__)
                data["causes"] = []
        else:
            data["causes"] = []
        return data

    async def _broadcast(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            new = self.hub.take()
            messages: list[str] = []
            if new["hello"] is not None:
                messages.append(json.dumps(new["hello"]))
            trace = new["trace"]
            if trace is not None:
                self._frame_id += 1
                trace["id"] = self._frame_id
                self.latency.sent(self._frame_id, trace["host_rx_s"])
                messages.append(json.dumps(trace, separators=(",", ":")))  # the bulk of the traffic
                self.last_trace_bytes = len(messages[-1])
            for event in new["events"]:
                messages.append(json.dumps({"type": "event", "event": self._event_json(event)}))
            if new["ended"] is not None:
                messages.append(json.dumps({"type": "ended", "reason": new["ended"]}))
            for client in list(self.clients):
                for message in messages:
                    client.offer(message)
            if new["status"] is not None:
                self._last_status = new["status"]
                self._send_status()
            await asyncio.sleep(1.0 / MAX_FRAMES_PER_S)

    def _send_status(self) -> None:
        status = self._last_status
        if status is None:
            return
        base = {"type": "status", "link": status.get("link"), "device_elapsed_s": status.get("device_elapsed_s"),
                "events": status.get("events"), "rates": status.get("rates"), "quality": status.get("quality"),
                "problems": status.get("problems"), "battery_pct": status.get("battery_pct"),
                "red_flags": self._ranking["red_flags"], "causes": self._ranking["causes"]}
        for client in list(self.clients):
            client.offer(json.dumps(dict(base, view_dropped=client.dropped)))

    async def _rank_periodically(self) -> None:
        assert self._refresh is not None
        while True:
            try:
                now = time.time()
                inputs = await run_in_threadpool(analysis.load_inputs, self.db_path, now)
                changed = self._inputs is not None and inputs != self._inputs
                self._inputs = inputs
                self._ranking = await run_in_threadpool(self._rank_live, inputs, now)
                self._send_status()
                if changed:  # something was logged: the twitches on screen may fit other causes now
                    recent = self.hub.recent_events(EVENTS_RERANKED)
                    updates = await run_in_threadpool(
                        lambda: [{"key": _event_key(e), "causes": analysis.event_causes(e, inputs, now)}
                                 for e in recent])
                    message = json.dumps({"type": "event_causes", "events": updates})
                    for client in list(self.clients):
                        client.offer(message)
            except Exception as exc:  # noqa: BLE001 - the live view goes on; say what failed
                # the type only: the message could quote what the person logged
                log.warning("live cause ranking failed (%s); the live view goes on", type(exc).__name__)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._refresh.wait(), timeout=RANKING_EVERY_S)
            self._refresh.clear()


    def _rank_live(self, inputs: analysis.LiveInputs, now: float) -> dict[str, Any]:
        """The live ranking (a worker thread) from the kept twitches' wall times, all it
        reads of them; taken and dropped here, not held by the ranking loop while it waits
        the 5 s to the next (up to 20,000 floats at the cap)."""
        return analysis.rank_live_times(self.hub.recent_wall_times(RANKING_MAX_EVENTS), inputs, now)


def _event_key(event: dict[str, Any]) -> str:
    """Names one live twitch across messages: run, channel, sample index."""
    return f"{event.get('_run', 0)}:{event['channel']}:{event['sample_index']}"


class _TooLarge(Exception):
    pass


async def _close(ws: WebSocket, code: int) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await ws.close(code=code)


class Dashboard:
    """Serve the dashboard from a background thread while the pipeline runs.

    Args:
        hub: the :class:`LiveHub` the pipeline feeds.
        db_path: the SQLite store.
        host: address to bind; anything but loopback needs ``access_token``.
        port: port (0: any free one; the default falls back to a free one if taken).
        access_token: the secret remote browsers must give (≥ 16 characters).
        tls_cert, tls_key: PEM certificate and private key: serve HTTPS. A non-loopback
            host always serves HTTPS (health data and the token never cross a network in
            clear): without a certificate given, a self-signed one is made on first use in
            ``tls_folder`` (default: the user's data folder) and reused while valid; its
            SHA-256 fingerprint is :attr:`tls_fingerprint`, for the person to compare
            with what the browser shows.
        tls_folder: where a self-signed certificate is kept.

    Raises:
        TwitchwatchError: a non-loopback host without a token, a short token, only one of
            certificate and key, an unreadable certificate or key, a certificate that
            cannot be made or kept, a port that cannot be bound.
    """

    def __init__(self, hub: LiveHub, db_path: str | Path, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 access_token: str | None = None, tls_cert: str | Path | None = None,
                 tls_key: str | Path | None = None, tls_folder: str | Path | None = None) -> None:
        self.remote = not is_loopback(host)
        if self.remote and not access_token:
            raise TwitchwatchError(f"--host {host}: serving beyond this computer needs --access-token "
                                   f"(at least {MIN_ACCESS_TOKEN_CHARS} characters) or TWITCHWATCH_ACCESS_TOKEN")
        if access_token is not None and len(access_token) < MIN_ACCESS_TOKEN_CHARS:
            raise TwitchwatchError(f"the access token is too short: use at least {MIN_ACCESS_TOKEN_CHARS} characters")
        if (tls_cert is None) != (tls_key is None):
            raise TwitchwatchError("--tls-cert and --tls-key go together: give both (PEM files)")
        self.tls: tuple[str, str] | None = None
        self.tls_fingerprint: str | None = None  # set for a self-signed certificate
        self.tls_made_now = False
        if tls_cert is not None and tls_key is not None:
            self.tls = (str(tls_cert), str(tls_key))
        elif self.remote:
            from twitchwatch.dashboard.tlscert import default_folder, ensure_self_signed

            made = ensure_self_signed(Path(tls_folder) if tls_folder is not None else default_folder(), host)
            self.tls = (str(made.cert_path), str(made.key_path))
            self.tls_fingerprint, self.tls_made_now = made.sha256_fingerprint, made.made_now
        if self.tls is not None:
            self._check_tls()
        self.host = host
        self.port = port
        token = access_token or secrets.token_urlsafe(24)
        hosts = ["*"] if self.remote else sorted({"127.0.0.1", "localhost", "[::1]",
                                                   host if ":" not in host else f"[{host}]"})
        self.app = DashboardApp(hub, Path(db_path), token, embed_token=not self.remote, allowed_hosts=hosts)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address to open (remote: with the token in the #fragment, never sent to the server)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        if self.host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        base = f"{'https' if self.tls else 'http'}://{host}:{self.port}/"
        return base + (f"#token={self.app.token}" if self.remote else "")

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for port in (self.port, 0) if self.port == DEFAULT_PORT else (self.port,):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, port))
            except OSError as exc:
                sock.close()
                if exc.errno == errno.EADDRINUSE and port == DEFAULT_PORT:
                    continue  # the default is taken (another twitchwatch?): any free port will do
                raise TwitchwatchError(f"dashboard: cannot listen on {self.host}:{port}: "
                                       f"{exc.strerror or exc}; try --dashboard-port 0 for any free port") from None
            sock.listen(64)
            sock.set_inheritable(True)
            self.port = sock.getsockname()[1]
            return sock
        raise TwitchwatchError("dashboard: no free port")  # pragma: no cover - port 0 always binds

    def _check_tls(self) -> None:
        """The certificate and key load (one line naming what does not, before binding)."""
        import ssl

        assert self.tls is not None
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(*self.tls)
        except (OSError, ssl.SSLError) as exc:
            raise TwitchwatchError(f"--tls-cert {self.tls[0]} / --tls-key {self.tls[1]}: cannot be used "
                                   f"({getattr(exc, 'strerror', None) or exc}); accepted: a PEM certificate "
                                   f"and its private key") from None

    def start(self, timeout_s: float = 10.0) -> str:
        """Bind, start serving in a daemon thread, return :attr:`url` once it answers."""
        import uvicorn

        sock = self._bind()
        config = uvicorn.Config(self.app.app, log_level="warning", access_log=False, lifespan="on",
                                ws_max_size=64 * 1024, ssl_certfile=self.tls[0] if self.tls else None,
                                ssl_keyfile=self.tls[1] if self.tls else None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="twitchwatch-dashboard", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise TwitchwatchError("dashboard: the web server did not start (see the messages above)")
            time.sleep(0.02)
        return self.url

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def __enter__(self) -> Dashboard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
