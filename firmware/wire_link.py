"""A serial link on byte streams: frames out, COMMAND frames in, without blocking.

``StreamLink`` wraps an output stream (``write``) and an optional input stream that
``select.poll`` can watch (a pty fd on the Unix port, ``sys.stdin.buffer`` or a UART on
the ESP32). Incoming bytes are read one at a time only while ``poll`` says they are
there (MicroPython's ``readinto`` on a blocking stream waits to fill the whole buffer).

The frame output path on the board is a small interface, so any sink can drain it:
``FrameQueue.send(view) -> bool`` takes one encoded frame from the acquisition loop
(never blocks; a full queue refuses the frame and counts it) and
``FrameQueue.drain(write, max_bytes)`` hands queued bytes to a sink's
``write(buf, off, n)`` (a MicroPython stream's own ``write``: no slice is made), at most
``max_bytes`` per call. ``TxPacer`` says how many bytes a UART can take *now*
without blocking (its FIFO drains at the baud rate), so the loop never waits on it.

Runs under MicroPython and CPython 3.10+.
"""

import select

import wire_frames

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


_T_DATA = const(0x02)
_MIN_PIECE = const(16)  # drain writes no piece shorter than this, but a frame's last


class FrameQueue:
    """A bounded queue of encoded frames (``n_slots`` slots of ``wire_frames.MAX_WIRE``
    bytes, preallocated). ``send`` copies a frame in (slice assignment from a memoryview:
    no allocation) or refuses it; the last ``reserve`` free slots are kept for frames
    that are not DATA (HELLO, REPLY, STATUS, TEXT), so a backlog of samples never
    crowds out the answer to a command. ``refused`` / ``refused_data`` count refusals.
    """

    def __init__(self, n_slots: int = 16, reserve: int = 2) -> None:
        if n_slots < reserve + 1:
            raise ValueError("n_slots must exceed reserve")
        self.n_slots = n_slots
        self.reserve = reserve
        self.slots = [bytearray(wire_frames.MAX_WIRE) for _ in range(n_slots)]
        self.lens = [0] * n_slots
        self.head = 0  # oldest queued slot
        self.count = 0  # queued frames
        self.offset = 0  # bytes of the head frame already drained
        self.refused = 0
        self.refused_data = 0
        self.queued_bytes = 0

    def send(self, view) -> bool:
        n = len(view)
        is_data = n > 2 and view[2] == _T_DATA  # COBS: version and type are non-zero
        room = self.n_slots - self.count
        if room <= 0 or (is_data and room <= self.reserve) or n > wire_frames.MAX_WIRE:
            self.refused += 1
            if is_data:
                self.refused_data += 1
            return False
        k = self.head + self.count
        if k >= self.n_slots:
            k -= self.n_slots
        self.slots[k][0:n] = view
        self.lens[k] = n
        self.count += 1
        self.queued_bytes += n
        return True

    def drain(self, write, max_bytes: int) -> int:
        """Give up to ``max_bytes`` queued bytes to ``write(buf, off, n)`` (the MicroPython
        stream signature: write ``buf[off:off+n]`` without slicing it; returns the number
        written, None meaning all); return the bytes taken. Pieces shorter than
        ``_MIN_PIECE`` (unless a frame's last) wait for more room."""
        done = 0
        while self.count and max_bytes > 0:
            k = self.head
            left = self.lens[k] - self.offset
            n = left if left <= max_bytes else max_bytes
            if n < left and n < _MIN_PIECE:
                break
            took = write(self.slots[k], self.offset, n)
            if took is None:
                took = n
            done += took
            max_bytes -= took
            self.queued_bytes -= took
            self.offset += took
            if self.offset >= self.lens[k]:
                self.offset = 0
                self.head = k + 1 if k + 1 < self.n_slots else 0
                self.count -= 1
            elif took < n:
                break
        return done


class TxPacer:
    """How many bytes a UART accepts now without blocking: its buffer (``fifo_bytes``:
    the 128-byte hardware FIFO of the ESP32's REPL UART, or a driver's ``txbuf``) drains
    at ``baud`` / 10 bytes a second (8N1). Call ``sent(n)`` after writing ``n`` bytes.
    Conservative: drained bytes are counted whole, the remainder carries over in time.
    Small ints only (``baud`` <= 10 Mbaud)."""

    def __init__(self, clock, baud: int, fifo_bytes: int) -> None:
        self.clock = clock
        self.fifo_bytes = fifo_bytes
        self.bytes_per_100ms = baud // 100  # 8N1: 10 bits per byte
        self.in_flight = 0
        self._t = clock.ticks_us()

    def room(self) -> int:
        now = self.clock.ticks_us()
        if self.in_flight:
            e = self.clock.ticks_diff(now, self._t)
            if e > 100000 or e < 0:  # a long pause (or ticks beyond half their period)
                e = 100000
            drained = e * self.bytes_per_100ms // 100000
            if drained >= self.in_flight:
                self.in_flight = 0
                self._t = now
            elif drained > 0:
                self.in_flight -= drained
                # the time those bytes took, rounded up: the estimate never runs ahead
                b = self.bytes_per_100ms
                self._t = self.clock.ticks_add(self._t, (drained * 100000 + b - 1) // b)
        else:
            self._t = now
        return self.fifo_bytes - self.in_flight

    def sent(self, n: int) -> None:
        if not self.in_flight:
            self._t = self.clock.ticks_us()
        self.in_flight += n


class LinkClosed(Exception):
    """The other side went away (EOF, hang-up or a write error)."""


class StreamLink:
    def __init__(self, out_stream, in_stream=None) -> None:
        self.out = out_stream
        self.inp = in_stream
        self.parser = wire_frames.CommandParser()
        self._one = bytearray(1)
        self._poll = None
        self._any = getattr(in_stream, "any", None)  # machine.UART: no poll list to build
        if in_stream is not None and self._any is None:
            self._poll = select.poll()
            self._poll.register(in_stream, select.POLLIN)

    def send(self, data) -> None:
        try:
            self.out.write(data)
        except OSError as e:
            raise LinkClosed(str(e)) from e

    def send_delimiter(self) -> None:
        self.send(b"\x00")

    def poll_commands(self, handler, max_bytes: int = 64) -> int:
        """Read up to ``max_bytes`` waiting bytes; call ``handler(command, arg)`` per
        valid COMMAND. Returns the number of commands handled."""
        any_ = self._any
        if any_ is not None:
            return self._read_any(any_, handler, max_bytes)
        p = self._poll
        if p is None:
            return 0
        handled = 0
        one = self._one
        parser = self.parser
        while max_bytes > 0:
            ready = p.poll(0)  # builds a small list: call this every few ms, not per sample
            if not ready:
                break
            ev = ready[0][1]
            if not ev & select.POLLIN:
                if ev & (select.POLLHUP | select.POLLERR):
                    raise LinkClosed("hang-up")
                break
            try:
                got = self.inp.readinto(one)
            except OSError as e:
                raise LinkClosed(str(e)) from e
            if not got:
                raise LinkClosed("end of input")
            max_bytes -= 1
            if parser.feed(one[0]):
                handler(parser.command, parser.arg)
                handled += 1
        return handled

    def _read_any(self, any_, handler, max_bytes: int) -> int:
        handled = 0
        one = self._one
        parser = self.parser
        while max_bytes > 0 and any_():
            if not self.inp.readinto(one, 1):
                break
            max_bytes -= 1
            if parser.feed(one[0]):
                handler(parser.command, parser.arg)
                handled += 1
        return handled
