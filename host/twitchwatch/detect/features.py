"""A candidate's EMG features from the engine's ring, in one compiled call (numba).

:meth:`TwitchDetector._emg_features <twitchwatch.detect.engine.TwitchDetector._emg_features>`
reads ~20 short windows of the ring (cleaned signal, low band, hum, sigma, activity
counts ...) per candidate. As numpy calls on 10-400 samples that cost ~0.3 ms per
candidate, almost all of it per-call overhead; here it is one call of ~10 µs. Every
result is the same, bit for bit, as the numpy expressions it replaces (max, min,
comparisons, counts, medians (order statistics) and one division each: no sum whose order could
differ; ``bench/detect/engine_ab.py equiv`` compares every feature).

The ring layout (:data:`RING_ROWS`) is defined here and used by the engine: row block
``i`` holds signal ``RING_ROWS[i]`` of every channel, row ``i * n_channels + c`` that of
channel ``c``. Stream indices are samples; levels µV; fractions 0..1.

Every read is clipped to ring columns ``[low, lim)`` (the history held at every block
split up to the candidate's decision position, see the engine): reads never depend on
the block split.
"""

from __future__ import annotations

import numba
import numpy as np

#: ring rows per channel: raw, cleaned, low band, hum envelope, hum baseline, sigma,
#: active cumsum, active fraction, rail flag
RING_ROWS = ("x", "y", "lf", "hum", "humbase", "sigma", "acs", "frac", "rail")
_Y, _LF, _HUM, _HUMBASE, _SIGMA, _ACS, _FRAC, _RAIL = (RING_ROWS.index(k) for k in
                                                       ("y", "lf", "hum", "humbase", "sigma", "acs", "frac", "rail"))

#: the window lengths (samples) in :func:`candidate_features`'s ``geometry`` array, in this order
GEOMETRY = ("ms3", "ms5", "ms12", "ms15", "ms20", "ms25", "ms40", "post_context", "pre", "post",
            "align_before", "align_after", "ecg_window", "leadoff_before", "leadoff_after",
            "act_window", "bg_window", "lbg_window", "voluntary_holdoff", "lookahead", "xtalk_window")
#: the levels (multipliers of sigma, of the peak, or of the hum baseline) in its ``levels`` array
LEVELS = ("hum_burst_ratio", "hum_burst_k", "activity_k", "ring_fraction", "lookahead_low_k", "lookahead_low_peak")
(_MS3, _MS5, _MS12, _MS15, _MS20, _MS25, _MS40, _POST_CONTEXT, _PRE, _POST, _ALIGN0, _ALIGN1, _ECG_WINDOW,
 _LEADOFF0, _LEADOFF1, _ACT_WINDOW, _BG_WINDOW, _LBG_WINDOW, _HOLDOFF, _LOOKAHEAD, _XTALK) = range(len(GEOMETRY))
_HUM_RATIO, _HUM_K, _ACT_K, _RING_FRAC, _LOW_K, _LOW_PEAK = range(len(LEVELS))


@numba.njit(cache=True)
def _cols(rs, low, lim, start, end):
    """Ring columns [i, j) of stream indices [start, end), clipped to [low, lim) (j >= i)."""
    i, j = start - rs, end - rs
    if i < low:
        i = low
    if j > lim:
        j = lim
    if j < i:
        j = i
    return i, j


@numba.njit(cache=True)
def _maximum(a, b):
    """``np.maximum`` of two floats (NaN if either is NaN)."""
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@numba.njit(cache=True)
def _peak_to_peak(v):
    """max - min, 0 for an empty window."""
    if v.size == 0:
        return 0.0
    return v.max() - v.min()


@numba.njit(cache=True)
def _count_above(v, level):
    """Samples with |v| > level."""
    n = 0
    for x in v:
        if abs(x) > level:
            n += 1
    return n


@numba.njit(cache=True)
def _hum_over(hum, base, sigma, ratio, k, every):
    """Samples where the hum envelope exceeds max(ratio x its baseline, k x sigma) (a
    NaN level never): all of them (``every``) or any of them."""
    for i in range(hum.size):
        above = hum[i] > _maximum(ratio * base[i], k * sigma[i])
        if every and not above:
            return False
        if not every and above:
            return True
    return every


@numba.njit(cache=True)
def phases_and_lobes(w, phase_level, lobe_level):
    """The lobes (maximal same-sign runs; zero samples belong to none) of ``w``: the number
    of alternating-sign lobes whose peak |w| reaches ``phase_level`` (at least 1), and the
    offsets in ``w`` (int64 array) of the largest |w| (the first of equals) of each lobe
    whose peak reaches ``lobe_level``."""
    n = w.size
    n_phases, last_sign = 0, 0
    peaks = np.empty(n, np.int64)
    n_peaks = 0
    i = 0
    while i < n:
        v = w[i]
        sign = (v > 0) - (v < 0)
        top, arg = abs(v), i
        j = i + 1
        while j < n:
            u = w[j]
            if (u > 0) - (u < 0) != sign:
                break
            if abs(u) > top:
                top, arg = abs(u), j
            j += 1
        if sign:
            if top >= phase_level and sign != last_sign:
                n_phases += 1
                last_sign = sign
            if top >= lobe_level:
                peaks[n_peaks] = arg
                n_peaks += 1
        i = j
    return max(1, n_phases), peaks[:n_peaks]


@numba.njit(cache=True)
def candidate_features(buf, rs, low, lim, n_channels, c, start, last, p, peak_abs, geometry, levels):
    """The EMG features of the candidate [start, last] (peak ``p``, |y| ``peak_abs`` µV) of
    channel ``c``, read from ring ``buf`` (rows as :data:`RING_ROWS`, column 0 = stream
    index ``rs``) within columns [low, lim). ``geometry``: window lengths (samples) as
    :data:`GEOMETRY`; ``levels``: as :data:`LEVELS`. Returns

    (sigma, amp_pp, duration_samples, polarity, n_phases, lobe offsets (from p - pre),
    shape, lf_pp, step_uv, ecg_beat, ecg_shape, rail, burst, act_pre, background start,
    background rows (acs, y, sigma), act_recent, act_post, act_post_low, act_other)

    with the meanings of the engine's ``_Candidate`` fields (duration in samples)."""
    g = geometry
    C = n_channels
    y_r, lf_r, sig_r = _Y * C + c, _LF * C + c, _SIGMA * C + c
    ms3, ms5 = g[_MS3], g[_MS5]

    i = p - rs
    sigma = buf[sig_r, i] if low <= i < lim else 0.0
    if sigma == 0.0:  # missing or 0: NaN
        sigma = np.nan
    finite = np.isfinite(sigma)
    sig0 = sigma if finite else 0.0

    i, j = _cols(rs, low, lim, start - ms3, last + ms3 + 1)
    amp_pp = _peak_to_peak(buf[y_r, i:j])
    # duration: first..last sample with |y| >= max(0.25 peak, 2 sigma) within the span
    i, j = _cols(rs, low, lim, start, last + 1)
    lvl = max(0.25 * peak_abs, 2.0 * sig0)
    first, final = -1, -1
    for k in range(i, j):
        if abs(buf[y_r, k]) >= lvl:
            if first < 0:
                first = k
            final = k
    duration = final - first + 1 if first >= 0 else 1
    # phases and lobes around the peak
    i = p - rs
    polarity = 1 if not (low <= i < lim) or buf[y_r, i] >= 0 else -1
    i, j = _cols(rs, low, lim, p - g[_PRE], p + g[_POST] + 1)
    n_phases, lobes = phases_and_lobes(buf[y_r, i:j], max(0.2 * peak_abs, 1.5 * sig0), 0.5 * peak_abs)
    i, j = _cols(rs, low, lim, p - g[_PRE] - 2, p + g[_POST] + 3)
    shape = buf[y_r, i:j].copy()
    # slow deflection and step, on the low band (1-20 Hz): raw medians would see the hum
    pc = g[_POST_CONTEXT]
    i, j = _cols(rs, low, lim, p - g[_MS40], p + pc + 1)
    lf_pp = _peak_to_peak(buf[lf_r, i:j])
    i, j = _cols(rs, low, lim, p - g[_MS40], p - g[_MS15])
    before = buf[lf_r, i:j]
    i, j = _cols(rs, low, lim, p + g[_MS12], p + pc + 1)
    after = buf[lf_r, i:j]
    step_uv = np.median(after) - np.median(before) if before.size > 0 and after.size > 0 else 0.0
    # ECG: the beat's fiducial point is the low band's extremum near the peak (the R wave;
    # stable under noise, unlike which band-passed lobe of the QRS peaks), measured from the
    # local baseline (median of the low band over the QRS window and before it: wander and
    # pop tails shift the low band by more than a small R), and the QRS shape window is
    # taken around it, so RR intervals and shapes do not jump with the lobe that happened to win
    a0, a1 = p - g[_ALIGN0], p + g[_ALIGN1]
    b0 = a0 - g[_ECG_WINDOW] - g[_MS25]
    i, j = _cols(rs, low, lim, b0, p + pc + 1)
    lfb = buf[lf_r, i:j]
    f = p
    if lfb.size == p + pc + 1 - b0:
        med = np.median(lfb)
        best, arg = -1.0, 0
        for k in range(a0 - b0, min(a1 + 1 - b0, lfb.size)):
            d = abs(lfb[k] - med)
            if d > best:
                best, arg = d, k - (a0 - b0)
        f = a0 + arg
    i, j = _cols(rs, low, lim, f - g[_ECG_WINDOW] - g[_MS25], f + g[_ALIGN1] + g[_MS15] + 1)
    ecg_shape = buf[lf_r, i:j].copy()
    # lead-off (rail) nearby, hum burst over the candidate
    i, j = _cols(rs, low, lim, p - g[_LEADOFF0], p + g[_LEADOFF1] + 1)
    rail = False
    for k in range(i, j):
        if buf[_RAIL * C + c, k] != 0:
            rail = True
            break
    i, j = _cols(rs, low, lim, start - g[_MS20], last + g[_MS20] + 1)
    burst = j > i and _hum_over(buf[_HUM * C + c, i:j], buf[_HUMBASE * C + c, i:j], buf[sig_r, i:j],
                                levels[_HUM_RATIO], levels[_HUM_K], True)
    # activity before: the trailing active fraction ending 5 ms before the candidate
    aw = g[_ACT_WINDOW]
    acs_r = _ACS * C + c
    i0, i1 = start - ms5 - aw - rs, start - ms5 - rs
    act_pre = (buf[acs_r, i1] - buf[acs_r, i0]) / aw if low <= i0 < lim and low <= i1 < lim else 0.0
    # the background windows (rules 9 and 12), copied: decided later than the ring holds
    bg1 = start - ms5
    bg0 = bg1 - max(g[_BG_WINDOW], g[_LBG_WINDOW]) - 1
    i0, i1 = max(bg0 - rs, low), min(bg1 + 1 - rs, lim)  # through bg1: the activity before reads acs[bg1]
    if i1 > i0:
        bg_start = rs + i0
        bg = np.empty((3, i1 - i0))
        bg[0] = buf[acs_r, i0:i1]
        bg[1] = buf[y_r, i0:i1]
        bg[2] = buf[sig_r, i0:i1]
    else:
        bg_start = bg0
        bg = np.zeros((3, 0))
    i, j = _cols(rs, low, lim, start - g[_HOLDOFF], start - ms5)
    act_recent = buf[_FRAC * C + c, i:j].max() if j > i else 0.0
    # activity after: the potential's own tail and the filters' ringing after it (up to
    # ring_fraction of its peak, see the echo rule) are not the onset of a contraction, so
    # samples count as active here only above that level too; weak onset: above
    # max(lookahead_low_k sigma, lookahead_low_peak x peak)
    look = g[_LOOKAHEAD]
    i, j = _cols(rs, low, lim, last + ms3, last + look)
    act_post = act_post_low = 0.0
    if j - i == look - ms3 and finite:
        post = buf[y_r, i:j]
        lvl = max(levels[_ACT_K] * sigma, levels[_RING_FRAC] * peak_abs)
        act_post = _count_above(post, lvl) / max(1, post.size)
        lvl = max(levels[_LOW_K] * sigma, levels[_LOW_PEAK] * peak_abs)
        act_post_low = _count_above(post, lvl) / max(1, post.size)
    # another channel's activity (rule 10b): a contraction recruits many units and shows
    # on every electrode over the contracting muscle(s); a fasciculation is one unit, whose
    # copy on another channel (volume conduction) is a brief potential within +-
    # xtalk_window of it. Fraction of the other channel's samples above lookahead_low_k x
    # its sigma over the background window before the candidate and over the lookahead
    # window after it (there leaving out the copy: samples below lookahead_low_peak x the
    # copy's peak). Hum bursts and lead-off raise a channel's level without any muscle
    # activity: such a channel is skipped.
    act_other = 0.0
    if C > 1 and finite:
        xw = g[_XTALK]
        pre0, pre1 = start - ms5 - g[_BG_WINDOW], start - ms5
        post0, post1 = last + ms3, last + look
        for o in range(C):
            if o == c:
                continue
            i = p - rs
            if not (low <= i < lim):
                continue
            so = buf[_SIGMA * C + o, i]
            if not np.isfinite(so):
                continue
            i, j = _cols(rs, low, lim, pre0, post1)
            if _hum_over(buf[_HUM * C + o, i:j], buf[_HUMBASE * C + o, i:j], np.full(j - i, so),
                         levels[_HUM_RATIO], levels[_HUM_K], False):
                continue
            off = False
            for k in range(i, j):
                if buf[_RAIL * C + o, k] != 0:
                    off = True
                    break
            if off:
                continue
            yo = _Y * C + o
            i, j = _cols(rs, low, lim, pre0, pre1)
            if j - i == pre1 - pre0:
                act_other = max(act_other, _count_above(buf[yo, i:j], levels[_LOW_K] * so) / (j - i))
            i, j = _cols(rs, low, lim, post0, post1)
            i2, j2 = _cols(rs, low, lim, start - xw, last + xw + 1)
            if j - i == post1 - post0 and j2 > i2:
                top = 0.0
                for k in range(i2, j2):
                    top = max(top, abs(buf[yo, k]))
                lvl = max(levels[_LOW_K] * so, levels[_LOW_PEAK] * top)
                act_other = max(act_other, _count_above(buf[yo, i:j], lvl) / (j - i))
    return (sigma, amp_pp, duration, polarity, n_phases, lobes, shape, lf_pp, step_uv, f, ecg_shape, rail, burst,
            act_pre, bg_start, bg, act_recent, act_post, act_post_low, act_other)
