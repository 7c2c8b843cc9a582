"""The ESP32 timing model's figures (tests/firmware/esp32_timing.py): the per-sample
budget, the loop's headroom at the assumed CPU costs, and how far those costs may be
off before conversions are lost.

Run: ``.venv/bin/python bench/esp32_timing_model.py`` (CPython; ~10 s).

Model figures, not measurements: bus and chip timings come from datasheets, the CPU
cost of Python steps and driver calls on the ESP32 is assumed (``Costs``). The
firmware's self-test is what measures a real board.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "firmware"))

import esp32_timing as tm  # noqa: E402


def main() -> None:
    c = tm.Costs()
    emg_read = c.spi_call_ns + 9 * 8 * 1e9 / c.spi_hz + 2 * c.pin_ns + 2 * c.pcnt_ns
    acc_word = c.i2c_call_ns + c.i2c_read_ns(7)
    acc_poll = c.i2c_call_ns + c.i2c_read_ns(2)
    frame = c.frame_ns + 144 * c.viper_byte_ns * 2 + 147 * c.viper_byte_ns
    print("per-operation (us):")
    for name, ns in (("EMG read (SPI 9 B + CS + 2 PCNT reads)", emg_read),
                     ("accelerometer word (I2C 7 B)", acc_word),
                     ("FIFO status (I2C 2 B)", acc_poll),
                     ("DATA frame build (pack, CRC, COBS, queue)", frame),
                     ("UART byte at %d baud" % c.baud, 10 * 1e9 / c.baud),
                     ("loop pass overhead", c.loop_ns),
                     ("fill overhead", c.fill_ns),
                     ("STATUS", c.status_ns)):
        print("  %-45s %7.1f" % (name, ns / 1000))
    print("per second: 2000 EMG reads, 833 accelerometer words, ~167 FIFO polls, "
          "150 DATA frames, 1 STATUS, ~22 kB on the UART")
    r = tm.run(5.0)
    print("default, 5 s: dropped %d, worst DRDY->read %.0f us of 500, busy %.0f %%, "
          "UART blocked %d ns, passes/s %.0f"
          % (r.acq.dropped_samples, r.board.worst_latency_ns / 1000, 100 * r.busy_fraction,
             r.board.uart_blocked_ns, r.passes / 5))
    print("cpu_factor sweep (1 s each): factor, dropped, worst latency us, busy %")
    for f in (0.5, 0.75, 1.0, 1.1, 1.2, 1.3, 1.5, 1.7, 2.0):
        r = tm.run(1.0, cpu_factor=f)
        print("  %.2f %5d %5.0f %4.0f" % (f, r.acq.dropped_samples, r.board.worst_latency_ns / 1000,
                                          100 * r.busy_fraction))
    r = tm.run(1.0, paced=False)
    print("unpaced step (fill all, pump all each pass), 1 s: dropped %d, worst latency %.0f us"
          % (r.acq.dropped_samples, r.board.worst_latency_ns / 1000))


if __name__ == "__main__":
    main()
