"""Stand-in for MicroPython's ``bluetooth`` module on the Unix port (which has none).

Same API, IRQ event numbers and data tuples as the ESP32 port's module (the subset a
GATT peripheral uses: ``BLE().active/config/irq/gatts_register_services/gatts_write/
gatts_read/gatts_set_buffer/gatts_notify/gap_advertise/gap_disconnect/
gattc_exchange_mtu``, ``UUID``, ``FLAG_*``). Behind it is no radio but a real Bluetooth
stack: every call becomes a message over a socket to a CPython process whose Bumble
peripheral (a virtual controller on a Bumble ``LocalLink``) does it
(``twitchwatch.transports.ble_sim``), and what happens there comes back as IRQs.

Never copy this file to a board: on the ESP32 ``bluetooth`` is built in (and a file of
that name would shadow it). It lives in ``firmware/unix/``, on ``MICROPYPATH`` only for
the Unix port.

Two functions exist only here, for the Unix glue (``unix_ble_main.py``):
``attach(fd)`` names the socket, ``poll_events()`` delivers waiting IRQs (on the ESP32
the NimBLE task schedules them by itself).

Modelled at the API, with time: ``gatts_notify`` raises ``OSError(ENOMEM)`` while
``notify_buffers`` notifications (NimBLE's default msys pool on the ESP32: 12) are
queued in the stack and not yet on the air; the bridge returns a buffer when Bumble has
sent the notification.

Messages (both ways): ``u8 type, u16 length (LE), payload``.
"""

import json
import select
import struct

FLAG_BROADCAST = 0x0001
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020

_ENOMEM = 12
_ENOTCONN = 107
_EPERM = 1

# to the bridge
M_REGISTER = 0x01
M_ADVERTISE = 0x02
M_NOTIFY = 0x03
M_WRITE_LOCAL = 0x04
M_DISCONNECT = 0x05
M_EXCHANGE_MTU = 0x06
M_CONFIG = 0x07
# from the bridge
M_IRQ = 0x81
M_CREDIT = 0x82

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_IRQ_CONNECTION_UPDATE = 27

_stream = None
_poll = None
_ble = None


def attach(fd: int) -> None:
    """Use the socket ``fd`` (inherited from the CPython bridge) as the radio."""
    global _stream, _poll
    _stream = open(fd, "r+b")
    _poll = select.poll()
    _poll.register(_stream, select.POLLIN)


def _send(mtype: int, payload) -> None:
    if _stream is None:
        raise OSError(_EPERM)
    _stream.write(struct.pack("<BH", mtype, len(payload)) + bytes(payload))


def _read_exact(n: int) -> bytes:
    out = b""
    stream = _stream
    if stream is None:
        raise OSError(_ENOTCONN)
    while len(out) < n:
        got = stream.read(n - len(out))
        if not got:
            raise OSError(_ENOTCONN)
        out += got
    return out


def poll_events(max_events: int = 64) -> int:
    """Deliver IRQs waiting on the socket; returns how many messages were read.

    Raises OSError(ENOTCONN) when the bridge went away."""
    if _poll is None:
        return 0
    done = 0
    while done < max_events:
        ready = _poll.poll(0)
        if not ready:
            break
        ev = ready[0][1]
        if not ev & select.POLLIN:
            raise OSError(_ENOTCONN)
        head = _read_exact(3)
        mtype, n = struct.unpack("<BH", head)
        payload = _read_exact(n) if n else b""
        done += 1
        if _ble is not None:
            _ble._message(mtype, payload)
    return done


class UUID:
    def __init__(self, value) -> None:
        if isinstance(value, int):
            self.text = "%04x" % value
        else:
            self.text = str(value).lower()

    def __eq__(self, other) -> bool:
        return isinstance(other, UUID) and other.text == self.text

    def __str__(self) -> str:
        return "UUID(%s)" % self.text


class BLE:
    """The singleton, as ``bluetooth.BLE()`` on a board."""

    def __new__(cls):
        global _ble
        if _ble is None:
            _ble = object.__new__(cls)
            _ble._init()
        return _ble

    def _init(self) -> None:
        self._active = False
        self._irq = None
        self._values = {}  # type: dict
        self._buffers = {}  # type: dict
        self._handles = 0
        self._mtu = 23
        self._name = "MPY"
        self.notify_buffers = 12
        self._free = self.notify_buffers
        self._conns = {}  # type: dict

    # -- configuration -------------------------------------------------------------------

    def active(self, on=None):
        if on is not None:
            self._active = bool(on)
        return self._active

    def config(self, *args, **kw):
        if args:
            name = args[0]
            if name == "mtu":
                return self._mtu
            if name == "gap_name":
                return self._name
            raise ValueError("unknown config param")
        if "mtu" in kw:
            self._mtu = int(kw["mtu"])
        if "gap_name" in kw:
            self._name = str(kw["gap_name"])
        _send(M_CONFIG, json.dumps({"mtu": self._mtu, "gap_name": self._name}).encode())

    def irq(self, handler) -> None:
        self._irq = handler

    # -- GATT server ---------------------------------------------------------------------

    def gatts_register_services(self, services):
        desc = []
        out = []
        for svc in services:
            chars = []
            handles = []
            for ch in svc[1]:
                self._handles += 1
                h = self._handles
                handles.append(h)
                self._values[h] = b""
                self._buffers[h] = 20
                chars.append([ch[0].text, ch[1], h])
            desc.append([svc[0].text, chars])
            out.append(tuple(handles))
        _send(M_REGISTER, json.dumps(desc).encode())
        return tuple(out)

    def gatts_read(self, value_handle):
        return self._values[value_handle]

    def gatts_write(self, value_handle, data, send_update=False) -> None:
        data = bytes(data)
        self._values[value_handle] = data
        if len(data) > self._buffers.get(value_handle, 20):
            self._buffers[value_handle] = len(data)
        _send(M_WRITE_LOCAL, struct.pack("<H", value_handle) + data)

    def gatts_set_buffer(self, value_handle, length, append=False) -> None:
        self._buffers[value_handle] = length

    def gatts_notify(self, conn_handle, value_handle, data=None) -> None:
        if conn_handle not in self._conns:
            raise OSError(_ENOTCONN)
        if self._free <= 0:
            raise OSError(_ENOMEM)
        if data is None:
            data = self._values[value_handle]
        self._free -= 1
        _send(M_NOTIFY, struct.pack("<HH", conn_handle, value_handle) + bytes(data))

    # -- GAP -----------------------------------------------------------------------------

    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True) -> None:
        msg = {"interval_us": interval_us, "connectable": bool(connectable),
               "adv": None if adv_data is None else bytes(adv_data).hex(),
               "resp": None if resp_data is None else bytes(resp_data).hex()}
        _send(M_ADVERTISE, json.dumps(msg).encode())

    def gap_disconnect(self, conn_handle) -> bool:
        if conn_handle not in self._conns:
            return False
        _send(M_DISCONNECT, struct.pack("<H", conn_handle))
        return True

    def gattc_exchange_mtu(self, conn_handle) -> None:
        if conn_handle not in self._conns:
            raise OSError(_ENOTCONN)
        _send(M_EXCHANGE_MTU, struct.pack("<H", conn_handle))

    # -- from the bridge -----------------------------------------------------------------

    def _message(self, mtype: int, p: bytes) -> None:
        if mtype == M_CREDIT:
            self._free += struct.unpack("<H", p)[0]
            if self._free > self.notify_buffers:
                self._free = self.notify_buffers
            return
        if mtype != M_IRQ:
            return
        event = p[0]
        data = None  # type: tuple | None
        if event == _IRQ_CENTRAL_CONNECT or event == _IRQ_CENTRAL_DISCONNECT:
            conn, addr_type = struct.unpack("<HB", p[1:4])
            addr = p[4:10]
            data = (conn, addr_type, addr)
            if event == _IRQ_CENTRAL_CONNECT:
                self._conns[conn] = True
            else:
                self._conns.pop(conn, None)
                self._free = self.notify_buffers  # the stack drops what it held
        elif event == _IRQ_GATTS_WRITE:
            conn, handle = struct.unpack("<HH", p[1:5])
            value = p[5:]
            limit = self._buffers.get(handle, 20)
            self._values[handle] = value[:limit]  # a board truncates to the buffer
            data = (conn, handle)
        elif event == _IRQ_MTU_EXCHANGED:
            data = struct.unpack("<HH", p[1:5])
        elif event == _IRQ_CONNECTION_UPDATE:
            data = struct.unpack("<HHHHB", p[1:10])
        else:
            return
        if self._irq is not None:
            self._irq(event, data)
