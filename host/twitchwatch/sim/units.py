"""Motor units, their surface potentials (MUAPs), firing and mechanical responses.

Surface MUAP shape: a Hermite–Rodriguez expansion (Lo Conte, Merletti & Sandri, IEEE
TBME 1994), ``w(x) = sum_i c_i H_i(x) exp(-x^2)`` with ``x = (t - t0) / lambda`` and
physicists' Hermite polynomials ``H_0..H_3``. The dominant order sets the phases:
order 1 biphasic, 2 triphasic, 3 polyphasic (used for ALS-like reinnervated units).
A unit's support is where ``|w| >= 1 %`` of its peak; a 10 % cosine taper at each end
brings it to exactly zero there, so every potential has finite, known samples.
``lambda`` is chosen so the support lasts the unit's duration (5–25 ms by default).

Firing: a homogeneous Poisson process per unit (fasciculations fire irregularly; SPiQE
models FP counts as rates), optional doublets 30–35 ms apart (de Carvalho & Swash).
Per discharge the amplitude is jittered ±5 % and the width ±2 % (uniform): a unit's
shape is stable, as an online clustering needs.

Mechanical response (MMG): a damped oscillation ``(t/tau) exp(1 - t/tau) sin(2 pi f t)``
on the accelerometer, 5–50 Hz, starting 5–30 ms after the EMG onset, peak 1–3 mg for
a single unit by default (design notes; Orizio), mostly along the skin normal (device
Z), scaled with the unit's EMG amplitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import TruthTwitch
from .scenarios import Scenario

_SUPPORT_FRAC = 0.01
_TAPER = 0.1
_GRID = np.linspace(-6.0, 6.0, 24001)


def hermite_rodriguez(x: np.ndarray, coefs: np.ndarray) -> np.ndarray:
    """``sum_i coefs[..., i] H_i(x) exp(-x^2)`` for i = 0..3 (broadcasting over rows)."""
    h = (np.ones_like(x), 2 * x, 4 * x * x - 2, 8 * x**3 - 12 * x)
    out = np.zeros_like(x)
    for i in range(4):
        out = out + coefs[..., i : i + 1] * h[i] if coefs.ndim > 1 else out + coefs[i] * h[i]
    return out * np.exp(-x * x)


def _taper(p: np.ndarray) -> np.ndarray:
    """1 inside, cosine ramps over the first/last 10 % of [0, 1], 0 outside."""
    w = np.where((p >= 0) & (p <= 1), 1.0, 0.0)
    lo = (p >= 0) & (p < _TAPER)
    hi = (p > 1 - _TAPER) & (p <= 1)
    w = np.where(lo, 0.5 * (1 - np.cos(np.pi * p / _TAPER)), w)
    w = np.where(hi, 0.5 * (1 - np.cos(np.pi * (1 - p) / _TAPER)), w)
    return w


@dataclass
class Shape:
    """A normalised unit shape: support ``[x_lo, x_hi]`` and gain so the continuous
    tapered waveform has peak-to-peak 1."""

    coefs: np.ndarray
    x_lo: float
    x_hi: float
    norm: float
    #: half-amplitude width of the main phase (the lobe holding the peak), in x units
    main_phase: float = 0.0

    @classmethod
    def from_coefs(cls, coefs: np.ndarray) -> Shape:
        w = hermite_rodriguez(_GRID, coefs)
        peak = np.max(np.abs(w))
        idx = np.nonzero(np.abs(w) >= _SUPPORT_FRAC * peak)[0]
        x_lo, x_hi = float(_GRID[idx[0]]), float(_GRID[idx[-1]])
        wt = w * _taper((_GRID - x_lo) / (x_hi - x_lo))
        p = int(np.argmax(np.abs(wt)))
        above = np.abs(wt) >= 0.5 * abs(wt[p])
        same = np.sign(wt) == np.sign(wt[p])
        run = above & same
        a = p
        while a > 0 and run[a - 1]:
            a -= 1
        b = p
        while b < run.size - 1 and run[b + 1]:
            b += 1
        main_phase = float(_GRID[b] - _GRID[a])
        return cls(coefs, x_lo, x_hi, 1.0 / float(np.ptp(wt)), main_phase)

    @property
    def width(self) -> float:
        return self.x_hi - self.x_lo


@dataclass
class Unit:
    unit_id: int
    channel: int
    amplitude_uv: float       # nominal peak-to-peak
    duration_ms: float
    shape: Shape
    lam_s: float              # Hermite width parameter, seconds
    rate_per_min: float
    cross_channel: int | None
    cross_gain: float
    cross_widen: float
    cross_delay_s: float
    mmg_mg: float             # 0: no mechanical response
    mmg_freq_hz: float
    mmg_tau_s: float
    mmg_delay_s: float
    mmg_dir: np.ndarray

    def as_dict(self) -> dict:
        return {
            "unit_id": self.unit_id, "channel": self.channel,
            "amplitude_uv": round(self.amplitude_uv, 3), "duration_ms": round(self.duration_ms, 3),
            "hr_coefs": [round(float(c), 4) for c in self.shape.coefs],
            "rate_per_min": round(self.rate_per_min, 4),
            "crosstalk": None if self.cross_channel is None else {
                "channel": self.cross_channel, "gain": round(self.cross_gain, 4),
                "widen": round(self.cross_widen, 4), "delay_ms": round(self.cross_delay_s * 1e3, 3)},
            "mmg": None if self.mmg_mg == 0 else {
                "peak_mg": round(self.mmg_mg, 4), "freq_hz": round(self.mmg_freq_hz, 3),
                "tau_ms": round(self.mmg_tau_s * 1e3, 3), "delay_ms": round(self.mmg_delay_s * 1e3, 3),
                "direction": [round(float(d), 4) for d in self.mmg_dir]},
        }


def _loguniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def make_units(rng: np.random.Generator, n_channels: int, sc: Scenario, first_id: int = 1) -> list[Unit]:
    """Draw ``units_per_channel`` units per channel.

    Amplitudes and durations are stratified (one unit per log-spaced bin, jittered within
    ±25 % of the bin) so two units of one channel differ by at least ~(hi/lo)^(1/2k) in
    amplitude; shapes are drawn independently. Firing rates split the channel rate with
    Dirichlet(2) weights.
    """
    k = sc.units_per_channel
    units: list[Unit] = []
    uid = first_id
    a_lo, a_hi = np.log(sc.twitch_amplitude_uv[0]), np.log(sc.twitch_amplitude_uv[1])
    d_lo, d_hi = sc.twitch_duration_ms
    for ch in range(n_channels):
        pa = rng.permutation(k)
        pd = rng.permutation(k)
        weights = rng.dirichlet(np.full(k, 2.0)) if k > 1 else np.ones(1)
        for j in range(k):
            pos_a = (pa[j] + 0.5 + rng.uniform(-0.25, 0.25)) / k
            amp = float(np.exp(a_lo + (a_hi - a_lo) * pos_a))
            dur = float(d_lo + (d_hi - d_lo) * (pd[j] + 0.5 + rng.uniform(-0.4, 0.4)) / k)
            order = int(rng.integers(1, max(1, sc.shape_order_max) + 1))
            coefs = rng.uniform(-0.3, 0.3, 4)
            coefs[0] *= 0.5
            coefs[order] = rng.choice((-1.0, 1.0))
            shape = Shape.from_coefs(coefs)
            lam = dur / 1000.0 / shape.width
            # physiological floor of a surface MUAP's main phase (docs/simulator.md): a short
            # polyphasic shape would otherwise be a needle-like 0.5 ms spike; such a unit
            # is widened (its potential then lasts longer than ``dur``)
            if sc.twitch_main_phase_min_ms > 0 and shape.main_phase > 0:
                lam = max(lam, sc.twitch_main_phase_min_ms / 1000.0 / shape.main_phase)
                dur = lam * shape.width * 1000.0
            cross_ch = None
            cross_gain = cross_widen = cross_delay = 0.0
            if n_channels > 1 and rng.random() < sc.crosstalk_prob:
                others = [c for c in range(n_channels) if c != ch]
                cross_ch = int(others[int(rng.integers(len(others)))])
                cross_gain = float(rng.uniform(*sc.crosstalk_gain))
                cross_widen = float(rng.uniform(1.1, 1.4))
                cross_delay = float(rng.uniform(0.0, 1.0e-3))
            has_mmg = rng.random() < sc.mmg_prob
            pos = float(np.clip((np.log(amp) - a_lo) / max(a_hi - a_lo, 1e-9), 0, 1))
            m_lo, m_hi = sc.mmg_mg
            mmg = float(np.clip(np.exp(np.log(m_lo) + (np.log(m_hi) - np.log(m_lo)) * pos)
                                * rng.uniform(0.8, 1.2), m_lo, m_hi)) if has_mmg else 0.0
            f = float(rng.uniform(*sc.mmg_freq_hz))
            d = np.array([rng.normal(0, 0.3), rng.normal(0, 0.3), 1.0])
            d = d / np.linalg.norm(d) * rng.choice((-1.0, 1.0))
            units.append(Unit(uid, ch, amp, dur, shape, lam, float(sc.twitch_rate_per_min * weights[j]),
                              cross_ch, cross_gain, cross_widen, cross_delay,
                              mmg, f, float(rng.uniform(0.15, 0.4) / f),
                              float(rng.uniform(*sc.mmg_delay_ms) / 1000.0), d))
            uid += 1
    return units


def _merge(intervals: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    if not intervals:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    iv = sorted(intervals)
    out = [list(iv[0])]
    for a, b in iv[1:]:
        if a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    arr = np.array(out, dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def overlaps_any(a: np.ndarray, b: np.ndarray, intervals: list[tuple[int, int]]) -> np.ndarray:
    """Boolean mask: window ``[a_i, b_i)`` overlaps one of ``intervals`` (vectorised)."""
    starts, ends = _merge(intervals)
    if starts.size == 0:
        return np.zeros(a.shape, bool)
    idx = np.searchsorted(starts, b, side="left") - 1
    ok = idx >= 0
    res = np.zeros(a.shape, bool)
    res[ok] = ends[idx[ok]] > a[ok]
    return res


@dataclass
class Events:
    unit_idx: np.ndarray   # index into the units list
    t0_s: np.ndarray       # centre (x = 0) of the shape
    amp_scale: np.ndarray
    width_scale: np.ndarray
    doublet: np.ndarray


def fire(rng: np.random.Generator, units: list[Unit], sc: Scenario, fs: float, n: int,
         exclude: list[tuple[int, int]]) -> Events:
    """Poisson discharges per unit (+ doublets), dropping any whose potential overlaps
    ``exclude`` (EMG sample intervals) or the recording's edges."""
    duration = n / fs
    ui, t0, dbl = [], [], []
    for i, u in enumerate(units):
        count = rng.poisson(u.rate_per_min * duration / 60.0)
        times = np.sort(rng.uniform(0.0, duration, count))
        second = rng.random(count) < sc.doublet_prob
        gap = rng.uniform(*sc.doublet_interval_ms, count) / 1000.0
        ui += [np.full(count, i), np.full(int(second.sum()), i)]
        t0 += [times, times[second] + gap[second]]
        dbl += [np.zeros(count, bool), np.ones(int(second.sum()), bool)]
        # a doublet's first spike dropped by exclusion drops its second too (handled below)
    if not units:
        z = np.zeros(0)
        return Events(z.astype(int), z, z, z, z.astype(bool))
    unit_idx = np.concatenate(ui).astype(int)
    t0_s = np.concatenate(t0)
    doublet = np.concatenate(dbl)
    m = unit_idx.size
    amp_scale = rng.uniform(1 - sc.jitter_frac, 1 + sc.jitter_frac, m)
    width_scale = rng.uniform(1 - sc.width_jitter_frac, 1 + sc.width_jitter_frac, m)
    # support in samples, with the crosstalk copy's wider support as margin
    lam = np.array([u.lam_s * max(1.0, u.cross_widen) for u in units])[unit_idx] * width_scale
    x_lo = np.array([u.shape.x_lo for u in units])[unit_idx]
    x_hi = np.array([u.shape.x_hi for u in units])[unit_idx]
    a = np.floor((t0_s + x_lo * lam) * fs).astype(np.int64) - 2
    b = np.ceil((t0_s + x_hi * lam + 1.1e-3) * fs).astype(np.int64) + 2
    keep = (a >= 0) & (b <= n) & ~overlaps_any(a, b, exclude)
    # drop a doublet's second spike if its first spike was dropped
    order = np.lexsort((t0_s, unit_idx))
    prev_keep = np.ones(m, bool)
    sorted_keep = keep[order]
    prev_keep[order[1:]] = sorted_keep[:-1]
    keep &= ~doublet | prev_keep
    sel = np.nonzero(keep)[0]
    sel = sel[np.argsort(t0_s[sel], kind="stable")]
    return Events(unit_idx[sel], t0_s[sel], amp_scale[sel], width_scale[sel], doublet[sel])


def _render_rows(t0: np.ndarray, lam: np.ndarray, coefs: np.ndarray, x_lo: np.ndarray,
                 x_hi: np.ndarray, gain: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows of sampled potentials: (start sample per row, (E, L) values)."""
    start = np.floor((t0 + x_lo * lam) * fs).astype(np.int64)
    length = int(np.max(np.ceil((x_hi - x_lo) * lam * fs)) + 3) if t0.size else 1
    k = start[:, None] + np.arange(length)[None, :]
    x = (k / fs - t0[:, None]) / lam[:, None]
    p = (x - x_lo[:, None]) / (x_hi - x_lo)[:, None]
    rows = hermite_rodriguez(x, coefs) * _taper(p) * gain[:, None]
    return start, rows


def add_rows(out: np.ndarray, start: np.ndarray, rows: np.ndarray) -> None:
    """``out[start_i + j] += rows[i, j]`` (1-D ``out``), clipping to its bounds."""
    if rows.size == 0:
        return
    idx = start[:, None] + np.arange(rows.shape[1])[None, :]
    ok = (idx >= 0) & (idx < out.shape[0])
    out += np.bincount(idx[ok], weights=rows[ok], minlength=out.shape[0])[: out.shape[0]]


def render_twitches(units: list[Unit], ev: Events, fs: float, n: int, n_channels: int,
                    acc_fs: float | None = None, m_acc: int = 0,
                    rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray | None, list[TruthTwitch]]:
    """Noise-free twitch component (n, ch) µV, MMG component (m, 3) mg, and truth."""
    emg = np.zeros((n, n_channels))
    acc = np.zeros((m_acc, 3)) if acc_fs else None
    if ev.t0_s.size == 0:
        return emg, acc, []
    U = units
    ui = ev.unit_idx
    coefs = np.array([u.shape.coefs for u in U])[ui]
    x_lo = np.array([u.shape.x_lo for u in U])[ui]
    x_hi = np.array([u.shape.x_hi for u in U])[ui]
    lam = np.array([u.lam_s for u in U])[ui] * ev.width_scale
    gain = (np.array([u.amplitude_uv * u.shape.norm for u in U])[ui]) * ev.amp_scale
    home = np.array([u.channel for u in U])[ui]
    start, rows = _render_rows(ev.t0_s, lam, coefs, x_lo, x_hi, gain, fs)
    ptp = rows.max(axis=1) - rows.min(axis=1)
    nz = rows != 0
    first = np.argmax(nz, axis=1)
    last = rows.shape[1] - 1 - np.argmax(nz[:, ::-1], axis=1)
    peak = np.argmax(np.abs(rows), axis=1)
    for ch in range(n_channels):
        s = home == ch
        add_rows(emg[:, ch], start[s], rows[s])
    # crosstalk copies
    cc = np.array([-1 if u.cross_channel is None else u.cross_channel for u in U])[ui]
    has_c = cc >= 0
    cross_ptp = np.zeros(ui.size)
    if has_c.any():
        widen = np.array([u.cross_widen for u in U])[ui][has_c]
        delay = np.array([u.cross_delay_s for u in U])[ui][has_c]
        cg = np.array([u.cross_gain for u in U])[ui][has_c]
        cs, crows = _render_rows(ev.t0_s[has_c] + delay, lam[has_c] * widen, coefs[has_c],
                                 x_lo[has_c], x_hi[has_c], gain[has_c] * cg, fs)
        cross_ptp[has_c] = crows.max(axis=1) - crows.min(axis=1)
        for ch in range(n_channels):
            s = cc[has_c] == ch
            add_rows(emg[:, ch], cs[s], crows[s])
    # mechanical response
    mmg_peak = np.zeros(ui.size)
    if acc is not None:
        mm = np.array([u.mmg_mg for u in U])[ui]
        has_m = mm > 0
        if has_m.any():
            rng_jit = rng if rng is not None else np.random.default_rng(0)
            f = np.array([u.mmg_freq_hz for u in U])[ui][has_m]
            tau = np.array([u.mmg_tau_s for u in U])[ui][has_m]
            dly = np.array([u.mmg_delay_s for u in U])[ui][has_m]
            onset_s = (start[has_m] + first[has_m]) / fs + dly + rng_jit.uniform(-1e-3, 1e-3, has_m.sum())
            a0 = np.ceil(onset_s * acc_fs).astype(np.int64)
            length = int(np.ceil(6 * tau.max() * acc_fs)) + 2
            k = a0[:, None] + np.arange(length)[None, :]
            t = k / acc_fs - onset_s[:, None]
            tt = np.clip(t / tau[:, None], 0, None)
            wave = np.where(t >= 0, tt * np.exp(1 - tt) * np.sin(2 * np.pi * f[:, None] * t), 0.0)
            peak_target = mm[has_m] * rng_jit.uniform(0.9, 1.1, has_m.sum())
            wave *= (peak_target / np.max(np.abs(wave), axis=1))[:, None]
            mmg_peak[has_m] = peak_target
            dirs = np.array([u.mmg_dir for u in U])[ui][has_m]
            for ax in range(3):
                add_rows(acc[:, ax], a0, wave * dirs[:, ax : ax + 1])
    truth = [
        TruthTwitch(
            sample_index=int(start[i] + peak[i]), channel=int(home[i]), unit_id=int(U[ui[i]].unit_id),
            amplitude_uv=float(ptp[i]),
            duration_ms=float((x_hi[i] - x_lo[i]) * lam[i] * 1000.0),
            onset_index=int(start[i] + first[i]), end_index=int(start[i] + last[i] + 1),
            acc_response_mg=float(mmg_peak[i]), doublet=bool(ev.doublet[i]),
            crosstalk=((int(cc[i]), float(cross_ptp[i])),) if cc[i] >= 0 else (),
        )
        for i in range(ui.size)
    ]
    return emg, acc, truth
