"""Checks of the board's hot path: CRC, COBS, t_first_us packing, the frame queue and the
UART pacer, the refused-frame accounting and the allocation rules. Runs under
MicroPython and CPython; prints ``ok NAME`` or ``FAIL NAME: reason`` per check, then
``done`` (same format as driver_checks.py).
"""

import binascii
import struct
import sys

from checks_runner import check, run_checks

try:
    import micropython
except ImportError:
    micropython = None

import acquire
import clocks
import crc32_into
import sim_frontend
import wire_cobs
import wire_frames
import wire_link


class Rng:
    def __init__(self, x=0x12345):
        self.x = x

    def next(self):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x


def t_crc_matches_binascii():
    r = Rng()
    for n in (0, 1, 2, 3, 7, 16, 100, 144, 240, 244):
        b = bytearray(n + 4)
        for i in range(n):
            b[i] = r.next() & 0xFF
        crc32_into.crc_into(b, n)
        want = binascii.crc32(bytes(b[:n])) & 0xFFFFFFFF
        got = struct.unpack_from("<I", b, n)[0]
        check(got == want, "n=%d crc %08x want %08x" % (n, got, want))
    if micropython is not None:
        check(crc32_into.VIPER, "MicroPython uses the viper CRC")


def t_cobs_matches_reference():
    r = Rng(99)
    for trial in range(200):
        n = r.next() % 245
        zeros = r.next() % 4  # 0: no zeros ... 3: many zeros
        src = bytearray(n)
        for i in range(n):
            v = r.next() & 0xFF
            src[i] = 0 if zeros and v < 60 * zeros else (v or 1)
        a = bytearray(300)
        b = bytearray(300)
        m1 = wire_cobs.encode_into(src, n, a)
        m2 = wire_cobs._encode_into_py(src, n, b)
        check(m1 == m2 and a[:m1] == b[:m2], "trial %d n=%d differs" % (trial, n))
        check(wire_cobs.decode(bytes(a[:m1])) == bytes(src), "round trip %d" % trial)
    src = bytearray(b"\x01" * 600)  # runs longer than a 254-byte block
    a = bytearray(700)
    b = bytearray(700)
    check(wire_cobs.encode_into(src, 600, a) == wire_cobs._encode_into_py(src, 600, b) and a == b, "long run")
    if micropython is not None:
        check(wire_cobs.VIPER, "MicroPython uses the viper COBS encoder")


def t_data_pack_matches_reference():
    """DATA packing from a ring array (viper under MicroPython) equals packing from a list
    (the struct path), wrap-around and extreme values included."""
    import array
    import stream_desc
    r = Rng(5)
    for s in (stream_desc.emg_stream(), stream_desc.acc_stream()):
        nch = s.n_channels
        lim = 1 << (8 * s.bytes_per_sample - 1)
        size = 7 * nch  # a small ring: frames wrap
        vals = [(r.next() % (2 * lim)) - lim for _ in range(size)]
        vals[0] = lim - 1
        vals[1] = -lim
        arr = array.array("i", vals)
        for start_sample in range(7):
            for n in (1, 3, 7):
                a = wire_frames.FrameWriter(9)
                b = wire_frames.FrameWriter(9)
                na = a.build_data(s, 40, -1, arr, start_sample * nch, n)
                nb = b.build_data(s, 40, s.t_us(40), vals, start_sample * nch, n)
                check(na == nb and a.frame[:na] == b.frame[:nb], "stream %d start %d n %d" % (s.stream_id, start_sample, n))


def t_pack_t_us_exact():
    b = bytearray(8)
    r = Rng(7)
    for rate in (2000000, 833000, 1000000, 125000, 8000000, 1, 999999):
        idxs = [0, 1, 999, 1000, 1 << 20, (1 << 30) - 1]
        for _ in range(300):
            idxs.append(r.next() & 0x3FFFFFFF)
        for i in idxs:
            wire_frames.pack_t_us(b, 0, i, rate)
            got = struct.unpack("<Q", b)[0]
            check(got == i * 1000000000 // rate, "rate %d index %d: %d" % (rate, i, got))


def _frame(n_bytes, ftype=2, fill=0x55):
    """A fake encoded frame whose third byte is the type (as COBS puts it)."""
    v = bytearray(n_bytes)
    for i in range(n_bytes):
        v[i] = fill
    v[0] = n_bytes - 1
    v[1] = 1
    v[2] = ftype
    v[n_bytes - 1] = 0
    return v


def t_queue_bounded_with_reserve():
    q = wire_link.FrameQueue(n_slots=4, reserve=1)
    check(q.send(memoryview(_frame(100))), "1st DATA")
    check(q.send(memoryview(_frame(100))), "2nd DATA")
    check(q.send(memoryview(_frame(100))), "3rd DATA")
    check(not q.send(memoryview(_frame(100))), "4th DATA refused: the last slot is reserved")
    check(q.send(memoryview(_frame(30, ftype=4))), "a REPLY takes the reserved slot")
    check(not q.send(memoryview(_frame(30, ftype=4))), "full: even a REPLY is refused")
    check(q.refused == 2 and q.refused_data == 1, "counted %d %d" % (q.refused, q.refused_data))


def t_queue_drains_in_order():
    q = wire_link.FrameQueue(n_slots=3, reserve=0)
    frames = [_frame(246, fill=0x11), _frame(40, ftype=3, fill=0x22), _frame(100, fill=0x33)]
    for f in frames:
        check(q.send(memoryview(f)), "queued")
    out = bytearray()

    def write(buf, off, n):
        out.extend(buf[off:off + n])
        return n

    total = 0
    rounds = 0
    while q.count:
        n = q.drain(write, 50)  # a sink that takes at most 50 bytes a call
        check(n <= 50, "over budget: %d" % n)
        total += n
        rounds += 1
        check(rounds < 100, "drain makes progress")
    check(bytes(out) == b"".join(bytes(f) for f in frames), "bytes in order, whole")
    check(total == 386 and q.queued_bytes == 0, "all drained")
    check(q.drain(write, 50) == 0, "empty")


def t_pacer_follows_baud():
    clk = clocks.VirtualClock()
    p = wire_link.TxPacer(clk, 921600, 120)
    check(p.room() == 120, "empty FIFO")
    p.sent(120)
    check(p.room() == 0, "full")
    clk.advance(1000)  # 1 ms at 921600 baud (8N1): 92.16 bytes
    check(p.room() == 92, "92 bytes drained in 1 ms: %d" % p.room())
    clk.advance(10000)
    check(p.room() == 120, "drained")
    p.sent(100)
    for _ in range(100):  # many small steps: no drift from rounding (remainder kept)
        clk.advance(10)
        p.room()
    r = p.room()  # rounding is conservative: at most the true 92.16 bytes, at most 2 % less
    check(20 + 90 <= r <= 20 + 92, "1 ms in 10-us steps drains 90..92: %d" % (r - 20))
    clk.advance(10 ** 9)  # a long pause, then ticks wrap: still sane
    check(p.room() == 120, "after a long pause")


def _decode_frames(wires):
    out = []
    for w in wires:
        f = wire_cobs.decode(bytes(w))
        out.append(f)
    return out


def _data_headers(frames):
    """(stream_id, n, first_sample_index, t_first_us) of each DATA frame, in order."""
    out = []
    for f in frames:
        if f[1] == 2:
            out.append((f[6], f[7], struct.unpack_from("<I", f, 8)[0], struct.unpack_from("<Q", f, 12)[0]))
    return out


def t_refused_data_is_a_counted_gap():
    """A queue that cannot drain refuses DATA; the refused samples are counted and the
    frames that do go out carry their true indexes (a forward jump = a gap)."""
    clk = clocks.VirtualClock()
    fe = sim_frontend.SimFrontEnd(clk, seed=2)
    q = wire_link.FrameQueue(n_slots=6, reserve=2)
    acq = acquire.Acquisition(fe, clk, q.send, 1, "sim-0002")
    acq.start()
    out = []

    def write(buf, off, n):
        out.append(bytes(buf[off:off + n]))

    sent_wires = []
    buf = bytearray()
    for step in range(60):
        clk.advance(10000)
        acq.step()
        if step % 10 == 9:  # the link drains only now and then: backlog
            while q.count:
                q.drain(write, 4096)
    acq.stop()  # the rest goes out as short frames (or is refused and counted)
    while q.count:
        q.drain(write, 4096)
    for chunk in out:
        for b in chunk:
            buf.append(b)
            if b == 0:
                sent_wires.append(bytes(buf))
                buf = bytearray()
    frames = _decode_frames(sent_wires)
    seen = {0: 0, 1: 0}
    expect = {0: 0, 1: 0}
    gaps = 0
    for sid, n, first, t in _data_headers(frames):
        check(first >= expect[sid], "never backwards")
        check(t == first * 1000000000 // acq.streams[sid].sample_rate_mhz, "t_first_us from the index")
        gaps += first - expect[sid]
        expect[sid] = first + n
        seen[sid] += n
    check(q.refused_data > 0, "the backlog refused frames")
    check(acq.frames_refused == q.refused, "counted on both sides")
    tail = fe.produced[0] - expect[0] + fe.produced[1] - expect[1]  # refused after the last frame
    check(gaps + tail == acq.dropped_samples, "gaps %d + tail %d == dropped %d" % (gaps, tail, acq.dropped_samples))
    check(seen[0] + seen[1] + acq.dropped_samples == fe.produced[0] + fe.produced[1],
          "every sample sent or counted")


def t_a_late_pass_loses_nothing_the_source_holds():
    """The loop late by 0.15 to 2 s (a board that waited for a CPU or in a write): the
    backlog the source still holds is read in pieces the rings can take and sent, every
    sample once and in order, none dropped (the rings used to discard the partial frame
    they held to read the backlog's first ring-full at once)."""
    clk = clocks.VirtualClock()
    fe = sim_frontend.SimFrontEnd(clk, seed=3)
    frames = []

    def send(view):
        frames.append(bytes(view))
        return True

    acq = acquire.Acquisition(fe, clk, send, 1, "sim-0003", raw_frames=True)
    acq.start()
    for dt_us in (10000, 10000, 7000, 150000, 10000, 3000, 500000, 10000, 13000, 2000000) + (2000,) * 800:
        clk.advance(dt_us)  # a late pass: a long dt, then 2 ms passes as unix_main's loop
        acq.step()
    acq.stop()
    expect = {0: 0, 1: 0}
    gaps = 0
    for sid, n, first, _ in _data_headers(frames):
        gaps += first != expect[sid]
        expect[sid] = first + n
    check(acq.dropped_samples == 0, "dropped %d" % acq.dropped_samples)
    check(gaps == 0, "%d frames did not follow the one before" % gaps)
    check(expect[0] == fe.produced[0] and expect[1] == fe.produced[1] and expect[0] >= 2000 * 2600 // 1000,
          "sent %r of %r" % (expect, fe.produced))


def t_selftest_on_the_simulator():
    """COMMAND SELFTEST on a stopped acquisition: REPLY, then one TEXT result line; the
    run's DATA frames are built, not sent; the simulator keeps real time (its virtual
    clock advanced by the real time of each pass)."""
    clk = clocks.VirtualClock()
    fe = sim_frontend.SimFrontEnd(clk, seed=4)
    frames = []
    acq = acquire.Acquisition(fe, clk, lambda v: frames.append(bytes(v)), 1, "sim-0004")
    fed = [0]

    def feed():
        fed[0] += 1

    acq.selftest_feed = feed
    acq.handle_command(wire_frames.CMD_SELFTEST, 600)
    decoded = _decode_frames(frames)
    check([f[1] for f in decoded] == [4, 5], "REPLY then TEXT only: %r" % [f[1] for f in decoded])
    check(decoded[0][6] == wire_frames.CMD_SELFTEST and decoded[0][7] == 0, "REPLY ok")
    line = bytes(decoded[1][6:-4]).decode()
    check(line.startswith("selftest seconds=0.600 emg_hz=2000 ids=sim "), line)
    f = dict(p.split("=", 1) for p in line.split()[1:])
    check(f["lost"] == "0" and int(f["passes"]) > 50, line)
    check(900 <= int(f["emg"]) <= 1300, "0.6 s of 2 kHz: %s" % f["emg"])
    check(fed[0] == int(f["passes"]), "the watchdog fed every pass")
    check(not acq.streaming, "stopped again")
    acq.start()
    acq.handle_command(wire_frames.CMD_SELFTEST, 600)
    last = _decode_frames(frames[-1:])[0]
    check(last[1] == 4 and last[7] == wire_frames.RESULT_BUSY, "busy while streaming")


def t_send_path_allocates_nothing():
    """The whole board loop pass (BoardLoop.run_once: step, DATA build, CRC, COBS, queue,
    pacer, drain, STATUS), paced and unpaced, allocates nothing after warm-up."""
    if micropython is None:
        return
    import board_loop
    for paced in (False, True):
        clk = clocks.VirtualClock()
        fe = sim_frontend.SimFrontEnd(clk, seed=3, twitch_rate_per_min=600)
        q = wire_link.FrameQueue()
        acq = acquire.Acquisition(fe, clk, q.send, 1, "sim-0003", paced=paced)
        pacer = wire_link.TxPacer(clk, 921600, 120)
        got = [0]

        def write(buf, off, n):
            got[0] += n
            return n

        loop = board_loop.BoardLoop(acq, q, pacer, write)
        acq.start()
        for _ in range(300):  # warm-up
            clk.advance(500)
            loop.run_once()
        fails = 0
        for _ in range(3000):  # 1.5 s: STATUS frames included
            clk.advance(500)
            micropython.heap_lock()
            try:
                loop.run_once()
            except MemoryError:
                fails += 1
            micropython.heap_unlock()
        check(fails == 0, "paced=%s: a loop pass allocated %d/3000 times" % (paced, fails))
        check(got[0] > 30000 and acq.dropped_samples == 0, "bytes went out, nothing dropped")


run_checks(globals())
sys.exit(0)
