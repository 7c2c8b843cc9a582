"""Is a channel's raised noise floor broad-band electrode noise? (detector 1.18)

The matched-filter bank (:mod:`.mfdetect`) sets its threshold for a stated false-alarm
rate on **Gaussian, stationary** noise, and it is built for the floor poor skin contact
raises: the thermal and excess noise of a high electrode-skin impedance and of the
amplifier, broad-band, Gaussian and steady over seconds (Huigen, Peper & Grimbergen, Med
Biol Eng Comput 2002, 40:332; Webster (ed.), Medical Instrumentation, ch. 5). Other things
raise a floor above good contact (> 5 µV) too, and on them the bank finds *real* potentials
or artefacts at far more than its stated rate (on the real recordings of
``../shared/data/real`` it found 40-270 detections per recording, counted 4 -> 77 in the
8-bit PLUX recording, 43 -> 127 in the needle myopathy one):

- **Muscle activity** (a contraction's interference pattern, a needle's motor-unit
  potentials): its power lies mostly below ~250 Hz (surface EMG: 20-150 Hz dominant,
  De Luca, J Appl Biomech 1997; the volume conductor low-passes it, Lindstrom &
  Magnusson, Proc IEEE 1977), and at low force it is sparse and spiky (super-Gaussian:
  Clancy & Hogan, IEEE TBME 1999, 46:730), and it waxes and wanes with the drive.
- **Quantisation**: a signal whose in-band variation is about one ADC step is a
  staircase; each step through the band-pass is an impulse response, a brief potential
  for the bank. Quantisation error is noise-like (uniform, white, independent of the
  signal, power q^2/12) only when the signal spans several steps (Widrow, Kollar & Liu,
  IEEE Trans Instrum Meas 1996, 45:353).

So, per channel and per window of the engine's floor (100 ms, aligned to the segment
start), from the cleaned signal ``y`` (µV) and the raw samples ``x``:

- ``sigma`` = median(|y|) / 0.6745 (the floor's own estimate);
- **Gaussianity**: RMS(y) / sigma (1 for Gaussian noise; a spiky signal's RMS exceeds its
  median-based sigma);
- **broad band**: the share of the floor's power above ``edge_hz`` (250 Hz):
  (median(|h|) / median(|y|))^2, ``h`` = ``y`` through a 4th-order Butterworth high-pass
  at ``edge_hz`` (white noise in 20-450 Hz: ~0.47; 1/f noise: ~0.19; either through a
  second-order 250-Hz low-pass front end: 0.13 / 0.05; surface EMG: <= 0.05 on the
  real recordings here);
- **stationarity**: the spread of the window sigmas over the history, ln(p75 / p25) (for
  Gaussian noise ~0.16: a 100-ms window's sigma is known to ~12 %);
- **lattice**: the ADC step ``q``, estimated from the samples themselves as the smallest
  non-zero |x[t] - x[t-1]| seen on the channel (a float stream has none worth the name;
  an 8-bit PLUX stream: 11.7 µV).

The channel is **broad-band noise** once it holds ``history`` (31) usable windows and
over them: the median Gaussianity <= ``max_rms_ratio`` (1.10), the median share >=
``min_hf_share`` (0.06), the spread <= ``max_spread`` (0.25) and the median sigma >=
``lattice_k`` (2) x ``q`` (quantisation at most 1/48 of the floor's power). The
decision changes only at window ends (fixed sample positions), so any block split gives
the same per-sample answer. Windows holding an excluded sample (the engine's lead-off
flags) or a flat window do not enter the history. A gap in the stream starts afresh.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .designs import butter_sos
from .noise import MAD_TO_SIGMA
from .streamfilt import SosState


class BroadbandGate:
    """See the module docstring. Layout ``(n_channels, n_samples)``; µV.

    Cost: each window's samples are kept (|y| and |h|, the last ``history`` windows) and
    its medians computed only when a decision is needed, i.e. where the engine's floor is
    above ``min_floor_uv`` (the bank runs nowhere else); a decision is the same whenever it
    is computed (from the same windows and the lattice as of its window end), so the
    answer where it is read does not depend on it. Without ``floor_uv`` in
    :meth:`process` every decision is computed.
    """

    def __init__(self, n_channels: int, rate_hz: float, window: int, history: int, *, edge_hz: float = 250.0,
                 min_hf_share: float = 0.06, max_rms_ratio: float = 1.10, max_spread: float = 0.25,
                 lattice_k: float = 2.0, min_floor_uv: float = 5.0) -> None:
        C = self.n_channels = int(n_channels)
        W = self.window = int(window)
        H = self.history = int(history)
        self.params = np.array([min_hf_share, max_rms_ratio, max_spread, lattice_k, min_floor_uv], dtype=np.float64)
        #: the high-pass exists only below Nyquist; without it no channel is broad-band
        self.usable = 2.0 * edge_hz < 0.95 * float(rate_hz)
        self._hp = SosState(butter_sos(4, edge_hz, "highpass", float(rate_hz)) if self.usable else np.zeros((0, 6)),
                            C, steady_start=False)
        self._cur = np.zeros((2, C, W))  # |y| and |h| of the current window
        self._acc = np.zeros((1, C))  # its sum of y^2
        self._fill = np.zeros(1, dtype=np.int64)
        self._bad = np.zeros(C, dtype=bool)
        self._win = np.zeros((C, H, W))  # |h| of the history's windows (ring)
        self._stat = np.zeros((3, C, H))  # sigma, hf share (once computed), rms / sigma
        self._done = np.zeros((C, H), dtype=bool)  # hf share computed
        self._n_hist = np.zeros(C, dtype=np.int64)
        self._slot = np.zeros(C, dtype=np.int64)
        self._pending = np.zeros(C, dtype=bool)  # a decision due (history full), not computed yet
        self._dec_lattice = np.full(C, np.inf)  # the lattice as of that decision's window end
        self._last_x = np.full(C, np.nan)
        #: per channel: the smallest non-zero step between consecutive raw samples seen (the
        #: ADC lattice; inf before any)
        self.lattice = np.full(C, np.inf)
        self.state = np.zeros(C, dtype=bool)  #: the latest decision computed per channel
        self._no_exclude = np.zeros((C, 0), dtype=bool)
        self._no_floor = np.zeros((C, 0))
        self._no_sigmas = np.zeros((0, C))

    def reset(self) -> None:
        """A gap: the window, the history and the filter start afresh (the lattice stays)."""
        self._hp.reset()
        self._fill[0] = 0
        self._acc[:] = 0.0
        self._bad[:] = False
        self._n_hist[:] = 0
        self._slot[:] = 0
        self._done[:] = False
        self._pending[:] = False
        self._last_x[:] = np.nan
        self.state[:] = False

    def process(self, x: np.ndarray, y: np.ndarray, exclude: np.ndarray | None = None,
                floor_uv: np.ndarray | None = None, floor_after_uv: np.ndarray | None = None,
                window_sigmas_uv: np.ndarray | None = None) -> np.ndarray:
        """Feed the raw block ``x`` and the cleaned ``y`` (C, n), the same samples the
        engine's floor gets; returns the decision in force at each sample (C, n) bool,
        exact wherever the engine's floor in force (``floor_uv`` (C, n), and
        ``floor_after_uv`` (C,) after the block) is above ``min_floor_uv``.
        ``window_sigmas_uv`` (k, C): the floor's sigmas of the k windows completed in this
        block (the same windows: the same samples from the same start), used instead of
        computing them again."""
        n = y.shape[1]
        out = np.zeros((self.n_channels, n), dtype=bool)
        if not self.usable or n == 0:
            return out
        h = self._hp.process(y)
        if floor_uv is None or floor_after_uv is None:
            fl, fa = self._no_floor, np.full(self.n_channels, np.inf)
        else:
            fl, fa = np.ascontiguousarray(floor_uv), np.ascontiguousarray(floor_after_uv, dtype=np.float64)
        _gate_block(np.ascontiguousarray(x), np.ascontiguousarray(y), h,
                    self._no_exclude if exclude is None else np.ascontiguousarray(exclude), fl, fa,
                    self._no_sigmas if window_sigmas_uv is None else np.ascontiguousarray(window_sigmas_uv),
                    self._cur, self._acc, self._fill, self._bad, self._win, self._stat, self._done,
                    self._n_hist, self._slot, self._pending, self._dec_lattice, self._last_x, self.lattice,
                    self.state, self.params, out)
        return out


@numba.njit(cache=True)
def _median_inplace(a, n):  # pragma: no cover - compiled
    """The median of ``a[:n]`` (reordered in place), as ``np.median`` gives it: the middle
    value, or the two middle values' mean. Quickselect, no allocation."""
    k = n // 2
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                tmp = a[i]
                a[i] = a[j]
                a[j] = tmp
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    upper = a[k]
    if n % 2:
        return upper
    lower = a[0]
    for i in range(1, k):
        if a[i] > lower:
            lower = a[i]
    return (lower + upper) / 2.0


@numba.njit(cache=True)
def _sorted_stats(v, scratch):  # pragma: no cover - compiled
    """(median, 25th, 75th percentile) of ``v`` as ``np.median`` / ``np.percentile``
    (linear interpolation) give them, from one sorted copy in ``scratch``."""
    n = v.shape[0]
    scratch[:n] = v
    scratch[:n].sort()
    out = np.empty(3)
    for i, q in enumerate((50.0, 25.0, 75.0)):
        r = (n - 1) * q / 100.0
        f = int(math.floor(r))
        g = r - f
        hi = scratch[min(f + 1, n - 1)]
        out[i] = scratch[f] + g * (hi - scratch[f])
    return out


@numba.njit(cache=True)
def _decide(c, win, stat, done, lattice_at, params, scratch):  # pragma: no cover - compiled
    """The decision for channel ``c`` from its full history: the tests that need no
    median first; the windows' high-band shares (a median each) are computed, from their
    kept samples, only when those pass (each window's once)."""
    H, W = win.shape[1], win.shape[2]
    st = _sorted_stats(stat[0, c], scratch)
    if not (math.log(st[2] / st[1]) <= params[2] and st[0] >= params[3] * lattice_at):
        return False
    scratch[:H] = stat[2, c]
    if not _median_inplace(scratch, H) <= params[1]:
        return False
    for k in range(H):
        if not done[c, k]:
            stat[1, c, k] = (_median_inplace(win[c, k], W) / MAD_TO_SIGMA / stat[0, c, k]) ** 2
            done[c, k] = True
    scratch[:H] = stat[1, c]
    return _median_inplace(scratch, H) >= params[0]


@numba.njit(cache=True)
def _gate_block(x, y, h, exclude, floor, floor_after, wsig, cur, acc, fill_a, bad, win, stat, done, n_hist, slot,
                pending, dec_lattice, last_x, lattice, state, params, out):  # pragma: no cover - compiled
    """One block through the gate (see the module docstring and the class's); ``out``
    gets the decision in force per sample."""
    C, n = y.shape
    W, H = cur.shape[2], win.shape[1]
    use_exclude = exclude.shape[1] == n
    use_floor = floor.shape[1] == n
    have_sigmas = wsig.shape[0] > 0
    scratch = np.empty(max(H, W))
    fill = fill_a[0]
    pos = 0
    iw = 0
    while pos < n:
        take = min(W - fill, n - pos)
        for c in range(C):
            s = state[c]
            lat = lattice[c]
            lx = last_x[c]
            sq = acc[0, c]
            for t in range(pos, pos + take):
                out[c, t] = s
                v = y[c, t]
                cur[0, c, fill + t - pos] = abs(v)
                cur[1, c, fill + t - pos] = abs(h[c, t])
                sq += v * v
                xv = x[c, t]
                d = abs(xv - lx)  # NaN after a reset: no step
                if d > 1e-9 and d < lat:
                    lat = d
                lx = xv
                if use_exclude and exclude[c, t]:
                    bad[c] = True
            lattice[c] = lat
            last_x[c] = lx
            acc[0, c] = sq
        fill += take
        pos += take
        if fill == W:
            for c in range(C):
                if have_sigmas:
                    sig = wsig[iw, c]
                else:
                    scratch[:W] = cur[0, c]
                    sig = _median_inplace(scratch, W) / MAD_TO_SIGMA
                if not bad[c] and sig > 0.0:
                    k = slot[c]
                    win[c, k, :] = cur[1, c, :]
                    stat[0, c, k] = sig
                    stat[2, c, k] = math.sqrt(acc[0, c] / W) / sig
                    done[c, k] = False
                    slot[c] = (k + 1) % H
                    n_hist[c] = min(n_hist[c] + 1, H)
                    if n_hist[c] == H:
                        pending[c] = True
                        dec_lattice[c] = lattice[c]
                # the decision is read in the next window only where the floor then in
                # force is above min_floor_uv (the bank's condition)
                fl = floor_after[c] if not use_floor or pos >= n else floor[c, pos]
                if pending[c] and fl > params[4]:
                    state[c] = _decide(c, win, stat, done, dec_lattice[c], params, scratch)
                    pending[c] = False
                acc[0, c] = 0.0
                bad[c] = False
            iw += 1
            fill = 0
    fill_a[0] = fill
