"""The decimating front end under MicroPython: the sampling path allocates nothing
(``micropython.heap_lock``), and what it sends is bit-identical to CPython's. Prints
``name value`` lines (run by tests/firmware/test_decimate.py under both interpreters)."""

import acquire
import clocks
import decimate
import sim_frontend

try:
    import micropython
except ImportError:  # CPython
    micropython = None


class Sink:
    def __init__(self):
        self.sum = 0
        self.frames = 0

    def send(self, view):
        if view[1] != 2:  # DATA only: STATUS carries the interpreter's free heap
            return
        self.frames += 1
        s = self.sum
        for b in view:
            s = (s * 31 + b) & 0xFFFFFF
        self.sum = s


clock = clocks.VirtualClock()
sim = sim_frontend.SimFrontEnd(clock, seed=3, twitch_rate_per_min=600)
fe = decimate.DecimatingFrontEnd(sim)
fe.set_factors((2, 4))
sink = Sink()
acq = acquire.Acquisition(fe, clock, sink.send, 1, "sim-0003", raw_frames=True)
acq.start()
for _ in range(20):
    clock.advance(10000)
    acq.step()


def fill():
    clock.advance(10000)
    acq.fill()


failed = 0
for _ in range(300):
    if micropython is not None:
        micropython.heap_lock()
    try:
        fill()
    except MemoryError:
        failed += 1
    if micropython is not None:
        micropython.heap_unlock()
    acq.pump()
print("fill_alloc", failed)
for _ in range(200):
    clock.advance(7000)
    acq.step()
print("frames", sink.frames)
print("checksum", sink.sum)
print("emg_out", fe._dec[0].next_out)
