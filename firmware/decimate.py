"""Lower a stream's sample rate by 2, 4 or 8, low-pass filtered first (no aliasing).

What the BLE link uses when the connection cannot carry the full stream
(``ble_budget``, docs/protocol.md "When the link cannot carry the stream").

``Decimator`` is a cascade of half-band stages, each halving the rate. A stage is the
11-tap maximally flat half-band FIR ``[3, 0, -25, 0, 150, 256, 150, 0, -25, 0, 3] / 512``
(symmetric, zero phase): gain 1 at DC, 0 at the input's Nyquist frequency, -0.2 dB at a
quarter of the input rate, -2.2 dB at 0.2 x the input rate, -32 dB where 0.375 x the
input rate folds back (at 2 kHz in: -0.2 dB at 250 Hz, -2.2 dB at 400 Hz, -32 dB at
750 Hz; ``tests/firmware/test_decimate.py`` measures them). Output sample ``j`` is the
filter *centred* on input sample ``D x j``, so the decimated stream's time of sample
``j`` (``j / (rate / D)``) is exactly the time of the input it stands for; it comes
``5 x (2^k - 1)`` input samples late (the price of a zero-phase filter: 2.5 ms for EMG
/2 at 2 kHz). Before the first input the signal is taken as that first value (held),
so a DC offset makes no step. At a gap in the input (samples the source lost) the
cascade starts again at the next input index divisible by ``D``; the outputs it could
not make are counted as missed, so the host sees the gap.

Integer arithmetic only, identical under MicroPython and CPython (the host tests
decimate the simulator's ground truth with this same code). Values are shifted right
by ``shift`` bits before filtering and back after (int24 EMG: 3 bits, so every partial
sum stays below 2^30, a MicroPython small int on the ESP32; the output then moves in
steps of 8 LSB = 0.38 uV against a 3 uV noise floor) and clamped to +-2^20 inside the
filter (only a railed input, which lead-off already flags, reaches that).

``DecimatingFrontEnd`` puts a ``Decimator`` per stream between a front end and
``acquire.Acquisition`` (same front-end interface). With every factor 1 it passes
through untouched. Nothing allocates after construction except ``set_factors``, which
is called between runs, not while sampling.

Runs under MicroPython and CPython 3.10+.
"""

import array
import gc

import sample_ring
import stream_desc

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


MAX_STAGES = const(3)  # factors 1, 2, 4, 8
_HIST = const(16)  # history slots per channel and stage (11 used; a power of 2 for & 15)
_MASK = const(15)
_LIMIT = const(1 << 20)


def stages_of(factor: int) -> int:
    """Half-band stages for a decimation ``factor`` (1, 2, 4 or 8)."""
    if factor == 1:
        return 0
    if factor == 2:
        return 1
    if factor == 4:
        return 2
    if factor == 8:
        return 3
    raise ValueError("decimation factor must be 1, 2, 4 or 8")


class Decimator:
    """A cascade of half-band /2 stages for ``n_channels`` interleaved channels."""

    def __init__(self, n_channels: int, shift: int = 0) -> None:
        self.n_channels = n_channels
        self.shift = shift
        self.stages = 0
        self.hist = array.array("i", bytearray(4 * MAX_STAGES * n_channels * _HIST))
        self.count = array.array("i", bytearray(4 * MAX_STAGES))  # inputs seen per stage
        self.out = array.array("i", bytearray(4 * n_channels))  # the last output sample
        self._v = array.array("i", bytearray(4 * n_channels))  # one stage's output, passed on
        self.next_in = 0  # index of the next input sample (since START)
        self.next_out = 0  # index of the next output sample

    def reset(self, stages: int, index: int = 0) -> None:
        """Start afresh; the next input has index ``index`` (divisible by ``2**stages``)."""
        self.stages = stages
        for s in range(MAX_STAGES):
            self.count[s] = 0
        self.next_in = index
        self.next_out = index >> stages

    def restart_after_gap(self, index: int) -> int:
        """The input continues at ``index`` after lost samples: start the cascade again
        at the first index from there divisible by the factor; returns how many inputs
        to skip before it. ``next_out`` then is the first output index made after the gap."""
        d = 1 << self.stages
        start = (index + d - 1) // d * d
        self.reset(self.stages, start)
        return start - index

    def push(self, buf, pos: int) -> bool:
        """Feed one input sample (``n_channels`` values from ``buf[pos]``); True when
        an output sample is ready in ``out`` (then ``next_out`` has moved on)."""
        n = self.n_channels
        v = self._v
        sh = self.shift
        for c in range(n):
            v[c] = buf[pos + c] >> sh
        self.next_in += 1
        hist = self.hist
        for s in range(self.stages):
            k = self.count[s]
            base = s * n * _HIST
            if k == 0:  # the first input: the past is taken as this value (held)
                for c in range(n):
                    b = base + c * _HIST
                    x = v[c]
                    for i in range(_HIST):
                        hist[b + i] = x
                k = 5  # as if inputs -5..-1 had come: the next is input 0 at slot 5
            i0 = k & _MASK
            for c in range(n):
                hist[base + c * _HIST + i0] = v[c]
            k += 1
            if k >= 0x100000:  # stay a small int on the ESP32 (a multiple of 16: same slots, same parity)
                k -= 0x80000
            self.count[s] = k
            k -= 1
            # input k - 5 is the centre; an output when it is even (inputs counted from -5)
            if (k - 5) < 5 or (k - 10) & 1:
                return False
            for c in range(n):
                b = base + c * _HIST
                y = (3 * (hist[b + ((k - 10) & _MASK)] + hist[b + i0])
                     - 25 * (hist[b + ((k - 8) & _MASK)] + hist[b + ((k - 2) & _MASK)])
                     + 150 * (hist[b + ((k - 6) & _MASK)] + hist[b + ((k - 4) & _MASK)])
                     + 256 * hist[b + ((k - 5) & _MASK)] + 256) >> 9
                if y >= _LIMIT:
                    y = _LIMIT - 1
                elif y < -_LIMIT:
                    y = -_LIMIT
                v[c] = y
        out = self.out
        for c in range(n):
            out[c] = v[c] << sh
        self.next_out += 1
        return True


def decimate(rows, factor: int, shift: int = 0) -> list:
    """The output (a list of tuples) for a list of input rows (each a sequence of
    channel values): the host tests' reference for what the firmware sends."""
    n_ch = len(rows[0]) if rows else 1
    d = Decimator(n_ch, shift)
    d.reset(stages_of(factor))
    flat = array.array("i", bytearray(4 * n_ch))
    out = []
    for r in rows:
        for c in range(n_ch):
            flat[c] = r[c]
        if d.push(flat, 0):
            out.append(tuple(d.out))
    return out


class DecimatingFrontEnd:
    """A front end whose streams are ``inner``'s, each lowered by its own factor.

    ``set_factors(factors)`` (one per stream, 1/2/4/8) chooses the rates; the streams'
    descriptors (``streams``) change with it and go out in the next HELLO. Between runs
    only (``Acquisition.start`` follows): the caller stops the acquisition first, and
    calls ``prepare(factors)`` before that, which allocates a stream's filter and rings
    the first time it is lowered (~1.5 KB a stream; nothing at full rate, so a board
    that is never lowered does not pay for them) and raises MemoryError, with nothing
    changed, when the heap has no room.
    """

    def __init__(self, inner, ring_samples: int = 32) -> None:
        self.inner = inner
        self.base = inner.streams
        self.streams = inner.streams
        self.factors = [1] * len(self.base)
        self._ring_samples = ring_samples
        self._dec = [None] * len(self.base)  # type: list
        self._in = [None] * len(self.base)  # type: list
        self._out = [None] * len(self.base)  # type: list
        self._missed = [0] * len(self.base)  # outputs lost, not yet reported (take_missed)
        self._skip = [0] * len(self.base)  # inputs to skip before the cascade starts again
        self._gap = [0] * len(self.base)  # inputs lost, seen while outputs before them waited

    def _k(self, stream_id: int) -> int:
        for k in range(len(self.base)):
            if self.base[k].stream_id == stream_id:
                return k
        return -1

    def prepare(self, factors) -> None:
        """Allocate what ``set_factors(factors)`` will need (MemoryError: no room)."""
        for k in range(len(self.base)):
            stages_of(factors[k])  # checks it
            if factors[k] > 1 and self._dec[k] is None:
                gc.collect()
                s = self.base[k]
                shift = 3 if s.sample_format == stream_desc.FORMAT_INT24 else 0
                n = self._ring_samples
                dec = Decimator(s.n_channels, shift)
                rin = sample_ring.SampleRing(s.n_channels, n)
                rout = sample_ring.SampleRing(s.n_channels, 2 * n)
                self._dec[k] = dec
                self._in[k] = rin
                self._out[k] = rout

    def set_factors(self, factors) -> None:
        self.prepare(factors)
        streams = []
        for k in range(len(self.base)):
            f = factors[k]
            self.factors[k] = f
            s = self.base[k]
            if f == 1:
                streams.append(s)
            else:
                streams.append(stream_desc.Stream(s.stream_id, s.sample_rate_mhz // f, s.sample_format,
                                                  s.samples_per_frame, s.channels))
        self.streams = tuple(streams)

    # -- the front-end interface -------------------------------------------------------

    def start(self) -> None:
        self.inner.start()
        for k in range(len(self.base)):
            if self.factors[k] > 1:
                self._dec[k].reset(stages_of(self.factors[k]))
                self._in[k].reset(0)
                self._out[k].reset(0)
            self._missed[k] = 0
            self._skip[k] = 0
            self._gap[k] = 0

    def stop(self) -> None:
        self.inner.stop()

    def finished(self) -> bool:
        return self.inner.finished()

    def available(self, stream_id: int) -> int:
        k = self._k(stream_id)
        if k < 0 or self.factors[k] == 1:
            return self.inner.available(stream_id)
        out = self._out[k]
        if out.count():
            return out.count()  # what was made before goes first (a gap may come next)
        inner = self.inner
        dec = self._dec[k]
        rin = self._in[k]
        if self._gap[k]:
            self._restart(k, self._gap[k])
        while True:
            n = inner.available(stream_id)
            m = inner.take_missed(stream_id)  # lost before the n now available
            if m:
                if out.count():  # the outputs made before the loss go out first
                    self._gap[k] = m
                    break
                self._restart(k, m)
            if n <= 0:
                break
            if n > rin.capacity:
                n = rin.capacity
            rin.reset(0)
            inner.read(stream_id, rin, n)
            got = rin.write_index
            buf = rin.buf
            nch = rin.n_channels
            pos = 0
            skip = self._skip[k]
            for _ in range(got):  # at most one output per input: out has room (checked below)
                if skip:
                    skip -= 1
                elif dec.push(buf, pos):
                    p = out.wpos
                    ob = out.buf
                    dv = dec.out
                    for c in range(nch):
                        ob[p + c] = dv[c]
                    p += nch
                    if p >= out.size:
                        p = 0
                    out.commit(1, p)
                pos += nch
            self._skip[k] = skip
            if out.capacity - out.count() < rin.capacity:
                break
        return out.count()

    def _restart(self, k: int, lost: int) -> None:
        """``lost`` input samples are missing: the cascade starts again after them."""
        dec = self._dec[k]
        before = dec.next_out
        self._skip[k] = dec.restart_after_gap(dec.next_in - self._skip[k] + lost)
        self._missed[k] += dec.next_out - before
        self._gap[k] = 0

    def take_missed(self, stream_id: int) -> int:
        k = self._k(stream_id)
        if k < 0 or self.factors[k] == 1:
            return self.inner.take_missed(stream_id)
        m = self._missed[k]
        self._missed[k] = 0
        return m

    def read(self, stream_id: int, ring, n: int) -> None:
        k = self._k(stream_id)
        if k < 0 or self.factors[k] == 1:
            self.inner.read(stream_id, ring, n)
            return
        out = self._out[k]
        nch = out.n_channels
        ob = out.buf
        rb = ring.buf
        src = out.rpos
        dst = ring.wpos
        for _ in range(n):
            for c in range(nch):
                rb[dst + c] = ob[src + c]
            src += nch
            if src >= out.size:
                src = 0
            dst += nch
            if dst >= ring.size:
                dst = 0
        out.consume(n)
        ring.commit(n, dst)

    def lead_off(self) -> int:
        return self.inner.lead_off()

    def battery_mv(self) -> int:
        return self.inner.battery_mv()

    def battery_pct(self) -> int:
        return self.inner.battery_pct()

    def describe(self) -> str:
        return self.inner.describe()

    def check_ids(self) -> str:
        return self.inner.check_ids()

    def bus_times_us(self, clock) -> tuple:
        return self.inner.bus_times_us(clock)

    def bad_frames(self) -> int:
        return self.inner.bad_frames()
