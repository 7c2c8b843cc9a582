"""Is a brief potential one discharge of a regularly firing (voluntary) motor unit?

A fasciculation is a spontaneous discharge of one motor unit: its discharges come
irregularly and rarely (seconds apart; at most as a doublet, a second discharge 5-35 ms
after the first). A motor unit under voluntary drive (a weak contraction, the recruitment
at a burst's start, the de-recruitment at its end, a posture held) fires a *regular
train*: from its minimal rate of ~5-8 Hz up to 20-30 Hz at low force, with interspike
intervals varying by only ~10-30 % (sources in docs/detection.md, section 3a). At rest
between bursts, the last unit still firing can stand out of the quiet baseline alone:
each of its discharges is a clear, well-shaped motor-unit potential, and only its
repetition shows that it is voluntary.

:func:`fires_in_train` looks for the candidate's own waveform in the cleaned signal
*before* it (causal: only samples the engine already holds at the candidate's decision
position): a recurrence is a position whose ``+-half_ms`` window correlates with the
candidate's (``>= min_corr``), with an amplitude of the same unit (least-squares gain
within ``amp_ratio``) and a peak of at least ``min_k`` noise sigmas. The potential is
one of a train when there are two recurrences at voluntary intervals: one ``isi_ms``
before the candidate and another ``isi_ms`` before that one. Every length is in ms
(converted at the stream's rate): the rule reads the same physiology at 1, 2 or 4 kHz.
"""

from __future__ import annotations

import numpy as np


def recurrences(y: np.ndarray, peak: int, half: int, sigma: float, *, min_corr: float,
                amp_ratio: tuple[float, float], min_k: float, first: int, last: int) -> np.ndarray:
    """Positions ``j`` (indices of ``y``) in ``[first, last]`` where the waveform
    ``y[peak-half : peak+half+1]`` recurs: correlation ``>= min_corr``, least-squares gain
    in ``amp_ratio``, ``|y[j]| >= min_k * sigma``. ``y`` is the cleaned signal (µV),
    ``peak`` the candidate's peak index in it, ``sigma`` its noise floor (µV)."""
    t = y[peak - half : peak + half + 1]
    tt = float(t @ t)
    first = max(first, half)
    if last < first or tt <= 0.0 or t.size != 2 * half + 1:
        return np.zeros(0, dtype=np.int64)
    seg = y[first - half : last + half + 1]
    win = np.lib.stride_tricks.sliding_window_view(seg, 2 * half + 1)  # (last-first+1, 2h+1)
    dot = win @ t
    ss = np.einsum("ij,ij->i", win, win)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = dot / np.sqrt(ss * tt)
    gain = dot / tt
    ok = ((corr >= min_corr) & (gain >= amp_ratio[0]) & (gain <= amp_ratio[1])
          & (np.abs(y[first : last + 1]) >= min_k * sigma))
    return first + np.flatnonzero(ok)


def fires_in_train(y: np.ndarray, peak: int, half: int, sigma: float, *, min_corr: float,
                   amp_ratio: tuple[float, float], min_k: float, isi: tuple[int, int]) -> bool:
    """Whether the potential peaking at ``y[peak]`` repeats a waveform that fired twice
    before it at voluntary intervals: a recurrence ``isi[0]..isi[1]`` samples before
    ``peak`` and another ``isi[0]..isi[1]`` before that one (:func:`recurrences`;
    ``y`` holds the signal before the candidate, ``y[peak+half]`` its last sample used)."""
    lo, hi = isi
    rec = recurrences(y, peak, half, sigma, min_corr=min_corr, amp_ratio=amp_ratio, min_k=min_k,
                      first=peak - 2 * hi, last=peak - lo)
    if rec.size < 2:
        return False
    near = rec[(rec >= peak - hi)]
    for j in near[::-1]:
        if np.any((rec >= j - hi) & (rec <= j - lo)):
            return True
    return False
