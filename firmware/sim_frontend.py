"""Simulated front end: deterministic EMG + accelerometer with known twitches.

Same interface as the hardware front end (``board_esp32.HardwareFrontEnd``), so the
acquisition loop cannot tell them apart. Integer-only arithmetic (xorshift32 PRNGs,
integer sine table, lookup-table motor-unit potentials), so MicroPython and CPython
produce bit-identical samples; ``ground_truth()`` is the CPython entry point the host
tests use to compare decoded samples bit for bit and to score detection.

The signal, per EMG channel (2 kHz, int24, 0.0481 uV/LSB):
- noise: sum of 4 uniform bytes (Irwin-Hall, near Gaussian), ``noise_uv_rms`` (3 uV);
- mains hum: ``hum_uv`` (1 uV) at ``hum_hz`` (50 Hz), the same on both channels;
- twitches (fasciculation potentials) from ``units_per_channel`` (3, at most 4) motor
  units per channel: each unit has its own template (one of 4: biphasic 6/10 ms,
  triphasic 12/19 ms; no two units of a channel share one), polarity and peak amplitude
  (``amp_min_uv``..``amp_max_uv``, 50..400 uV); each firing is a random unit of the
  channel at its amplitude +-8 %, at random intervals of 0.2..1.8 x the mean
  (``twitch_rate_per_min`` per channel, 20), never closer than 50 ms on one channel.
Accelerometer (1 kHz, int16, 0.061 mg/LSB): ~0.5 mg RMS noise per axis, gravity
+1000 mg on Z, and after ``acc_twitch_pct`` % (50 %) of twitches a damped sine of
5..50 Hz and 1.0..5.0 mg starting 10 ms after the EMG peak (electromechanical delay).
Clocks (``sim_clocks.ChipClocks``): each chip samples on its own oscillator against the board's
clock, its period ``emg_clock_ppm`` / ``acc_clock_ppm`` longer (default 0) plus a slow sine wander of
``clock_wander_ppm`` peak (periods ``clock_wander_s`` and 13/8 of it); the movement
starts 10 ms of board time after the EMG peak, at the accelerometer sample its own
clock gives then. The ADS1292R's internal oscillator and the LSM6DSO's are independent
(tolerances in docs/firmware.md), so on a board the two streams drift apart.

Runs under MicroPython and CPython 3.10+.
"""

import array

import stream_desc

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


_M32 = const(0xFFFFFFFF)
_EMG_HZ = const(2000)
_ACC_HZ = const(1000)
_MIN_GAP = const(100)  # samples at 2 kHz: 50 ms between twitches of one channel
_EMD_US = const(10000)  # from EMG peak to movement onset (electromechanical delay)
_GRAVITY_Z = const(16393)  # 1000 mg in LSB
_ACC_NOISE_K = const(80)  # (sum of 2 bytes - 255) * 80 >> 10: ~8 LSB = 0.5 mg RMS
_ENV_DECAY_X1000 = const(970)  # per 1 ms: time constant ~33 ms

# --- tables (generated once with numpy; integers so every port computes the same) ---
# sin(2*pi*k/256) * 1000, k = 0..255
_SINE_X1000 = (
    0, 25, 49, 74, 98, 122, 147, 171, 195, 219, 243, 267, 290, 314, 337, 360, 383, 405,
    428, 450, 471, 493, 514, 535, 556, 576, 596, 615, 634, 653, 672, 690, 707, 724, 741,
    757, 773, 788, 803, 818, 831, 845, 858, 870, 882, 893, 904, 914, 924, 933, 942, 950,
    957, 964, 970, 976, 981, 985, 989, 992, 995, 997, 999, 1000, 1000, 1000, 999, 997,
    995, 992, 989, 985, 981, 976, 970, 964, 957, 950, 942, 933, 924, 914, 904, 893, 882,
    870, 858, 845, 831, 818, 803, 788, 773, 757, 741, 724, 707, 690, 672, 653, 634, 615,
    596, 576, 556, 535, 514, 493, 471, 450, 428, 405, 383, 360, 337, 314, 290, 267, 243,
    219, 195, 171, 147, 122, 98, 74, 49, 25, 0, -25, -49, -74, -98, -122, -147, -171,
    -195, -219, -243, -267, -290, -314, -337, -360, -383, -405, -428, -450, -471, -493,
    -514, -535, -556, -576, -596, -615, -634, -653, -672, -690, -707, -724, -741, -757,
    -773, -788, -803, -818, -831, -845, -858, -870, -882, -893, -904, -914, -924, -933,
    -942, -950, -957, -964, -970, -976, -981, -985, -989, -992, -995, -997, -999, -1000,
    -1000, -1000, -999, -997, -995, -992, -989, -985, -981, -976, -970, -964, -957,
    -950, -942, -933, -924, -914, -904, -893, -882, -870, -858, -845, -831, -818, -803,
    -788, -773, -757, -741, -724, -707, -690, -672, -653, -634, -615, -596, -576, -556,
    -535, -514, -493, -471, -450, -428, -405, -383, -360, -337, -314, -290, -267, -243,
    -219, -195, -171, -147, -122, -98, -74, -49, -25,
)
# Motor-unit potential templates at 2 kHz, peak |value| = 1000: biphasic 6 ms and 10 ms
# (derivative of a Gaussian), triphasic 12 ms and 19 ms (negative Mexican hat).
_TMPL = (
    49, 187, 499, 899, 1000, 454, -454, -1000, -899, -499, -187, -49, 36, 87, 186, 351,
    578, 824, 1000, 997, 747, 278, -278, -747, -997, -1000, -824, -578, -351, -186, -87,
    -36, 19, 47, 99, 185, 299, 412, 463, 377, 112, -298, -725, -1000, -1000, -725, -298,
    112, 377, 463, 412, 299, 185, 99, 47, 19, 21, 36, 60, 94, 141, 200, 269, 342, 406,
    447, 446, 387, 261, 69, -175, -442, -695, -892, -1000, -1000, -892, -695, -442,
    -175, 69, 261, 387, 446, 447, 406, 342, 269, 200, 141, 94, 60, 36, 21,
)
_TMPL_START = (0, 12, 32, 56)
_TMPL_LEN = (12, 20, 24, 38)
_TMPL_PEAK = (4, 6, 11, 18)  # offset of the largest |value|
# Accelerometer axis weights (x1000) of each EMG channel's movement.
_ACC_W = ((700, 300, 600), (200, 800, 500))


def _mix(seed: int, stream: int) -> int:
    """A non-zero 32-bit PRNG state for one purpose, from the seed (integer hash)."""
    x = (seed * 0x9E3779B1 + stream * 0x85EBCA77 + 0x2545F491) & _M32
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & _M32
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & _M32
    x ^= x >> 16
    return x or 0x1234567


def _xorshift(x: int) -> int:
    x ^= (x << 13) & _M32
    x ^= x >> 17
    x ^= (x << 5) & _M32
    return x


class _Schedule:
    """The twitches of one EMG channel, generated in order from their own PRNG.

    ``onset`` (EMG sample index), ``tmpl``, ``amp_uv``, ``sign`` and the accelerometer
    part (``acc_on``, ``acc_start``, ``acc_hz``, ``acc_mg_x10``) describe the next
    twitch; ``advance()`` moves to the one after. The EMG and the accelerometer
    generators each replay their own copy, so the order in which streams are pulled
    cannot change either signal.
    """

    def __init__(self, seed: int, channel: int, mean_gap: int, amp_min_uv: int,
                 amp_max_uv: int, acc_pct: int, n_units: int = 3, clocks=None) -> None:
        self.x = _mix(seed, 10 + channel)
        self.mean_gap = mean_gap  # 0: no twitches
        self.acc_pct = acc_pct
        # the channel's motor units (drawn once, from the channel's own PRNG): templates
        # a shuffle of the 4 (no two units alike in shape), a polarity and a peak each
        self.n_units = n_units
        self.unit_tmpl = bytearray((0, 1, 2, 3))
        self.unit_sign = bytearray(4)  # 1: negative
        self.unit_amp_uv = array.array("i", (0, 0, 0, 0))
        x = self.x
        span = amp_max_uv - amp_min_uv + 1
        for i in range(3, 0, -1):
            x = _xorshift(x)
            j = x % (i + 1)
            self.unit_tmpl[i], self.unit_tmpl[j] = self.unit_tmpl[j], self.unit_tmpl[i]
        for u in range(4):
            x = _xorshift(x)
            self.unit_sign[u] = x & 1
            self.unit_amp_uv[u] = amp_min_uv + (x >> 1) % span
        self.x = x
        self.unit = 0
        self.onset = -1
        self.tmpl = 0
        self.amp_uv = 0
        self.sign = 1
        self.acc_on = False
        self.acc_start = -1
        self.acc_hz = 0
        self.acc_mg_x10 = 0
        self.last = 0
        self.advance(clocks)

    def advance(self, clocks=None) -> None:
        """The next twitch; ``clocks``: the chips' ``sim_clocks.ChipClocks``, or None
        (the board's clock exactly), which place its movement's first accelerometer sample."""
        if self.mean_gap <= 0:
            self.onset = -1
            self.acc_start = -1
            return
        x = _xorshift(self.x)
        gap = self.mean_gap * (200 + x % 1601) // 1000
        if gap < _MIN_GAP:
            gap = _MIN_GAP
        self.last += gap
        self.onset = self.last
        x = _xorshift(x)
        u = x % self.n_units
        self.unit = u
        self.tmpl = self.unit_tmpl[u]
        self.sign = -1 if self.unit_sign[u] else 1
        self.amp_uv = self.unit_amp_uv[u] * (920 + (x >> 8) % 161) // 1000  # +-8 %
        x = _xorshift(x)
        self.acc_on = x % 100 < self.acc_pct
        self.acc_hz = 5 + (x >> 8) % 46
        self.acc_mg_x10 = 10 + (x >> 16) % 41
        if clocks is None:  # both chips on the board's clock: 1 kHz index of peak + EMD
            self.acc_start = (self.onset + _TMPL_PEAK[self.tmpl]) // 2 + _EMD_US // 1000
        else:
            self.acc_start = clocks.acc_index_after(self.onset + _TMPL_PEAK[self.tmpl], _EMD_US)
        self.x = x

    def peak_index(self) -> int:
        return self.onset + _TMPL_PEAK[self.tmpl]


def _opt(options: dict, name: str, default):
    v = options.pop(name, default)
    return default if v is None else v


class SimOptions:
    """Simulator settings (see the module docstring for meanings and defaults)."""

    def __init__(self, seed: int = 1, **options) -> None:
        self.seed = seed
        self.twitch_rate_per_min = _opt(options, "twitch_rate_per_min", 20)
        self.noise_uv_rms = _opt(options, "noise_uv_rms", 3)
        self.hum_uv = _opt(options, "hum_uv", 1)
        self.hum_hz = _opt(options, "hum_hz", 50)
        self.amp_min_uv = _opt(options, "amp_min_uv", 50)
        self.amp_max_uv = _opt(options, "amp_max_uv", 400)
        self.acc_twitch_pct = _opt(options, "acc_twitch_pct", 50)
        self.units_per_channel = _opt(options, "units_per_channel", 3)
        self.lead_off = _opt(options, "lead_off", 0)
        # the chips' clocks (sim_clocks.ChipClocks from the options it takes), or None: the
        # board's clock exactly (that module is loaded only when asked for: a smaller heap)
        self.clocks = None
        if options:
            import sim_clocks

            self.clocks = sim_clocks.from_options(options, _EMG_HZ, _ACC_HZ)
        if options:
            raise TypeError("unknown simulator option: " + ",".join(options))
        if self.amp_max_uv < self.amp_min_uv:
            raise ValueError("amp_max_uv < amp_min_uv")
        if not 1 <= self.units_per_channel <= 4:
            raise ValueError("units_per_channel must be 1..4")

    def mean_gap(self) -> int:
        """Mean EMG samples between twitches of one channel (0: none)."""
        rate_milli = int(self.twitch_rate_per_min * 1000)
        if rate_milli <= 0:
            return 0
        return 60 * _EMG_HZ * 1000 // rate_milli

    def schedule(self, channel: int) -> _Schedule:
        return _Schedule(self.seed, channel, self.mean_gap(), self.amp_min_uv,
                         self.amp_max_uv, self.acc_twitch_pct, self.units_per_channel, self.clocks)


class SimSignal:
    """The sample generators, without any notion of time: ``emg_into``/``acc_into``
    write the next ``n`` samples into a flat array (allocation-free)."""

    def __init__(self, opts: SimOptions) -> None:
        self.opts = opts
        self.reset()

    def reset(self) -> None:
        o = self.opts
        seed = o.seed
        # Noise: (sum of 4 bytes - 510) has RMS 147.8; * k >> 10 gives noise_uv_rms.
        self.noise_k = int(o.noise_uv_rms * 144096 + 500) // 1000
        self.hum_lsb = int(o.hum_uv * stream_desc.EMG_LSB_PER_UV_X1000 + 500) // 1000
        self.hum_step = int(o.hum_hz) * 256  # phase in 1/2000 of a table step
        self.hum_phase = 0
        self.emg_index = 0
        self.acc_index = 0
        self.n0 = _mix(seed, 1)
        self.n1 = _mix(seed, 2)
        self.na = _mix(seed, 20)
        # EMG side: schedule + active template per channel.
        self.es0 = o.schedule(0)
        self.es1 = o.schedule(1)
        self.k0 = -1  # position in the active template, -1: none
        self.k1 = -1
        self.t0 = 0  # table start of the active template
        self.t1 = 0
        self.e0 = 0  # end (exclusive) in the table
        self.e1 = 0
        self.a0 = 0  # signed amplitude in LSB
        self.a1 = 0
        # Accelerometer side: its own schedule copies + active transient per channel.
        self.as0 = o.schedule(0)
        self.as1 = o.schedule(1)
        self.env0 = 0  # envelope, LSB x 1000; 0: no transient
        self.env1 = 0
        self.ph0 = 0
        self.ph1 = 0
        self.st0 = 0
        self.st1 = 0

    def _start_emg(self, ch: int, s: _Schedule) -> None:
        t = s.tmpl
        a = s.sign * (s.amp_uv * stream_desc.EMG_LSB_PER_UV_X1000 // 1000)
        if ch == 0:
            self.t0 = _TMPL_START[t]
            self.e0 = _TMPL_START[t] + _TMPL_LEN[t]
            self.k0 = self.t0
            self.a0 = a
        else:
            self.t1 = _TMPL_START[t]
            self.e1 = _TMPL_START[t] + _TMPL_LEN[t]
            self.k1 = self.t1
            self.a1 = a
        s.advance(self.opts.clocks)

    def emg_into(self, buf, pos: int, n: int) -> int:
        """Write ``n`` EMG samples (2 channels, interleaved) into ``buf`` from element
        ``pos``, wrapping at ``len(buf)``; return the element position after the last."""
        size = len(buf)
        x0 = self.n0
        x1 = self.n1
        k = self.noise_k
        hum_lsb = self.hum_lsb
        step = self.hum_step
        ph = self.hum_phase
        i = self.emg_index
        sine = _SINE_X1000
        tm = _TMPL
        es0 = self.es0
        es1 = self.es1
        while n:
            h = sine[ph // _EMG_HZ] * hum_lsb // 1000
            ph += step
            if ph >= 512000:
                ph -= 512000
            # channel 0
            x0 ^= (x0 << 13) & _M32
            x0 ^= x0 >> 17
            x0 ^= (x0 << 5) & _M32
            v = h + (((x0 & 255) + ((x0 >> 8) & 255) + ((x0 >> 16) & 255) + (x0 >> 24) - 510) * k >> 10)
            if i == es0.onset:
                self._start_emg(0, es0)
            if self.k0 >= 0:
                v += tm[self.k0] * self.a0 // 1000
                self.k0 += 1
                if self.k0 == self.e0:
                    self.k0 = -1
            buf[pos] = v
            # channel 1
            x1 ^= (x1 << 13) & _M32
            x1 ^= x1 >> 17
            x1 ^= (x1 << 5) & _M32
            v = h + (((x1 & 255) + ((x1 >> 8) & 255) + ((x1 >> 16) & 255) + (x1 >> 24) - 510) * k >> 10)
            if i == es1.onset:
                self._start_emg(1, es1)
            if self.k1 >= 0:
                v += tm[self.k1] * self.a1 // 1000
                self.k1 += 1
                if self.k1 == self.e1:
                    self.k1 = -1
            buf[pos + 1] = v
            pos += 2
            if pos >= size:
                pos = 0
            i += 1
            n -= 1
        self.n0 = x0
        self.n1 = x1
        self.hum_phase = ph
        self.emg_index = i
        return pos

    def _start_acc(self, ch: int, s: _Schedule) -> None:
        if s.acc_on:
            env = s.acc_mg_x10 * stream_desc.ACC_LSB_PER_MG_X1000 // 10
            if ch == 0:
                self.env0 = env
                self.ph0 = 0
                self.st0 = s.acc_hz * 256
            else:
                self.env1 = env
                self.ph1 = 0
                self.st1 = s.acc_hz * 256
        s.advance(self.opts.clocks)

    def acc_into(self, buf, pos: int, n: int) -> int:
        """Write ``n`` accelerometer samples (x, y, z interleaved) like ``emg_into``."""
        size = len(buf)
        x = self.na
        j = self.acc_index
        sine = _SINE_X1000
        as0 = self.as0
        as1 = self.as1
        w0 = _ACC_W[0]
        w1 = _ACC_W[1]
        while n:
            x ^= (x << 13) & _M32
            x ^= x >> 17
            x ^= (x << 5) & _M32
            ax = ((x & 255) + ((x >> 8) & 255) - 255) * _ACC_NOISE_K >> 10
            ay = (((x >> 16) & 255) + (x >> 24) - 255) * _ACC_NOISE_K >> 10
            x ^= (x << 13) & _M32
            x ^= x >> 17
            x ^= (x << 5) & _M32
            az = _GRAVITY_Z + (((x & 255) + ((x >> 8) & 255) - 255) * _ACC_NOISE_K >> 10)
            if j == as0.acc_start:
                self._start_acc(0, as0)
            if j == as1.acc_start:
                self._start_acc(1, as1)
            if self.env0:
                m = sine[(self.ph0 // _ACC_HZ) & 255] * self.env0 // 1000
                ax += m * w0[0] // 1000000
                ay += m * w0[1] // 1000000
                az += m * w0[2] // 1000000
                self.ph0 += self.st0
                if self.ph0 >= 256000:
                    self.ph0 -= 256000
                self.env0 = self.env0 * _ENV_DECAY_X1000 // 1000
                if self.env0 < 1000:
                    self.env0 = 0
            if self.env1:
                m = sine[(self.ph1 // _ACC_HZ) & 255] * self.env1 // 1000
                ax += m * w1[0] // 1000000
                ay += m * w1[1] // 1000000
                az += m * w1[2] // 1000000
                self.ph1 += self.st1
                if self.ph1 >= 256000:
                    self.ph1 -= 256000
                self.env1 = self.env1 * _ENV_DECAY_X1000 // 1000
                if self.env1 < 1000:
                    self.env1 = 0
            buf[pos] = ax
            buf[pos + 1] = ay
            buf[pos + 2] = az
            pos += 3
            if pos >= size:
                pos = 0
            j += 1
            n -= 1
        self.na = x
        self.acc_index = j
        return pos


class SimFrontEnd:
    """The simulated board: streams paced by a clock (``clocks.VirtualClock`` to run as
    fast as the link takes data, ``clocks.RealClock`` for real time).

    ``limit_s``: stop producing after that many seconds of sample time (None: never).
    """

    name = "simulated front end"

    def __init__(self, clock, seed: int = 1, limit_s=None, **sim_options) -> None:
        self.clock = clock
        self.opts = SimOptions(seed, **sim_options)
        self.signal = SimSignal(self.opts)
        self.streams = stream_desc.reference_streams()
        self.rates_hz = (_EMG_HZ, _ACC_HZ)
        if limit_s is None:
            self.limits = (-1, -1)
        else:
            self.limits = (int(limit_s * _EMG_HZ), int(limit_s * _ACC_HZ))
        self.produced = [0, 0]
        self.t0_us = 0
        self.running = False

    def start(self) -> None:
        """Restart both streams at sample 0 (START resets indexes; the signal restarts
        from the seed so sample i always equals ``ground_truth`` sample i)."""
        self.signal.reset()
        self.produced[0] = 0
        self.produced[1] = 0
        self.t0_us = self.clock.now_us()
        self.running = True

    def stop(self) -> None:
        self.running = False

    def finished(self) -> bool:
        """True when every stream reached ``limit_s``."""
        lim = self.limits
        return lim[0] >= 0 and self.produced[0] >= lim[0] and self.produced[1] >= lim[1]

    def available(self, stream_id: int) -> int:
        if not self.running:
            return 0
        clocks = self.opts.clocks
        if clocks is None:
            due = (self.clock.now_us() - self.t0_us) * self.rates_hz[stream_id] // 1000000
        else:
            due = (clocks.emg if stream_id == 0 else clocks.acc).count(self.clock.now_us() - self.t0_us)
        lim = self.limits[stream_id]
        if 0 <= lim < due:
            due = lim
        return due - self.produced[stream_id]

    def read(self, stream_id: int, ring, n: int) -> None:
        """Generate ``n`` samples of ``stream_id`` into ``ring`` (which has room)."""
        if stream_id == 0:
            p = self.signal.emg_into(ring.buf, ring.wpos, n)
        else:
            p = self.signal.acc_into(ring.buf, ring.wpos, n)
        ring.commit(n, p)
        self.produced[stream_id] += n

    def take_missed(self, stream_id: int) -> int:
        return 0

    def lead_off(self) -> int:
        return self.opts.lead_off

    def check_ids(self) -> str:
        return "sim"

    def bus_times_us(self, clock) -> tuple:
        return 0, 0

    def bad_frames(self) -> int:
        return 0

    def battery_mv(self) -> int:
        return 0

    def battery_pct(self) -> int:
        return 255

    def describe(self) -> str:
        o = self.opts
        return "boot: simulated front end, seed %d, %s twitches/min/channel" % (o.seed, o.twitch_rate_per_min)


def twitch_schedule(seed: int, n_emg_samples: int, **sim_options) -> list:
    """Every twitch whose peak falls in the first ``n_emg_samples`` EMG samples, as
    dicts sorted by peak index: ``peak_index``, ``onset_index``, ``channel``, ``unit``
    (the channel's motor unit, 0..units_per_channel-1), ``peak_uv`` (magnitude),
    ``polarity`` (+1/-1), ``duration_samples``, and ``acc``:
    ``None`` or a dict ``start_index`` (accelerometer sample), ``freq_hz``, ``peak_mg_x10``.
    """
    opts = SimOptions(seed, **sim_options)
    out = []
    for ch in (0, 1):
        s = opts.schedule(ch)
        while s.onset >= 0 and s.peak_index() < n_emg_samples:
            acc = None
            if s.acc_on:
                acc = {"start_index": s.acc_start, "freq_hz": s.acc_hz, "peak_mg_x10": s.acc_mg_x10}
            out.append({"peak_index": s.peak_index(), "onset_index": s.onset, "channel": ch,
                        "unit": s.unit, "peak_uv": s.amp_uv, "polarity": s.sign,
                        "duration_samples": _TMPL_LEN[s.tmpl], "acc": acc})
            s.advance(opts.clocks)
    out.sort(key=lambda d: (d["peak_index"], d["channel"]))
    return out


def ground_truth(seed: int, n_emg_samples: int, n_acc_samples: int, **sim_options) -> tuple:
    """The exact samples the firmware sends after START, and its twitches.

    Returns ``(emg_rows, acc_rows, twitches)``: ``emg_rows`` is a list of
    ``n_emg_samples`` tuples ``(emg1, emg2)`` of raw int24 counts (x 0.0481 uV),
    ``acc_rows`` a list of ``n_acc_samples`` tuples ``(x, y, z)`` of raw int16 counts
    (x 0.061 mg), ``twitches`` a list of ``(peak_index, channel, peak_uv)`` int tuples
    sorted by peak index (EMG sample index of the largest |deflection| of the template,
    channel 0 or 1, its magnitude in uV without noise). ``sim_options`` are the
    ``SimOptions`` keywords (``twitch_rate_per_min``, ``noise_uv_rms``, ...).
    """
    sig = SimSignal(SimOptions(seed, **dict(sim_options)))
    emg = array.array("i", bytearray(4 * 2 * max(n_emg_samples, 1)))
    acc = array.array("i", bytearray(4 * 3 * max(n_acc_samples, 1)))
    sig.emg_into(emg, 0, n_emg_samples)
    sig.acc_into(acc, 0, n_acc_samples)
    emg_rows = [(emg[2 * i], emg[2 * i + 1]) for i in range(n_emg_samples)]
    acc_rows = [(acc[3 * i], acc[3 * i + 1], acc[3 * i + 2]) for i in range(n_acc_samples)]
    twitches = [(d["peak_index"], d["channel"], d["peak_uv"])
                for d in twitch_schedule(seed, n_emg_samples, **dict(sim_options))]
    return emg_rows, acc_rows, twitches
