"""A radio for machines without one: Bumble's Bluetooth stack on virtual controllers.

Everything here exists so the firmware's real BLE code and the host's real bleak code
can meet through real ATT/GATT on a machine with no Bluetooth hardware (tests,
``twitchwatch demo --ble``):

* :class:`VirtualRadio` runs Bumble (``pip install bumble``) in an asyncio loop on a
  thread of its own: virtual controllers joined by one ``LocalLink``, a central for the
  host and one peripheral per board.
* :class:`PeripheralBridge` is the CPython end of the MicroPython stand-in
  ``firmware/unix/bluetooth.py``: the board's ``gatts_register_services``,
  ``gap_advertise``, ``gatts_notify``... arrive over a socket and are done by a Bumble
  peripheral; connections, writes, MTU exchanges come back as the ESP32 port's IRQs. It
  hands back a notify buffer (see ``notify_buffers`` in the stand-in) when Bumble has
  sent the notification. :class:`Faults` injects trouble at this seam.
* :class:`VirtualBleBoard` runs ``firmware/unix_ble_main.py`` under the MicroPython
  Unix port behind such a bridge (and restarts it: a device reset).
* :func:`bleak_backends` gives bleak backend classes (``BleakScanner(backend=...)``,
  ``BleakClient(backend=...)``) over the radio's Bumble central, so
  :class:`~twitchwatch.transports.ble.BleSource` runs its ordinary bleak calls.
* :class:`ForeignDevice`: another peripheral advertising a chosen name, without the
  twitchwatch service (a stranger with the same name).

Air time: Bumble's ``LocalLink`` moves packets as fast as Python does (~0.5 MB/s), with
no connection events. By default nothing more is modelled (the stack's buffer limit,
ENOMEM, and the order and loss of notifications are real). With
``Faults.air_packets_per_event`` the bridge models what a real link carries, in its
notify path: a connection event every negotiated connection interval (Bumble's
``connection.parameters``), at most that many link-layer packets per event, a
notification taking ``ceil((len + 7) / 251)`` packets with Data Length Extension
(``air_dle``) or ``ceil((len + 7) / 27)`` without; notifications wait for their event
(and the stack's buffers stay taken meanwhile, so ``gatts_notify`` meets ENOMEM as on a
board). It is a model of the throughput limit of docs/protocol.md's budget (the same
packets-per-event figure the firmware's rule assumes), not of radio timing: no
retransmissions, no interference.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import random
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from .base import TransportError
from .virtual import DEFAULT_FIRMWARE_DIR, find_micropython

log = logging.getLogger(__name__)

T = TypeVar("T")

BLE_ENTRY_POINT = "unix_ble_main.py"
CENTRAL_ADDRESS = "F0:F1:F2:F3:F4:01"

# stand-in message types (firmware/unix/bluetooth.py)
M_REGISTER, M_ADVERTISE, M_NOTIFY, M_WRITE_LOCAL, M_DISCONNECT, M_EXCHANGE_MTU, M_CONFIG = range(1, 8)
M_IRQ, M_CREDIT = 0x81, 0x82
IRQ_CENTRAL_CONNECT, IRQ_CENTRAL_DISCONNECT, IRQ_GATTS_WRITE = 1, 2, 3
IRQ_MTU_EXCHANGED, IRQ_CONNECTION_UPDATE = 21, 27


def _bumble() -> Any:
    try:
        import bumble  # noqa: F401
    except ImportError as exc:  # pragma: no cover - dev extra
        raise TransportError("the virtual radio needs Bumble: pip install 'twitchwatch[ble-sim]'") from exc
    import bumble.device
    import bumble.gatt
    import bumble.hci
    return bumble


class VirtualRadio:
    """Bumble's controllers and an asyncio loop on a daemon thread; ``close()`` stops it."""

    def __init__(self) -> None:
        _bumble()
        from bumble.link import LocalLink

        # Bumble logs every unsupported HCI command of its virtual controller as a warning
        logging.getLogger("bumble").setLevel(logging.ERROR)
        self.loop = asyncio.new_event_loop()
        self._controllers: dict[int, Any] = {}  # id(device) -> its controller
        self._thread = threading.Thread(target=self.loop.run_forever, name="virtual-radio", daemon=True)
        self._thread.start()
        self.link = self.call(self._make_link(LocalLink))
        self.central = self.call(self.new_device("central", CENTRAL_ADDRESS))

    async def _make_link(self, link_type: Any) -> Any:
        return link_type()

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        """Run ``coro`` on the radio's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    async def new_device(self, name: str, address: str) -> Any:
        """A powered Bumble device on a new controller of the link."""
        from bumble.controller import Controller
        from bumble.device import Device
        from bumble.hci import Address
        from bumble.host import Host
        from bumble.transport.common import AsyncPipeSink

        ctl = Controller(name, link=self.link)
        device = Device(name, address=Address(address), host=Host(ctl, AsyncPipeSink(ctl)))
        self._controllers[id(device)] = ctl
        await device.power_on()
        return device

    async def remove_device(self, device: Any) -> None:
        """Take a device's controller off the link (a board that lost power)."""
        for conn in list(device.connections.values()):
            try:
                await conn.disconnect()
            except Exception:  # noqa: BLE001 - already gone
                pass
        try:
            await device.stop_advertising()
        except Exception:  # noqa: BLE001
            pass
        ctl = self._controllers.pop(id(device), None)
        if ctl is not None:
            self.link.remove_controller(ctl)

    def close(self) -> None:
        """Cancel what still runs on the loop (advertising timers, senders), then stop it."""
        if not self.loop.is_running():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.call(cancel_all(), 5.0)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5.0)


@dataclasses.dataclass
class Faults:
    """Trouble injected between the board's stand-in and its Bumble peripheral.

    drop_every / duplicate_every: every n-th notification is dropped / sent twice (0: never).
    delay_every, delay_s: every n-th notification holds up the ones after it for
        ``delay_s`` (a BLE connection delivers in order; late, never reordered).
    max_mtu: the peripheral's largest ATT MTU (23: a host or stack stuck at the minimum).
    air_packets_per_event: model air time (module docstring): link-layer packets per
        connection event (0: not modelled, notifications go as fast as Python sends them).
    air_dle: with Data Length Extension (251-byte link-layer packets) or without (27).
    """

    drop_every: int = 0
    duplicate_every: int = 0
    delay_every: int = 0
    delay_s: float = 0.0
    max_mtu: int = 247
    air_packets_per_event: int = 0
    air_dle: bool = True
    dropped: int = 0
    duplicated: int = 0
    delayed: int = 0


class PeripheralBridge:
    """The Bumble peripheral behind one board's stand-in ``bluetooth`` module."""

    def __init__(self, radio: VirtualRadio, address: str, faults: Faults | None = None) -> None:
        self.radio = radio
        self.address = address
        self.faults = faults or Faults()
        self.device: Any = None
        self.sock: socket.socket | None = None
        self._buf = b""
        self._chars: dict[int, Any] = {}
        self._values: dict[int, bytes] = {}
        self._conns: dict[int, Any] = {}
        self._queue: asyncio.Queue[tuple[Any, Any, bytes] | None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._adv: dict[str, Any] | None = None
        self._outage_until = 0.0
        self._notified = 0
        self.notifications_sent = 0
        self._event_end = 0.0  # air time model: end of the current connection event
        self._event_packets = 0

    # -- lifecycle (host threads) ---------------------------------------------------------

    def attach(self) -> socket.socket:
        """A fresh peripheral (new controller, same address) and the socket end for a new
        board process; returns the child's end (to pass to it, then close here)."""
        return self.radio.call(self._attach())

    async def _attach(self) -> socket.socket:
        await self._detach()
        self.device = await self.radio.new_device(f"board-{self.address}", self.address)
        self.device.gatt_server.max_mtu = self.faults.max_mtu
        self.device.on("connection", self._on_connection)
        mine, theirs = socket.socketpair()
        mine.setblocking(False)
        self.sock = mine
        self._buf = b""
        self._chars, self._values, self._conns = {}, {}, {}
        self._queue = asyncio.Queue()
        self._sender = asyncio.get_running_loop().create_task(self._send_loop(self._queue))
        asyncio.get_running_loop().add_reader(mine.fileno(), self._readable)
        return theirs

    def detach(self) -> None:
        """The board lost power: its peripheral leaves the link, the socket closes."""
        self.radio.call(self._detach())

    async def _detach(self) -> None:
        if self.sock is not None:
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if self._queue is not None:
            self._queue.put_nowait(None)
            self._queue = None
        if self.device is not None:
            await self.radio.remove_device(self.device)
            self.device = None
        self._adv = None

    def outage(self, duration_s: float) -> None:
        """The link drops (out of range) and no connection is possible for ``duration_s``."""
        self.radio.call(self._outage(duration_s))

    async def _outage(self, duration_s: float) -> None:
        self._outage_until = time.monotonic() + duration_s
        for conn in list(self._conns.values()):
            try:
                await conn.disconnect()
            except Exception:  # noqa: BLE001
                pass
        asyncio.get_running_loop().call_later(duration_s, self._advertise_if_wanted)

    # -- from the board ---------------------------------------------------------------------

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(sock.fileno())
            return
        self._buf += data
        while len(self._buf) >= 3:
            mtype, n = struct.unpack_from("<BH", self._buf)
            if len(self._buf) < 3 + n:
                break
            payload, self._buf = self._buf[3:3 + n], self._buf[3 + n:]
            self._message(mtype, payload)

    def _message(self, mtype: int, p: bytes) -> None:
        loop = asyncio.get_running_loop()
        if mtype == M_REGISTER:
            self._register(json.loads(p))
        elif mtype == M_ADVERTISE:
            self._adv = json.loads(p)
            self._advertise_if_wanted()
        elif mtype == M_NOTIFY:
            conn_handle, handle = struct.unpack_from("<HH", p)
            self._notify(conn_handle, handle, p[4:])
        elif mtype == M_WRITE_LOCAL:
            (handle,) = struct.unpack_from("<H", p)
            self._values[handle] = p[2:]
        elif mtype == M_DISCONNECT:
            (conn_handle,) = struct.unpack_from("<H", p)
            conn = self._conns.get(conn_handle)
            if conn is not None:
                loop.create_task(conn.disconnect())
        elif mtype == M_EXCHANGE_MTU:
            (conn_handle,) = struct.unpack_from("<H", p)
            conn = self._conns.get(conn_handle)
            if conn is not None:
                loop.create_task(self._exchange_mtu(conn))
        # M_CONFIG: the name is in the advertising data; the MTU wish in the exchange

    async def _exchange_mtu(self, conn: Any) -> None:
        from bumble.device import Peer

        try:
            await Peer(conn).request_mtu(self.faults.max_mtu)
        except Exception as exc:  # noqa: BLE001 - the central may have done it already
            log.debug("peripheral MTU exchange: %s", exc)

    def _register(self, services: list[Any]) -> None:
        from bumble.gatt import Characteristic, CharacteristicValue, Service

        built = []
        for svc_uuid, chars in services:
            members = []
            for uuid, flags, handle in chars:
                props = Characteristic.Properties(flags & 0xFF)
                perms = 0
                if flags & 0x02:
                    perms |= Characteristic.READABLE
                if flags & 0x0C:
                    perms |= Characteristic.WRITEABLE
                value: Any = CharacteristicValue(read=self._reader(handle), write=self._writer(handle))
                ch: Any = Characteristic(_uuid(uuid), props,
                                         Characteristic.Permissions(perms or Characteristic.READABLE), value)
                self._chars[handle] = ch
                self._values[handle] = b""
                members.append(ch)
            built.append(Service(_uuid(svc_uuid), members))
        self.device.add_services(built)

    def _reader(self, handle: int) -> Callable[[Any], bytes]:
        return lambda conn: self._values.get(handle, b"")

    def _writer(self, handle: int) -> Callable[[Any, bytes], None]:
        def write(conn: Any, value: bytes) -> None:
            self._irq(IRQ_GATTS_WRITE, struct.pack("<HH", conn.handle, handle) + bytes(value))
        return write

    def _advertise_if_wanted(self) -> None:
        adv = self._adv
        if adv is None or self.device is None or self._conns:
            return
        if time.monotonic() < self._outage_until:
            return  # out of range: nobody hears it (advertising resumes when the outage ends)
        loop = asyncio.get_running_loop()
        if adv.get("interval_us") is None:
            loop.create_task(self.device.stop_advertising())
            return
        data = bytes.fromhex(adv["adv"]) if adv.get("adv") else b""
        resp = bytes.fromhex(adv["resp"]) if adv.get("resp") else b""
        interval_ms = max(20.0, adv["interval_us"] / 1000.0)
        loop.create_task(self.device.start_advertising(advertising_data=data, scan_response_data=resp,
                                                       advertising_interval_min=interval_ms,
                                                       advertising_interval_max=interval_ms))

    def _notify(self, conn_handle: int, handle: int, value: bytes) -> None:
        f = self.faults
        self._notified += 1
        k = self._notified
        conn = self._conns.get(conn_handle)
        ch = self._chars.get(handle)
        if conn is None or ch is None or self._queue is None:
            self._credit(1)
            return
        if f.drop_every and k % f.drop_every == 0:
            f.dropped += 1
            self._credit(1)
            return
        if f.delay_every and k % f.delay_every == 0:
            f.delayed += 1
            self._queue.put_nowait((None, None, b""))  # a pause in the ordered queue
        self._queue.put_nowait((conn, ch, value))
        if f.duplicate_every and k % f.duplicate_every == 0:
            f.duplicated += 1
            self._queue.put_nowait((conn, ch, value))
            self._credit(-1)  # the copy gives no buffer back

    async def _air_time(self, conn: Any, value: bytes) -> None:
        """Wait for the connection event that has room for this notification's packets."""
        f = self.faults
        per_packet = 251 if f.air_dle else 27
        need = -(-(len(value) + 7) // per_packet)  # ATT 3 + L2CAP 4 header bytes
        interval_s = float(conn.parameters.connection_interval) / 1000.0
        now = time.monotonic()
        if now >= self._event_end:  # a new event: the next anchor point from now
            self._event_end = now + interval_s
            self._event_packets = 0
        if self._event_packets + need > f.air_packets_per_event:
            await asyncio.sleep(max(0.0, self._event_end - now))
            self._event_end += interval_s
            self._event_packets = 0
        self._event_packets += need

    async def _send_loop(self, queue: asyncio.Queue[tuple[Any, Any, bytes] | None]) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            conn, ch, value = item
            if conn is None:
                await asyncio.sleep(self.faults.delay_s)
                continue
            if self.faults.air_packets_per_event:
                await self._air_time(conn, value)
            try:
                await self.device.notify_subscriber(conn, ch, value, force=True)
                self.notifications_sent += 1
            except Exception as exc:  # noqa: BLE001 - the connection went away meanwhile
                log.debug("notification not sent: %s", exc)
            self._credit(1)

    # -- to the board -------------------------------------------------------------------------

    def _send(self, mtype: int, payload: bytes) -> None:
        if self.sock is None:
            return
        try:
            self.sock.sendall(struct.pack("<BH", mtype, len(payload)) + payload)
        except OSError:
            pass  # the board is gone; its process end is seen by whoever runs it

    def _irq(self, event: int, payload: bytes) -> None:
        self._send(M_IRQ, bytes((event,)) + payload)

    def _credit(self, n: int) -> None:
        if n > 0:
            self._send(M_CREDIT, struct.pack("<H", n))

    def _on_connection(self, conn: Any) -> None:
        if time.monotonic() < self._outage_until:
            asyncio.get_running_loop().create_task(conn.disconnect())
            return
        self._conns[conn.handle] = conn
        addr = bytes(conn.peer_address.address_bytes)
        self._irq(IRQ_CENTRAL_CONNECT, struct.pack("<HB", conn.handle, 1) + addr)

        def on_disconnection(reason: int) -> None:
            self._conns.pop(conn.handle, None)
            self._irq(IRQ_CENTRAL_DISCONNECT, struct.pack("<HB", conn.handle, 1) + addr)

        def on_mtu() -> None:
            self._irq(IRQ_MTU_EXCHANGED, struct.pack("<HH", conn.handle, conn.att_mtu))

        def on_parameters() -> None:
            p = conn.parameters
            self._irq(IRQ_CONNECTION_UPDATE, struct.pack("<HHHHB", conn.handle, round(p.connection_interval / 1.25),
                                                         p.peripheral_latency, round(p.supervision_timeout / 10), 0))

        conn.on("disconnection", on_disconnection)
        conn.on("connection_att_mtu_update", on_mtu)
        # as the ESP32 port (NimBLE's BLE_GAP_EVENT_CONN_UPDATE): the interval is
        # reported when it is updated, not at connect
        conn.on("connection_parameters_update", on_parameters)


def _uuid(text: str) -> Any:
    from bumble.core import UUID

    return UUID.from_16_bits(int(text, 16)) if len(text) == 4 else UUID(text)


class VirtualBleBoard:
    """The firmware's BLE build (``unix_ble_main.py``) under the MicroPython Unix port,
    its stand-in ``bluetooth`` bridged to a Bumble peripheral on ``radio``.

    ``extra_args`` go to the firmware (``--realtime``, ``--duration-s``, ``--wait-start``,
    ``--ring-bytes``...). :meth:`reset` kills it and starts a new one (new boot id) on a
    fresh peripheral with the same address.
    """

    def __init__(self, radio: VirtualRadio, seed: int = 1, address: str = "F0:F1:F2:F3:F4:10",
                 extra_args: tuple[str, ...] = (), faults: Faults | None = None,
                 micropython: str | None = None, heapsize: str | None = None,
                 firmware_dir: str | os.PathLike[str] | None = None, script: str = BLE_ENTRY_POINT) -> None:
        self.radio = radio
        self.heapsize = heapsize
        self.firmware_dir = DEFAULT_FIRMWARE_DIR if firmware_dir is None else Path(firmware_dir)
        self.script = script
        self.seed = seed
        self.extra_args = tuple(str(a) for a in extra_args)
        self.bridge = PeripheralBridge(radio, address, faults)
        self.micropython = micropython
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.old_stderr = b""

    @property
    def address(self) -> str:
        return self.bridge.address

    def start(self, boot_id: int | None = None) -> VirtualBleBoard:
        theirs = self.bridge.attach()
        firmware = self.firmware_dir
        args = [self.micropython or find_micropython()]
        if self.heapsize:
            args += ["-X", f"heapsize={self.heapsize}"]
        args += [str(firmware / self.script), "--ble-fd", str(theirs.fileno()), "--seed", str(self.seed), *self.extra_args]
        if boot_id is not None:
            args += ["--boot-id", str(boot_id)]
        env = dict(os.environ, MICROPYPATH=f"{firmware}:{firmware / 'unix'}")
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(args, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                          stdout=self._stderr, stderr=self._stderr, env=env,
                                          cwd=str(firmware))
        except OSError as exc:
            raise TransportError(f"cannot start the virtual BLE board: {exc}") from exc
        finally:
            theirs.close()
        return self

    def _stop_process(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5.0)
        if self._stderr is not None:
            self.old_stderr += self.stderr
            self._stderr.close()
            self._stderr = None

    def reset(self, boot_id: int | None = None) -> None:
        """A device reset: the process dies with its link, a new one boots."""
        self._stop_process()
        self.bridge.detach()
        self.start(boot_id)

    @property
    def stderr(self) -> bytes:
        f = self._stderr
        if f is None:
            return b""
        f.flush()
        return bytes(os.pread(f.fileno(), 1 << 20, 0))

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def close(self) -> None:
        self._stop_process()
        try:
            self.bridge.detach()
        except Exception:  # noqa: BLE001 - the radio may be closed already
            pass

    def __enter__(self) -> VirtualBleBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class ForeignDevice:
    """A peripheral advertising ``name`` without the twitchwatch service."""

    def __init__(self, radio: VirtualRadio, name: str, address: str = "F0:F1:F2:F3:F4:66") -> None:
        self.radio = radio
        self.address = address
        self.device = radio.call(self._start(name))

    async def _start(self, name: str) -> Any:
        from bumble.core import AdvertisingData

        device = await self.radio.new_device("foreign", self.address)
        data = bytes(AdvertisingData([(AdvertisingData.FLAGS, bytes([6])),
                                      (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode())]))
        await device.start_advertising(advertising_data=data, advertising_interval_min=20.0,
                                       advertising_interval_max=20.0, auto_restart=True)
        self.connections = 0
        device.on("connection", lambda conn: setattr(self, "connections", self.connections + 1))
        return device

    def close(self) -> None:
        self.radio.call(self.radio.remove_device(self.device))


def bleak_backends(radio: VirtualRadio, request_mtu: int = 247,
                   interval_ms: float | None = None) -> tuple[type, type]:
    """``(scanner_backend, client_backend)`` classes for bleak over the radio's central.

    The client asks for ``request_mtu`` (as BlueZ, CoreBluetooth and WinRT do by
    themselves) and for the connection interval range the board advertises (AD type
    0x12, in its scan response), as a host that honours the hint would; the virtual
    controller delivers no scan responses, so there it asks for the same 7.5-15 ms.
    ``interval_ms``: ask for that interval instead, a host that ignores the hint (many
    start at 30-50 ms and keep it).
    """
    from bleak.backends.characteristic import BleakGATTCharacteristic
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
    from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
    from bumble.core import AdvertisingData
    from bumble.device import Peer

    hints: dict[str, tuple[float, float]] = {}

    class BumbleScanner(BaseBleakScanner):
        def __init__(self, detection_callback: Any = None, service_uuids: Any = None, scanning_mode: str = "active",
                     **kwargs: Any) -> None:
            super().__init__(detection_callback, service_uuids)

        def _on_advertisement(self, adv: Any) -> None:
            data = adv.data
            name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
            uuids = [str(u).lower() for u in (data.get(AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS)
                                               or [])]
            address = str(adv.address).replace("/P", "")
            for ad_type, value in data.ad_structures:
                if ad_type == 0x12 and len(value) == 4:  # Peripheral Connection Interval Range
                    lo, hi = struct.unpack("<HH", bytes(value))
                    hints[address] = (lo * 1.25, hi * 1.25)
            if not self.is_allowed_uuid(uuids):
                return
            ad = AdvertisementData(local_name=name, manufacturer_data={}, service_data={}, service_uuids=uuids,
                                   tx_power=None, rssi=adv.rssi, platform_data=(adv,))
            device = self.create_or_update_device(address, address, name, adv, ad)
            self.call_detection_callbacks(device, ad)

        async def start(self) -> None:
            self.seen_devices = {}
            radio.central.on("advertisement", self._on_advertisement)
            await radio.central.start_scanning(active=False)

        async def stop(self) -> None:
            radio.central.remove_listener("advertisement", self._on_advertisement)
            await radio.central.stop_scanning()

    class BumbleClient(BaseBleakClient):
        def __init__(self, address_or_ble_device: Any, **kwargs: Any) -> None:
            super().__init__(address_or_ble_device, disconnected_callback=kwargs.get("disconnected_callback"),
                             timeout=kwargs.get("timeout", 10.0))
            self._conn: Any = None
            self._peer: Any = None

        @property
        def name(self) -> str:
            return self.address

        @property
        def mtu_size(self) -> int:
            return self._conn.att_mtu if self._conn is not None else 23

        @property
        def connection_interval_ms(self) -> float | None:
            return None if self._conn is None else float(self._conn.parameters.connection_interval)

        async def connect(self, pair: bool, **kwargs: Any) -> None:
            from bleak.exc import BleakError

            central = radio.central
            try:
                conn = await central.connect(self.address, timeout=self._timeout)
            except Exception as exc:  # noqa: BLE001 - bleak raises its own errors
                raise BleakError(f"connection to {self.address} failed: {exc}") from exc
            self._conn = conn

            def gone(reason: int) -> None:
                self._conn = None
                if self._disconnected_callback is not None:
                    self._disconnected_callback()

            conn.on("disconnection", gone)
            peer = Peer(conn)
            self._peer = peer
            if request_mtu > 23:
                await peer.request_mtu(request_mtu)
            # the board's hint travels in its scan response, which Bumble's virtual
            # controller does not deliver: the range ble_link advertises is the default
            hint = hints.get(self.address, (7.5, 15.0)) if interval_ms is None else (interval_ms, interval_ms)
            if hint is not None:
                try:
                    await central.update_connection_parameters(conn, hint[0], hint[1], 0, 4000)
                except Exception as exc:  # noqa: BLE001 - a hint, not a requirement
                    log.debug("connection parameters not updated: %s", exc)
            await peer.discover_services()
            collection = BleakGATTServiceCollection()
            for svc in peer.services:
                await svc.discover_characteristics()
                service = BleakGATTService(svc, svc.handle, str(svc.uuid).lower())
                collection.add_service(service)
                for ch in svc.characteristics:
                    props = [f.name for f in BleakGATTCharacteristic.__init__.__globals__["GattCharacteristicsFlags"]
                             if int(ch.properties) & f.value]
                    bc = BleakGATTCharacteristic(ch, ch.handle, _full_uuid(ch.uuid), props,  # type: ignore[arg-type]
                                                 lambda: self.mtu_size - 3, service)
                    collection.add_characteristic(bc)
            self.services = collection

        async def disconnect(self) -> None:
            if self._conn is not None:
                try:
                    await self._conn.disconnect()
                except Exception:  # noqa: BLE001
                    pass
            self._conn = None

        async def pair(self, *args: Any, **kwargs: Any) -> None:
            return None

        async def unpair(self) -> None:
            return None

        @property
        def is_connected(self) -> bool:
            return self._conn is not None

        async def read_gatt_char(self, characteristic: Any, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
            return bytearray(await self._peer.read_value(characteristic.obj))

        async def read_gatt_descriptor(self, descriptor: Any, *, use_cached: bool = False,
                                       **kwargs: Any) -> bytearray:
            raise NotImplementedError("descriptors are not used")

        async def write_gatt_char(self, characteristic: Any, data: Any, response: bool) -> None:
            await self._peer.write_value(characteristic.obj, bytes(data), with_response=response)

        async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
            raise NotImplementedError("descriptors are not used")

        async def start_notify(self, characteristic: Any, callback: Callable[[bytearray], None],
                               **kwargs: Any) -> None:
            await self._peer.subscribe(characteristic.obj, lambda value: callback(bytearray(value)))

        async def stop_notify(self, characteristic: Any) -> None:
            await self._peer.unsubscribe(characteristic.obj)

    return BumbleScanner, BumbleClient


def _full_uuid(uuid: Any) -> str:
    """Bumble's UUID as bleak's 128-bit lower-case text."""
    from bleak.uuids import normalize_uuid_str

    text = uuid.to_hex_str("-") if hasattr(uuid, "to_hex_str") else str(uuid)
    return normalize_uuid_str(text.lower())


def board_name(seed: int) -> str:
    """The name the virtual board with ``seed`` advertises (``ble_link.short_name``)."""
    return "tw-" + ("sim-%04x" % (seed & 0xFFFFFFFF))[-4:]


@contextlib.contextmanager
def virtual_ble_source(seed: int = 1, duration_s: float | None = None, realtime: bool = True,
                       on_event: Callable[[str], None] | None = None, faults: Faults | None = None,
                       extra_args: tuple[str, ...] = ()) -> Iterator[Any]:
    """A :class:`~twitchwatch.transports.ble.BleSource` on a virtual board over the
    virtual radio (``twitchwatch demo --ble``); everything is stopped on exit."""
    from .ble import BleSource

    args = list(extra_args)
    if realtime:
        args.append("--realtime")
    if duration_s is not None:
        args += ["--duration-s", repr(float(duration_s))]
    radio = VirtualRadio()
    board = VirtualBleBoard(radio, seed=seed, extra_args=tuple(args), faults=faults)
    try:
        board.start()
        scanner, client = bleak_backends(radio)
        source = BleSource(board_name(seed), scanner_backend=scanner, client_backend=client, loop=radio.loop,
                           on_event=on_event)
        source.virtual_board = board  # type: ignore[attr-defined]
        try:
            yield source
        finally:
            source.close()
    finally:
        board.close()
        radio.close()


def random_address(rng: random.Random) -> str:
    """A static random address (top two bits set)."""
    b = [rng.randrange(256) for _ in range(6)]
    b[0] |= 0xC0
    return ":".join(f"{x:02X}" for x in b)
