"""Firmware encode/simulator cost under the MicroPython Unix port.

Run: ``.venv/bin/python bench/firmware_encode_bench.py`` (it launches ``micropython``
from the same venv, twice: default heap and ``-X heapsize=110K`` like an ESP32 with
the radio up). Prints a table per heap size.

The Unix port on x86-64 is far faster than an ESP32 (240 MHz Xtensa LX6): these
numbers are the cost on this machine only; the board is unmeasured.
"""

import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
MICROPYTHON = pathlib.Path(sys.executable).parent / "micropython"

MP_SCRIPT = r'''
import array
import gc
import time

import acquire
import clocks
import sim_frontend
import stream_desc
import wire_frames

ticks_us = time.ticks_us
ticks_diff = time.ticks_diff


def per_call_us(fn, n):
    gc.collect()
    t0 = ticks_us()
    for _ in range(n):
        fn()
    return ticks_diff(ticks_us(), t0) / n


sig = sim_frontend.SimSignal(sim_frontend.SimOptions(1))
emg = stream_desc.emg_stream()
acc = stream_desc.acc_stream()
emg_buf = array.array("i", bytearray(4 * 40))  # the acquisition's rings are int32 arrays
acc_buf = array.array("i", bytearray(4 * 60))
sig.emg_into(emg_buf, 0, 20)
sig.acc_into(acc_buf, 0, 20)
w = wire_frames.FrameWriter()
N = 3000
n_emg = w.build_data(emg, 1000, emg.t_us(1000), emg_buf, 0, 20)
n_acc = w.build_data(acc, 500, acc.t_us(500), acc_buf, 0, 20)

rows = []
pack_emg = per_call_us(lambda: w.build_data(emg, 1000, 500000, emg_buf, 0, 20), N)
w.build_data(emg, 1000, 500000, emg_buf, 0, 20)
cobs_emg = per_call_us(lambda: w.to_wire(n_emg), N)
pack_acc = per_call_us(lambda: w.build_data(acc, 500, 500000, acc_buf, 0, 20), N)
w.build_data(acc, 500, 500000, acc_buf, 0, 20)
cobs_acc = per_call_us(lambda: w.to_wire(n_acc), N)
print("frame EMG %d B: pack+CRC %.1f us, COBS %.1f us, total %.1f us" % (n_emg, pack_emg, cobs_emg, pack_emg + cobs_emg))
print("frame ACC %d B: pack+CRC %.1f us, COBS %.1f us, total %.1f us" % (n_acc, pack_acc, cobs_acc, pack_acc + cobs_acc))

big = array.array("i", bytearray(4 * 2 * 400))
t = per_call_us(lambda: sig.emg_into(big, 0, 400), 100)
print("sim EMG: %.0f samples/s (2 channels each; the stream needs 2000)" % (400 / t * 1e6))
bigacc = array.array("i", bytearray(4 * 3 * 400))
t = per_call_us(lambda: sig.acc_into(bigacc, 0, 400), 100)
print("sim ACC: %.0f samples/s (3 axes each; the stream needs 1000)" % (400 / t * 1e6))


class Sink:
    def __init__(self):
        self.n = 0

    def send(self, v):
        self.n += len(v)


clock = clocks.VirtualClock()
fe = sim_frontend.SimFrontEnd(clock, seed=1)
sink = Sink()
a = acquire.Acquisition(fe, clock, sink.send, 1, "sim-0001")
a.start()
gc.collect()
free0 = gc.mem_free()
t0 = ticks_us()
for _ in range(1000):  # 10 s of sample time
    clock.advance(10000)
    a.step()
dt = ticks_diff(ticks_us(), t0)
print("loop: 10 s of full stream (sim + frames + COBS, no I/O) in %.3f s wall = %.1fx real time" % (dt / 1e6, 10e6 / dt))
print("loop: %d wire bytes, %d frames, dropped %d, heap free %d -> %d bytes" % (sink.n, a.frames_sent, a.dropped_samples, free0, gc.mem_free()))
'''


def run(heapsize=None):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(MP_SCRIPT)
        path = f.name
    try:
        cmd = [str(MICROPYTHON)] + (["-X", f"heapsize={heapsize}"] if heapsize else []) + [path]
        env = dict(os.environ, MICROPYPATH=str(ROOT / "firmware"))
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        if p.returncode:
            sys.exit(f"micropython failed:\n{p.stdout}\n{p.stderr}")
        return p.stdout
    finally:
        os.unlink(path)


def main():
    if not MICROPYTHON.exists():
        sys.exit(f"no micropython at {MICROPYTHON}")
    for heap in (None, "110K"):
        print(f"## MicroPython Unix port, heap {'default' if heap is None else heap}")
        print(run(heap))
    print("Unix port on x86-64; an ESP32 (240 MHz Xtensa) is much slower: unmeasured on the board.")


if __name__ == "__main__":
    main()
