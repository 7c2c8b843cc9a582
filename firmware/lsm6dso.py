"""LSM6DSO driver: accelerometer through its FIFO, on I2C (address 0x6A, SA0 low).

Given a ``machine.I2C``-like bus (``readfrom_mem_into``, ``writeto_mem``). The
accelerometer runs at ODR 833 Hz, +-2 g (0.061 mg/LSB), gyroscope off, and the FIFO
batches accelerometer words at 833 Hz in continuous mode (oldest overwritten when
full: 3 KB = 438 words, ~0.5 s). Each FIFO word is a tag byte (TAG_SENSOR[7:3],
TAG_CNT[2:1], parity) and 6 data bytes (X, Y, Z little-endian int16); only
accelerometer words (TAG_SENSOR = 0x02) are used.

Why 833 Hz and not 1000 Hz: the LSM6DSO has no 1 kHz ODR (833 Hz or 1.66 kHz); the
mechanomyogram band is 5-100 Hz, so 833 Hz is plenty, and it halves the I2C traffic of
1.66 kHz. The hardware HELLO therefore declares 833 000 mHz for the accelerometer
stream; the simulator declares 1 000 000 mHz. The descriptor is data: both are valid.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


ADDR = const(0x6A)
WHO_AM_I_VALUE = const(0x6C)

REG_FIFO_CTRL1 = const(0x07)  # WTM[7:0]
REG_FIFO_CTRL2 = const(0x08)  # bit0 WTM8
REG_FIFO_CTRL3 = const(0x09)  # BDR_GY[7:4], BDR_XL[3:0]
REG_FIFO_CTRL4 = const(0x0A)  # FIFO_MODE[2:0]
REG_WHO_AM_I = const(0x0F)
REG_CTRL1_XL = const(0x10)  # ODR_XL[7:4], FS_XL[3:2], LPF2_XL_EN bit1
REG_CTRL2_G = const(0x11)
REG_CTRL3_C = const(0x12)  # BDU bit6, IF_INC bit2, SW_RESET bit0
REG_FIFO_STATUS1 = const(0x3A)  # DIFF_FIFO[7:0]
REG_FIFO_STATUS2 = const(0x3B)  # WTM_IA b7, OVR_IA b6, FULL_IA b5, ..., DIFF_FIFO[9:8] b1:0
REG_FIFO_DATA_OUT_TAG = const(0x78)

ODR_833HZ = const(0x7)  # ODR_XL and BDR_XL code for 833 Hz
FS_2G = const(0x0)
FIFO_MODE_BYPASS = const(0x0)
FIFO_MODE_CONTINUOUS = const(0x6)
TAG_ACC = const(0x02)
ODR_MHZ = const(833000)  # what the hardware HELLO declares

_CTRL3_C = const(0x44)  # BDU + IF_INC (auto-increment, needed to read tag + 6 bytes)
_CTRL3_RESET = const(0x01)
_STATUS2_OVR = const(0x40)


class LSM6DSOError(Exception):
    pass


class LSM6DSO:
    def __init__(self, i2c, addr: int = ADDR, sleep_ms=None) -> None:
        self.i2c = i2c
        self.addr = addr
        self._sleep_ms = sleep_ms
        self._one = bytearray(1)
        self._status = bytearray(2)
        self._word = bytearray(7)
        self.fifo_overruns = 0  # times the FIFO overflowed (samples lost, count unknown)
        self.other_words = 0  # non-accelerometer FIFO words skipped

    def _w(self, reg: int, value: int) -> None:
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def _r(self, reg: int) -> int:
        self.i2c.readfrom_mem_into(self.addr, reg, self._one)
        return self._one[0]

    def init(self) -> None:
        """Check WHO_AM_I, reset, configure accelerometer + FIFO (833 Hz, +-2 g, continuous)."""
        who = self._r(REG_WHO_AM_I)
        if who != WHO_AM_I_VALUE:
            raise LSM6DSOError("unexpected WHO_AM_I 0x%02x" % who)
        self._w(REG_CTRL3_C, _CTRL3_RESET)
        for _ in range(10):
            if self._sleep_ms is not None:
                self._sleep_ms(1)
            if not self._r(REG_CTRL3_C) & _CTRL3_RESET:
                break
        else:
            raise LSM6DSOError("software reset did not complete")
        self._w(REG_CTRL3_C, _CTRL3_C)
        self._w(REG_CTRL2_G, 0x00)  # gyroscope off
        self._w(REG_FIFO_CTRL1, 0x00)  # no watermark: the loop polls FIFO_STATUS
        self._w(REG_FIFO_CTRL2, 0x00)
        self._w(REG_FIFO_CTRL3, ODR_833HZ)  # batch accelerometer at 833 Hz, gyro not batched
        self._w(REG_FIFO_CTRL4, FIFO_MODE_CONTINUOUS)
        self._w(REG_CTRL1_XL, (ODR_833HZ << 4) | (FS_2G << 2))

    def who_am_i(self) -> int:
        return self._r(REG_WHO_AM_I)

    def stop(self) -> None:
        self._w(REG_CTRL1_XL, 0x00)
        self._w(REG_FIFO_CTRL4, FIFO_MODE_BYPASS)  # also empties the FIFO

    def start(self) -> None:
        self._w(REG_FIFO_CTRL4, FIFO_MODE_CONTINUOUS)
        self._w(REG_CTRL1_XL, (ODR_833HZ << 4) | (FS_2G << 2))

    # -- sampling (allocation-free) -------------------------------------------------------

    def fifo_level(self) -> int:
        """Words waiting in the FIFO (any sensor). Counts an overrun if the chip flags one."""
        st = self._status
        self.i2c.readfrom_mem_into(self.addr, REG_FIFO_STATUS1, st)
        if st[1] & _STATUS2_OVR:
            self.fifo_overruns += 1
        return st[0] | ((st[1] & 0x03) << 8)

    def read_word_into(self, buf, pos: int) -> bool:
        """Pop one FIFO word; if it is an accelerometer sample store x, y, z at
        ``buf[pos:pos+3]`` (int16 counts) and return True."""
        w = self._word
        self.i2c.readfrom_mem_into(self.addr, REG_FIFO_DATA_OUT_TAG, w)
        if (w[0] >> 3) != TAG_ACC:
            self.other_words += 1
            return False
        for k in range(3):
            v = w[1 + 2 * k] | (w[2 + 2 * k] << 8)
            if v & 0x8000:
                v -= 0x10000
            buf[pos + k] = v
        return True
