"""The ideal detector's bound on the simulator (issue #19, item 3): what a detector that
knows every twitch's exact waveform could find, given the noise.

For each truth twitch, its noise-free waveform on its home channel (the simulator's
``twitch`` component over the twitch's support, +-10 ms) is compared with the channel's
noise (the ``noise`` component: white + 1/f, after the same front-end filtering as the
recording; hum and baseline wander are left out: an ideal detector removes them, as the
engine's notches and band-pass nearly do). The noise is not white, so the optimal test is
the **whitened matched filter**: both are divided, frequency by frequency, by the square
root of the noise's power spectrum (Welch, 1024-sample segments; 10 Hz .. 0.45 fs only); the detectability is
``d = ||W s|| / std(W n)``, the signal-to-noise ratio of the matched filter's output
(a plain ``||s|| / sigma`` overstates it when the noise is coloured). The threshold is set
for 0.2 false alarms per minute on twitch-free noise: one test per sample, per channel and
per template (the channel's units), one-sided, ``tau = Q^-1(0.2 / (fs 60 C K))``; a twitch
is found with probability ``Q(tau - d)``. Overlapping twitches, ECG, contractions,
movement and pops are ignored: the bound is the noise's limit alone, an upper bound on
what any detector can reach. Expected hits ``sum Q(tau - d)``, expected false alarms 0.2
per minute, F1 from those.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps
from scipy.stats import norm

FALSE_PER_MIN = 0.2


def _whitener(noise: np.ndarray, fs: float, nfft: int):
    """A function whitening a length-``nfft`` window, and the whitened noise's std."""
    f, p = sps.welch(noise, fs=fs, nperseg=min(1024, noise.size))
    p = np.maximum(p, np.median(p) * 1e-4)
    fg = np.fft.rfftfreq(nfft, 1.0 / fs)
    gain = 1.0 / np.sqrt(np.interp(fg, f, p))
    # only 10 Hz .. 0.45 fs is used (below, electrode filtering and wander; above, the
    # anti-alias roll-off, where a spectrum estimate's floor would be divided by): a
    # slightly lower bound than the full band would give
    gain[(fg < 10.0) | (fg > 0.45 * fs)] = 0.0

    def white(x: np.ndarray) -> np.ndarray:
        return np.fft.irfft(np.fft.rfft(x, nfft) * gain, nfft)

    # whitened noise std from stretches of the noise itself (same filter, same window length)
    k = max(1, min(32, noise.size // nfft))
    stds = [np.std(white(noise[j * nfft:(j + 1) * nfft])[nfft // 8: -nfft // 8]) for j in range(k)]
    # the whitened noise is white only within the band used: its level per unit
    # bandwidth (what the matched filter's output variance depends on) is its std over
    # the square root of the band's fraction of 0 .. fs/2
    frac = max(float(np.count_nonzero(gain)) / gain.size, 1e-9)
    return white, float(np.median(stds)) / np.sqrt(frac)


def ideal_probabilities(rec, noise: np.ndarray, twitch_part: np.ndarray, units_per_channel: int) -> np.ndarray:
    """P(detect) of each of ``rec.twitches`` by the ideal detector (module docstring).
    ``noise``, ``twitch_part``: (n, C) components after the recording's front end."""
    fs = float(rec.emg_rate_hz)
    C = noise.shape[1]
    nfft = 1 << int(np.ceil(np.log2(0.2 * fs)))
    tau = float(norm.isf(FALSE_PER_MIN / (fs * 60.0 * C * max(1, units_per_channel))))
    whites = [_whitener(noise[:, c], fs, nfft) for c in range(C)]
    out = np.zeros(len(rec.twitches))
    pad = int(0.01 * fs)
    for i, t in enumerate(rec.twitches):
        a, b = max(0, t.onset_index - pad), min(noise.shape[0], t.end_index + pad)
        s = twitch_part[a:b, t.channel]
        if s.size > nfft // 2:
            s = s[: nfft // 2]
        white, sd = whites[t.channel]
        x = np.zeros(nfft)
        x[nfft // 4: nfft // 4 + s.size] = s
        d = float(np.linalg.norm(white(x))) / sd
        out[i] = norm.sf(tau - d)
    return out


def ideal_f1(p_hits: np.ndarray, minutes: float) -> float:
    """F1 of the ideal detector: expected hits sum(p), 0.2 false alarms per minute."""
    h = float(np.sum(p_hits))
    n = p_hits.size
    fp = FALSE_PER_MIN * minutes
    den = 2 * h + fp + (n - h)
    return 2 * h / den if den > 0 else float("nan")
