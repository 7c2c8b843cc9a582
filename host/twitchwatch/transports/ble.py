"""The wearable link: a patch over Bluetooth Low Energy, with bleak (docs/protocol.md).

:class:`BleSource` is a :class:`~twitchwatch.transports.ByteSource` like the serial
port, so the same decoder, detector, store, capture and dashboard run behind it. It
finds the patch by name or address, connects, subscribes to the stream
characteristic and writes a COMMAND HELLO (the board sends nothing on a connection
before the host's first COMMAND: MicroPython cannot tell it the host subscribed), and
turns every notification into the serial framing the decoder reads:

* a notification that is a whole frame (its CRC checks) is one frame;
* any other notification is a piece of the COBS fallback (a frame bigger than the
  MTU allows, e.g. at MTU 23), reassembled here up to its ``0x00``.

Frames whose ``seq`` is not newer than the last one seen from the same boot (the board
sends its last frames again after a reconnect, in case the stack lost them with the
link) are dropped here and counted (``duplicates_dropped``). ``seq`` numbering starts
again with a HELLO of a new ``boot_id``.

The link is kept for the whole run: after any disconnect it scans and reconnects with
back-off (0.1 s doubling to 2 s), only to the address it first connected to, and
records each dropout (host monotonic start and end, s). ``link_status()`` reports the
state, RSSI (of the last advertisement: bleak has no RSSI of a connection), MTU,
connection interval (where the backend reports one) and the dropouts.

``bleak`` is used through its public API; ``scanner_backend``/``client_backend`` are
bleak's own ``backend=`` arguments (a virtual radio in tests:
:mod:`twitchwatch.transports.ble_sim`).
"""

from __future__ import annotations

import asyncio
import binascii
import collections
import dataclasses
import logging
import queue
import re
import struct
import threading
import time
from typing import Any

from ..protocol.cobs import cobs_decode_short, cobs_encode
from ..protocol.payloads import encode_command
from .base import ByteSource, TransportClosed, TransportError, host_time_s

log = logging.getLogger(__name__)

SERVICE_UUID = "b5493c43-0605-4912-b30b-7ea84b28b661"
STREAM_UUID = "9cda39c8-e769-4d1b-b0fe-74befad0af0c"
COMMAND_UUID = "d0f39c13-2f15-42ad-8ec4-24e564914367"
CMD_HELLO = 4
_CRC_RESIDUE = 0x2144DF1C
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")
BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 2.0
#: the newest dropouts a link keeps (start and end time each); every one is counted in
#: ``dropouts_total``: a link that drops every minute for days keeps a bounded list
MAX_DROPOUTS_KEPT = 1000


def is_address(target: str) -> bool:
    """A Bluetooth address (or a macOS device UUID) rather than a name."""
    return bool(_ADDRESS.match(target))


@dataclasses.dataclass
class Dropout:
    """One loss of the link: host monotonic times (s); ``end_s`` None while it lasts."""

    start_s: float
    end_s: float | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.end_s is None else self.end_s - self.start_s


@dataclasses.dataclass
class ScanResult:
    name: str | None
    address: str
    rssi_dbm: int
    is_patch: bool  # advertises the twitchwatch service


class _Reassembler:
    """Notifications to decoder bytes: whole frames, COBS pieces, duplicates dropped."""

    def __init__(self) -> None:
        self.pending = b""
        self.boot_id: int | None = None
        self.last_seq: int | None = None
        self.duplicates = 0

    def new_connection(self) -> None:
        self.pending = b""  # a frame cut off with the link is sent again whole

    def feed(self, data: bytes) -> bytes:
        n = len(data)
        if 10 <= n <= 244 and data[0] == 1 and binascii.crc32(data) == _CRC_RESIDUE:
            return self._frame(data)
        self.pending += data
        if b"\0" not in self.pending:
            if len(self.pending) > 4096:  # never a frame: let the decoder count it
                junk, self.pending = self.pending + b"\0", b""
                return junk
            return b""
        *segments, self.pending = self.pending.split(b"\0")
        out: list[bytes] = []
        for seg in segments:
            if not seg:
                continue
            frame = cobs_decode_short(seg)
            if frame is not None and 10 <= len(frame) <= 244 and binascii.crc32(frame) == _CRC_RESIDUE:
                out.append(self._frame(bytes(frame)))
            else:
                out.append(seg + b"\0")  # damaged: the decoder counts it
        return b"".join(out)

    def _frame(self, frame: bytes) -> bytes:
        ftype = frame[1]
        (seq,) = struct.unpack_from("<I", frame, 2)
        if ftype == 1 and len(frame) >= 14:
            (boot_id,) = struct.unpack_from("<I", frame, 6)
            if boot_id != self.boot_id:
                self.boot_id, self.last_seq = boot_id, None
        last = self.last_seq
        if last is not None and ((last - seq) & 0xFFFFFFFF) < (1 << 31):
            self.duplicates += 1
            return b""
        self.last_seq = seq
        return cobs_encode(frame) + b"\0"


def _command_frames(wire: bytes) -> list[bytes]:
    """COMMAND frames out of serial wire bytes (COBS, 0x00-delimited)."""
    frames = []
    for seg in wire.split(b"\0"):
        if seg:
            frame = cobs_decode_short(seg)
            if frame is not None:
                frames.append(bytes(frame))
    return frames


class BleSource(ByteSource):
    """A patch over BLE by name (``tw-XXXX``) or address; see the module docstring.

    Args:
        target: the advertised name or the address (macOS: the device UUID).
        scanner_backend, client_backend: bleak ``backend=`` classes (None: the OS's).
        loop: an asyncio loop already running on another thread to use (the virtual
            radio's); None: a thread and loop of its own.
        scan_timeout_s: how long one search for the patch lasts before backing off.
        on_event: called with a line for people at each connect and dropout.
    """

    def __init__(self, target: str, *, scanner_backend: type | None = None, client_backend: type | None = None,
                 loop: asyncio.AbstractEventLoop | None = None, scan_timeout_s: float = 5.0,
                 connect_timeout_s: float = 10.0, on_event: Any = None) -> None:
        try:
            import bleak  # noqa: F401
        except ImportError as exc:  # pragma: no cover - a dependency
            raise TransportError("BLE needs bleak: pip install bleak") from exc
        self.target = target
        self._scanner_backend = scanner_backend
        self._client_backend = client_backend
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._on_event = on_event
        self._queue: queue.Queue[tuple[float, bytes]] = queue.Queue()
        self._closed = False
        self._reasm = _Reassembler()
        self._lock = threading.Lock()
        self.state = "searching"
        self.address: str | None = target if is_address(target) else None
        self.name: str | None = None if is_address(target) else target
        self.rssi_dbm: int | None = None
        self.mtu: int | None = None
        self.interval_ms: float | None = None
        self.connects = 0
        self.dropouts: collections.deque[Dropout] = collections.deque(maxlen=MAX_DROPOUTS_KEPT)  # the newest
        self.dropouts_total = 0
        self.foreign_skipped: set[str] = set()
        self.notifications = 0
        self.largest_notification = 0
        self._client: Any = None
        self.fatal: str | None = None  # why the link task ended (no Bluetooth), else None
        self._cmd_seq = 0x40000000  # apart from the pipeline's own command counter
        self._own_loop = loop is None
        if loop is None:
            loop = asyncio.new_event_loop()
            self._thread: threading.Thread | None = threading.Thread(target=loop.run_forever, name="ble-link",
                                                                     daemon=True)
            self._thread.start()
        else:
            self._thread = None
        self._loop = loop
        self._stop: asyncio.Event | None = None
        self._task = asyncio.run_coroutine_threadsafe(self._run(), loop)

    # ---------------------------------------------------------------- ByteSource

    def describe(self) -> str:
        return f"BLE {self.name or ''} {self.address or ''}".strip()

    @property
    def closed(self) -> bool:
        return self._closed

    def read(self, timeout_s: float) -> tuple[float, bytes]:
        if self._closed:
            raise TransportClosed(f"{self.describe()} was closed")
        if self._task.done() and self._queue.empty():
            exc = self._task.exception()
            raise TransportClosed(f"{self.describe()}: {self.fatal or f'the link task ended ({exc})'}")
        try:
            host_s, chunk = self._queue.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            return host_time_s(), b""
        parts = [chunk]
        while True:
            try:
                host_s, more = self._queue.get_nowait()
            except queue.Empty:
                break
            parts.append(more)
        return host_s, b"".join(parts)

    def write(self, data: bytes) -> None:
        """Write each COMMAND frame in ``data`` (serial wire bytes) to the command
        characteristic, with response; TransportError while the link is down."""
        if self._closed:
            raise TransportClosed(f"{self.describe()} was closed")
        for frame in _command_frames(data):
            fut = asyncio.run_coroutine_threadsafe(self._write(frame), self._loop)
            try:
                fut.result(5.0)
            except TransportError:
                raise
            except Exception as exc:  # noqa: BLE001 - bleak's errors differ per OS
                raise TransportError(f"{self.describe()}: command not sent ({exc})") from exc

    async def _write(self, frame: bytes) -> None:
        client = self._client
        if client is None or not client.is_connected:
            raise TransportError(f"{self.describe()}: link down, command not sent")
        await client.write_gatt_char(COMMAND_UUID, frame, response=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        async def stop() -> None:
            if self._stop is not None:
                self._stop.set()
            client = self._client
            if client is not None and client.is_connected:
                try:
                    await client.disconnect()
                except Exception:  # noqa: BLE001
                    pass

        try:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5.0)
            self._task.result(5.0)
        except Exception:  # noqa: BLE001 - closing: nothing left to report to
            pass
        if self._own_loop and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5.0)

    def link_status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "transport": "ble", "state": self.state, "name": self.name, "address": self.address,
                "rssi_dbm": self.rssi_dbm, "mtu": self.mtu, "interval_ms": self.interval_ms,
                "connects": self.connects,
                "dropouts": [{"start_s": d.start_s, "end_s": d.end_s} for d in self.dropouts],
                "dropouts_total": self.dropouts_total,
                "duplicates_dropped": self._reasm.duplicates,
                "foreign_devices_skipped": sorted(self.foreign_skipped),
                "notifications": self.notifications, "largest_notification": self.largest_notification,
            }

    def describe_link(self) -> str:
        """One line: state, RSSI, MTU, interval, dropouts (the dashboard's link field)."""
        st = self.link_status()
        rssi = "?" if st["rssi_dbm"] is None else f"{st['rssi_dbm']} dBm"
        interval = "" if st["interval_ms"] is None else f", interval {st['interval_ms']:g} ms"
        mtu = "" if st["mtu"] is None else f", MTU {st['mtu']}"
        return (f"BLE {st['state']} {st['name'] or ''} {st['address'] or ''}".rstrip()
                + f", RSSI {rssi} (advertised){mtu}{interval}, {st['dropouts_total']} dropouts")

    # ---------------------------------------------------------------- the link task

    def _say(self, line: str) -> None:
        log.info("%s", line)
        if self._on_event is not None:
            self._on_event(line)

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        host_s = host_time_s()
        self.notifications += 1
        if len(data) > self.largest_notification:
            self.largest_notification = len(data)
        out = self._reasm.feed(bytes(data))
        if out:
            self._queue.put((host_s, out))

    async def _find(self) -> tuple[Any, Any] | None:
        from bleak import BleakScanner

        found: asyncio.Future[tuple[Any, Any]] = asyncio.get_running_loop().create_future()

        def seen(device: Any, adv: Any) -> None:
            if found.done():
                return
            ours = SERVICE_UUID in [u.lower() for u in adv.service_uuids]
            if self.address is not None:
                if device.address.upper() == self.address.upper():
                    found.set_result((device, adv))
                return
            if adv.local_name == self.target:
                if ours:
                    found.set_result((device, adv))
                elif device.address not in self.foreign_skipped:
                    self.foreign_skipped.add(device.address)
                    self._say(f"BLE: {device.address} is named {self.target} but is not a twitchwatch patch "
                              "(no twitchwatch service): skipped")

        kwargs: dict[str, Any] = {"detection_callback": seen}
        if self._scanner_backend is not None:
            kwargs["backend"] = self._scanner_backend
        scanner = BleakScanner(**kwargs)
        await scanner.start()
        try:
            return await asyncio.wait_for(asyncio.shield(found), self.scan_timeout_s)
        except asyncio.TimeoutError:
            return None
        finally:
            await scanner.stop()

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self, k, v)

    async def _run(self) -> None:
        from bleak import BleakClient

        self._stop = asyncio.Event()
        backoff = BACKOFF_MIN_S
        while not self._stop.is_set():
            self._set(state="searching" if self.connects == 0 else "reconnecting")
            try:
                hit = await self._find()
            except Exception as exc:  # noqa: BLE001 - no adapter, adapter off, permissions
                if self.connects == 0:  # no Bluetooth here at all: say so and end
                    self.fatal = (f"Bluetooth scan failed: {type(exc).__name__}: {exc} (is Bluetooth on, and on "
                                  "Linux is bluetoothd running?)")
                    self._set(state="failed")
                    return
                self._say(f"BLE: scan failed ({type(exc).__name__}: {exc}); trying again")
                hit = None
            if hit is None:
                await self._sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            device, adv = hit
            self._set(rssi_dbm=adv.rssi, name=adv.local_name or self.name)
            gone = asyncio.Event()
            kwargs: dict[str, Any] = {"disconnected_callback": lambda _c: gone.set(),
                                      "timeout": self.connect_timeout_s}
            if self._client_backend is not None:
                kwargs["backend"] = self._client_backend
            client = BleakClient(device, **kwargs)
            connected = False
            try:
                self._set(state="connecting")
                await client.connect()
                self._client = client
                self._reasm.new_connection()
                await client.start_notify(STREAM_UUID, self._on_notify)
                hello = _command_frames(encode_command(CMD_HELLO, 0, self._cmd_seq))[0]
                self._cmd_seq = (self._cmd_seq + 1) & 0xFFFFFFFF
                await client.write_gatt_char(COMMAND_UUID, hello, response=True)
                connected = True
                backoff = BACKOFF_MIN_S
                mtu = await self._mtu(client)
                interval = getattr(getattr(client, "_backend", None), "connection_interval_ms", None)
                now = host_time_s()
                with self._lock:
                    if self.address is None:
                        self.address = device.address  # from now on only this one
                    self.state, self.mtu, self.interval_ms = "connected", mtu, interval
                    self.connects += 1
                    if self.dropouts and self.dropouts[-1].end_s is None:
                        self.dropouts[-1].end_s = now
                ival = "not reported by this OS's API" if interval is None else f"{interval:g} ms"
                self._say(f"BLE: connected to {self.name} {self.address}: MTU {mtu}, connection interval {ival}, "
                          f"RSSI {adv.rssi} dBm")
                stop_wait = asyncio.ensure_future(self._stop.wait())
                gone_wait = asyncio.ensure_future(gone.wait())
                await asyncio.wait([stop_wait, gone_wait], return_when=asyncio.FIRST_COMPLETED)
                stop_wait.cancel()
                gone_wait.cancel()
            except Exception as exc:  # noqa: BLE001 - bleak raises per-OS errors and timeouts
                self._say(f"BLE: connection to {device.address} failed ({type(exc).__name__}: {exc}); "
                          f"trying again in {backoff:g} s")
            finally:
                self._client = None
                if self._stop.is_set():
                    if client.is_connected:
                        try:
                            await client.disconnect()
                        except Exception:  # noqa: BLE001
                            pass
                elif connected:
                    with self._lock:
                        self.dropouts.append(Dropout(host_time_s()))
                        self.dropouts_total += 1
                        self.state = "reconnecting"
                    self._say(f"BLE: link to {self.address} lost (dropout {self.dropouts_total}); reconnecting")
                    try:
                        await client.disconnect()
                    except Exception:  # noqa: BLE001
                        pass
            if not connected:
                await self._sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _sleep(self, s: float) -> None:
        assert self._stop is not None
        try:
            await asyncio.wait_for(self._stop.wait(), s)
        except asyncio.TimeoutError:
            pass

    @staticmethod
    async def _mtu(client: Any) -> int:
        """The ATT MTU; BlueZ's backend says 23 until asked (bleak's mtu_size example)."""
        backend = getattr(client, "_backend", None)
        acquire = getattr(backend, "_acquire_mtu", None)
        if acquire is not None and client.mtu_size == 23:
            try:
                await acquire()
            except Exception:  # noqa: BLE001 - not supported here: keep bleak's value
                pass
        return int(client.mtu_size)


async def scan(timeout_s: float = 5.0, scanner_backend: type | None = None) -> list[ScanResult]:
    """Every advertiser seen in ``timeout_s``; patches (the twitchwatch service) first,
    then by RSSI."""
    from bleak import BleakScanner

    seen: dict[str, ScanResult] = {}

    def on_adv(device: Any, adv: Any) -> None:
        ours = SERVICE_UUID in [u.lower() for u in adv.service_uuids]
        seen[device.address] = ScanResult(adv.local_name or device.name, device.address, adv.rssi, ours)

    kwargs: dict[str, Any] = {"detection_callback": on_adv}
    if scanner_backend is not None:
        kwargs["backend"] = scanner_backend
    scanner = BleakScanner(**kwargs)
    await scanner.start()
    try:
        await asyncio.sleep(timeout_s)
    finally:
        await scanner.stop()
    return sorted(seen.values(), key=lambda r: (not r.is_patch, -r.rssi_dbm))


def wait_connected(source: BleSource, timeout_s: float) -> bool:
    """Wait until ``source`` is connected (tests, the demo); False on timeout."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if source.state == "connected":
            return True
        time.sleep(0.02)
    return False
