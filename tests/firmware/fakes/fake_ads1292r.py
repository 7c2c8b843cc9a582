"""A register-accurate fake ADS1292R on a fake SPI bus (MicroPython and CPython).

Implements the opcode set (WAKEUP, STANDBY, RESET, START, STOP, RDATAC, SDATAC, RDATA,
RREG, WREG) and the register map with the datasheet's reset values (SBAS502, table
15), as a byte-level state machine framed by chip select. ``convert(ch1, ch2)`` makes
a new conversion available and pulls DRDY low; ``counter`` counts those falling edges
modulo ``wrap`` as the ESP32's PCNT unit does (``board_esp32.DrdyCounter``), and the pin
still fires an IRQ handler if one is set. ``convert_during_read(ch1, ch2)`` makes the
next conversion land in the middle of the next 9-byte read (a torn read). In RDATAC
mode the bytes clocked out after DRDY are the 9-byte frame; RREG/WREG are ignored there
(as on the chip). The ``machine.SPI`` methods used by the driver: ``write``,
``readinto``, ``write_readinto``.
"""

from fake_pin import FakePin

RESET_REGS = (0x73, 0x02, 0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0C)
READ_ONLY = (0x00,)
# Bits each register lets a WREG change (others read back as fixed values).
WRITE_MASK = (0x00, 0x87, 0x7B, 0xED, 0xFF, 0xFF, 0xFF, 0x3F, 0x40, 0xFF, 0x87, 0x0F)
FIXED_BITS = (0x73, 0x00, 0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00)


class FakeCounter:
    """A PCNT unit counting falling edges, 0 .. wrap-1 (reset to 0 on reaching ``max``)."""

    def __init__(self, wrap=30000):
        self.wrap = wrap
        self.count = 0
        self.reads = 0

    def edge(self):
        self.count = (self.count + 1) % self.wrap

    def value(self):
        self.reads += 1
        return self.count


class FakeADS1292R:
    def __init__(self, wrap=30000):
        self.counter = FakeCounter(wrap)
        self.sleeps = []  # ms of every sleep_ms the driver asked for
        self._torn = None
        self.drdy = FakePin("DRDY", 1)
        self.cs = FakePin("CS", 1, self._on_cs)
        self.regs = bytearray(RESET_REGS)
        self.rdatac = True  # power-up default
        self.started = False
        self.ops = []  # every opcode received, in order
        self.writes = []  # (addr, values) of every WREG
        self.loff_stat = 0  # LOFF_STAT[4:0] the chip reports
        self.frame = bytearray(9)
        self._reset_xfer()

    # -- test controls ----------------------------------------------------------------------

    def convert(self, ch1, ch2):
        """A new conversion: latch the frame, pull DRDY low (IRQ), release it."""
        st = 0xC00000 | ((self.loff_stat & 0x1F) << 15) | ((self.regs[0x0B] & 0x03) << 13)
        f = self.frame
        f[0], f[1], f[2] = (st >> 16) & 0xFF, (st >> 8) & 0xFF, st & 0xFF
        for k, v in ((3, ch1), (6, ch2)):
            v &= 0xFFFFFF
            f[k], f[k + 1], f[k + 2] = (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF
        self._data_pos = 0 if self.rdatac else -1
        if self.started:
            self.counter.edge()
            self.drdy.value(0)
            self.drdy.fire()
            self.drdy.value(1)

    def convert_during_read(self, ch1, ch2):
        self._torn = (ch1, ch2)

    def sleep_ms(self, ms):
        self.sleeps.append(ms)

    # -- chip select / byte machine ---------------------------------------------------------

    def _reset_xfer(self):
        self._state = "cmd"
        self._addr = 0
        self._left = 0
        self._data_pos = -1

    def _on_cs(self, v):
        if v:  # CS high ends the transaction
            self._state = "cmd"
            self._left = 0
            if self._data_pos > 0:
                self._data_pos = -1  # a frame was read; the next needs a new DRDY

    def _xfer(self, b):
        if self.cs.value():
            return 0xFF  # not selected: DOUT tri-stated, reads as pull-up
        if self._state == "cmd" and self._data_pos >= 0 and b == 0x00:
            if self._data_pos >= 9:
                return 0
            out = self.frame[self._data_pos]
            self._data_pos += 1
            if self._data_pos == 4 and self._torn is not None:
                ch1, ch2 = self._torn
                self._torn = None
                pos = self._data_pos
                self.convert(ch1, ch2)  # new data loaded mid-read: the rest is the new frame
                self._data_pos = pos
            return out
        if self._state == "cmd":
            self._opcode(b)
            return 0
        if self._state in ("rreg_n", "wreg_n"):
            self._left = (b & 0x1F) + 1
            self._state = "rreg" if self._state == "rreg_n" else "wreg"
            return 0
        if self._state == "rreg":
            out = self.regs[self._addr] if self._addr < len(self.regs) else 0
            self._addr += 1
            self._left -= 1
            if not self._left:
                self._state = "cmd"
            return out
        if self._state == "wreg":
            a = self._addr
            if a < len(self.regs) and a not in READ_ONLY:
                self.regs[a] = FIXED_BITS[a] | (b & WRITE_MASK[a])
            self.writes.append((a, b))
            self._addr += 1
            self._left -= 1
            if not self._left:
                self._state = "cmd"
            return 0
        return 0

    def _opcode(self, op):
        self.ops.append(op)
        if op == 0x06:  # RESET
            self.regs[:] = bytes(RESET_REGS)
            self.rdatac = True
            self.started = False
        elif op == 0x08:
            self.started = True
        elif op == 0x0A:
            self.started = False
        elif op == 0x10:
            self.rdatac = True
        elif op == 0x11:
            self.rdatac = False
        elif op == 0x12:  # RDATA: the next 9 bytes are the last frame
            self._data_pos = 0
        elif op & 0xE0 == 0x20 and not self.rdatac:
            self._addr = op & 0x1F
            self._state = "rreg_n"
        elif op & 0xE0 == 0x40 and not self.rdatac:
            self._addr = op & 0x1F
            self._state = "wreg_n"
        # RREG/WREG in RDATAC mode are ignored (the chip needs SDATAC first): the
        # count byte that follows is then taken as another opcode, as on the chip.
        self.regs[0x08] = (self.regs[0x08] & 0x40) | (self.loff_stat & 0x1F)

    # -- machine.SPI --------------------------------------------------------------------------

    def write(self, buf):
        for b in buf:
            self._xfer(b)

    def readinto(self, buf, write=0):
        for i in range(len(buf)):
            buf[i] = self._xfer(write)

    def write_readinto(self, wbuf, rbuf):
        for i in range(len(wbuf)):
            rbuf[i] = self._xfer(wbuf[i])
