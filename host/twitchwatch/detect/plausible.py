"""Is a brief potential shaped like a motor-unit potential? (physiological plausibility)

A surface motor-unit action potential (MUAP) is the muscle fibres' travelling
depolarisation seen through the tissue and a pair of electrodes: its main phase lasts
several milliseconds and its energy lies mostly between ~20 and ~250-400 Hz, whatever the
sample rate of the recorder (sources and numbers in docs/detection.md, *Physiological
plausibility*). A single-sample spike (a digital glitch, a quantisation step, an
electrostatic discharge) is as narrow as the recorder allows: after the engine's band-pass
(20-450 Hz, top edge clamped to 0.45 fs) it is the filter's own impulse response.

The measure is the **main phase's half-amplitude width**: the width of the lobe that holds
the potential's peak, between the points where it falls to half the peak (linear
interpolation between samples), in ms. The band-pass widens every potential: a potential
whose own main phase is ``w`` is seen ~ ``sqrt(w**2 + w_h**2)`` wide, ``w_h`` being the
width of the band-pass's impulse response measured the same way
(:func:`impulse_width_ms`, ~1 ms for a 450 Hz top edge at any rate from 1 kHz up). The
engine takes ``sqrt(max(0, w_seen**2 - w_h**2))`` as the potential's own main phase and
compares it with the physiological floor ``min_main_phase_ms``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .designs import firwin_kaiser
from .streamfilt import sosfilt


def half_amplitude_width(w: np.ndarray, i: int) -> float:
    """Width (samples, fractional) of the same-sign lobe of ``w`` holding index ``i``,
    between the points where ``|w|`` falls to half of ``|w[i]|`` (linear interpolation;
    a sign change counts as falling through zero). ``w[i]`` should be the lobe's peak.
    0 when ``w[i]`` is 0 or not finite."""
    v = float(w[i])
    if not math.isfinite(v) or v == 0.0:
        return 0.0
    s = 1.0 if v > 0 else -1.0
    half = abs(v) / 2.0
    n = w.size

    def edge(step: int) -> float:
        j = i
        while True:
            k = j + step
            if k < 0 or k >= n:
                return float(j)  # the window's end: the lobe runs on (counted to here)
            u = s * float(w[k])  # > 0: same sign
            if u >= half:
                j = k
                continue
            a = s * float(w[j])  # >= half
            return j + step * (a - half) / (a - u)

    return edge(1) - edge(-1)


#: per factor ``up``: (the interpolation filter's polyphase taps, its half length)
_FIR: dict[int, tuple[np.ndarray, int]] = {}


def _interp_fir(up: int) -> np.ndarray:
    """The taps :func:`scipy.signal.resample_poly` designs for ``up``/1 by default (its
    default window, ('kaiser', 5.0), and length 20 up + 1; :func:`.designs.firwin_kaiser`,
    scipy's design, cached on disk)."""
    return firwin_kaiser(2 * 10 * up + 1, 1.0 / up, 5.0)


def _polyphase(up: int) -> tuple[np.ndarray, int]:
    """(taps, half length) for :func:`interpolate_up`, built once per factor as
    ``resample_poly`` builds them from its window for ``up``/1: the taps scaled by ``up``,
    one zero before them and enough zeros after that the output covers ``n * up``
    samples, then arranged by phase (each phase's taps reversed)."""
    got = _FIR.get(up)
    if got is None:
        h = _interp_fir(up)
        half = (h.size - 1) // 2
        h = h * up
        h = np.concatenate(([0.0], h, np.zeros((-(h.size + 1)) % up)))
        flip = h.reshape(-1, up).T[:, ::-1].ravel()
        got = _FIR[up] = (np.ascontiguousarray(flip), half)
    return got


@numba.njit(cache=True)
def _upfir(x, flip, up, skip, n_out):  # pragma: no cover - compiled
    """Samples ``skip`` .. ``skip + n_out - 1`` of ``x`` upsampled by ``up`` (zeros
    between the samples, zero outside ``x``) and filtered by the polyphase taps ``flip``:
    each output a sum in ascending input order starting from 0.0, as scipy's ``upfirdn``
    sums it (the same bits)."""
    n = x.size
    per = flip.size // up
    out = np.zeros(n_out)
    y, phase, xi = 0, 0, 0
    total = n + per - 1
    while xi < total:
        if y >= skip:
            h = phase * per
            first = xi - per + 1
            if xi < n and first < 0:
                h -= first
                first = 0
            acc = 0.0
            for j in range(first, xi + 1):
                v = x[j] if 0 <= j < n else 0.0
                acc = acc + v * flip[h]
                h += 1
            out[y - skip] = acc
        y += 1
        if y >= skip + n_out:
            break
        phase += 1
        xi += phase // up
        phase = phase % up
    return out


def interpolate_up(w: np.ndarray, up: int) -> np.ndarray:
    """``scipy.signal.resample_poly(w, up, 1, window=_interp_fir(up))`` of a 1-d float64
    signal, bit for bit (``tests/detect/test_designs.py``), without importing scipy.signal."""
    x = np.ascontiguousarray(w, dtype=np.float64)
    if up == 1:
        return x.copy()
    flip, half = _polyphase(up)
    return _upfir(x, flip, up, half + 1, x.size * up)


def main_phase_ms(w: np.ndarray, i: int, rate_hz: float) -> float:
    """Half-amplitude width (ms) of the lobe of the band-limited signal ``w`` whose peak is
    at index ``i``, measured on ``w`` interpolated to a <= 0.125 ms grid (polyphase
    band-limited interpolation, :func:`scipy.signal.resample_poly`): at 1 kHz a lobe is
    only a few samples wide, and straight lines between samples misjudge its width by up
    to a sample. The window is ``w`` itself (a few ms either side of ``i`` suffice)."""
    up = max(1, int(math.ceil(8000.0 / rate_hz)))
    if up == 1 or w.size < 3:
        return half_amplitude_width(w, i) * 1e3 / rate_hz
    u = interpolate_up(np.asarray(w, dtype=np.float64), up)
    lo, hi = max(0, i * up - up), min(u.size, i * up + up + 1)
    k = lo + int(np.argmax(np.abs(u[lo:hi])))  # the interpolated peak near the sampled one
    return half_amplitude_width(u, k) * 1e3 / (rate_hz * up)


def impulse_width_ms(sos: np.ndarray, rate_hz: float) -> float:
    """Half-amplitude width (ms) of the main lobe of the filter ``sos``'s response to a
    single-sample spike, at ``rate_hz``: what the band-pass makes of a potential with no
    width of its own. Averaged over sub-sample positions of the spike (a spike between
    two samples of a band-limited stream is seen through the filter at that offset:
    here a fractional delay of the impulse by 0, 1/4, 1/2, 3/4 sample, rendered as the
    filter's response to a band-limited (sinc) pulse)."""
    n = int(rate_hz * 0.05) + 64
    widths = []
    for frac in (0.0, 0.25, 0.5, 0.75):
        x = np.sinc(np.arange(n) - 32 - frac) * np.hanning(n)
        y = sosfilt(sos, x)
        p = int(np.argmax(np.abs(y)))
        widths.append(main_phase_ms(y, p, rate_hz))
    return float(np.mean(widths))


def own_main_phase_ms(seen_ms: float, impulse_ms: float) -> float:
    """The potential's own main-phase width (ms) from the width seen after the band-pass:
    ``sqrt(max(0, seen**2 - impulse**2))`` (widths of smooth lobes through a smooth
    filter add about in quadrature)."""
    return math.sqrt(max(0.0, seen_ms * seen_ms - impulse_ms * impulse_ms))
