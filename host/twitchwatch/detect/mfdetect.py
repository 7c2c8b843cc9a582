"""Detection in a motor-unit potential's band: a bank of MUAP-shaped matched filters
(issue #19, item 1; detector 1.18).

The engine's candidates are clusters of the cleaned signal's samples above ``k`` (5)
noise sigmas. Under poor skin contact the noise is mostly broad-band (electrode-skin
interface and amplifier noise, white up to the band's top edge), while a surface motor
unit action potential (MUAP) lasts several milliseconds and has its energy at 20-250 Hz
(De Luca, J Appl Biomech 1997; the volume conductor low-passes it: Lindstrom & Magnusson,
Proc IEEE 1977): a unit of 120 µV peak-to-peak under 13 µV RMS of such noise peaks at
4-5 sigma in single samples and is never a candidate, although its energy over its
duration stands far out of the noise (the issue's ideal detector finds it every time).
A matched filter integrates that energy. A unit's own waveform is not known before it is
found, but surface MUAPs are well described by the first Hermite-Rodriguez functions
``H_n(t / lambda) exp(-(t / lambda)^2)``: order 1 a biphasic, order 2 a triphasic
potential (Lo Conte, Merletti & Sandri, IEEE TBME 1994, 41:1147, who fit surface MUAPs
with these functions; durations 5-20 ms: Merletti & Parker (eds.), Electromyography,
2004). The bank holds orders 1 and 2 at ``lambda`` = 0.75, 1.5 and 3 ms (a support, at 1 %
of the peak, of ~4, ~8 and ~16 ms for order 1), each passed through the engine's own
band-pass (the cleaned signal is band-passed, so is a potential in it) and normalised
to unit energy.

**Statistic.** Each template's correlation with the cleaned signal (a causal FIR filter,
state carried across blocks, so any block split gives the same samples), divided by the
robust sigma of that filter's own output (:class:`.floor.AdaptiveFloor` over its 100 ms
windows: median |r| / 0.6745, a running median of 31 windows, each clamped to 1.5x the
floor). Whatever the noise's colour, that ratio ``z`` is N(0, 1) on Gaussian noise alone,
so a threshold has a stated false-alarm rate: :func:`.matched.threshold` with one test
per sample, template and polarity. The outputs are delayed so every template's ``z`` at
sample ``t`` refers to a potential whose peak (the template's largest lobe) lies at
``t - delay``. Not whitened: under white noise (poor contact, where this runs) the plain
matched filter is the whitened one, and with generic templates a whitener weights the
high frequencies, where a real potential differs most from any template (on the dev
split, an AR(8) whitener lowered ``z`` of the missed poor-contact units).

**Detections.** Per channel, samples where the largest ``|z|`` over the bank is at or
above ``tau`` form runs (merged across gaps of ``gap`` samples); a closed run gives one
detection at its largest ``z``: ``(channel, peak index, template, z, known index)``,
the last being the first sample index at which it is known (closure), fixed by the
samples whatever the split.
"""

from __future__ import annotations

import numba
import numpy as np

from .floor import AdaptiveFloor
from .streamfilt import sosfilt

#: Hermite-Rodriguez orders in the bank (1 biphasic, 2 triphasic) and widths lambda, ms
ORDERS = (1, 2)
LAMBDAS_MS = (0.75, 1.5, 3.0)


def hermite_rodriguez(order: int, lam_ms: float, rate_hz: float) -> np.ndarray:
    """``H_order(x) exp(-x^2)``, ``x = t / lambda``, sampled at ``rate_hz`` over +-4 lambda."""
    lam = lam_ms * 1e-3 * rate_hz
    n = max(2, int(np.ceil(4.0 * lam)))
    x = np.arange(-n, n + 1) / lam
    g = np.exp(-x * x)
    h = {0: np.ones_like(x), 1: 2.0 * x, 2: 4.0 * x * x - 2.0}[order]
    return h * g


def templates(rate_hz: float, bp_sos: np.ndarray, orders=ORDERS, lambdas_ms=LAMBDAS_MS) -> list[np.ndarray]:
    """The bank's templates at ``rate_hz``: each Hermite-Rodriguez function through the
    band-pass ``bp_sos`` (causal, from rest), cut to where 99 % of its energy lies, unit
    energy."""
    out = []
    pad = int(0.05 * rate_hz)
    for o in orders:
        for lam in lambdas_ms:
            h = hermite_rodriguez(o, lam, rate_hz)
            hb = sosfilt(bp_sos, np.concatenate([h, np.zeros(pad)]))
            e = np.cumsum(hb * hb)
            e /= e[-1]
            i0, i1 = int(np.searchsorted(e, 0.005)), int(np.searchsorted(e, 0.995))
            u = hb[i0:i1 + 1]
            out.append(u / np.linalg.norm(u))
    return out


class MuapBank:
    """Matched filters over ``n_channels`` cleaned channels (µV), see the module docstring.

    A channel's filters run only while it is *on* (the engine's noise floor there is above
    its good-contact limit: ``on`` in :meth:`process`, which changes only at the floor's
    100-ms window ends, fixed sample positions). When a channel turns on, its FIR states
    are rebuilt from the last samples before it (an FIR filter's state depends on its last
    ``taps - 1`` inputs only, so this gives the same numbers as a filter that ran all
    along) and its output floors start afresh: it searches once they hold a full history
    (``history`` windows), and, as always, only where each floor follows its windows.

    Args:
        n_channels: channels.
        rate_hz: sample rate.
        bp_sos: the engine's band-pass (sos), applied to the templates.
        window, history: the output floors' window (samples) and history (windows).
        tau: detection threshold on ``z``.
        gap: runs of ``|z| >= tau`` merge across this many samples.
        min_floor_uv: the output floors' least value (the engine's ``min_noise_floor_uv``: a
            unit-energy filter's output has the input's sigma on white noise).
    """

    def __init__(self, n_channels: int, rate_hz: float, bp_sos: np.ndarray, window: int, history: int,
                 tau: float, gap: int, min_floor_uv: float) -> None:
        self.n_channels = C = int(n_channels)
        self.tau = float(tau)
        self.gap = int(gap)
        self.window, self.history = int(window), int(history)
        tpl = templates(rate_hz, bp_sos)
        self.n_templates = B = len(tpl)
        peaks = [int(np.argmax(np.abs(u))) for u in tpl]
        after = [u.size - 1 - a for u, a in zip(tpl, peaks)]  # samples after the largest lobe
        #: every output refers to a potential whose largest lobe lies ``delay`` samples back
        self.delay = max(after)
        #: per template: its extent at 0.25 of its largest lobe (samples before, after the
        #: lobe): the potential's support for the engine
        self.extent = []
        for u, a in zip(tpl, peaks):
            big = np.flatnonzero(np.abs(u) >= 0.25 * np.abs(u[a]))
            self.extent.append((a - int(big[0]), int(big[-1]) - a))
        # FIR taps: the reversed template, preceded by zeros so every output has the same
        # delay; kept as one (B, L) array with each template's first non-zero tap and length
        taps = [np.concatenate([np.zeros(self.delay - d), u[::-1]]) for u, d in zip(tpl, after)]
        #: samples of history a channel's filters need when it turns on
        self.memory = max(t.size for t in taps) - 1
        self._taps = np.zeros((B, self.memory + 1))
        for j, t in enumerate(taps):
            self._taps[j, : t.size] = t
        self._tap_first = np.array([self.delay - d for d in after], dtype=np.int64)
        self._tap_last = np.array([t.size - 1 for t in taps], dtype=np.int64)
        #: per channel: its last ``memory`` cleaned samples (the FIR filters' whole state)
        self._hist = np.zeros((C, self.memory))
        self._floors = [AdaptiveFloor(B, window, history, min_floor_uv) for _ in range(C)]
        self._follows = np.zeros((C, B), dtype=bool)  # the last window's sigma within max_rise x the floor
        self._on = np.zeros(C, dtype=bool)
        self._on_since = np.zeros(C, dtype=np.int64)
        # open run per channel: [last supra index, best index, best z, best template, first index] or None
        self._run: list[list | None] = [None] * C

    def reset(self) -> None:
        """A gap in the stream (or its end): every channel off, open runs dropped."""
        self._on[:] = False
        self._run = [None] * self.n_channels

    def on(self, c: int) -> bool:
        return bool(self._on[c])

    def process(self, y: np.ndarray, base: int, on: np.ndarray, history, exclude: np.ndarray | None = None
                ) -> list[tuple[int, int, int, float, int]]:
        """Feed the cleaned block ``y`` (C, n) whose first sample is ``base``.

        Args:
            on: (C, n) bool, where each channel's filters run (see the class docstring).
            history: ``history(c, start, end)`` -> the cleaned samples of channel ``c`` over
                ``[start, end)`` as held (clipped at the segment start), for a channel
                turning on.
            exclude: (C, n) bool or None: samples whose 100-ms windows do not enter the
                output floors (the engine's own floor leaves them out too: the rail,
                lead-off hum).

        Returns the detections closed in this block: ``(channel, peak index, template, z,
        known index)``."""
        C, n = y.shape
        out: list[tuple[int, int, int, float, int]] = []
        for c in range(C):
            oc = on[c]
            if not oc.any():
                if self._on[c]:
                    self._turn_off(c, out)
                continue
            edges = np.flatnonzero(np.diff(oc.astype(np.int8))) + 1
            bounds = [0] + edges.tolist() + [n]
            for a, b in zip(bounds[:-1], bounds[1:]):
                if not oc[a]:
                    if self._on[c]:
                        self._turn_off(c, out)
                    continue
                if not self._on[c]:
                    self._turn_on(c, base + a, history)
                self._search(c, y[c, a:b], base + a, None if exclude is None else exclude[c, a:b], out)
        return out

    def _turn_off(self, c: int, out: list) -> None:
        run = self._run[c]
        if run is not None:
            out.append(self._close(c, run))
            self._run[c] = None
        self._on[c] = False

    def _turn_on(self, c: int, start: int, history) -> None:
        h = history(c, start - self.memory, start)
        self._hist[c] = 0.0  # before the segment's start: zeros (a filter starting from rest)
        if h.size:
            self._hist[c, self.memory - h.size:] = h
        self._floors[c].reset()
        self._follows[c] = False
        self._on[c] = True
        self._on_since[c] = start

    def _search(self, c: int, yc: np.ndarray, first: int, exclude: np.ndarray | None, out: list) -> None:
        B, m = self.n_templates, yc.size
        r = np.empty((B, m))
        _fir_bank(self._taps, self._tap_first, self._tap_last, self._hist[c], np.ascontiguousarray(yc), r)
        fl = self._floors[c]
        sig, wins = fl.process(r, None if exclude is None else np.broadcast_to(exclude, (B, m)))
        # a floor follows the noise only while its windows' sigmas are not clamped (a window
        # above max_rise x the floor: the floor lags a rise, e.g. after a lead-off's flat
        # stretch, and z would be inflated); the floors need a full history after turning on
        ok = np.empty(m, dtype=bool)
        pos = 0
        follows = self._follows[c]
        with np.errstate(invalid="ignore", divide="ignore"):
            for end, wsig in wins:
                ok[pos:end] = follows.all()
                follows = wsig <= fl.max_rise * sig[:, end - 1]
                pos = end
            self._follows[c] = follows
            ok[pos:] = follows.all()
            warm = int(self._on_since[c]) + self.history * self.window - first
            if warm > 0:
                ok[:min(m, warm)] = False
            z = np.abs(r) / sig
            zmax = np.max(z, axis=0)
            supra = np.flatnonzero((zmax >= self.tau) & ok)
        run = self._run[c]
        for i in supra.tolist():
            t = first + i
            if run is not None and t - run[0] > self.gap + 1:
                out.append(self._close(c, run))
                run = None
            v = float(zmax[i])
            if run is None:
                run = [t, t, v, int(np.argmax(z[:, i])), t]
            else:
                run[0] = t
                if v > run[2]:
                    run[1], run[2], run[3] = t, v, int(np.argmax(z[:, i]))
        if run is not None and first + m - 1 - run[0] > self.gap:
            out.append(self._close(c, run))
            run = None
        self._run[c] = run

    def _close(self, c: int, run: list) -> tuple[int, int, int, float, int]:
        return (c, run[1] - self.delay, run[3], run[2], run[0] + self.gap + 2)


@numba.njit(cache=True)
def _fir_bank(taps, first, last, hist, y, r):  # pragma: no cover - compiled
    """``r[j, t] = sum_k taps[j, k] * x[t - k]`` for every template ``j`` (its non-zero taps
    ``first[j]..last[j]``), where ``x`` is ``hist`` (the last ``M`` samples before ``y``)
    followed by ``y``; ``hist`` then becomes the last ``M`` samples of ``x``. Each output
    sums its taps in the same order (k ascending) whatever the block: any block split
    gives the same numbers. The inner loop runs over time into a local accumulator
    (vectorised: ~0.2 s per hour of 2 channels at 2 kHz)."""
    B = taps.shape[0]
    M = hist.shape[0]
    m = y.shape[0]
    xx = np.empty(M + m)
    xx[:M] = hist
    xx[M:] = y
    acc = np.empty(m)
    for j in range(B):
        acc[:] = 0.0
        for k in range(first[j], last[j] + 1):
            c = taps[j, k]
            seg = xx[M - k:M - k + m]
            for t in range(m):
                acc[t] += c * seg[t]
        r[j, :] = acc
    hist[:] = xx[m:]
