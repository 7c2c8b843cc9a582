"""A timing model of the ESP32 board for the tests: the real firmware (drivers,
``HardwareFrontEnd``, ``Acquisition``, ``FrameQueue``, ``TxPacer``, ``BoardLoop``) runs
under CPython against register-accurate fakes whose every call takes modelled time.

Model time (``SimBoard.t_ns``) moves only when something costs time: a bus transfer at
its bit rate, a driver call's overhead, a Python step's assumed CPU cost, an injected
stall (a garbage collection, a flash write). While it moves, the chips keep converting
on their own clocks: the ADS1292R every 1/2000 s (DRDY counted by the PCNT fake), the
LSM6DSO every 1/833 s into its FIFO; the UART FIFO drains at the baud rate. A conversion
that lands in the middle of an SPI read changes the bytes still to come, as on the
chip. Each figure and its source is in ``Costs`` (and docs/firmware.md's budget table):
bus and chip timings come from datasheets and the MicroPython ESP32 port's sources; the
CPU cost of Python steps and driver calls on the ESP32 is an ASSUMPTION (no board was
measured), which is why ``cpu_factor`` scales every one of them and the tests state the
factor up to which the loop still keeps up.

``SoftIrqScheduler`` models the ESP32 port's ``Pin.irq`` (always scheduled, a queue of
``MICROPY_SCHEDULER_DEPTH`` = 8, run at most one Python callback per VM check, edges
dropped silently when full), for the test that shows why DRDY is counted by the PCNT.

CPython only (tests and bench).
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
for _p in (HERE.parents[1] / "firmware", HERE / "fakes"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import acquire  # noqa: E402
import ads1292r  # noqa: E402
import board_loop  # noqa: E402
import hw_frontend  # noqa: E402
import lsm6dso  # noqa: E402
import wire_link  # noqa: E402
from fake_ads1292r import FakeADS1292R  # noqa: E402
from fake_lsm6dso import FakeLSM6DSO  # noqa: E402


@dataclasses.dataclass
class Costs:
    """Durations in ns. ``source`` of each: see ``SOURCES``."""

    emg_rate_hz: int = 2000
    acc_odr_hz: float = 833.0
    spi_hz: int = 1_000_000
    i2c_hz: int = 400_000
    baud: int = 921_600
    uart_fifo: int = 128
    lsm_fifo_words: int = 438
    # driver call overheads and Python steps (ASSUMED, scaled by cpu_factor)
    spi_call_ns: int = 30_000
    i2c_call_ns: int = 50_000
    pin_ns: int = 3_000
    pcnt_ns: int = 5_000
    uart_call_ns: int = 10_000
    fill_ns: int = 60_000
    frame_ns: int = 150_000
    viper_byte_ns: int = 100
    status_ns: int = 500_000
    loop_ns: int = 40_000

    def i2c_read_ns(self, n: int) -> int:
        """readfrom_mem_into of n bytes: START, address+W, register, repeated START,
        address+R, n data bytes, STOP: (3 + n) 9-bit bytes + 2 bit times."""
        return ((3 + n) * 9 + 2) * 1_000_000_000 // self.i2c_hz

    def i2c_write_ns(self, n: int) -> int:
        return ((2 + n) * 9 + 2) * 1_000_000_000 // self.i2c_hz


SOURCES = {
    "emg_rate_hz": "ADS1292R CONFIG1 DR=4: 2 kSPS (datasheet SBAS502, CONFIG1 register); firmware/board_esp32.build",
    "acc_odr_hz": "LSM6DSO ODR_XL 833 Hz (datasheet DS12140, CTRL1_XL); firmware/lsm6dso.py",
    "spi_hz": "firmware/board_esp32.SPI_HZ (ADS1292R allows up to 20 MHz SCLK, SBAS502 7.6)",
    "i2c_hz": "firmware/board_esp32.I2C_HZ, I2C fast mode (UM10204: 9 bit times per byte)",
    "baud": "firmware/main.py _UART_BAUD, 8N1: 10 bit times per byte",
    "uart_fifo": "ESP32 UART TX FIFO 128 bytes (ESP32 TRM, UART chapter; SOC_UART_FIFO_LEN); the REPL UART has no driver TX buffer (ports/esp32/uart.c uart_stdout_tx_strn)",
    "lsm_fifo_words": "LSM6DSO FIFO 3 kB = 438 words of 7 bytes (DS12140, FIFO)",
    "spi_call_ns": "ASSUMED: machine.SPI.write_readinto -> ESP-IDF spi_device_transmit; IDF docs give ~28 us per interrupt-driven transaction",
    "i2c_call_ns": "ASSUMED: machine.I2C -> ESP-IDF i2c master command link, overhead unmeasured",
    "pin_ns": "ASSUMED: Pin.value() call from Python",
    "pcnt_ns": "ASSUMED: esp32.PCNT.value() call (pcnt_get_counter_value, ports/esp32/esp32_pcnt.c)",
    "uart_call_ns": "ASSUMED: stream write call of a <=120-byte piece into the FIFO",
    "fill_ns": "ASSUMED: Acquisition.fill's Python per call (2 streams)",
    "frame_ns": "ASSUMED: one DATA frame's Python (build_data, to_wire, queue.send) besides viper loops",
    "viper_byte_ns": "ASSUMED: viper CRC/COBS/pack per byte (~24 cycles at 240 MHz)",
    "status_ns": "ASSUMED: one STATUS (battery ADC read, mem_free, packing)",
    "loop_ns": "ASSUMED: BoardLoop.run_once's own Python (step, pacer, clock, drain)",
}


class SimClock:
    """The firmware's clock on model time (``clocks.VirtualClock``'s interface)."""

    def __init__(self, board: "SimBoard") -> None:
        self.board = board

    def now_us(self) -> int:
        return self.board.t_ns // 1000

    def now_ms(self) -> int:
        return self.board.t_ns // 1_000_000

    def ticks_us(self) -> int:
        return (self.board.t_ns // 1000) & ((1 << 30) - 1)

    def ticks_diff(self, a: int, b: int) -> int:
        d = (a - b) & ((1 << 30) - 1)
        return d - (1 << 30) if d >= (1 << 29) else d

    def ticks_add(self, a: int, d: int) -> int:
        return (a + d) & ((1 << 30) - 1)

    def advance(self, dt_us: int) -> None:
        pass

    def board_time_into(self, ticks: int, out) -> None:
        now = self.board.t_ns // 1000
        t = now - self.ticks_diff(now & ((1 << 30) - 1), ticks)
        out[0], out[1] = divmod(t, 1000)


def emg_value(k: int) -> tuple[int, int]:
    """The raw counts of conversion k (since START): its index, recoverable from the sample."""
    v = k % 8_000_000
    return v, -v


def acc_value(k: int) -> tuple[int, int, int]:
    return k % 30000, (k // 30000) % 30000, 1000


class SimBoard:
    """Model time, the two chips converting on their own clocks, and the UART FIFO."""

    def __init__(self, costs: Costs | None = None, cpu_factor: float = 1.0,
                 emg_clock_ppm: float = 0.0, acc_clock_ppm: float = 0.0) -> None:
        self.c = costs or Costs()
        self.cpu_factor = cpu_factor
        self.t_ns = 0
        self.ads = FakeADS1292R()
        self.lsm = FakeLSM6DSO()
        self.emg_period_ns = 1e9 / self.c.emg_rate_hz * (1 + emg_clock_ppm * 1e-6)
        self.acc_period_ns = 1e9 / self.c.acc_odr_hz * (1 + acc_clock_ppm * 1e-6)
        self._next_emg: float | None = None
        self._next_acc: float | None = None
        self.emg_made = 0  # conversions since the ADS was (re)started
        self.acc_made = 0
        self.emg_times: list[int] = []  # model time of every conversion since START
        self.acc_times: list[int] = []  # model time of every accelerometer conversion since START
        self.stalls: list[tuple[int, int]] = []  # (at_ns, duration_ns), sorted
        self.stall_ns = 0
        self.worst_latency_ns = 0  # DRDY edge -> start of the read of that conversion
        self.uart_out = bytearray()
        self.uart_level = 0.0  # bytes in the TX FIFO
        self._uart_t = 0
        self.uart_blocked_ns = 0
        self.byte_ns = 10 * 1e9 / self.c.baud
        self.irq = None  # a SoftIrqScheduler, when modelling Pin.irq

    # -- time ------------------------------------------------------------------------

    def advance(self, dt_ns: float) -> None:
        end = self.t_ns + int(dt_ns)
        while True:
            if self.ads.started and self._next_emg is None:
                self._next_emg = self.t_ns + self.emg_period_ns
                self.emg_made = 0
                self.emg_times = []
            if not self.ads.started:
                self._next_emg = None
            acc_on = self.lsm.fifo_enabled()
            if acc_on and self._next_acc is None:
                self._next_acc = self.t_ns + self.acc_period_ns
                self.acc_made = 0
                self.acc_times = []
            if not acc_on:
                self._next_acc = None
            ne = self._next_emg if self._next_emg is not None else float("inf")
            na = self._next_acc if self._next_acc is not None else float("inf")
            nxt = min(ne, na)
            if nxt > end:
                break
            self.t_ns = int(nxt)
            if ne <= na:
                self.ads.convert(*emg_value(self.emg_made))
                self.emg_times.append(self.t_ns)
                self.emg_made += 1
                self._next_emg = ne + self.emg_period_ns
                if self.irq is not None:
                    self.irq.edge()
            else:
                self.lsm.sample(*acc_value(self.acc_made))
                self.acc_times.append(self.t_ns)
                self.acc_made += 1
                self._next_acc = na + self.acc_period_ns
        self.t_ns = end

    def cpu(self, ns: float) -> None:
        """Python or driver-call time (scaled by ``cpu_factor``)."""
        self.advance(ns * self.cpu_factor)

    def maybe_stall(self) -> None:
        """Injected stalls (a GC pause, a flash write) that started by now happen now."""
        while self.stalls and self.stalls[0][0] <= self.t_ns:
            _, d = self.stalls.pop(0)
            self.stall_ns += d
            self.advance(d)

    # -- UART ------------------------------------------------------------------------

    def _uart_drain(self) -> None:
        e = self.t_ns - self._uart_t
        self._uart_t = self.t_ns
        self.uart_level = max(0.0, self.uart_level - e / self.byte_ns)

    def uart_write(self, buf, off: int, n: int) -> int:
        """The REPL UART's stdout write: into the 128-byte FIFO, waiting while it is full
        (ports/esp32/uart.c: uart_stdout_tx_strn). Waiting time is counted: the pacer
        should make it zero."""
        self.cpu(self.c.uart_call_ns)
        self._uart_drain()
        free = self.c.uart_fifo - self.uart_level
        if n > free:
            wait = (n - free) * self.byte_ns
            self.uart_blocked_ns += int(wait)
            self.advance(wait)
            self._uart_drain()
        self.uart_level += n
        self.uart_out += bytes(buf[off:off + n])
        return n


class TimedSPI:
    def __init__(self, board: SimBoard) -> None:
        self.b = board
        self.chip = board.ads
        self.byte_ns = 8 * 1e9 / board.c.spi_hz

    def _xfer(self, wbuf, rbuf) -> None:
        b = self.b
        b.cpu(b.c.spi_call_ns)
        if rbuf is not None and len(wbuf) == 9 and b.emg_times:
            lat = b.t_ns - b.emg_times[-1]
            if lat > b.worst_latency_ns:
                b.worst_latency_ns = lat
        for i in range(len(wbuf)):
            b.advance(self.byte_ns)
            r = self.chip._xfer(wbuf[i])
            if rbuf is not None:
                rbuf[i] = r

    def write(self, buf) -> None:
        self._xfer(buf, None)

    def write_readinto(self, wbuf, rbuf) -> None:
        self._xfer(wbuf, rbuf)


class TimedPin:
    def __init__(self, board: SimBoard, pin) -> None:
        self.b = board
        self.pin = pin

    def value(self, v=None):
        self.b.cpu(self.b.c.pin_ns)
        return self.pin.value(v)


class TimedCounter:
    def __init__(self, board: SimBoard) -> None:
        self.b = board
        self.wrap = board.ads.counter.wrap

    def value(self) -> int:
        self.b.cpu(self.b.c.pcnt_ns)
        return self.b.ads.counter.value()


class TimedI2C:
    def __init__(self, board: SimBoard) -> None:
        self.b = board
        self.chip = board.lsm

    def readfrom_mem_into(self, addr, reg, buf) -> None:
        b = self.b
        b.cpu(b.c.i2c_call_ns)
        b.advance(b.c.i2c_read_ns(len(buf)))
        self.chip.readfrom_mem_into(addr, reg, buf)

    def writeto_mem(self, addr, reg, buf) -> None:
        b = self.b
        b.cpu(b.c.i2c_call_ns)
        b.advance(b.c.i2c_write_ns(len(buf)))
        self.chip.writeto_mem(addr, reg, buf)


class SoftIrqScheduler:
    """``Pin.irq`` on the ESP32 port: the ISR calls ``mp_sched_schedule`` (a queue of 8;
    full: the edge is dropped, nothing counts it); the VM runs one scheduled Python
    callback per pending check, between bytecodes, never inside a C call."""

    DEPTH = 8  # MICROPY_SCHEDULER_DEPTH, ports/esp32/mpconfigport.h

    def __init__(self) -> None:
        self.queued = 0
        self.dropped = 0
        self.count = 0  # what a handler that counts edges would have counted

    def edge(self) -> None:
        if self.queued < self.DEPTH:
            self.queued += 1
        else:
            self.dropped += 1

    def run_pending(self) -> None:
        if self.queued:
            self.queued -= 1
            self.count += 1


@dataclasses.dataclass
class RunResult:
    board: SimBoard
    acq: acquire.Acquisition
    queue: wire_link.FrameQueue
    duration_ns: int
    idle_ns: int
    passes: int

    @property
    def busy_fraction(self) -> float:
        return 1 - self.idle_ns / self.duration_ns


def build(costs: Costs | None = None, cpu_factor: float = 1.0, emg_clock_ppm: float = 0.0,
          acc_clock_ppm: float = 0.0, n_slots: int = 16, paced: bool = True):
    """The board as main.py builds it, on the model's fakes; returns (board, loop)."""
    board = SimBoard(costs, cpu_factor, emg_clock_ppm, acc_clock_ppm)
    c = board.c
    ads = ads1292r.ADS1292R(TimedSPI(board), TimedPin(board, board.ads.cs), board.ads.drdy,
                            TimedCounter(board), sleep_ms=lambda ms: board.advance(ms * 1_000_000))
    ads.init(c.emg_rate_hz, 6)
    ads.stop()
    lsm = lsm6dso.LSM6DSO(TimedI2C(board), sleep_ms=lambda ms: board.advance(ms * 1_000_000))
    lsm.init()
    lsm.stop()
    fe = hw_frontend.HardwareFrontEnd(ads, lsm)
    clock = SimClock(board)
    queue = wire_link.FrameQueue(n_slots=n_slots)
    pacer = wire_link.TxPacer(clock, c.baud, c.uart_fifo - 8)
    acq = acquire.Acquisition(fe, clock, queue.send, 0x1234, "esp32-model", paced=paced)
    _charge(board, acq)
    loop = board_loop.BoardLoop(acq, queue, pacer, board.uart_write)
    return board, loop


def _charge(board: SimBoard, acq) -> None:
    """Charge the assumed CPU cost of the Python steps (wrapping the real methods)."""
    c = board.c
    fill = acq.fill
    w = acq.writer
    build_data = w.build_data
    to_wire = w.to_wire
    send_status = acq.send_status

    def timed_fill():
        board.cpu(c.fill_ns)
        fill()

    def timed_build_data(*a):
        n = build_data(*a)
        board.cpu(c.frame_ns + n * c.viper_byte_ns * 2)  # pack + CRC
        return n

    def timed_to_wire(n):
        m = to_wire(n)
        board.cpu(m * c.viper_byte_ns)
        return m

    def timed_status():
        board.cpu(c.status_ns)
        send_status()

    acq.fill = timed_fill
    w.build_data = timed_build_data
    w.to_wire = timed_to_wire
    acq.send_status = timed_status


def run(seconds: float, stalls=(), **kw) -> RunResult:
    """START, then ``seconds`` of the main loop, then STOP; ``stalls``: (at_s, duration_ms)."""
    board, loop = build(**kw)
    acq = loop.acq
    board.uart_out.clear()
    acq.handle_command(1, 0)  # START
    t0 = board.t_ns
    board.stalls = sorted((t0 + int(a * 1e9), int(d * 1e6)) for a, d in stalls)
    end = t0 + int(seconds * 1e9)
    idle = 0
    passes = 0
    while board.t_ns < end:
        board.maybe_stall()
        start = board.t_ns
        board.cpu(board.c.loop_ns)
        worked = loop.run_once()
        passes += 1
        if not worked:
            idle += board.t_ns - start
    duration = board.t_ns - t0
    board.emg_at_stop = board.emg_made
    board.acc_at_stop = board.acc_made
    acq.handle_command(2, 0)  # STOP: the rest goes out as short frames
    for _ in range(20000):
        if not loop.queue.count:
            break
        board.cpu(board.c.loop_ns)
        loop.run_once()
    return RunResult(board, acq, loop.queue, duration, idle, passes)


def messages_on_host(result: RunResult) -> list:
    """Every message the host's decoder makes of the UART bytes."""
    from twitchwatch.protocol.decoder import FrameDecoder

    return FrameDecoder().feed(bytes(result.board.uart_out), 1.0)


def decode_on_host(result: RunResult):
    """The UART bytes through the host's decoder: (sample blocks, gaps, decoder stats)."""
    from twitchwatch.protocol.decoder import FrameDecoder
    from twitchwatch.protocol.messages import Gap, SampleBlock

    dec = FrameDecoder()
    msgs = dec.feed(bytes(result.board.uart_out), 1.0)
    blocks = [m for m in msgs if isinstance(m, SampleBlock)]
    gaps = [m for m in msgs if isinstance(m, Gap)]
    return blocks, gaps, dec.stats
