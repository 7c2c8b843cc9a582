"""ADS1292R driver: 2-channel 24-bit biopotential ADC on SPI, paced by DRDY.

Written against the ``machine`` API but given its objects (``spi``: ``machine.SPI``
in mode 1, <= 2 MHz; ``cs``/``drdy``: ``machine.Pin``; ``counter``: the DRDY edge
counter), so tests pass register-accurate fakes. In RDATAC mode each conversion is a
9-byte frame: a 24-bit status word (``1100`` + LOFF_STAT[4:0] + GPIO[1:0] + 13 zero
bits) and two 24-bit two's-complement channels.

Every conversion is accounted for: ``counter.value()`` is the number of DRDY falling
edges modulo ``counter.wrap`` (``COUNT_WRAP`` on the board), counted by hardware (on the ESP32 a PCNT unit, see
``board_esp32.DrdyCounter``), not by a ``Pin.irq`` handler: on the ESP32 port pin IRQs
are always *scheduled* (``machine_pin_isr_handler`` calls ``mp_sched_schedule``), the
schedule queue holds ``MICROPY_SCHEDULER_DEPTH`` = 8 entries and an edge arriving while
it is full is dropped without trace. DRDY pulses high before every new conversion even
when the last one was not read (datasheet SBAS502, "Data Ready"), so edges = conversions.
The loop reads the latest conversion; every edge it did not read, and every read that a
new edge overlapped (the output register may have changed mid-read), is a conversion
lost at the source with a known index.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


# Opcodes (datasheet SBAS502, table 14).
OP_WAKEUP = const(0x02)
OP_STANDBY = const(0x04)
OP_RESET = const(0x06)
OP_START = const(0x08)
OP_STOP = const(0x0A)
OP_RDATAC = const(0x10)
OP_SDATAC = const(0x11)
OP_RDATA = const(0x12)
OP_RREG = const(0x20)
OP_WREG = const(0x40)

# Registers.
REG_ID = const(0x00)
REG_CONFIG1 = const(0x01)
REG_CONFIG2 = const(0x02)
REG_LOFF = const(0x03)
REG_CH1SET = const(0x04)
REG_CH2SET = const(0x05)
REG_RLD_SENS = const(0x06)
REG_LOFF_SENS = const(0x07)
REG_LOFF_STAT = const(0x08)
REG_RESP1 = const(0x09)
REG_RESP2 = const(0x0A)
REG_GPIO = const(0x0B)

ID_ADS1292R = const(0x73)
ID_ADS1292 = const(0x53)

# CONFIG1 DR[2:0]: 0=125, 1=250, 2=500, 3=1k, 4=2k, 5=4k, 6=8k SPS (continuous mode).
_DR_CODES = {125: 0, 250: 1, 500: 2, 1000: 3, 2000: 4, 4000: 5, 8000: 6}
# CHnSET GAIN[6:4]: 0=6, 1=1, 2=2, 3=3, 4=4, 5=8, 6=12.
_GAIN_CODES = {6: 0, 1: 1, 2: 2, 3: 3, 4: 4, 8: 5, 12: 6}
VREF_UV = const(2420000)

_CONFIG2 = const(0xE0)  # bit7 = 1, PDB_LOFF_COMP (lead-off comparators), PDB_REFBUF (2.42 V)
_LOFF = const(0x10)  # bit4 = 1, COMP_TH 95 %, ILEAD_OFF 6 nA, DC lead-off
_RLD_SENS = const(0x2F)  # PDB_RLD, right-leg drive from IN1P/N and IN2P/N, no chop
_LOFF_SENS = const(0x0F)  # lead-off detection on IN1P/N, IN2P/N
_RESP1 = const(0x02)  # respiration off (bit1 must be 1)
_RESP2 = const(0x03)  # RLDREF_INT (RLD reference = (AVDD+AVSS)/2), bit0 must be 1
COUNT_WRAP = const(30000)  # the DRDY counter counts 0..COUNT_WRAP-1 (PCNT max: 32767)
REF_SETTLE_MS = const(100)  # internal reference settling after PDB_REFBUF (SBAS502, 9.4.1.3)
_STATUS_SYNC = const(0xC)  # the 4 top bits of every RDATAC status word


class ADS1292RError(Exception):
    pass


def lead_off_bits(loff_stat: int) -> int:
    """Protocol ``lead_off`` bits (bit i: EMG channel i) from LOFF_STAT[3:0]."""
    bits = 0
    if loff_stat & 0x03:  # IN1P_OFF | IN1N_OFF
        bits |= 1
    if loff_stat & 0x0C:  # IN2P_OFF | IN2N_OFF
        bits |= 2
    return bits


class ADS1292R:
    def __init__(self, spi, cs, drdy, counter, sleep_ms=None) -> None:
        self.spi = spi
        self.cs = cs
        self.drdy = drdy
        self.counter = counter  # value(): DRDY falling edges modulo counter.wrap
        self._wrap = counter.wrap
        self._sleep_ms = sleep_ms
        self._tx = bytearray(9)  # zeros (NOP) clocked out while reading a frame
        self._rx = bytearray(9)
        self._cmd = bytearray(1)
        self._seen = 0  # edges accounted for (read or counted lost), modulo COUNT_WRAP
        self.read_lost = 0  # conversions the last read_into accounted as lost
        self.bad_frames = 0  # reads discarded: overlapped by a new DRDY or no 1100 sync
        self.lead_off = 0  # protocol lead_off bits of the last frame
        self.status = 0  # last 24-bit status word
        self.rate_hz = 0
        self.gain = 0
        self.chip_id = 0
        cs.value(1)

    # -- low level ------------------------------------------------------------------------

    def _sleep(self, ms: int) -> None:
        if self._sleep_ms is not None:
            self._sleep_ms(ms)

    def command(self, op: int) -> None:
        self._cmd[0] = op
        self.cs.value(0)
        self.spi.write(self._cmd)
        self.cs.value(1)

    def read_regs(self, addr: int, n: int) -> bytes:
        buf = bytearray(2 + n)
        buf[0] = OP_RREG | addr
        buf[1] = n - 1
        out = bytearray(2 + n)
        self.cs.value(0)
        self.spi.write_readinto(buf, out)
        self.cs.value(1)
        return bytes(out[2:])

    def write_regs(self, addr: int, values) -> None:
        buf = bytearray(2 + len(values))
        buf[0] = OP_WREG | addr
        buf[1] = len(values) - 1
        buf[2:] = bytes(values)
        self.cs.value(0)
        self.spi.write(buf)
        self.cs.value(1)

    # -- setup ----------------------------------------------------------------------------

    def init(self, rate_hz: int = 2000, gain: int = 6) -> None:
        """Reset, check the ID, configure, verify, enter RDATAC, START, arm DRDY."""
        if rate_hz not in _DR_CODES or gain not in _GAIN_CODES:
            raise ADS1292RError("unsupported rate or gain")
        self.command(OP_RESET)
        self._sleep(1)  # >= 18 tCLK after RESET
        self.command(OP_SDATAC)  # power-up and RESET leave the chip in RDATAC
        self.chip_id = self.read_regs(REG_ID, 1)[0]
        if self.chip_id not in (ID_ADS1292R, ID_ADS1292):
            raise ADS1292RError("unexpected ID 0x%02x" % self.chip_id)
        chset = _GAIN_CODES[gain] << 4  # normal electrode input, powered up
        config = bytes((_DR_CODES[rate_hz], _CONFIG2, _LOFF, chset, chset, _RLD_SENS,
                        _LOFF_SENS, 0x00, _RESP1, _RESP2))
        self.write_regs(REG_CONFIG1, config)
        back = bytearray(self.read_regs(REG_CONFIG1, len(config)))
        back[REG_LOFF_STAT - REG_CONFIG1] &= 0x40  # only CLK_DIV is writable
        if bytes(back) != config:
            raise ADS1292RError("register read-back mismatch")
        self.rate_hz = rate_hz
        self.gain = gain
        self._sleep(REF_SETTLE_MS)  # CONFIG2 just enabled the reference buffer
        self.command(OP_RDATAC)
        self._seen = self.counter.value()
        self.command(OP_START)

    def stop(self) -> None:
        self.command(OP_STOP)

    def read_id(self) -> int:
        """The ID register (0x73 for an ADS1292R), read between SDATAC and RDATAC: call
        only while conversions are stopped."""
        self.command(OP_SDATAC)
        chip_id = self.read_regs(REG_ID, 1)[0]
        self.command(OP_RDATAC)
        return chip_id

    def start(self) -> None:
        self.command(OP_START)
        self._seen = self.counter.value()

    def uv_per_lsb(self) -> float:
        """Microvolts per LSB at the configured PGA gain: Vref / gain / (2^23 - 1)."""
        return VREF_UV / self.gain / 8388607

    # -- sampling (allocation-free) ---------------------------------------------------------

    def pending(self) -> int:
        """Conversions (DRDY edges) not yet read or counted lost."""
        d = self.counter.value() - self._seen
        return d + self._wrap if d < 0 else d

    def skip(self, n: int) -> None:
        """Account ``n`` conversions without reading them (they are lost)."""
        s = self._seen + n
        self._seen = s - self._wrap if s >= self._wrap else s

    def read_into(self, buf, pos: int) -> bool:
        """Read the conversion of the one pending DRDY edge (the caller skipped older
        ones) into ``buf[pos]``, ``buf[pos + 1]`` (sign-extended 24-bit counts); True
        when stored. False when nothing trustworthy was read: no edge pending, another
        edge came before or during the read (the output register holds, or was loaded
        with, a later conversion), or the status word lacks its ``1100`` sync. Then every
        pending conversion is accounted as lost and their number is in ``read_lost``."""
        c0 = self.counter.value()
        rx = self._rx
        self.cs.value(0)
        self.spi.write_readinto(self._tx, rx)
        self.cs.value(1)
        c1 = self.counter.value()
        d = c0 - self._seen
        if d < 0:
            d += self._wrap
        if c1 != c0 or d != 1 or (rx[0] >> 4) != _STATUS_SYNC:
            if d:
                self.bad_frames += 1
            self.read_lost = self.pending()
            self._seen = c1
            return False
        self._seen = c0
        self.read_lost = 0
        self.status = (rx[0] << 16) | (rx[1] << 8) | rx[2]
        self.lead_off = lead_off_bits((self.status >> 15) & 0x1F)
        v = (rx[3] << 16) | (rx[4] << 8) | rx[5]
        if v & 0x800000:
            v -= 0x1000000
        buf[pos] = v
        v = (rx[6] << 16) | (rx[7] << 8) | rx[8]
        if v & 0x800000:
            v -= 0x1000000
        buf[pos + 1] = v
        return True
