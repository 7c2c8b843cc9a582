"""How clearly a potential stands out of the noise in the band a motor-unit potential lives in.

The engine detects on the band-passed signal's peak over the noise floor (k sigma) and
counts a twitch as *clear* at ``count_k`` (8) sigma: Gaussian noise does not reach that.
The peak of one sample is a poor measure of a potential that lasts several milliseconds
under noise that is broad-band: under poor skin contact the noise is mostly white
(electrode/skin interface noise and the amplifier's, flat up to the anti-alias filter),
so the 20-450 Hz band holds noise up to 450 Hz while a surface MUAP's energy lies mostly
at 20-250 Hz (De Luca, J Appl Biomech 1997; the volume conductor low-passes it: main
phase of several ms, Merletti & Parker 2004). A matched filter integrates a potential
over its duration: for a known waveform it is the optimal detector, and the issue's
ideal bound is one. A potential's own waveform is not known before its unit is, but its
main phase is a smooth lobe of ~1-5 ms, so smoothing with a short window of that width
keeps most of its peak while it averages white noise down.

:func:`smoothed_clarity` measures the candidate's peak after smoothing with Hann windows
of ``widths_ms`` (each normalised to unit sum), each over the noise of the **same
smoothed signal** in the window before the candidate (robust sigma: median |x| / 0.6745;
the smoothed noise is Gaussian too, so ``count_k`` smoothed sigmas are as unreachable by
noise as ``count_k`` plain ones; the largest of three correlated tests changes that by a
factor < 3). The noise is measured where it is, so the gain adapts to the noise's colour:
under pink or low-frequency noise smoothing gains nothing and the measure stays at the
plain one's level; a narrow spike loses its peak to the smoothing. Pure numpy on the
candidate's shape window and its background copy (both fixed at its decision position):
no latency, block-split free.
"""

from __future__ import annotations

import numpy as np

from .noise import MAD_TO_SIGMA

#: Hann window lengths tried, ms (a surface MUAP's main phase lasts ~1-5 ms)
WIDTHS_MS = (1.0, 2.0, 4.0)


def _hann(n: int) -> np.ndarray:
    h = np.hanning(n + 2)[1:-1]
    return h / h.sum()


def smoothed_clarity(shape: np.ndarray, peak_i: int, background: np.ndarray, rate_hz: float,
                     widths_ms: tuple[float, ...] = WIDTHS_MS, around: int = 0) -> float:
    """Largest smoothed peak / smoothed noise sigma over ``widths_ms`` (module docstring).

    Args:
        shape: the candidate's cleaned signal (µV) around its peak.
        peak_i: the peak's index in ``shape``.
        background: the cleaned signal (µV) before the candidate (its noise), >= 50 samples.
        rate_hz: sample rate.
        around: the smoothed peak is looked for within +- this many samples of ``peak_i``
            (default: half the window).

    Returns 0 when the background is too short or flat (the test then gives nothing).
    """
    best = 0.0
    bg = np.asarray(background, dtype=np.float64)
    for w_ms in widths_ms:
        n = int(round(w_ms * 1e-3 * rate_hz))
        if n < 2 or bg.size < max(50, 4 * n):
            continue
        h = _hann(n)
        noise = np.convolve(bg, h, mode="valid")
        sd = float(np.median(np.abs(noise))) / MAD_TO_SIGMA
        if not np.isfinite(sd) or sd <= 0:
            continue
        ys = np.convolve(shape, h, mode="same")
        r = max(around, n // 2 + 1)
        lo, hi = max(0, peak_i - r), min(ys.size, peak_i + r + 1)
        best = max(best, float(np.abs(ys[lo:hi]).max()) / sd)
    return best
