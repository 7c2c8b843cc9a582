"""Prove the sampling path allocates nothing: run ``Acquisition.fill`` (and the DATA
packing) under ``micropython.heap_lock()``. Prints one ``name ok|ALLOC`` line per check.
"""

import micropython

import acquire
import clocks
import sim_frontend


class Sink:
    def __init__(self):
        self.frames = 0

    def send(self, view):
        self.frames += 1


def check(name, fn, rounds):
    failed = 0
    for _ in range(rounds):
        micropython.heap_lock()
        try:
            fn()
        except MemoryError:
            failed += 1
        micropython.heap_unlock()
    print(name, "ok" if failed == 0 else "ALLOC %d/%d" % (failed, rounds))


clock = clocks.VirtualClock()
fe = sim_frontend.SimFrontEnd(clock, seed=3, twitch_rate_per_min=600)  # many twitches
sink = Sink()
acq = acquire.Acquisition(fe, clock, sink.send, 1, "sim-0003")
acq.start()
for _ in range(20):  # warm up: caches, first frames
    clock.advance(10000)
    acq.step()


def fill():
    clock.advance(10000)
    acq.fill()


def fill_and_pack():
    # fill, then pack every full frame (no COBS / send: those may allocate a slice)
    clock.advance(10000)
    acq.fill()
    w = acq.writer
    for k in range(acq.n_streams):
        s = acq.streams[k]
        ring = acq.rings[k]
        while ring.count() >= s.samples_per_frame:
            first = ring.read_index
            w.build_data(s, first, s.t_us(first), ring.buf, ring.rpos, s.samples_per_frame)
            ring.consume(s.samples_per_frame)


def overrun():
    # 30 frames' worth at once: more than the ring holds -> drop oldest, count, no alloc
    clock.advance(300000)
    acq.fill()


def control():
    bytearray(8)  # allocates: proves heap_lock really catches allocation here


check("control", control, 1)
check("fill", fill, 500)
check("fill_and_pack", fill_and_pack, 500)
before = acq.dropped_samples
check("overrun", overrun, 5)
print("dropped", acq.dropped_samples - before)
print("emg_index", fe.signal.emg_index)
