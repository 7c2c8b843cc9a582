"""The acquisition loop: front end -> ring buffers -> DATA/STATUS/HELLO/REPLY frames.

``Acquisition`` knows nothing about the board: it takes a front end (simulated or
hardware, same interface), a clock and a ``send(view)`` function. One ``step()``:

1. ``fill()``  - the sampling path: pulls every available sample from the front end
   into preallocated rings. Allocation-free (tested under ``micropython.heap_lock``).
   A ring overrun discards the oldest unsent samples and counts them in
   ``dropped_samples``; samples the source itself lost (missed DRDY) are counted too.
2. ``pump()`` - packs one DATA frame per full ``samples_per_frame`` in each ring.
3. a STATUS when ``status_period_ms`` of clock time passed.

``send`` gets each frame's COBS wire bytes (serial), or with ``raw_frames=True`` the
frame itself (BLE: ``ble_link.BleLink.send``).

Front-end interface (duck-typed): ``streams`` (tuple of ``stream_desc.Stream``),
``start()``, ``stop()``, ``available(stream_id) -> int``, ``read(stream_id, ring, n)``,
``take_missed(stream_id) -> int`` (asked right after ``available``: samples lost
before the ones now available), ``lead_off() -> int``, ``battery_mv() -> int``,
``battery_pct() -> int``, ``describe() -> str``.

Runs under MicroPython and CPython 3.10+.
"""

import gc

import sample_ring
import wire_frames

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


FIRMWARE_VERSION = "0.1.0"
_RING_FRAMES = const(8)  # ring capacity in full frames per stream


def _mem_free() -> int:
    f = getattr(gc, "mem_free", None)
    return f() if f is not None else 0


class Acquisition:
    def __init__(self, frontend, clock, send, boot_id: int, device_id: str,
                 status_period_ms: int = 1000, ring_frames: int = _RING_FRAMES,
                 raw_frames: bool = False) -> None:
        self.fe = frontend
        self.clock = clock
        self.send = send
        self.raw_frames = raw_frames  # send() gets the frame itself (BLE), not its COBS wire bytes
        self.boot_id = boot_id
        self.device_id = device_id
        self.status_period_ms = status_period_ms
        self.streams = frontend.streams
        self.n_streams = len(self.streams)
        self.rings = [sample_ring.SampleRing(s.n_channels, s.samples_per_frame * ring_frames)
                      for s in self.streams]
        self.writer = wire_frames.FrameWriter()
        self.dropped_samples = 0
        self.frames_sent = 0
        self.streaming = False
        self.repl_requested = False  # COMMAND REPL came: the caller's loop ends
        self._next_status_ms = 0

    # -- sending -----------------------------------------------------------------------

    def _send(self, n: int) -> None:
        w = self.writer
        if self.raw_frames:
            self.send(w.frame_view(n))
        else:
            m = w.to_wire(n)
            self.send(w.wire_view(m))
        self.frames_sent += 1

    def send_hello(self) -> None:
        self._send(self.writer.build_hello(self.boot_id, self.device_id, FIRMWARE_VERSION,
                                           self.streams))

    def send_text(self, text: str) -> None:
        self._send(self.writer.build_text(text))

    def send_status(self) -> None:
        fe = self.fe
        self._send(self.writer.build_status(fe.battery_mv(), fe.battery_pct(), fe.lead_off(),
                                            self.dropped_samples, _mem_free(),
                                            self.clock.now_ms()))

    def send_reply(self, command: int, result: int, arg: int) -> None:
        self._send(self.writer.build_reply(command, result, arg))

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """(Re)start streaming: every stream's index goes back to 0, HELLO goes first."""
        if self.streaming:
            self.stop()
        self.fe.start()
        for r in self.rings:
            r.reset(0)
        self.send_hello()
        self.streaming = True

    def stop(self) -> None:
        """Stop streaming; samples already acquired are sent (short frames) first."""
        if self.streaming:
            self.fill()
            self.pump()
            self.flush()
        self.fe.stop()
        self.streaming = False

    def handle_command(self, command: int, arg: int) -> None:
        """Answer a COMMAND with a REPLY, then do it (HELLO, START: a HELLO follows the REPLY).

        START while streaming first sends the old run's remaining samples, so every
        frame after the REPLY belongs to the new run (indexes from 0)."""
        if command == wire_frames.CMD_PING:
            self.send_reply(command, wire_frames.RESULT_OK, arg)
        elif command == wire_frames.CMD_HELLO:
            self.send_reply(command, wire_frames.RESULT_OK, arg)
            self.send_hello()
        elif command == wire_frames.CMD_START:
            if self.streaming:
                self.stop()  # the old run's samples go out before the REPLY
            self.send_reply(command, wire_frames.RESULT_OK, arg)
            self.start()
        elif command == wire_frames.CMD_STOP:
            self.send_reply(command, wire_frames.RESULT_OK, arg)
            self.stop()
        elif command == wire_frames.CMD_REPL:
            self.stop()  # held samples go out before the REPLY
            self.send_reply(command, wire_frames.RESULT_OK, arg)
            self.repl_requested = True  # the main loop returns; main.py ends at the REPL
        else:
            self.send_reply(command, wire_frames.RESULT_UNKNOWN, arg)

    # -- the loop ----------------------------------------------------------------------

    def fill(self) -> None:
        """Move every available sample from the front end into the rings (no allocation)."""
        fe = self.fe
        streams = self.streams
        rings = self.rings
        for k in range(self.n_streams):
            sid = streams[k].stream_id
            ring = rings[k]
            n = fe.available(sid)
            m = fe.take_missed(sid)  # lost before the samples now available
            if m:
                self.dropped_samples += m + ring.skip(m)
            if n > ring.capacity:
                n = ring.capacity
            if n > 0:
                self.dropped_samples += ring.make_room(n)
                fe.read(sid, ring, n)

    def _send_data(self, k: int, n: int) -> None:
        s = self.streams[k]
        ring = self.rings[k]
        first = ring.read_index
        self._send(self.writer.build_data(s, first, s.t_us(first), ring.buf, ring.rpos, n))
        ring.consume(n)

    def pump(self) -> int:
        """Send one DATA frame per full frame waiting in each ring; return frames sent."""
        sent = 0
        for k in range(self.n_streams):
            spf = self.streams[k].samples_per_frame
            ring = self.rings[k]
            while ring.count() >= spf:
                self._send_data(k, spf)
                sent += 1
        return sent

    def flush(self) -> None:
        """Send what is left in the rings as short DATA frames."""
        for k in range(self.n_streams):
            n = self.rings[k].count()
            if n > 0:
                self._send_data(k, n)

    def maybe_status(self) -> None:
        now = self.clock.now_ms()
        if now >= self._next_status_ms:
            self._next_status_ms = now + self.status_period_ms
            self.send_status()

    def step(self) -> None:
        if self.streaming:
            self.fill()
            self.pump()
        self.maybe_status()
