"""The acquisition loop: front end -> ring buffers -> DATA/STATUS/HELLO/REPLY frames.

``Acquisition`` knows nothing about the board: it takes a front end (simulated or
hardware, same interface), a clock and a ``send(view)`` function.
``send`` gets one COBS-encoded frame (a memoryview valid only during the call); it may
return ``False`` when it refused the frame (a full output queue, ``wire_link.FrameQueue``):
a refused DATA frame's samples are counted in ``dropped_samples`` (the host sees the
gap), every refused frame in ``frames_refused``. One ``step()``:

1. ``fill()``  - the sampling path: pulls every available sample from the front end
   into preallocated rings. Allocation-free (tested under ``micropython.heap_lock``).
   It reads at most the ring's free room: a larger backlog (a late pass) stays at the
   source and is read in the next passes, after ``pump`` sent what the ring holds. Only
   a full ring drops (its oldest unsent samples, counted in ``dropped_samples``);
   samples the source itself lost (missed DRDY) are counted too, and the samples held
   before such a loss go out first as a short DATA frame, so the loss shows on the host
   as a forward jump of ``first_sample_index`` (a gap), never as a shift of later
   samples.
2. ``pump()`` - packs one DATA frame per full ``samples_per_frame`` in each ring.
3. a STATUS when ``status_period_ms`` of clock time passed, a TIMING frame every
   ``timing_period_ms``: for each stream the newest sample read and the board clock
   (``clock.ticks_us``) just before its read, one clock for every stream, so the host
   can place the EMG and the accelerometer on one timeline whatever their own
   oscillators do (docs/protocol.md, TIMING).

``send`` gets each frame's COBS wire bytes (serial), or with ``raw_frames=True`` the
frame itself (BLE: ``ble_link.BleLink.send``).

Front-end interface (duck-typed): ``streams`` (tuple of ``stream_desc.Stream``),
``start()``, ``stop()``, ``available(stream_id) -> int``, ``read(stream_id, ring, n)``,
``take_missed(stream_id) -> int`` (asked right after ``available``: samples lost
before the ones now available; -1: some, how many unknown, then the acquisition counts
them by the board clock), optionally ``fresh(stream_id) -> int`` (asked right
after ``available``: samples converted and unread that this check found, 0 if it found
nothing new; default: what ``available`` returned), ``lead_off() -> int``, ``battery_mv() -> int``,
``battery_pct() -> int``, ``describe() -> str``.

Runs under MicroPython and CPython 3.10+.
"""

import array
import gc

import sample_ring
import wire_frames

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


FIRMWARE_VERSION = "0.3.0"  # 0.2.0: 20-byte STATUS (reset_cause, frames_refused); 0.3.0: TIMING frames
_RING_FRAMES = const(8)  # ring capacity in full frames per stream
_IDLE_PASSES = const(200)  # paced: passes without an EMG sample before slow jobs run anyway
_TIMING_MS = const(100)  # a TIMING frame (one board-clock stamp per stream) this often
_REF_MAX_US = const(300000000)  # a stream's rate reference is renewed after 300 s (ticks wrap at 1073 s)


def _mem_free() -> int:
    f = getattr(gc, "mem_free", None)
    return f() if f is not None else 0


class Acquisition:
    def __init__(self, frontend, clock, send, boot_id: int, device_id: str,
                 status_period_ms: int = 1000, ring_frames: int = _RING_FRAMES,
                 paced: bool = False, raw_frames: bool = False) -> None:
        self.fe = frontend
        # fresh(stream_id): samples converted and not read yet that the last available()
        # found (0: it found nothing new); without it, what available() returned
        self._fresh = getattr(frontend, "fresh", None)
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
        self.frames_refused = 0
        self.reset_cause = 0  # STATUS reset_cause (the board sets it: board_esp32.reset_cause())
        self.streaming = False
        self.paced = paced  # the board's DRDY-synchronous step (see _paced_step)
        self._idle_passes = 0
        self.repl_requested = False  # COMMAND REPL came: the caller's loop ends
        self.selftest_feed = None  # type: object  # called every pass of a self-test (the board's watchdog)
        self._next_status_ms = 0
        self.timing_period_ms = _TIMING_MS
        self._next_timing_ms = 0
        n = self.n_streams
        # per stream: newest stamp (index, ticks_us), 1 if set, a reference stamp (index, ticks_us)
        self._stamps = array.array("i", bytearray(20 * n))
        self._parts = array.array("i", (0, 0))

    # -- sending -----------------------------------------------------------------------

    def _send(self, n: int) -> bool:
        w = self.writer
        if self.raw_frames:
            ok = self.send(w.frame_view(n))
        else:
            ok = self.send(w.wire_view(w.to_wire(n)))
        if ok is False:
            self.frames_refused += 1
            return False
        self.frames_sent += 1
        return True

    def send_hello(self) -> None:
        self._send(self.writer.build_hello(self.boot_id, self.device_id, FIRMWARE_VERSION,
                                           self.streams))

    def send_text(self, text: str) -> None:
        self._send(self.writer.build_text(text))

    def send_status(self) -> None:
        fe = self.fe
        self._send(self.writer.build_status(fe.battery_mv(), fe.battery_pct(), fe.lead_off(),
                                            self.dropped_samples, _mem_free(),
                                            self.clock.now_ms(), self.reset_cause,
                                            self.frames_refused))

    def send_timing(self) -> None:
        """A TIMING frame: for each stream with a sample read since START, the newest
        sample read and the board time just before it was read (``clock.ticks_us``,
        one clock for every stream). Allocation-free."""
        n = 0
        parts = self._parts
        st = self._stamps
        w = self.writer
        for k in range(self.n_streams):
            if st[5 * k + 2]:
                self.clock.board_time_into(st[5 * k + 1], parts)
                w.timing_stamp(n, self.streams[k].stream_id, st[5 * k], parts[0], parts[1])
                n += 1
        if n:
            self._send(w.build_timing(n))

    def send_reply(self, command: int, result: int, arg: int) -> None:
        self._send(self.writer.build_reply(command, result, arg))

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """(Re)start streaming: every stream's index goes back to 0, HELLO goes first."""
        if self.streaming:
            self.stop()
        gc.collect()  # a chosen moment: before sampling starts (streaming allocates nothing)
        self.fe.start()
        for r in self.rings:
            r.reset(0)
        for k in range(self.n_streams):
            self._stamps[5 * k + 2] = 0
        self._next_timing_ms = self.clock.now_ms() + self.timing_period_ms
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
        elif command == wire_frames.CMD_SELFTEST:
            if self.streaming:
                self.send_reply(command, wire_frames.RESULT_BUSY, arg)
            else:
                self.send_reply(command, wire_frames.RESULT_OK, arg)
                import selftest  # only when asked: its code stays out of a tight heap otherwise

                self.send_text(selftest.run(self, arg, self.selftest_feed))
        elif command == wire_frames.CMD_REPL:
            self.stop()  # held samples go out before the REPLY
            self.send_reply(command, wire_frames.RESULT_OK, arg)
            self.repl_requested = True  # the main loop returns; main.py ends at the REPL
        else:
            self.send_reply(command, wire_frames.RESULT_UNKNOWN, arg)

    # -- the loop ----------------------------------------------------------------------

    def fill(self) -> None:
        """Move every available sample from the front end into the rings (no allocation)."""
        for k in range(self.n_streams):
            self.fill_stream(k)

    def fill_stream(self, k: int) -> int:
        """``fill`` for the ``k``-th stream only; returns the samples read (no allocation)."""
        fe = self.fe
        sid = self.streams[k].stream_id
        ring = self.rings[k]
        n = fe.available(sid)
        t = self.clock.ticks_us()  # what that check found converted was converted by t
        c = n if self._fresh is None else self._fresh(sid)
        m = fe.take_missed(sid)  # lost before the samples now available
        if m < 0:  # lost, but the source cannot say how many (a FIFO overrun): by the board clock
            m = self._lost_by_clock(k, t, ring.write_index + c - 1)
        if m:
            held = ring.count()
            if held:  # the samples before the loss go out now, as a short frame
                self._send_data(k, held)
            ring.skip(m)
            self.dropped_samples += m
        if c > 0:  # the newest sample known converted: its index and a board time after it
            st = self._stamps
            j = 5 * k
            if not st[j + 2] or self.clock.ticks_diff(t, st[j + 4]) > _REF_MAX_US:
                # the reference of the stream's measured rate: its first stamp, renewed
                # before ticks_us (30 bits of us) wraps
                st[j + 3] = st[j] if st[j + 2] else ring.write_index + c - 1
                st[j + 4] = st[j + 1] if st[j + 2] else t
            st[j] = ring.write_index + c - 1
            st[j + 1] = t
            st[j + 2] = 1
        room = ring.capacity - ring.count()
        if n > room:
            # A backlog larger than the free room (the loop was late: a source with a FIFO,
            # the simulator) is read in pieces: what does not fit stays at the source for the
            # next pass, after pump() has sent the full frames held, so nothing is dropped
            # here. The source counts what it cannot keep (take_missed). Only a full ring
            # (the sending side starved) drops its oldest samples for the newest.
            n = room if room > 0 else (n if n < ring.capacity else ring.capacity)
        if n <= 0:
            return 0
        self.dropped_samples += ring.make_room(n)
        w = ring.write_index
        fe.read(sid, ring, n)
        return ring.write_index - w

    def _lost_by_clock(self, k: int, t: int, newest: int) -> int:
        """Samples of stream ``k`` lost before sample ``newest`` (the sample the source now
        has as its newest, converted by ticks ``t``), by the board clock: the conversions
        since the stream's last stamp at its rate measured from its reference stamp (the
        nominal rate before a second of stamps), less those accounted for; at least 1.
        For a source that cannot count its losses (an LSM6DSO FIFO overrun). A rare path:
        its products may be heap ints on the ESP32."""
        st = self._stamps
        j = 5 * k
        if not st[j + 2]:
            return 1
        clock = self.clock
        dt = clock.ticks_diff(t, st[j + 1])
        d_ref = clock.ticks_diff(st[j + 1], st[j + 4])
        n_ref = st[j] - st[j + 3]
        if d_ref >= 1000000 and n_ref > 0:
            conv = (dt * n_ref + d_ref // 2) // d_ref
        else:
            conv = (dt * (self.streams[k].sample_rate_mhz // 1000) + 500000) // 1000000
        lost = st[j] + conv - newest
        return lost if lost > 0 else 1

    def _send_data(self, k: int, n: int) -> None:
        s = self.streams[k]
        ring = self.rings[k]
        first = ring.read_index
        if not self._send(self.writer.build_data(s, first, -1, ring.buf, ring.rpos, n)):
            self.dropped_samples += n
        ring.consume(n)

    def pump(self, max_frames: int = 1000000) -> int:
        """Send one DATA frame per full frame waiting in each ring (at most
        ``max_frames``); return frames sent."""
        sent = 0
        for k in range(self.n_streams):
            spf = self.streams[k].samples_per_frame
            ring = self.rings[k]
            while ring.count() >= spf and sent < max_frames:
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
        if not self.streaming:
            self.maybe_status()
        elif self.paced:
            self._paced_step()
        else:
            self.fill()
            self.pump()
            self.maybe_status()
            now = self.clock.now_ms()
            if now >= self._next_timing_ms:
                self._next_timing_ms = now + self.timing_period_ms
                self.send_timing()

    def _paced_step(self) -> None:
        """The board's step: the first stream (EMG, one sample per DRDY) every pass; one
        slow job (a DATA frame, a STATUS, or one accelerometer I2C transaction) only in
        a pass that has just read an EMG sample, so it runs right after a DRDY edge and
        ends before the next one (0.5 ms later at 2 kSPS) instead of across it. Slow
        jobs needed a second: 150 frames + 1 STATUS + <= 833 accelerometer words + FIFO
        polls, of the 2000 slots. Without EMG samples for ``_IDLE_PASSES`` passes (the
        ADC stopped), the slow jobs run anyway."""
        if self.fill_stream(0):
            self._idle_passes = 0
        elif self._idle_passes < _IDLE_PASSES:
            self._idle_passes += 1
            return
        now = self.clock.now_ms()
        if now >= self._next_status_ms:
            self._next_status_ms = now + self.status_period_ms
            self.send_status()
        elif now >= self._next_timing_ms:
            self._next_timing_ms = now + self.timing_period_ms
            self.send_timing()
        elif not self.pump(1):
            for k in range(1, self.n_streams):
                self.fill_stream(k)
