"""The BLE link: a GATT peripheral on MicroPython's ``bluetooth`` module (docs/protocol.md).

``BleLink`` is a frame sink with the same small interface as ``wire_link.StreamLink``:
``send(frame)`` takes one finished, *unencoded* frame (``Acquisition(..., raw_frames=True)``)
and ``poll_commands(handler)`` calls ``handler(command, arg)`` for each COMMAND the host
wrote; ``pump(now_ms)`` hands waiting frames to the stack and is called from the main
loop, never from the sampling path.

GATT: the twitchwatch service (stream characteristic: notify, one frame per
notification; command characteristic: write, one COMMAND frame per write), Battery
(0x180F, Battery Level 0x2A19) and Device Information (0x180A: manufacturer, model,
serial number = device id, firmware revision).

Link behaviour:

* Advertises ``tw-XXXX`` (the last 4 characters of the device id) and the service UUID,
  every 100 ms, and again *at once* after any disconnect (from the IRQ). The scan
  response carries the Peripheral Connection Interval Range (7.5-15 ms): MicroPython's
  API has no call for a peripheral to request a connection interval, so this hint is
  how the firmware asks for a short one. It asks for MTU 247 (``config(mtu=247)`` and
  ``gattc_exchange_mtu`` on connect).
* Sends nothing on a connection until the host's first COMMAND: MicroPython does not
  report the host's subscription (CCCD write), and ``gatts_notify`` sends whether or
  not the host subscribed, so a frame sent earlier could be lost.
* A frame that fits ``MTU - 3`` bytes goes as one notification. A frame that does not
  (at MTU 23 every frame) goes COBS-encoded between two ``0x00`` in consecutive
  notifications of ``MTU - 3`` bytes (the serial framing): the host tells the two apart
  by the CRC of a whole notification.
* Every frame goes through a preallocated ``frame_ring.FrameRing`` (``ring_bytes``). While
  disconnected it keeps the newest frames (oldest dropped and counted when full);
  after the host's first COMMAND on a new connection the ring is sent from its oldest
  frame, before anything newer. The last ``KEEP_SENT`` frames handed to the stack are
  kept and sent again after a reconnect (they may have died in the stack's buffers
  with the link); the host drops the copies it already has by ``seq``.
* When the stack's buffers are full (``OSError(ENOMEM)`` from ``gatts_notify``) the link
  stops for ``backoff_ms`` (2 ms doubling to 32 ms) and counts it in ``busy``; the frames
  stay in the ring, so sampling never waits.
* The stream the connection can carry (``wanted_level``): once the host is ready, and
  again whenever the MTU or the connection interval changes, ``ble_budget.choose`` picks
  the best level (full stream, or decimated ones) for this MTU and interval (the
  interval NimBLE reports only when it is updated; until then 15 ms is assumed). A link
  slower than computed is measured: when the backlog of unsent frames stays above half
  the ring and still grows (or the ring drops frames) from one second to the next while
  connected, the link goes one level lower for the rest of the connection. The main
  loop applies a new level (``ble_budget.switch``: the old run's samples out, a TEXT
  with ``reason``, then a HELLO before any data at the new rate).

Runs under MicroPython (ESP32 port, or the Unix port with the stand-in ``bluetooth`` of
``firmware/unix/``) and CPython 3.10+ (with any object offering the same API).
"""

import struct

import ble_budget
import wire_cobs

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


SERVICE_UUID = "b5493c43-0605-4912-b30b-7ea84b28b661"
STREAM_UUID = "9cda39c8-e769-4d1b-b0fe-74befad0af0c"
COMMAND_UUID = "d0f39c13-2f15-42ad-8ec4-24e564914367"

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_CONNECTION_UPDATE = const(27)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)

_ENOMEM = const(12)
_MTU_WANTED = const(247)
_MTU_DEFAULT = const(23)
_ADV_INTERVAL_US = const(100000)
_INTERVAL_MIN_125US = const(6)  # 7.5 ms in units of 1.25 ms
_INTERVAL_MAX_125US = const(12)  # 15 ms
_BACKOFF_MIN_MS = const(2)
_BACKOFF_MAX_MS = const(32)
_MAX_NOTIFY_PER_PUMP = const(16)
_CMD_SLOTS = const(4)
_CMD_LEN = const(15)  # a COMMAND frame
_MEASURE_MS = const(1000)  # the backlog is compared from one such window to the next
KEEP_SENT = const(24)  # frames re-sent after a reconnect (more than the stack buffers)
#: the ring for frames while disconnected: ~1.5 s of the full reference stream (about
#: 21.8 kB/s of frames with their length bytes); see docs/protocol.md "BLE dropouts"
RING_BYTES = const(32 * 1024)


def adv_payload(name: str, service_uuid_le: bytes) -> bytes:
    """Advertising data: flags (LE general discoverable, no BR/EDR), the 128-bit
    service UUID, the complete local name. At most 31 bytes (name up to 8 bytes)."""
    nb = name.encode()
    out = bytearray(b"\x02\x01\x06")
    out += bytes((len(service_uuid_le) + 1, 0x07)) + service_uuid_le
    out += bytes((len(nb) + 1, 0x09)) + nb
    if len(out) > 31:
        raise ValueError("advertising data too long")
    return bytes(out)


def scan_response_payload() -> bytes:
    """Scan response: Peripheral Connection Interval Range (AD type 0x12), 7.5-15 ms."""
    return bytes((5, 0x12)) + struct.pack("<HH", _INTERVAL_MIN_125US, _INTERVAL_MAX_125US)


def uuid128_le(text: str) -> bytes:
    """The 16 bytes of a 128-bit UUID as advertised (little-endian)."""
    h = text.replace("-", "")
    b = bytearray(16)
    for i in range(16):
        b[15 - i] = int(h[2 * i : 2 * i + 2], 16)
    return bytes(b)


def short_name(device_id: str) -> str:
    """``tw-`` and the last 4 characters of the device id (fits the advertisement)."""
    return "tw-" + device_id[-4:]


class BleLink:
    """See the module docstring. ``bt`` is the ``bluetooth`` module (or a stand-in)."""

    def __init__(self, bt, device_id: str, firmware_version: str, model: str = "twitchwatch patch",
                 ring=None) -> None:
        import frame_ring

        self.bt = bt
        self.ble = bt.BLE()
        self.name = short_name(device_id)
        # allocate the ring early (frame_ring.FrameRing(RING_BYTES) at the top of main) so
        # one free block of its size is still there
        self.ring = ring if ring is not None else frame_ring.FrameRing(RING_BYTES)
        self.conn = -1  # connection handle, -1: none
        self.ready = False  # the host wrote a COMMAND on this connection
        self.mtu = _MTU_DEFAULT
        self.interval_125us = 0  # connection interval from the last CONNECTION_UPDATE (0: none yet)
        self.level = 0  # ble_budget.LEVELS index streamed now
        self.reason = ""  # why, one line (sent as TEXT before the HELLO of a new level)
        self.level_changes = 0
        self._budget_due = False  # MTU, interval or readiness changed: choose again
        self._floor = 0  # the lowest level measured necessary on this connection
        self._meas_at_ms = 0
        self._meas_unsent = 0
        self._meas_dropped = 0
        self._meas_on = False
        self.connects = 0
        self.disconnects = 0
        self.busy = 0  # gatts_notify refused (ENOMEM): backed off
        self.notify_errors = 0  # other OSErrors from gatts_notify
        self.notifications = 0
        self.commands_rejected = 0
        self._backoff_ms = 0
        self._retry_at_ms = 0
        # a frame too big for one notification: COBS-encoded, sent in MTU-3 pieces
        self._scratch = bytearray(256)  # the frame being COBS-encoded (encode_into needs find)
        self._chunks = bytearray(wire_cobs.max_encoded_len(255) + 2)
        self._chunks_mv = memoryview(self._chunks)
        self._chunk_len = 0
        self._chunk_pos = 0
        self._mv = memoryview(self.ring.buf)
        self._saved_mv = memoryview(self.ring.saved)
        # COMMAND writes copied out of the IRQ, handled in poll_commands
        self._cmd_buf = bytearray(_CMD_SLOTS * _CMD_LEN)
        self._cmd_len = bytearray(_CMD_SLOTS)
        self._cmd_head = 0
        self._cmd_count = 0
        import wire_frames

        self._parser = wire_frames.CommandParser()
        self._register(device_id, firmware_version, model)
        self._adv = adv_payload(self.name, uuid128_le(SERVICE_UUID))
        self._resp = scan_response_payload()

    # -- setup ---------------------------------------------------------------------------

    def _register(self, device_id: str, firmware_version: str, model: str) -> None:
        bt = self.bt
        ble = self.ble
        ble.active(True)
        ble.config(gap_name=self.name)
        ble.config(mtu=_MTU_WANTED)
        stream = (bt.UUID(STREAM_UUID), _FLAG_NOTIFY)
        command = (bt.UUID(COMMAND_UUID), _FLAG_WRITE)
        battery = (bt.UUID(0x2A19), _FLAG_READ | _FLAG_NOTIFY)
        info = ((bt.UUID(0x2A29), _FLAG_READ), (bt.UUID(0x2A24), _FLAG_READ),
                (bt.UUID(0x2A25), _FLAG_READ), (bt.UUID(0x2A26), _FLAG_READ))
        services = ((bt.UUID(SERVICE_UUID), (stream, command)),
                    (bt.UUID(0x180F), (battery,)),
                    (bt.UUID(0x180A), info))
        ((self.h_stream, self.h_command), (self.h_battery,), (h_man, h_model, h_serial, h_fw)) = \
            ble.gatts_register_services(services)
        ble.gatts_set_buffer(self.h_command, 64)  # a COMMAND frame is 15 bytes
        ble.gatts_write(self.h_battery, bytes((100,)))
        ble.gatts_write(h_man, b"twitchwatch")
        ble.gatts_write(h_model, model.encode())
        ble.gatts_write(h_serial, device_id.encode())
        ble.gatts_write(h_fw, firmware_version.encode())
        ble.irq(self._irq)

    def advertise(self) -> None:
        self.ble.gap_advertise(_ADV_INTERVAL_US, adv_data=self._adv, resp_data=self._resp)

    def start(self) -> None:
        """Start advertising (the host connects when it wants)."""
        self.advertise()

    def set_battery_pct(self, pct: int) -> None:
        """The Battery Level characteristic (0-100; 255 unknown is shown as 0)."""
        v = pct if 0 <= pct <= 100 else 0
        self.ble.gatts_write(self.h_battery, bytes((v,)))

    # -- IRQ (runs as a scheduled callback: short, no frame building) ---------------------

    def _irq(self, event: int, data) -> None:
        if event == _IRQ_CENTRAL_CONNECT:
            self.conn = data[0]
            self.ready = False
            self.mtu = _MTU_DEFAULT
            self.interval_125us = 0  # NimBLE reports the interval only when it changes
            self._floor = 0
            self.connects += 1
            try:
                self.ble.gattc_exchange_mtu(self.conn)
            except OSError:
                pass  # the host may start the exchange itself
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] == self.conn:
                self.conn = -1
                self.ready = False
                self._chunk_len = 0  # a frame cut off mid-way is sent again (rewind)
                self.disconnects += 1
            self.advertise()  # at once: the host reconnects as soon as it can
        elif event == _IRQ_GATTS_WRITE:
            conn, handle = data[0], data[1]
            if handle == self.h_command and conn == self.conn:
                self._queue_command(self.ble.gatts_read(handle))
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] == self.conn:
                self.mtu = data[1]
                self._budget_due = True
        elif event == _IRQ_CONNECTION_UPDATE:
            if data[0] == self.conn and data[4] == 0:  # (conn, interval, latency, timeout, status)
                self.interval_125us = data[1]
                self._budget_due = True

    def _queue_command(self, value) -> None:
        n = len(value)
        if n != _CMD_LEN or self._cmd_count >= _CMD_SLOTS:
            self.commands_rejected += 1
            return
        slot = (self._cmd_head + self._cmd_count) % _CMD_SLOTS
        o = slot * _CMD_LEN
        self._cmd_buf[o : o + _CMD_LEN] = value
        self._cmd_len[slot] = n
        self._cmd_count += 1

    # -- the sink ------------------------------------------------------------------------

    def send(self, frame) -> None:
        """Keep one finished frame (a buffer of exactly its length) for sending; never blocks."""
        self.ring.push(frame, len(frame))

    def poll_commands(self, handler) -> int:
        """Call ``handler(command, arg)`` for each COMMAND written since the last call."""
        handled = 0
        parser = self._parser
        while self._cmd_count:
            slot = self._cmd_head
            o = slot * _CMD_LEN
            n = self._cmd_len[slot]
            ok = parser.parse(memoryview(self._cmd_buf)[o : o + n], n)
            self._cmd_head = (slot + 1) % _CMD_SLOTS
            self._cmd_count -= 1
            if ok:
                if not self.ready and self.conn >= 0:
                    self.ready = True  # the host is subscribed: send the backlog first
                    self.ring.rewind()
                    self._chunk_len = 0
                    self._budget_due = True
                    self._meas_on = False
                handler(parser.command, parser.arg)
                handled += 1
            else:
                self.commands_rejected += 1
        return handled

    # -- sending -------------------------------------------------------------------------

    def _notify(self, data) -> bool:
        """One notification; False when the stack is full (backed off) or failed."""
        try:
            self.ble.gatts_notify(self.conn, self.h_stream, data)
        except OSError as e:
            if e.args and e.args[0] == _ENOMEM:
                self.busy += 1
                b = self._backoff_ms
                b = _BACKOFF_MIN_MS if b == 0 else (b * 2 if b < _BACKOFF_MAX_MS else _BACKOFF_MAX_MS)
                self._backoff_ms = b
            else:
                self.notify_errors += 1
                self._backoff_ms = _BACKOFF_MAX_MS
            return False
        self._backoff_ms = 0
        self.notifications += 1
        return True

    def pump(self, now_ms: int) -> int:
        """Hand up to 16 notifications to the stack; returns how many it took."""
        if self.conn < 0 or not self.ready:
            return 0
        if self._backoff_ms and now_ms - self._retry_at_ms < 0:
            return 0
        ring = self.ring
        room = self.mtu - 3
        sent = 0
        while sent < _MAX_NOTIFY_PER_PUMP:
            if self._chunk_len:
                end = self._chunk_pos + room
                if end > self._chunk_len:
                    end = self._chunk_len
                if not self._notify(self._chunks_mv[self._chunk_pos : end]):
                    self._retry_at_ms = now_ms + self._backoff_ms
                    break
                sent += 1
                self._chunk_pos = end
                if end >= self._chunk_len:
                    self._chunk_len = 0
                continue
            saved = ring.saved_pos() >= 0  # a HELLO/TEXT the ring dropped unsent goes first
            if saved:
                pos = 1
                n = ring.saved[0]
                mv = self._saved_mv
            else:
                pos = ring.next_unsent()
                if pos < 0:
                    break
                n = ring.buf[pos - 1]
                mv = self._mv
            if n <= room:
                if not self._notify(mv[pos : pos + n]):
                    self._retry_at_ms = now_ms + self._backoff_ms
                    break
                sent += 1
            else:
                # leading 0x00 ends whatever came before; the encoder adds the closing one.
                # The frame counts as sent once copied (the ring may drop it meanwhile);
                # cut off by a disconnect, it is sent again from the kept window.
                self._scratch[0:n] = mv[pos : pos + n]
                self._chunks[0] = 0
                self._chunk_len = wire_cobs.encode_into(self._scratch, n, self._chunks, 1)
                self._chunk_pos = 0
            if saved:
                ring.saved_pop()
            else:
                ring.mark_sent()
        ring.release_sent(KEEP_SENT)
        return sent

    # -- what the link can carry -----------------------------------------------------------

    def wanted_level(self, streams, now_ms: int) -> int:
        """A new ``ble_budget`` level for ``streams`` (the front end's full-rate
        descriptors), or -1 to keep the current one. Called from the main loop; cheap
        when nothing changed. Sets ``reason``."""
        if self.conn < 0 or not self.ready:
            return -1
        ring = self.ring
        measured = False
        if not self._meas_on:
            self._meas_on = True
            self._meas_at_ms = now_ms
            self._meas_unsent = ring.unsent()
            self._meas_dropped = ring.dropped_frames
        elif now_ms - self._meas_at_ms >= _MEASURE_MS:
            unsent = ring.unsent()
            half = ring.size // 320  # frames in half the ring (~160 bytes a frame)
            if (unsent >= half and self._meas_unsent >= half
                    and (unsent > self._meas_unsent or ring.dropped_frames > self._meas_dropped)
                    and self.level < len(ble_budget.LEVELS) - 1):
                self._floor = self.level + 1
                self._budget_due = True
                measured = True
            self._meas_at_ms = now_ms
            self._meas_unsent = unsent
            self._meas_dropped = ring.dropped_frames
        if not self._budget_due:
            return -1
        self._budget_due = False
        level = ble_budget.choose(streams, self.mtu, self.interval_125us)
        if level < self._floor:
            level = self._floor
        if level == self.level:
            return -1
        if self.interval_125us:
            ival = "%d.%02d ms" % (self.interval_125us * 125 // 100, self.interval_125us * 125 % 100)
        else:
            ival = "not reported, %d ms assumed" % (ble_budget.ASSUMED_INTERVAL_125US * 125 // 100)
        need = ble_budget.need_milli_packets(streams, ble_budget.LEVELS[level], self.mtu) // 1000
        cap = ble_budget.capacity_milli_packets(self.interval_125us) // 1000
        why = ("the backlog of unsent frames kept growing (%d frames): the link carries less than computed"
               % ring.unsent()) if measured else "MTU %d, interval %s" % (self.mtu, ival)
        fits = "" if need * 100 <= cap * ble_budget.MARGIN_PCT else "; still more than the link carries: expect counted gaps"
        self.reason = "link: %s; %d of ~%d packets/s: streaming %s (level %d)%s" % (
            why, need, cap, ble_budget.describe(streams, level), level, fits)
        self.level = level
        self.level_changes += 1
        self._meas_on = False  # a new rate: measure afresh
        return level

    def stats(self) -> str:
        r = self.ring
        return ("ble: %d connects, %d disconnects, mtu %d, %d notifications, %d busy, %d errors, "
                "ring %d frames %d bytes, %d frames dropped, level %d, %d level changes" % (
                    self.connects, self.disconnects, self.mtu, self.notifications, self.busy,
                    self.notify_errors, r.count, r.held_bytes, r.dropped_frames, self.level,
                    self.level_changes))
