"""A twitch on a heartbeat: the beat's learned shape subtracted, what stands out.

A twitch that fires during a QRS complex merges with it into one candidate, which the
ECG tracker recognises as a beat and rejects: on a muscle near the heart (chest,
shoulder, upper arm, back) that hides every twitch that coincides with a beat (a QRS
window of ~100 ms at 60-90 bpm covers ~10-15 % of the time). Template subtraction is
the usual cure for ECG in trunk EMG (e.g. Drake & Callaghan, J Electromyogr Kinesiol
2006, compare it with high-pass filtering and gating).

:class:`BeatTemplate` keeps, per channel, the cleaned signal (µV, the engine's
band-passed, notched ``y``) of recognised beats, aligned at their fiducial point (the
R wave in the low band), averaged sample by sample: a running mean over the first
beats, then an exponential mean (``learn``). :meth:`BeatTemplate.find_twitch` fits
the template to a new beat by least squares (a gain per beat: the beat's amplitude
follows breathing by ~10 %), twice (the second fit leaves out the samples around the
first fit's largest residual, so a twitch does not pull the gain), and reports the
largest residual inside the candidate when it is

- at least ``k`` x the noise floor sigma (µV RMS), and
- at least ``fraction`` x the fitted beat's peak |µV| (a beat's shape varies a few %
  from beat to beat: a large QRS leaves a residual in proportion), and
- brief: outside ``half_width`` samples either side of it the residual stays below
  half its height (a beat of another shape, e.g. an ectopic one, misfits everywhere),

and the fitted gain is at most ``max_gain`` (breathing moves a beat by ~10-20 %: a beat
twice the learned one is not that beat). A gain near 0 is allowed: the ECG tracker
took a lone twitch (on the rhythm, a low band like the beat's) for a beat, and the
residual is then the twitch itself.

Beats with no twitch on them (no residual found) teach the template; beats with one do
not. Pure numpy on short arrays, no state but the template; stream indices are samples.
"""

from __future__ import annotations

import numpy as np


class BeatTemplate:
    """One channel's beat shape over fiducial - ``before`` .. fiducial + ``after`` (samples).

    Args:
        before, after: window around the fiducial point, samples.
        same_beat: fiducial points this close (samples) are one beat (taught once).
        min_beats: a template sample is used once this many beats have taught it.
        learn: exponential-mean weight of each later beat (0..1).
    """

    def __init__(self, before: int, after: int, same_beat: int, min_beats: int = 8, learn: float = 0.1) -> None:
        self.before, self.after = int(before), int(after)
        n = self.before + self.after
        self.shape_uv = np.zeros(n)
        self.n_beats = np.zeros(n, dtype=np.int64)
        self.min_beats = int(min_beats)
        self.learn = float(learn)
        self.same_beat = int(same_beat)
        self.last_fiducial: int | None = None

    def _slice(self, fiducial: int, first: int, n: int) -> tuple[int, int, int]:
        """For the samples [first, first + n): the template offsets [i, j) they cover
        (clipped) and the offset in the samples of template offset i."""
        i = first - (fiducial - self.before)
        lo = max(0, i)
        return lo, min(self.shape_uv.size, i + n), lo - i

    def teach(self, y_uv: np.ndarray, first: int, fiducial: int) -> None:
        """Add one beat (``y_uv``: the cleaned signal from stream index ``first``) to the
        template, once per fiducial point (a QRS split into several candidates counts once)."""
        if self.last_fiducial is not None and abs(fiducial - self.last_fiducial) <= self.same_beat:
            return
        self.last_fiducial = fiducial
        i, j, o = self._slice(fiducial, first, y_uv.size)
        if j <= i:
            return
        w = y_uv[o : o + j - i]
        n = self.n_beats[i:j]
        weight = np.maximum(self.learn, 1.0 / (n + 1.0))
        self.shape_uv[i:j] += weight * (w - self.shape_uv[i:j])
        self.n_beats[i:j] = n + 1

    def find_twitch(
        self,
        y_uv: np.ndarray,
        first: int,
        fiducial: int,
        start: int,
        last: int,
        sigma_uv: float,
        k: float,
        fraction: float,
        half_width: int,
        max_gain: float = 2.0,
    ) -> tuple[int, float] | None:
        """The twitch on this beat, if one stands out: (its peak's stream index, the
        beat's fitted gain), or None. ``y_uv``: the cleaned signal from stream index
        ``first``; the candidate spans [start, last]. :meth:`beat_uv` then gives the
        fitted beat to subtract."""
        if not np.isfinite(sigma_uv) or sigma_uv <= 0:
            return None
        i, j, o = self._slice(fiducial, first, y_uv.size)
        if j - i < 3:
            return None
        w = y_uv[o : o + j - i]
        t = self.shape_uv[i:j]
        known = self.n_beats[i:j] >= self.min_beats
        if known.sum() < 0.5 * self.shape_uv.size:
            return None
        at = first + o  # stream index of w[0]
        lo, hi = max(0, start - at), min(w.size, last + 1 - at)
        if hi <= lo:
            return None
        cand = np.zeros(w.size, dtype=bool)
        cand[lo:hi] = True
        cand &= known  # only where the template is known
        if not cand.any():
            return None
        fit = known.copy()
        for _ in range(2):
            tt = float(t[fit] @ t[fit])
            if tt <= 0:
                return None
            gain = float(w[fit] @ t[fit]) / tt
            r = w - gain * t
            peak = int(np.argmax(np.where(cand, np.abs(r), -1.0)))
            fit = known.copy()
            fit[max(0, peak - half_width) : peak + half_width + 1] = False
            if not fit.any():
                return None
        height = abs(r[peak])
        beat_peak = abs(gain) * float(np.abs(t[known]).max())
        if height < k * sigma_uv or height < fraction * beat_peak or gain > max_gain:
            return None
        away = np.abs(r[fit])
        if away.size and away.max() >= 0.5 * height:
            return None
        return at + peak, gain

    def beat_uv(self, first: int, n: int, fiducial: int, gain: float) -> np.ndarray:
        """The fitted beat (``gain`` x template, µV) over stream indices [first, first + n):
        0 outside the template's window."""
        out = np.zeros(n)
        i, j, o = self._slice(fiducial, first, n)
        if j > i:
            out[o : o + j - i] = gain * self.shape_uv[i:j]
        return out
