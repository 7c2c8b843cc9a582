"""Driver checks against the register-accurate fakes; runs under MicroPython and CPython.

Prints ``ok NAME`` or ``FAIL NAME: reason`` per check, then ``done``.
"""

import sys

from checks_runner import check, run_checks

try:
    import micropython
except ImportError:
    micropython = None

import ads1292r
import lsm6dso
import sample_ring
from fake_ads1292r import FakeADS1292R
from fake_lsm6dso import FakeLSM6DSO
import hw_frontend
import acquire
import clocks
import stream_desc
import wire_cobs


def make_ads(gain=6, wrap=30000):
    chip = FakeADS1292R(wrap)
    drv = ads1292r.ADS1292R(chip, chip.cs, chip.drdy, chip.counter, sleep_ms=chip.sleep_ms)
    drv.init(2000, gain)
    return chip, drv


def make_lsm():
    chip = FakeLSM6DSO()
    drv = lsm6dso.LSM6DSO(chip)
    drv.init()
    return chip, drv


def t_ads_init_registers():
    chip, drv = make_ads()
    r = chip.regs
    check(r[0x01] == 0x04, "CONFIG1 0x%02x (want 2 kSPS = 0x04)" % r[0x01])
    check(r[0x02] == 0xE0, "CONFIG2 0x%02x" % r[0x02])
    check(r[0x03] == 0x10, "LOFF 0x%02x" % r[0x03])
    check(r[0x04] == 0x00 and r[0x05] == 0x00, "CHnSET gain 6 normal input")
    check(r[0x06] == 0x2F, "RLD_SENS 0x%02x" % r[0x06])
    check(r[0x07] == 0x0F, "LOFF_SENS 0x%02x" % r[0x07])
    check(r[0x09] == 0x02 and r[0x0A] == 0x03, "RESP1/RESP2")
    ops = chip.ops
    check(ops[0] == 0x06 and ops[1] == 0x11, "RESET then SDATAC first: %r" % ops[:3])
    check(ops[-2:] == [0x10, 0x08], "ends with RDATAC, START: %r" % ops[-3:])
    check(chip.rdatac and chip.started, "running in RDATAC")
    check(drv.chip_id == 0x73, "ID")
    check(chip.drdy.handler is None, "no DRDY IRQ: the edges are counted by the counter")
    check(abs(drv.uv_per_lsb() - 2.42 / 6 / 8388607 * 1e6) < 1e-9, "uV per LSB")
    check(ads1292r.REF_SETTLE_MS == 100 and 100 in chip.sleeps, "100 ms reference settling: %r" % chip.sleeps)


def t_ads_gain_and_rate_codes():
    chip = FakeADS1292R()
    drv = ads1292r.ADS1292R(chip, chip.cs, chip.drdy, chip.counter)
    drv.init(1000, 12)
    check(chip.regs[0x01] == 0x03 and chip.regs[0x04] == 0x60 and chip.regs[0x05] == 0x60, "1 kSPS, gain 12")
    try:
        drv.init(3000, 6)
    except ads1292r.ADS1292RError:
        return
    raise AssertionError("3000 SPS accepted")


def t_ads_rejects_wrong_id():
    chip = FakeADS1292R()
    from fake_ads1292r import RESET_REGS  # noqa: F401
    chip.regs[0] = 0x00
    chip._opcode = _no_reset(chip)  # keep the wrong ID across RESET
    drv = ads1292r.ADS1292R(chip, chip.cs, chip.drdy, chip.counter)
    try:
        drv.init()
    except ads1292r.ADS1292RError:
        return
    raise AssertionError("wrong ID accepted")


def _no_reset(chip):
    orig = chip._opcode

    def op(o):
        if o == 0x06:
            chip.ops.append(o)
            chip.rdatac = True
            return
        orig(o)
    return op


def t_ads_sign_extension_and_values():
    chip, drv = make_ads()
    buf = [0, 0]
    for ch1, ch2 in ((0, -1), (8388607, -8388608), (1, 16), (-4200, 123456)):
        chip.convert(ch1, ch2)
        check(drv.pending() == 1, "one DRDY pending")
        drv.read_into(buf, 0)
        check(buf == [ch1, ch2], "read %r want %r" % (buf, [ch1, ch2]))
        check(drv.pending() == 0, "consumed")
    check(drv.status >> 20 == 0xC, "status word starts 1100")


def t_ads_lead_off_bits():
    chip, drv = make_ads()
    buf = [0, 0]
    for stat, want in ((0x00, 0), (0x01, 1), (0x02, 1), (0x04, 2), (0x08, 2), (0x0F, 3), (0x10, 0)):
        chip.loff_stat = stat
        chip.convert(5, 6)
        drv.read_into(buf, 0)
        check(drv.lead_off == want, "LOFF_STAT 0x%02x -> %d, want %d" % (stat, drv.lead_off, want))


def t_ads_drdy_counts_missed():
    chip, drv = make_ads()
    ring = sample_ring.SampleRing(2, 40)
    lsm_chip, lsm = make_lsm()
    fe = hw_frontend.HardwareFrontEnd(drv, lsm)
    fe.start()
    for v in (1, 2, 3, 4):
        chip.convert(v, -v)  # four conversions before the loop looks: three lost
    n = fe.available(0)
    check(n == 1, "one sample available, got %d" % n)
    check(fe.take_missed(0) == 3, "three counted as missed")
    fe.read(0, ring, n)
    check(list(ring.buf[:2]) == [4, -4], "the latest frame is read: %r" % list(ring.buf[:2]))
    check(ring.write_index == 1, "stored once")
    check(fe.available(0) == 0 and fe.take_missed(0) == 0, "nothing left, nothing double-counted")


def t_ads_counter_wraps():
    """The edge count wraps at COUNT_WRAP (here a fake with a small wrap): nothing lost."""
    chip, drv = make_ads(wrap=7)
    buf = [0, 0]
    for v in range(30):
        chip.convert(v, -v)
        check(drv.pending() == 1, "one pending at %d" % v)
        check(drv.read_into(buf, 0) and buf == [v, -v], "read %d: %r" % (v, buf))
    for v in range(5):  # five conversions unread, across the wrap
        chip.convert(v, v)
    check(drv.pending() == 5, "five pending across the wrap: %d" % drv.pending())


def t_ads_torn_read_counted():
    """A conversion that lands during the read: neither sample is trusted, both counted."""
    chip, drv = make_ads()
    buf = [7, 7]
    chip.convert(1, 2)
    chip.convert_during_read(3, 4)
    check(not drv.read_into(buf, 0), "torn read refused")
    check(drv.read_lost == 2 and buf == [7, 7], "two lost, nothing stored: %d %r" % (drv.read_lost, buf))
    check(drv.pending() == 0 and drv.bad_frames == 1, "all accounted")
    chip.convert(5, 6)
    check(drv.read_into(buf, 0) and buf == [5, 6], "next read fine")


def t_ads_late_edge_before_read_counted():
    """An edge between available() and the read: the read would get a later conversion."""
    chip, drv = make_ads()
    buf = [7, 7]
    chip.convert(1, 2)
    check(drv.pending() == 1, "one pending")
    chip.convert(3, 4)  # arrives before read_into starts
    check(not drv.read_into(buf, 0) and drv.read_lost == 2, "both counted lost")
    check(drv.pending() == 0, "accounted")


def t_ads_bad_sync_counted():
    chip, drv = make_ads()
    chip.convert(1, 2)
    chip.frame[0] = 0x00  # no 1100 sync: a bus fault or a reset chip
    buf = [7, 7]
    check(not drv.read_into(buf, 0) and drv.read_lost == 1 and buf == [7, 7], "refused")


def t_hw_scale_from_gain():
    for gain in (1, 6, 12):
        chip, ads = make_ads(gain)
        lsm_chip, lsm = make_lsm()
        fe = hw_frontend.HardwareFrontEnd(ads, lsm)
        want = stream_desc.scale_bits_of(2420000 / gain / 8388607)
        got = fe.streams[0].channels[0].scale_bits
        check(got == want, "gain %d: scale bits 0x%08x, want 0x%08x" % (gain, got, want))
    check(0.02403 < fe.streams[0].channels[0].scale() < 0.02405, "gain 12 is 0.0240 uV/LSB")


def t_hw_loss_keeps_held_samples_and_marks_gap():
    """Samples held when a loss happens go out first; the gap is the lost indexes."""
    ads_chip, ads = make_ads()
    lsm_chip, lsm = make_lsm()
    fe = hw_frontend.HardwareFrontEnd(ads, lsm)
    frames = []
    acq = acquire.Acquisition(fe, clocks.VirtualClock(), lambda v: frames.append(bytes(v)), 5, "t")
    acq.start()
    frames.clear()
    for i in range(13):
        ads_chip.convert(i, -i)
        acq.fill()
    for i in range(13, 16):  # three conversions the loop missed (a stall)
        ads_chip.convert(i, -i)
    ads_chip.convert(16, -16)
    acq.fill()
    for i in range(17, 60):
        ads_chip.convert(i, -i)
        acq.fill()
        acq.pump()
    got = {}
    for w in frames:
        f = wire_cobs.decode(w[:-1])
        if f[1] == 2 and f[6] == 0:
            n = f[7]
            first = f[8] | f[9] << 8 | f[10] << 16 | f[11] << 24
            for k in range(n):
                o = 20 + 6 * k
                v = f[o] | f[o + 1] << 8 | f[o + 2] << 16
                got[first + k] = v - (1 << 24) if v & 0x800000 else v
    check(acq.dropped_samples == 3, "three counted: %d" % acq.dropped_samples)
    check(sorted(got)[:13] == list(range(13)), "the 13 held samples were sent: %r" % sorted(got)[:14])
    check(13 not in got and 15 not in got and got.get(16) == 16, "gap 13..15, then sample 16 at its index")
    check(all(got[i] == i for i in got), "every sample at its own index")


def t_hw_check_ids():
    """The self-test's ID check: SDATAC, RREG ID, back to RDATAC; conversions still read."""
    ads_chip, ads = make_ads()
    lsm_chip, lsm = make_lsm()
    fe = hw_frontend.HardwareFrontEnd(ads, lsm)
    ads.stop()
    check(fe.check_ids() == "ads:0x73,lsm:0x6c", "ids %s" % fe.check_ids())
    check(ads_chip.rdatac, "back in RDATAC")
    lsm_chip.regs[0x0F] = 0x69
    check(fe.check_ids() == "ads:0x73,lsm:0x69!", "a wrong id is marked: %s" % fe.check_ids())
    fe.start()
    ads_chip.convert(11, -11)
    ring = sample_ring.SampleRing(2, 40)
    n = fe.available(0)
    fe.read(0, ring, n)
    check(n == 1 and list(ring.buf[:2]) == [11, -11], "streams after the check")


def t_ads_ignores_rreg_in_rdatac():
    """A driver that forgot SDATAC would read garbage: the fake models that."""
    chip = FakeADS1292R()
    drv = ads1292r.ADS1292R(chip, chip.cs, chip.drdy, chip.counter)
    chip.convert(1, 2)
    got = drv.read_regs(0x00, 1)[0]
    check(got != 0x73, "RREG must not work in RDATAC mode")


def t_lsm_init_registers():
    chip, drv = make_lsm()
    r = chip.regs
    check(r[0x10] == 0x70, "CTRL1_XL 0x%02x (833 Hz, +-2 g)" % r[0x10])
    check(r[0x12] == 0x44, "CTRL3_C BDU + IF_INC")
    check(r[0x11] == 0x00, "gyro off")
    check(r[0x09] == 0x07, "FIFO_CTRL3 BDR_XL 833 Hz, gyro not batched")
    check(r[0x0A] == 0x06, "FIFO_CTRL4 continuous")
    check((0x12, 0x01) in chip.writes, "software reset issued")


def t_lsm_wrong_who_am_i():
    chip = FakeLSM6DSO()
    chip.regs[0x0F] = 0x69
    try:
        lsm6dso.LSM6DSO(chip).init()
    except lsm6dso.LSM6DSOError:
        return
    raise AssertionError("wrong WHO_AM_I accepted")


def t_lsm_no_fifo_before_init():
    chip = FakeLSM6DSO()
    chip.sample(1, 2, 3)
    check(len(chip.fifo) == 0, "unconfigured chip queues nothing")


def t_lsm_fifo_tags_and_values():
    chip, drv = make_lsm()
    chip.sample(32767, -32768, 0)
    chip.gyro_sample(9, 9, 9)
    chip.sample(16, -16, 16393)
    check(drv.fifo_level() == 3, "three words")
    buf = [0] * 6
    check(drv.read_word_into(buf, 0), "accelerometer word")
    check(not drv.read_word_into(buf, 3), "gyro word skipped")
    check(drv.read_word_into(buf, 3), "accelerometer word")
    check(buf == [32767, -32768, 0, 16, -16, 16393], "values %r" % buf)
    check(drv.other_words == 1 and drv.fifo_level() == 0, "counts")


def t_lsm_fifo_level_over_255_and_overrun():
    chip, drv = make_lsm()
    for i in range(300):
        chip.sample(i, 0, 0)
    check(drv.fifo_level() == 300, "DIFF_FIFO uses bits 9:8 of FIFO_STATUS2")
    for i in range(200):
        chip.sample(i, 0, 0)
    check(drv.fifo_level() == 438 and drv.fifo_overruns == 1, "overrun flagged and counted")


def t_frontend_through_acquisition():
    ads_chip, ads = make_ads()
    lsm_chip, lsm = make_lsm()
    fe = hw_frontend.HardwareFrontEnd(ads, lsm)
    check(fe.streams[1].sample_rate_mhz == 833000 and fe.streams[0].sample_rate_mhz == 2000000, "rates")
    sent = []
    acq = acquire.Acquisition(fe, clocks.VirtualClock(), lambda v: sent.append(bytes(v)), 5, "esp32-test")
    acq.start()
    for i in range(40):
        ads_chip.convert(i, -i)
        acq.fill()
        if i % 2 == 0:
            lsm_chip.sample(i, i + 1, 1000)
    for _ in range(40):  # at most one accelerometer I2C transaction per fill: let it catch up
        acq.fill()
    acq.pump()
    check(acq.rings[0].read_index == 40 and acq.rings[1].read_index == 20, "frames packed")
    check(acq.dropped_samples == 0, "no drops")
    check(len(sent) == 1 + 2 + 1, "HELLO + 2 EMG + 1 ACC frames, got %d" % len(sent))


def t_hw_fill_allocates_nothing():
    if micropython is None:
        return
    ads_chip, ads = make_ads()
    lsm_chip, lsm = make_lsm()
    fe = hw_frontend.HardwareFrontEnd(ads, lsm)
    acq = acquire.Acquisition(fe, clocks.VirtualClock(), lambda v: None, 5, "esp32-test")
    acq.start()
    for i in range(30):  # warm-up
        ads_chip.convert(i, i)
        lsm_chip.sample(i, i, i)
        acq.fill()
        acq.pump()
    fails = 0
    for i in range(200):
        ads_chip.convert(i, -i)  # the fake itself may allocate: outside the lock
        lsm_chip.sample(1, 2, 3)
        micropython.heap_lock()
        try:
            n = fe.available(0)
            fe.take_missed(0)
            fe.read(0, acq.rings[0], n)
            n = fe.available(1)
            acq.rings[1].make_room(n)
        except MemoryError:
            fails += 1
        micropython.heap_unlock()
        # accelerometer words: the fake's FIFO pop allocates, so read them unlocked
        fe.read(1, acq.rings[1], n)
        acq.pump()
    check(fails == 0, "EMG read path allocated %d times" % fails)


run_checks(globals())
sys.exit(0)
