"""A register-accurate fake LSM6DSO on a fake I2C bus (MicroPython and CPython).

Register file with the datasheet reset values (WHO_AM_I 0x6C, CTRL3_C 0x04 = IF_INC),
SW_RESET, auto-increment, and the FIFO: ``sample(x, y, z)`` queues an accelerometer
word only when the chip is configured to (ODR_XL != 0, BDR_XL != 0, FIFO_MODE
continuous); FIFO_STATUS1/2 report the level and overrun; reading from
FIFO_DATA_OUT_TAG (0x78) pops one word (tag + 6 bytes). ``machine.I2C`` methods:
``readfrom_mem_into``, ``readfrom_mem``, ``writeto_mem``.
"""

ADDR = 0x6A
CAPACITY_WORDS = 438  # 3 KB FIFO / 7 bytes


class FakeLSM6DSO:
    def __init__(self, addr=ADDR):
        self.addr = addr
        self.regs = bytearray(128)
        self.fifo = []
        self.overrun = False
        self.tag_cnt = 0
        self.reset_reads_left = 0
        self._reset()
        self.writes = []

    def _reset(self):
        self.regs[:] = bytes(128)
        self.regs[0x0F] = 0x6C
        self.regs[0x12] = 0x04
        self.fifo = []
        self.overrun = False

    # -- test controls ----------------------------------------------------------------------

    def fifo_enabled(self):
        return (self.regs[0x10] >> 4) != 0 and (self.regs[0x09] & 0x0F) != 0 and (self.regs[0x0A] & 0x07) == 6

    def _push(self, tag_sensor, a, b, c):
        if len(self.fifo) >= CAPACITY_WORDS:
            self.fifo.pop(0)
            self.overrun = True
        self.tag_cnt = (self.tag_cnt + 1) & 3
        tag = (tag_sensor << 3) | (self.tag_cnt << 1)
        w = bytearray(7)
        w[0] = tag
        for k, v in enumerate((a, b, c)):
            v &= 0xFFFF
            w[1 + 2 * k] = v & 0xFF
            w[2 + 2 * k] = v >> 8
        self.fifo.append(w)

    def sample(self, x, y, z):
        """One accelerometer sample at the ODR (queued only if the FIFO is set up)."""
        if self.fifo_enabled():
            self._push(0x02, x, y, z)

    def gyro_sample(self, x, y, z):
        """A gyroscope word (tag 0x01), as if BDR_GY were set."""
        self._push(0x01, x, y, z)

    # -- register access -----------------------------------------------------------------------

    def _read_reg(self, reg):
        if reg == 0x3A:
            return len(self.fifo) & 0xFF
        if reg == 0x3B:
            v = (len(self.fifo) >> 8) & 0x03
            if self.overrun:
                v |= 0x40 | 0x08
                self.overrun = False  # cleared by reading FIFO_STATUS2
            return v
        if reg == 0x12 and self.reset_reads_left:
            self.reset_reads_left -= 1
            return self.regs[0x12] | 0x01
        return self.regs[reg]

    def _write_reg(self, reg, v):
        self.writes.append((reg, v))
        if reg == 0x0F:
            return  # read-only
        if reg == 0x12 and v & 0x01:
            self._reset()
            self.reset_reads_left = 1  # SW_RESET reads back 1 once, then clears
            return
        if reg == 0x0A and (v & 0x07) == 0:
            self.fifo = []  # bypass mode empties the FIFO
        self.regs[reg] = v

    # -- machine.I2C ----------------------------------------------------------------------------

    def _check(self, addr):
        if addr != self.addr:
            raise OSError(19)  # ENODEV: no ACK

    def readfrom_mem_into(self, addr, memaddr, buf):
        self._check(addr)
        if memaddr == 0x78:
            w = self.fifo.pop(0) if self.fifo else bytearray(7)
            for i in range(len(buf)):
                buf[i] = w[i] if i < 7 else 0
            return
        inc = self.regs[0x12] & 0x04
        reg = memaddr
        for i in range(len(buf)):
            buf[i] = self._read_reg(reg)
            if inc:
                reg += 1

    def readfrom_mem(self, addr, memaddr, n):
        b = bytearray(n)
        self.readfrom_mem_into(addr, memaddr, b)
        return bytes(b)

    def writeto_mem(self, addr, memaddr, buf):
        self._check(addr)
        inc = self.regs[0x12] & 0x04
        reg = memaddr
        for b in buf:
            self._write_reg(reg, b)
            if inc:
                reg += 1
