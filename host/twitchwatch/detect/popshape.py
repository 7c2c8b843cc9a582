"""Is a candidate the band-pass image of an electrode pop? (the pop's own waveform)

An electrode pop is a sudden change of the electrode-skin half-cell potential (a
contact shift, a drying or a charged gel bubble breaking): a step that then recovers
exponentially with the interface's time constant (tens to hundreds of ms). Whatever the
recorder does to it is a linear filter: its anti-aliasing low-pass slows the step's edge,
an AC-coupled front end (a first-order high-pass at 5-20 Hz is common) makes the recovery
look faster (a time constant of 8-30 ms), and the engine's band-pass (20-450 Hz) turns it
into a sharp first lobe and a slow undershoot. A motor-unit potential is not a step: it
rises and falls over a few ms on both sides of each phase (docs/detection.md, rule 5b).

The engine's step test (rule 5) reads the pop's *low band* 12-25 ms after its peak, which
a fast recovery (or a high-pass front end) has already brought down: such pops came out
as twitches. This module reads the waveform itself: :class:`PopShapes` holds the engine
band-pass's responses to ``u(t) e^{-t/tau}`` for recoveries ``tau`` (ms) from 5 to 400,
each with and without a front-end low-pass (2nd-order Butterworth at 250 Hz, clamped to
0.45 fs), at four sub-sample onsets; :meth:`PopShapes.fit` gives the largest fraction of
the candidate's energy (R^2) any of them explains, with the gain's sign. Everything is
built at the stream's rate from times in ms, so it reads the same physics at 1, 2 or 4 kHz.
"""

from __future__ import annotations

import numpy as np

from .designs import butter_sos
from .streamfilt import sosfilt

#: recovery time constants (ms) of the modelled pops: the electrode's own recovery and
#: any front-end high-pass (a first-order 20 Hz high-pass is an 8 ms recovery)
POP_TAUS_MS = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 400.0)
#: front-end low-pass corners (Hz) modelled; None = no front-end low-pass
FRONT_LOWPASS_HZ = (None, 250.0)
_FRACTIONS = (0.0, 0.25, 0.5, 0.75)


class PopShapes:
    """The band-passed pop waveforms, aligned on their peaks, for a shape window with its
    peak at index ``peak_index`` and ``length`` samples (the engine's candidate ``shape``).

    Args:
        bp_sos: the engine's band-pass (second-order sections) at ``rate_hz``.
        rate_hz: EMG sample rate, Hz.
        peak_index, length: where the peak lies in the windows :meth:`fit` is given.
    """

    def __init__(self, bp_sos: np.ndarray, rate_hz: float, peak_index: int, length: int) -> None:
        fs = float(rate_hz)
        n = int(0.5 * fs)
        rows = []
        for lp_hz in FRONT_LOWPASS_HZ:
            lp = None if lp_hz is None else butter_sos(2, min(lp_hz, 0.45 * fs), "lowpass", fs)
            for tau in POP_TAUS_MS:
                for frac in _FRACTIONS:
                    t_ms = (np.arange(n) - 32 - frac) / fs * 1e3
                    # the step's edge between samples, band-limited: a sampled sinc-integral
                    # would be exact; a linear ramp over the sample holding the edge is enough
                    x = np.where(t_ms >= 0, np.exp(-np.maximum(t_ms, 0.0) / tau), 0.0)
                    k = 32 + int(np.ceil(frac)) - 1
                    if 0 < frac < 1 and k >= 0:
                        x[k] = 1.0 - frac
                    if lp is not None:
                        x = sosfilt(lp, x)
                    y = sosfilt(bp_sos, x)
                    p = int(np.argmax(np.abs(y[: 32 + int(0.02 * fs)])))
                    w = np.zeros(length)
                    a = p - peak_index  # template index at window index 0
                    lo, hi = max(0, -a), min(length, y.size - a)
                    w[lo:hi] = y[a + lo : a + hi]
                    w *= np.sign(y[p]) / np.sqrt(float(w @ w))
                    rows.append(w)
        self._t = np.array(rows)  # (n_templates, length), unit energy, positive peak

    def fit(self, window: np.ndarray) -> tuple[float, int]:
        """(R^2, sign): the largest fraction of ``window``'s energy explained by one pop
        waveform scaled by a gain, and that gain's sign (+1: a positive step). (0, 0) for
        a window of the wrong length or no energy."""
        w = np.asarray(window, dtype=np.float64)
        if w.shape[0] != self._t.shape[1]:
            return 0.0, 0
        e = float(w @ w)
        if not e > 0:
            return 0.0, 0
        d = self._t @ w
        i = int(np.argmax(np.abs(d)))
        return float(d[i] * d[i] / e), (1 if d[i] > 0 else -1)
