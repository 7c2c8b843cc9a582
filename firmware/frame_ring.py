"""A preallocated byte ring of whole protocol frames, oldest dropped when full.

The BLE link keeps every finished frame here until the stack has taken it: while
connected the ring holds a few frames in flight, while disconnected it holds the last
seconds of the stream so they can be sent after the host reconnects. Frames already
handed to the stack stay (``sent``, between ``head`` and the send cursor) until
``release_sent`` lets them go: a notification the stack accepted is lost if the link
drops before it is on the air, so after a reconnect the link ``rewind``s and sends
those again (the host drops the copies it already has, by ``seq``). A frame is stored
as one length byte and its bytes, never split across the end of the buffer (a ``0``
length byte marks the unused end; frames are at least 10 bytes, so ``0`` is never a
length). ``push`` never blocks and never fails for a frame that fits the ring: it drops
the oldest whole frames to make room and counts them in ``dropped_frames`` (the host
sees them as a ``seq`` gap and a sample gap, marked, never filled).

A HELLO or TEXT dropped before it was sent is kept aside (``saved``, two frames, in
the order dropped, which is ``seq`` order; a HELLO is never pushed out of it by a TEXT):
the link sends them before the next frame of the ring. A HELLO says how to read the
DATA after it (a lowered rate is a new HELLO), so it must not be lost with the backlog
it ends; the ``link:`` TEXT before it says why.

Nothing here allocates after construction. Runs under MicroPython and CPython 3.10+.
"""


class FrameRing:
    def __init__(self, capacity_bytes: int) -> None:
        self.size = capacity_bytes
        self.buf = bytearray(capacity_bytes)
        self.head = 0  # position of the oldest frame's length byte
        self.tail = 0  # where the next frame's length byte goes
        self.count = 0  # frames held
        self.held_bytes = 0  # frame bytes held (length bytes excluded)
        self.dropped_frames = 0  # oldest frames dropped to make room, since creation
        self.pushed_frames = 0
        self.cursor = 0  # length byte of the oldest frame not yet sent
        self.sent = 0  # frames held that were already sent (between head and cursor)
        self.saved = bytearray(2 * 256)  # HELLO/TEXT frames dropped unsent: length byte, frame; slot i at 256 * i
        self.saved_n = 0

    def _save(self, h: int) -> None:
        """Keep the unsent frame at ``h`` (its length byte) if it is a HELLO or TEXT."""
        buf = self.buf
        n = buf[h]
        kind = buf[h + 2]  # length, version, type
        if kind != 1 and kind != 5:
            return
        saved = self.saved
        if self.saved_n == 2:
            # forget one of the three (slot 0, slot 1, this one): a HELLO when a newer
            # HELLO is kept (it describes everything after), else the oldest TEXT
            t0 = saved[2]
            t1 = saved[258]
            if t0 == 1 and (t1 == 1 or kind == 1):
                forget = 0
            elif t1 == 1 and kind == 1:
                forget = 1
            elif t0 == 5:
                forget = 0
            else:
                forget = 1
            if forget == 0:
                saved[0:256] = saved[256:512]
            self.saved_n = 1
        o = 256 * self.saved_n
        saved[o : o + 1 + n] = memoryview(buf)[h : h + 1 + n]
        self.saved_n += 1

    def saved_pos(self) -> int:
        """Position in ``saved`` of the oldest kept frame's first byte (its length:
        ``saved[0]``); -1 if none."""
        return 1 if self.saved_n else -1

    def saved_pop(self) -> None:
        """The oldest kept frame was handed to the stack."""
        if self.saved_n == 2:
            self.saved[0:256] = self.saved[256:512]
        if self.saved_n:
            self.saved_n -= 1

    def clear(self) -> None:
        self.saved_n = 0
        self.head = 0
        self.tail = 0
        self.count = 0
        self.held_bytes = 0
        self.cursor = 0
        self.sent = 0

    def unsent(self) -> int:
        return self.count - self.sent

    def _at(self, pos: int) -> int:
        """``pos`` itself, or 0 where the reader wraps (end of buffer or a 0 marker)."""
        if pos >= self.size or self.buf[pos] == 0:
            return 0
        return pos

    def next_unsent(self) -> int:
        """Position of the oldest unsent frame's first byte (length: ``buf[pos - 1]``); -1 if none."""
        if self.count == self.sent:
            return -1
        c = self._at(self.cursor)
        self.cursor = c
        return c + 1

    def mark_sent(self) -> None:
        """The frame at the cursor was handed to the stack."""
        c = self._at(self.cursor)
        self.cursor = c + 1 + self.buf[c]
        self.sent += 1

    def release_sent(self, keep: int) -> None:
        """Forget sent frames beyond the newest ``keep`` of them."""
        while self.sent > keep:
            self.pop()

    def rewind(self) -> None:
        """Send every held frame again, from the oldest (after a reconnect)."""
        self.sent = 0
        self.cursor = self.head

    def _room_at_tail(self, need: int) -> int:
        """Where a record of ``need`` bytes can go now (-1: no room without dropping)."""
        if self.count == 0:
            self.head = 0
            self.tail = 0
            self.cursor = 0
            return 0
        head = self.head
        tail = self.tail
        if tail > head:
            if tail + need <= self.size:
                return tail
            if need <= head:  # wrap: the end of the buffer stays unused
                return 0
            return -1
        if tail == head:  # full
            return -1
        if tail + need <= head:
            return tail
        return -1

    def push(self, src, n: int) -> bool:
        """Store ``src`` (exactly ``n`` bytes, 1 <= n <= 255) as the newest frame; False
        if it can never fit."""
        need = n + 1
        if n < 1 or n > 255 or need >= self.size:
            return False
        while True:
            at = self._room_at_tail(need)
            if at >= 0:
                break
            if self.sent == 0:  # the oldest frame was never sent
                self._save(self._head_pos())
            self.pop()
            self.dropped_frames += 1
        buf = self.buf
        if at == 0 and self.tail != 0 and self.count:
            if self.tail < self.size:
                buf[self.tail] = 0  # the end of the buffer is unused: the reader wraps here
        buf[at] = n
        buf[at + 1 : at + 1 + n] = src
        self.tail = at + need
        self.count += 1
        self.held_bytes += n
        self.pushed_frames += 1
        return True

    def _head_pos(self) -> int:
        h = self.head
        if h >= self.size or self.buf[h] == 0:
            h = 0
            self.head = 0
        return h

    def peek(self) -> int:
        """Position of the oldest frame's first byte (its length is ``peek_len()``); -1 if empty."""
        if self.count == 0:
            return -1
        return self._head_pos() + 1

    def peek_len(self) -> int:
        if self.count == 0:
            return 0
        return self.buf[self._head_pos()]

    def pop(self) -> None:
        """Forget the oldest frame (sent or not: an unsent one moves the cursor with it)."""
        if self.count == 0:
            return
        h = self._head_pos()
        n = self.buf[h]
        self.head = h + 1 + n
        self.count -= 1
        self.held_bytes -= n
        if self.sent > 0:
            self.sent -= 1
        else:
            self.cursor = self.head
        if self.count == 0:
            self.head = 0
            self.tail = 0
            self.cursor = 0
            self.sent = 0
