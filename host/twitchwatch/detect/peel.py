"""Superimposed potentials taken apart with the known units' templates (peel-off; issue
#19, item 3).

When two motor units fire within a few ms of each other, their potentials overlap and
the engine sees one candidate: one event, the other discharge lost. Once a unit's
template is learned from its clear firings (:class:`.units.UnitBook`), the candidate's
cleaned waveform can be explained as a sum of templates, each at its own time and gain,
by greedy matching pursuit in the **whitened** domain (:mod:`.matched`):

1. the window (cleaned signal, µV) and every template are whitened with the channel's
   prediction-error filter ``a`` (FIR, order ``p``); a template's whitened image is
   ``a * u`` (full convolution, ``L + p`` samples), placed at every shift where the
   window's whitened samples are valid (from sample ``p`` on) and the image fits;
2. per shift and template: ``z = <R, w> / (sigma_e ||w||)`` (N(0, 1) under white noise of
   std ``sigma_e``) and the gain ``alpha = <R, w> / ||w||^2``; a placement is allowed when
   its firing's peak-to-peak ``alpha * ptp(u)`` is within ``amp_ratio`` of the unit's
   (a unit's potential keeps its size: ``UnitBook``'s amplitude bound), and, for a
   template already placed, at least ``min_same`` samples from that placement (a motor
   unit fires again no sooner than a doublet's interval: fasciculation doublets follow
   the first discharge by 5-35 ms, Mills, Brain 2010;133:3458);
3. the allowed placement with the largest ``z`` is taken if ``z >= tau + mismatch *
   sqrt(sum of the earlier placements' z^2)``, its image subtracted from the residual
   ``R``, and 2. repeated (up to ``max_components``). The second term is what the earlier
   fits' own error can leave: a firing differs from its unit's running-mean template
   (sub-sample alignment, the discharge's own jitter) by a fraction ``mismatch`` of its
   norm, and that error's correlation with another whitened template is at most
   ``mismatch x z`` of the earlier fit (Cauchy-Schwarz). Without it, the residue of a
   600 µV potential (z ~ 250) matches a 50 µV unit's template at z ~ 20;
4. the fit is judged by the residual's energy beyond the noise's, over the energy of
   the **weakest** placement taken (``excess``; noise alone gives ~0): every firing
   reported must stand above what the templates leave unexplained. A window that the
   templates do not explain (a pop, a contraction, an unknown unit's potential that two
   shifted templates of known units approximate) keeps a large excess against its
   weakest placement: measured against the total fitted energy instead, a single
   potential of a new unit, 10-20 % wider than a known one, passed as two or three
   shifted known templates (1-8 false firings per minute on the engine's synthetic
   test stream of random single potentials).

Pure function of its arguments (the engine passes a copy of the window read at the
candidate's decision position): causal and block-split free. Units: µV in, sample
indices relative to the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Component:
    """One template placed in the window: ``row`` of the templates given, ``start`` the
    window index of the template's first sample, ``alpha`` its gain (µV per unit-norm
    template), ``z`` the whitened matched filter's statistic when it was taken."""

    row: int
    start: int
    alpha: float
    z: float


def peel(window_uv: np.ndarray, templates: np.ndarray, amps_pp_uv: np.ndarray, a: np.ndarray, sigma_e: float,
         tau: float, amp_ratio: tuple[float, float], max_components: int = 3,
         mismatch: float = 0.2, min_same: int = 0) -> tuple[list[Component], float]:
    """Matching pursuit of ``window_uv`` (N,) with ``templates`` (K, L) unit-norm shapes
    (module docstring). ``amps_pp_uv``: each unit's peak-to-peak (µV); ``a``: the
    whitener (``a[0] = 1``); ``sigma_e``: the whitened noise's std (µV); ``tau``: the
    z threshold; ``mismatch``: the templates' relative error; ``min_same``: the least
    distance (samples) between two placements of one template. Returns ``(components in the order taken, excess)``; ``excess`` is
    ``inf`` when nothing was taken."""
    K = templates.shape[0] if templates.ndim == 2 else 0
    p = a.size - 1
    N = window_uv.size
    L = templates.shape[1] if K else 0
    n_shift = N - L - 2 * p + 1  # shifts s = p .. N - L - p
    if K == 0 or n_shift <= 0 or not (sigma_e > 0) or not np.all(np.isfinite(window_uv)):
        return [], float("inf")
    R = np.convolve(np.array(a, dtype=np.float64), np.asarray(window_uv, dtype=np.float64))[:N]  # lfilter(a, [1], x)
    W = np.stack([np.convolve(a, u) for u in templates])  # (K, L + p)
    e = np.einsum("kj,kj->k", W, W)
    e = np.where(e > 0, e, np.inf)
    ptp = np.ptp(templates, axis=1)
    lo = amp_ratio[0] * np.asarray(amps_pp_uv, float)
    hi = amp_ratio[1] * np.asarray(amps_pp_uv, float)
    comps: list[Component] = []
    fitted = []
    for _ in range(max_components):
        seg = R[p:]
        # correlation of the residual with every whitened template at every shift (K, n_shift)
        xc = np.stack([np.correlate(seg, w, "valid")[:n_shift] for w in W])
        alpha = xc / e[:, None]
        z = xc / (sigma_e * np.sqrt(e))[:, None]
        amp = alpha * ptp[:, None]
        z = np.where((amp >= lo[:, None]) & (amp <= hi[:, None]), z, -np.inf)
        for c in comps:  # the same unit again: not within a doublet's interval
            a0 = max(0, c.start - p - min_same + 1)
            z[c.row, a0 : c.start - p + min_same] = -np.inf
        k, s = np.unravel_index(int(np.argmax(z)), z.shape)
        if not z[k, s] >= tau + mismatch * np.sqrt(sum(c.z * c.z for c in comps)):
            break
        start = int(s) + p
        R[start:start + L + p] -= alpha[k, s] * W[k]
        fitted.append(float(alpha[k, s] ** 2 * e[k]))
        comps.append(Component(int(k), start, float(alpha[k, s]), float(z[k, s])))
    if not comps:
        return [], float("inf")
    res = R[p:]
    excess = (float(np.dot(res, res)) - res.size * sigma_e * sigma_e) / min(fitted)
    return comps, excess
