"""The simulated chips' clocks: each samples on its own oscillator against the board's.

Used by ``sim_frontend`` only when a clock error is asked for (``SimOptions``
``emg_clock_ppm``, ``acc_clock_ppm``, ``clock_wander_ppm``; without one the streams are
the board's clock exactly and this module is not loaded, which keeps the BLE build's
heap as it was). Integer arithmetic, the same on every port.

Runs under MicroPython and CPython 3.10+.
"""

from sim_frontend import _SINE_X1000


class ChipClock:
    """One chip's sample clock against the board's (``clocks``' time, us since START):
    sample ``k`` is converted at board time ``k / rate * (1 + ppm/1e6) + W(k / rate)``
    (``ppm`` > 0: the chip's oscillator is slow, its period that much longer), where the
    slow wander ``W(t) = A * (sin(2 pi t / P + phi) - sin(phi))``, ``A = wander_ppm/1e6
    * P / (2 pi)``, is a rate deviation of ``wander_ppm`` peak varying with period
    ``P = wander_s`` from phase ``phase_256`` (of 256). The host simulator's
    ``twitchwatch.sim.chipclock.chip_sample_times_s`` is the same model in floating
    point. Integer arithmetic here (the sine table, linearly interpolated to 1e-6), the
    same on every port; with no error it is the board's clock exactly."""

    def __init__(self, rate_hz: int, ppm: int = 0, wander_ppm: int = 0, wander_s: int = 120,
                 phase_256: int = 0) -> None:
        self.rate_hz = rate_hz
        self.ppm = ppm
        self.wander_us = wander_ppm * wander_s * 1000 // 6283 if wander_ppm else 0  # A, us
        self.period_us = wander_s * 1000000
        self.phase = (phase_256 & 255) * 1000  # table position x 1000
        self.s0 = self._sin6(0)

    def _sin6(self, t_us: int) -> int:
        """sin(2 pi t / P + phi) x 1e6, from the table linearly interpolated."""
        q = (t_us % self.period_us) * 256000 // self.period_us + self.phase
        k = (q // 1000) & 255
        f = q % 1000
        a = _SINE_X1000[k]
        return a * 1000 + (_SINE_X1000[(k + 1) & 255] - a) * f

    def board_us(self, chip_us: int) -> int:
        """The board time (us) at which the chip's own time is ``chip_us``."""
        t = chip_us + chip_us * self.ppm // 1000000
        if self.wander_us:
            t += self.wander_us * (self._sin6(chip_us) - self.s0) // 1000000
        return t

    def chip_us(self, t_us: int) -> int:
        """The chip's own time (us) at board time ``t_us`` (the inverse, within ~1 us)."""
        d = 1000000 + self.ppm
        c = t_us * 1000000 // d
        if self.wander_us:
            for _ in range(4):
                c += (t_us - self.board_us(c)) * 1000000 // d
        return c

    def count(self, t_us: int) -> int:
        """Samples converted by board time ``t_us`` (sample ``i`` at chip time i/rate)."""
        return self.chip_us(t_us) * self.rate_hz // 1000000


def from_options(options: dict, emg_hz: int, acc_hz: int):
    """``ChipClocks`` from the simulator options ``emg_clock_ppm``, ``acc_clock_ppm``,
    ``clock_wander_ppm`` (whole ppm) and ``clock_wander_s`` (s, default 120), popped from
    ``options``; None when none of the errors is set."""
    e = int(options.pop("emg_clock_ppm", 0) or 0)
    a = int(options.pop("acc_clock_ppm", 0) or 0)
    w = int(options.pop("clock_wander_ppm", 0) or 0)
    ws = int(options.pop("clock_wander_s", 120) or 120)
    if max(abs(e), abs(a)) + abs(w) > 100000 or ws < 1:
        raise ValueError("clock errors above 10 % or a wander period under 1 s")
    if not (e or a or w):
        return None
    return ChipClocks(emg_hz, acc_hz, e, a, w, ws)


class ChipClocks:
    """The EMG chip's (ADS1292R oscillator) and the accelerometer's (LSM6DSO ODR
    oscillator) clocks: independent, so they drift apart (docs/firmware.md)."""

    def __init__(self, emg_hz: int, acc_hz: int, emg_ppm: int = 0, acc_ppm: int = 0, wander_ppm: int = 0,
                 wander_s: int = 120) -> None:
        self.emg = ChipClock(emg_hz, emg_ppm, wander_ppm, wander_s, 0)
        # the accelerometer's wander is another oscillator's: another period and phase
        self.acc = ChipClock(acc_hz, acc_ppm, wander_ppm, wander_s * 13 // 8, 64)

    def acc_index_after(self, emg_index: int, delay_us: int) -> int:
        """The first accelerometer sample converted at least ``delay_us`` after EMG
        sample ``emg_index`` (a movement's first sample)."""
        return self.acc.count(self.emg.board_us(emg_index * 1000000 // self.emg.rate_hz) + delay_us)
