"""The hardware front end: ADS1292R (EMG) + LSM6DSO (accelerometer) behind the same
interface as ``sim_frontend.SimFrontEnd``.

Board-independent: it gets initialised drivers (``board_esp32`` builds them from
``machine``; tests build them on fakes). EMG: one sample per DRDY edge (counted by
hardware); edges the loop did not read in time, and reads a new edge overlapped, are
counted as lost (``take_missed``) at their index, never duplicated or shifted. The EMG
scale in HELLO is the driver's ``uv_per_lsb()`` at the configured PGA gain.
Accelerometer: at most one I2C transaction per ``fill`` (one FIFO word, or the FIFO
status every ``_ACC_POLL_FILLS`` fills when no word is known to wait), so no fill
holds the loop longer than one 7-byte I2C read (~0.25 ms at 400 kHz) and the EMG
conversion, which the ADS1292R keeps only until the next DRDY (0.5 ms), is not missed.
The loop runs at least at the EMG rate (2 kHz), more than twice the 833 Hz of the FIFO.
A FIFO overrun loses a number of samples the chip does not count: ``take_missed``
says -1 and the acquisition counts them from the board clock (docs/firmware.md).
"""

import lsm6dso
import stream_desc

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


_ACC_POLL_FILLS = const(6)  # read FIFO_STATUS every this many fills (<= 3 ms: fills >= 2 kHz)


class HardwareFrontEnd:
    name = "ADS1292R + LSM6DSO"

    def __init__(self, ads, lsm, battery=None, emg_spf: int = 20, acc_spf: int = 20) -> None:
        self.ads = ads
        self.lsm = lsm
        self.battery = battery  # optional object with mv() and pct()
        self.streams = (
            stream_desc.emg_stream(ads.rate_hz * 1000, emg_spf,
                                   stream_desc.scale_bits_of(ads.uv_per_lsb())),
            stream_desc.acc_stream(lsm6dso.ODR_MHZ, acc_spf),
        )
        self._missed = [0, 0]
        self._overruns = 0
        self._acc_level = 0  # FIFO words known to wait (from the last FIFO_STATUS)
        self._fresh = [0, 0]  # what the last available() found converted (fresh())
        self._fills_since_poll = 0
        self.running = False

    def start(self) -> None:
        self.ads.start()
        self.lsm.start()
        self.ads.skip(self.ads.pending())
        self._overruns = self.lsm.fifo_overruns
        self._acc_level = 0
        self._fills_since_poll = _ACC_POLL_FILLS
        self.running = True

    def stop(self) -> None:
        self.ads.stop()
        self.lsm.stop()
        self.running = False

    def finished(self) -> bool:
        return False

    def available(self, stream_id: int) -> int:
        if not self.running:
            return 0
        if stream_id == 0:
            p = self.ads.pending()
            if p > 1:
                self._missed[0] += p - 1
                self.ads.skip(p - 1)
            self._fresh[0] = 1 if p else 0
            return 1 if p else 0
        self._fresh[1] = 0
        if self._acc_level:
            return 1
        self._fills_since_poll += 1
        if self._fills_since_poll < _ACC_POLL_FILLS:
            return 0
        self._fills_since_poll = 0
        self._acc_level = self.lsm.fifo_level()  # this fill's one I2C transaction
        self._fresh[1] = self._acc_level  # the newest of them was converted by now
        if self.lsm.fifo_overruns != self._overruns:
            # the FIFO overflowed: an unknown number lost; the acquisition counts them from
            # the board clock and the accelerometer's measured rate (take_missed -1)
            self._missed[1] = -1
            self._overruns = self.lsm.fifo_overruns
        return 0

    def fresh(self, stream_id: int) -> int:
        """Samples converted and not read yet that the last ``available`` found: the
        EMG's one pending conversion; the FIFO level read by a FIFO_STATUS poll (0 in a
        fill that did not poll). The acquisition stamps the newest of them."""
        return self._fresh[stream_id]

    def take_missed(self, stream_id: int) -> int:
        m = self._missed[stream_id]
        self._missed[stream_id] = 0
        return m

    def read(self, stream_id: int, ring, n: int) -> None:
        buf = ring.buf
        size = ring.size
        p = ring.wpos
        if stream_id == 0:
            ads = self.ads
            while n:
                if ads.read_into(buf, p):
                    p += 2
                    if p >= size:
                        p = 0
                    ring.commit(1, p)
                else:  # lost at their indexes: the next take_missed reports them
                    self._missed[0] += ads.read_lost
                    return
                n -= 1
            return
        lsm = self.lsm
        while n and self._acc_level:
            self._acc_level -= 1
            if lsm.read_word_into(buf, p):
                p += 3
                if p >= size:
                    p = 0
                ring.commit(1, p)
            n -= 1

    def check_ids(self) -> str:
        """The chips' ID registers for the self-test: ``ads:0x73,lsm:0x6c`` (a ``!`` after
        a value that is not the expected one). Only while not streaming."""
        a = self.ads.read_id()
        w = self.lsm.who_am_i()
        return "ads:0x%02x%s,lsm:0x%02x%s" % (a, "" if a in (0x73, 0x53) else "!",
                                               w, "" if w == lsm6dso.WHO_AM_I_VALUE else "!")

    def bus_times_us(self, clock) -> tuple:
        """Mean time of one 9-byte SPI read (a conversion's frame, CS included) and one
        7-byte I2C register read, over 20 of each, in us (``clock.ticks_us``)."""
        ads = self.ads
        t = clock.ticks_us()
        for _ in range(20):
            ads.cs.value(0)
            ads.spi.write_readinto(ads._tx, ads._rx)
            ads.cs.value(1)
        spi = clock.ticks_diff(clock.ticks_us(), t) // 20
        lsm = self.lsm
        t = clock.ticks_us()
        for _ in range(20):
            lsm.i2c.readfrom_mem_into(lsm.addr, lsm6dso.REG_WHO_AM_I, lsm._word)
        i2c = clock.ticks_diff(clock.ticks_us(), t) // 20
        return spi, i2c

    def bad_frames(self) -> int:
        return self.ads.bad_frames

    def lead_off(self) -> int:
        return self.ads.lead_off

    def battery_mv(self) -> int:
        return self.battery.mv() if self.battery is not None else 0

    def battery_pct(self) -> int:
        return self.battery.pct() if self.battery is not None else 255

    def describe(self) -> str:
        return "boot: ADS1292R id 0x%02x at %d SPS gain %d, LSM6DSO at 833 Hz" % (
            self.ads.chip_id, self.ads.rate_hz, self.ads.gain)
