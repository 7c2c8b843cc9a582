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

import numpy as np
from scipy import signal


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


_FIR: dict[int, np.ndarray] = {}


def _interp_fir(up: int) -> np.ndarray:
    """The taps :func:`scipy.signal.resample_poly` designs for ``up``/1 by default (its
    default window, ('kaiser', 5.0), and length 20 up + 1), designed once: given as its
    ``window`` they are used as they are, the same interpolation bit for bit, without the
    ~0.4 ms ``firwin`` design per call (per event)."""
    h = _FIR.get(up)
    if h is None:
        h = _FIR[up] = signal.firwin(2 * 10 * up + 1, 1.0 / up, window=("kaiser", 5.0))
    return h


def main_phase_ms(w: np.ndarray, i: int, rate_hz: float) -> float:
    """Half-amplitude width (ms) of the lobe of the band-limited signal ``w`` whose peak is
    at index ``i``, measured on ``w`` interpolated to a <= 0.125 ms grid (polyphase
    band-limited interpolation, :func:`scipy.signal.resample_poly`): at 1 kHz a lobe is
    only a few samples wide, and straight lines between samples misjudge its width by up
    to a sample. The window is ``w`` itself (a few ms either side of ``i`` suffice)."""
    up = max(1, int(math.ceil(8000.0 / rate_hz)))
    if up == 1 or w.size < 3:
        return half_amplitude_width(w, i) * 1e3 / rate_hz
    u = signal.resample_poly(np.asarray(w, dtype=np.float64), up, 1, window=_interp_fir(up))
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
        y = signal.sosfilt(sos, x)
        p = int(np.argmax(np.abs(y)))
        widths.append(main_phase_ms(y, p, rate_hz))
    return float(np.mean(widths))


def own_main_phase_ms(seen_ms: float, impulse_ms: float) -> float:
    """The potential's own main-phase width (ms) from the width seen after the band-pass:
    ``sqrt(max(0, seen**2 - impulse**2))`` (widths of smooth lobes through a smooth
    filter add about in quadrature)."""
    return math.sqrt(max(0.0, seen_ms * seen_ms - impulse_ms * impulse_ms))
