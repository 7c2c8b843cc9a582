"""ECG rhythm per channel: which candidates are heartbeats (rule 4 of the engine).

Heartbeats reach surface EMG as periodic, same-shape potentials. :class:`EcgRhythm`
learns a channel's rhythm and beat template from its candidates and, once learned, keeps
it through missed beats. Pure bookkeeping: indices and shapes in, a verdict out; no I/O.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .config import DetectorConfig
from .pairwise import correlation


class EcgRhythm:
    """Periodic, same-shape candidates (regular RR 0.4-1.5 s) on one channel are ECG.

    Beats are timed and shaped at their fiducial point (``_Candidate.ecg_beat``, the
    low-band extremum near the peak). Learning the rhythm: a candidate is ECG when a
    chain of three earlier candidates with the same shape (correlation >=
    ``ecg_min_corr``) precedes it at a regular interval (four beats; chance chains of an
    irregular unit's firing are then rare). That sets the RR and the template. From then
    on the rhythm is *kept*: the heart does not stop when candidates do. Beats of a
    small ECG under noise cross the threshold only now and then, and voluntary activity,
    motion or pops hide or distort runs of them, so the tracker does not forget the
    rhythm after a few missed beats. A candidate that matches the template is ECG when
    it lies k = 1..``ecg_max_missed`` learned RRs (tolerance ``ecg_rr_tolerance`` x
    sqrt(k) x RR: beat-time errors add up like a random walk) after the last ECG beat or
    after the last template-matching candidate (a re-lock after a lost stretch takes two
    matching candidates, not four), or when it is the same complex as the last ECG beat
    (fiducial within ``ecg_same_beat_ms``: a QRS split into two candidates). The RR
    estimate follows each accepted interval (``ecg_rr_learn``).
    """

    def __init__(self, rate_hz: float, cfg: DetectorConfig) -> None:
        self.rate_hz = rate_hz
        self.cfg = cfg
        self.history: deque[tuple[int, np.ndarray]] = deque(maxlen=32)
        self.rr: float | None = None
        self.last_beat: int | None = None
        self.last_match: int | None = None  # fiducial of the last template-matching candidate
        self.template: np.ndarray | None = None
        self.same_beat = max(1, int(round(cfg.ecg_same_beat_ms * 1e-3 * rate_hz)))

    @staticmethod
    def _corr(a: np.ndarray, b: np.ndarray) -> float:
        if a is None or b is None or a.shape != b.shape or a.size < 3:
            return 0.0
        return correlation(a, b)

    def _on_rhythm(self, p: int) -> tuple[int, int] | None:
        """(k, reference) when ``p`` lies k learned RRs after the last beat or the last
        template match (k = 1..ecg_max_missed, tolerance tol x sqrt(k) x RR)."""
        cfg, rr = self.cfg, self.rr
        assert rr is not None  # only called once an RR is learned (is_ecg)
        for ref in (self.last_beat, self.last_match):
            if ref is None or p <= ref:
                continue
            k = int(round((p - ref) / rr))
            if 1 <= k <= cfg.ecg_max_missed and abs(p - ref - k * rr) <= cfg.ecg_rr_tolerance * np.sqrt(k) * rr:
                return k, ref
        return None

    def on_rhythm(self, p: int) -> tuple[int, int] | None:
        """(k, reference) when a beat at ``p`` would lie on the learned rhythm (k = 1..
        ``ecg_max_missed`` RRs after the last beat or template match, the tracker's own
        tolerance); None before an RR is learned. Records nothing."""
        return None if self.rr is None else self._on_rhythm(p)

    def is_ecg(self, p: int, shape: np.ndarray) -> bool:
        """Is the candidate whose fiducial point is at EMG index ``p``, with low-band
        ``shape`` around it, a heartbeat? Records it either way (call in stream order)."""
        cfg = self.cfg
        lo, hi = cfg.ecg_rr_s[0] * self.rate_hz, cfg.ecg_rr_s[1] * self.rate_hz
        tol = cfg.ecg_rr_tolerance
        result = False
        if self.template is not None and self.rr is not None and self._corr(shape, self.template) >= cfg.ecg_min_corr:
            if self.last_beat is not None and abs(p - self.last_beat) <= self.same_beat:
                result = True  # the same complex as the last beat (a QRS split in two candidates)
            else:
                hit = self._on_rhythm(p)
                if hit is not None:
                    result = True
                    k, ref = hit
                    self.rr += cfg.ecg_rr_learn * ((p - ref) / k - self.rr)
                    self.rr = min(max(self.rr, lo), hi)
            self.last_match = p if self.last_match is None else max(self.last_match, p)
        if not result:
            hist = list(self.history)
            for i in range(len(hist) - 1, -1, -1):
                q1, s1 = hist[i]
                rr = p - q1
                if rr > hi:
                    break
                if rr < lo or self._corr(shape, s1) < cfg.ecg_min_corr:
                    continue
                for j in range(i - 1, -1, -1):
                    q2, s2 = hist[j]
                    if abs((q1 - q2) - rr) > tol * rr or self._corr(s1, s2) < cfg.ecg_min_corr:
                        continue
                    # a third interval: four beats at a regular rhythm (chance chains of
                    # an irregular unit's firing are then rare)
                    if any(abs((q2 - q3) - rr) <= tol * rr and self._corr(s2, s3) >= cfg.ecg_min_corr for q3, s3 in hist[:j]):
                        result = True
                        self.rr = float(rr)
                        break
                if result:
                    break
        if result:
            self.last_beat = p if self.last_beat is None else max(self.last_beat, p)
            self.last_match = p if self.last_match is None else max(self.last_match, p)
            self.template = shape if self.template is None or self.template.shape != shape.shape else 0.8 * self.template + 0.2 * shape
        self.history.append((p, shape))
        while self.history and self.history[0][0] < p - 3 * hi:
            self.history.popleft()
        return result
