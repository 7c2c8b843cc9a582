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
    """See the module docstring. Layout ``(n_channels, n_samples)``; µV."""

    def __init__(self, n_channels: int, rate_hz: float, window: int, history: int, *, edge_hz: float = 250.0,
                 min_hf_share: float = 0.06, max_rms_ratio: float = 1.10, max_spread: float = 0.25,
                 lattice_k: float = 2.0) -> None:
        C = self.n_channels = int(n_channels)
        self.window, self.history = int(window), int(history)
        self.params = np.array([min_hf_share, max_rms_ratio, max_spread, lattice_k], dtype=np.float64)
        #: the high-pass exists only below Nyquist; without it no channel is broad-band
        self.usable = 2.0 * edge_hz < 0.95 * float(rate_hz)
        self._hp = SosState(butter_sos(4, edge_hz, "highpass", float(rate_hz)) if self.usable else np.zeros((0, 6)),
                            C, steady_start=False)
        self._buf = np.zeros((2, C, self.window))  # y and h of the current window
        self._sumsq = np.zeros(C)
        self._fill = np.zeros(1, dtype=np.int64)
        self._bad = np.zeros(C, dtype=bool)
        self._hist = np.zeros((3, C, self.history))  # sigma, hf share, rms / sigma
        self._n_hist = np.zeros(C, dtype=np.int64)
        self._slot = np.zeros(C, dtype=np.int64)
        self._last_x = np.full(C, np.nan)
        #: per channel: the smallest non-zero step between consecutive raw samples seen (the
        #: ADC lattice; inf before any)
        self.lattice = np.full(C, np.inf)
        self.state = np.zeros(C, dtype=bool)  #: the current decision per channel
        self._no_exclude = np.zeros((C, 0), dtype=bool)

    def reset(self) -> None:
        """A gap: the window, the history and the filter start afresh (the lattice stays)."""
        self._hp.reset()
        self._fill[0] = 0
        self._sumsq[:] = 0.0
        self._bad[:] = False
        self._n_hist[:] = 0
        self._slot[:] = 0
        self._last_x[:] = np.nan
        self.state[:] = False

    def process(self, x: np.ndarray, y: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """Feed the raw block ``x`` and the cleaned ``y`` (C, n), the same samples the
        engine's floor gets; returns the decision in force at each sample (C, n) bool."""
        n = y.shape[1]
        out = np.zeros((self.n_channels, n), dtype=bool)
        if not self.usable or n == 0:
            return out
        h = self._hp.process(y)
        _gate_block(np.ascontiguousarray(x), np.ascontiguousarray(y), h,
                    self._no_exclude if exclude is None else np.ascontiguousarray(exclude),
                    self._buf, self._sumsq, self._fill, self._bad, self._hist, self._n_hist, self._slot,
                    self._last_x, self.lattice, self.state, self.params, out)
        return out


@numba.njit(cache=True)
def _gate_block(x, y, h, exclude, buf, sumsq, fill_a, bad, hist, n_hist, slot, last_x, lattice, state, params,
                out):  # pragma: no cover - compiled
    """One block through the gate (see the module docstring); ``out`` gets the decision in
    force per sample, ``state`` the decision after the block."""
    C, n = y.shape
    W, H = buf.shape[2], hist.shape[2]
    use_exclude = exclude.shape[1] == n
    min_hf, max_g, max_spread, lattice_k = params[0], params[1], params[2], params[3]
    fill = fill_a[0]
    pos = 0
    while pos < n:
        take = min(W - fill, n - pos)
        for c in range(C):
            s = state[c]
            for t in range(pos, pos + take):
                out[c, t] = s
                v = y[c, t]
                buf[0, c, fill + t - pos] = v
                buf[1, c, fill + t - pos] = h[c, t]
                sumsq[c] += v * v
                d = abs(x[c, t] - last_x[c])  # NaN after a reset: no step
                if d > 1e-9 and d < lattice[c]:
                    lattice[c] = d
                last_x[c] = x[c, t]
                if use_exclude and exclude[c, t]:
                    bad[c] = True
        fill += take
        pos += take
        if fill == W:
            for c in range(C):
                sig = np.median(np.abs(buf[0, c])) / MAD_TO_SIGMA
                if not bad[c] and sig > 0.0:
                    k = slot[c]
                    hist[0, c, k] = sig
                    hist[1, c, k] = (np.median(np.abs(buf[1, c])) / MAD_TO_SIGMA / sig) ** 2
                    hist[2, c, k] = math.sqrt(sumsq[c] / W) / sig
                    slot[c] = (k + 1) % H
                    n_hist[c] = min(n_hist[c] + 1, H)
                    if n_hist[c] == H:
                        s_med = np.median(hist[0, c])
                        p25 = np.percentile(hist[0, c], 25.0)
                        p75 = np.percentile(hist[0, c], 75.0)
                        state[c] = (np.median(hist[2, c]) <= max_g and np.median(hist[1, c]) >= min_hf
                                    and math.log(p75 / p25) <= max_spread and s_med >= lattice_k * lattice[c])
                sumsq[c] = 0.0
                bad[c] = False
            fill = 0
    fill_a[0] = fill
