"""``simulate`` and ``inject_twitches``: build a recording part by part, vectorised.

Each part draws from its own random stream (``seed``, scenario name, part name), so a
recording is a pure function of (scenario, duration, seed) and changing one part's
parameters leaves the others' random draws alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from scipy import signal as sps

from .chipclock import chip_sample_times_s, resample_at
from .model import SimRecording, TruthSegment, TruthTwitch
from .scenarios import SCENARIOS, Scenario
from .units import add_rows, fire, make_units, render_twitches

N_EMG = 2
EMG_LABELS = ("EMG 1", "EMG 2")
#: twitches are never generated inside these segment kinds (scoring stays unambiguous)
EXCLUDE_KINDS = ("voluntary", "motion", "lead_off")


def _rng(seed: int, scenario: str, part: str) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(scenario.encode()), zlib.crc32(part.encode())])


def _loguniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def _poisson_times(rng: np.random.Generator, rate_per_min: float, duration_s: float) -> np.ndarray:
    if rate_per_min <= 0:
        return np.zeros(0)
    return np.sort(rng.uniform(0.0, duration_s, rng.poisson(rate_per_min * duration_s / 60.0)))


def _smooth_uniform(rng: np.random.Generator, n: int, fs: float, knot_s: float) -> np.ndarray:
    """Piecewise-linear random function in [-1, 1], knots every ``knot_s`` seconds."""
    k = int(np.ceil(n / fs / knot_s)) + 2
    return np.interp(np.arange(n) / fs, np.arange(k) * knot_s, rng.uniform(-1, 1, k))


def _raised_cos_env(n: int, ramp: int) -> np.ndarray:
    env = np.ones(n)
    ramp = max(1, min(ramp, n // 2))
    r = 0.5 * (1 - np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp))
    env[:ramp] = r
    env[n - ramp:] = r[::-1]
    return env


# ---------------------------------------------------------------------------- noise

def _noise(rng: np.random.Generator, n: int, fs: float, white_uv: float, pink_uv: float) -> np.ndarray:
    """White (RMS ``white_uv``) + 1/f (RMS ``pink_uv``, 0.5 Hz .. fs/2) per channel."""
    out = rng.standard_normal((n, N_EMG)) * white_uv
    if pink_uv > 0 and n > 8:
        spec = np.fft.rfft(rng.standard_normal((n, N_EMG)), axis=0)
        f = np.fft.rfftfreq(n, 1 / fs)
        shape = np.zeros_like(f)
        shape[f >= 0.5] = 1 / np.sqrt(f[f >= 0.5])
        pink = np.fft.irfft(spec * shape[:, None], n=n, axis=0)
        pink *= pink_uv / np.maximum(pink.std(axis=0), 1e-12)
        out += pink
    return out


def _wander(rng: np.random.Generator, n: int, fs: float, rms_uv: float, cutoff_hz: float) -> np.ndarray:
    """Baseline wander: white noise low-passed at ``cutoff_hz`` on a 20 Hz grid."""
    if rms_uv <= 0:
        return np.zeros((n, N_EMG))
    grid_fs = 20.0
    k = int(np.ceil(n / fs * grid_fs)) + 64
    sos = sps.butter(2, cutoff_hz, fs=grid_fs, output="sos")
    w = sps.sosfiltfilt(sos, rng.standard_normal((k, N_EMG)), axis=0)
    w = w[32:-32]
    w = (w - w.mean(axis=0)) / np.maximum(w.std(axis=0), 1e-12) * rms_uv
    t = np.arange(n) / fs
    tg = np.arange(w.shape[0]) / grid_fs
    return np.stack([np.interp(t, tg, w[:, c]) for c in range(N_EMG)], axis=1)


# ---------------------------------------------------------------------------- mains

def _mains(rng: np.random.Generator, n: int, fs: float, sc: Scenario, duration_s: float
           ) -> tuple[np.ndarray, np.ndarray, list[TruthSegment], dict]:
    """Hum with drifting frequency, 3rd/5th harmonics, slow AM and second-long bursts.

    Returns the hum (n, ch), the unit-amplitude fundamental (for lead-off hum), the
    burst segments and the realised parameters.
    """
    freq = sc.mains_hz + sc.mains_drift_hz * _smooth_uniform(rng, n, fs, 5.0)
    phase = 2 * np.pi * np.cumsum(freq) / fs + rng.uniform(0, 2 * np.pi)
    h3, h5 = sc.mains_harmonics
    th3, th5 = rng.uniform(0, 2 * np.pi, 2)
    fundamental = np.sin(phase)
    wave = fundamental + h3 * np.sin(3 * phase + th3) + h5 * np.sin(5 * phase + th5)
    env = 1 + sc.mains_am_frac * _smooth_uniform(rng, n, fs, 3.0)
    segs: list[TruthSegment] = []
    for t in _poisson_times(rng, sc.mains_bursts_per_min, duration_s):
        rise, hold = 1.0, float(rng.uniform(0.0, 1.0))
        g = float(rng.uniform(*sc.mains_burst_gain))
        a = int(t * fs)
        length = int((2 * rise + hold) * fs)
        b = min(n, a + length)
        if b - a < 2:
            continue
        bump = _raised_cos_env(length, int(rise * fs))[: b - a]
        env[a:b] *= 1 + (g - 1) * bump
        segs.append(TruthSegment("mains_burst", a, b, None))
    gains = np.array([1.0, rng.uniform(0.5, 1.5)])
    hum = (sc.mains_uv * env * wave)[:, None] * gains[None, :]
    return hum, fundamental, segs, {"channel_gains": gains.round(4).tolist(),
                                    "freq_min_hz": float(freq.min()), "freq_max_hz": float(freq.max())}


# ---------------------------------------------------------------------------- ECG

def _ecg(rng: np.random.Generator, n: int, fs: float, sc: Scenario) -> tuple[np.ndarray, list[TruthSegment], dict]:
    """QRS (Q, R, S Gaussians, total width 60–100 ms) + small broad T wave per beat.

    Heart rate drawn in ``ecg_bpm``; RR intervals vary ±3 % (random) and ±4 %
    (respiratory, 0.25 Hz). Per-channel amplitude 50–100 % of ``ecg_uv``, random
    polarity (lead geometry). No two beats are the same shape: the heart's electrical
    axis turns with breathing, so each channel's QRS amplitude follows the same 0.25 Hz
    respiration by ±10 % (its own phase per channel: the lead geometry differs) plus 3 %
    random per beat, and the QRS width varies by 3 % per beat (ECG-derived respiration
    rests on this modulation: Moody et al., Computers in Cardiology 1985). One ``ecg``
    segment per QRS.
    """
    out = np.zeros((n, N_EMG))
    if sc.ecg_uv <= 0:
        return out, [], {}
    bpm = float(rng.uniform(*sc.ecg_bpm))
    qrs = float(rng.uniform(*sc.ecg_qrs_ms)) / 1000.0
    rr0 = 60.0 / bpm
    nb = int(n / fs / rr0 * 1.2) + 3
    rr = rr0 * (1 + 0.03 * rng.standard_normal(nb))
    beats = rng.uniform(0, rr0) + np.cumsum(rr)
    beats = beats + rr0 * 0.04 * np.sin(2 * np.pi * 0.25 * beats)
    beats = beats[(beats - qrs) * fs > 0]
    beats = beats[(beats + 0.45) * fs < n]
    pre = qrs / 2
    length = int((pre + 0.45) * fs)
    start = np.round((beats - pre) * fs).astype(np.int64)
    t = (start[:, None] + np.arange(length)[None, :]) / fs - beats[:, None]
    w = qrs * (1 + 0.03 * rng.standard_normal(beats.size))[:, None]  # this beat's QRS width
    g = lambda c, s: np.exp(-0.5 * ((t - c) / s) ** 2)  # noqa: E731
    wave = (-0.15 * g(-0.3 * w, w / 14) + g(0.0, w / 10) - 0.3 * g(0.3 * w, w / 12)
            + 0.12 * g(0.25, 0.04))
    amps = sc.ecg_uv * rng.uniform(0.5, 1.0, N_EMG) * rng.choice((-1.0, 1.0), N_EMG)
    amps[int(np.argmax(np.abs(amps)))] = np.sign(amps[int(np.argmax(np.abs(amps)))]) * sc.ecg_uv
    gains = []
    for c in range(N_EMG):
        resp = 1 + 0.1 * np.sin(2 * np.pi * 0.25 * beats + rng.uniform(0, 2 * np.pi))
        gains.append(resp * (1 + 0.03 * rng.standard_normal(beats.size)))
    # ectopic (premature ventricular) beats replace normal ones: earlier, wide, other shape
    ectopic = rng.random(beats.size) < sc.ecg_ectopic_fraction
    ectopic[:5] = False  # the rhythm is there first
    ectopic[1:] &= ~ectopic[:-1]  # no two in a row
    normal = ~ectopic
    for c in range(N_EMG):
        add_rows(out[:, c], start[normal], wave[normal] * (amps[c] * gains[c][normal])[:, None])
    segs = [TruthSegment("ecg", int(np.round((b - pre) * fs)), int(np.round((b + pre) * fs)), None) for b in beats[normal]]
    for k in np.flatnonzero(ectopic):
        tb = beats[k - 1] + rng.uniform(0.6, 0.8) * (beats[k] - beats[k - 1])  # premature; the next beat keeps its time
        we = rng.uniform(0.12, 0.16)  # QRS width, s
        te = np.arange(-we, 0.45, 1 / fs)
        ge = lambda c0, s0: np.exp(-0.5 * ((te - c0) / s0) ** 2)  # noqa: E731
        shape = ge(0.0, we / 6) - 0.6 * ge(0.3 * we, we / 5) - 0.25 * ge(0.3, 0.05)  # discordant T wave
        i0 = int(np.round((tb - we) * fs))
        for c in range(N_EMG):
            add_rows(out[:, c], np.array([i0]), (abs(amps[c]) * rng.uniform(1.0, 1.5) * rng.choice((-1.0, 1.0)) * shape)[None, :])
        segs.append(TruthSegment("ecg", int(np.round((tb - we / 2) * fs)), int(np.round((tb + we / 2) * fs)), None))
    segs.sort(key=lambda sg: sg.start_index)
    return out, segs, {"bpm": round(bpm, 3), "qrs_ms": round(qrs * 1000, 3), "r_uv": amps.round(3).tolist(),
                       "ectopic_beats": int(ectopic.sum())}


# ---------------------------------------------------------------------------- activity timeline

def _timeline(rng: np.random.Generator, sc: Scenario, duration_s: float) -> list[tuple[str, float, float]]:
    """Non-overlapping walking bouts, gross movements and voluntary bursts (seconds)."""
    acts: list[tuple[str, float, float]] = []

    def free(a: float, b: float, margin: float = 0.5) -> bool:
        return all(b + margin <= s or a >= e + margin for _k, s, e in acts)

    if sc.walking_fraction > 0:
        bout_mean = float(np.mean(sc.walking_bout_s))
        rest_mean = bout_mean * (1 - sc.walking_fraction) / sc.walking_fraction
        t = rng.exponential(rest_mean)
        while t < duration_s:
            length = float(rng.uniform(*sc.walking_bout_s))
            acts.append(("walk", t, min(duration_s, t + length)))
            t += length + rng.exponential(rest_mean) + 1.0
    for t in _poisson_times(rng, sc.gross_moves_per_min, duration_s):
        length = float(rng.uniform(0.5, 2.0))
        if t + length <= duration_s and free(t, t + length):
            acts.append(("gross", float(t), float(t + length)))
    for t in _poisson_times(rng, sc.voluntary_per_min, duration_s):
        length = float(rng.uniform(*sc.voluntary_s))
        if t + length <= duration_s and free(t, t + length):
            acts.append(("voluntary", float(t), float(t + length)))
    return sorted(acts, key=lambda a: a[1])


def _bandlimited(rng: np.random.Generator, length: int, fs: float, lo: float, hi: float, ch: int = N_EMG) -> np.ndarray:
    sos = sps.butter(4, [lo, min(hi, 0.45 * fs)], btype="band", fs=fs, output="sos")
    pad = int(0.2 * fs)
    x = sps.sosfilt(sos, rng.standard_normal((length + pad, ch)), axis=0)[pad:]
    return x / np.maximum(x.std(axis=0), 1e-12)


def _orientation(rng: np.random.Generator, tilt_deg: float) -> np.ndarray:
    axis = np.zeros(3)
    axis[int(rng.integers(3))] = rng.choice((-1.0, 1.0))
    v = rng.standard_normal(3)
    v -= v.dot(axis) * axis
    v /= np.linalg.norm(v)
    tilt = np.deg2rad(rng.uniform(0, tilt_deg))
    return np.cos(tilt) * axis + np.sin(tilt) * v


def _basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([1.0, 0, 0]) if abs(up[0]) < 0.9 else np.array([0, 1.0, 0])
    e1 = np.cross(up, a)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(up, e1)


def _activities(rng: np.random.Generator, sc: Scenario, acts: list[tuple[str, float, float]], n: int, fs: float,
                m: int, afs: float, up0: np.ndarray,
                cable_rng: np.random.Generator) -> tuple[dict[str, np.ndarray], list[TruthSegment], np.ndarray]:
    """EMG parts ``voluntary``/``motion``, accelerometer motion and the orientation over time.
    ``cable_rng`` draws only which cable spikes a walking bout's movement envelope keeps."""
    vol = np.zeros((n, N_EMG))
    mot = np.zeros((n, N_EMG))
    acc = np.zeros((m, 3))
    up = np.tile(up0, (m, 1))
    cur = up0.copy()
    segs: list[TruthSegment] = []
    for kind, t_a, t_b in acts:
        a, b = int(t_a * fs), min(n, int(np.ceil(t_b * fs)))
        aa, ab = int(t_a * afs), min(m, int(np.ceil(t_b * afs)))
        L, AL = b - a, ab - aa
        if L < 4 or AL < 4:
            continue
        ta = np.arange(AL) / afs
        e1, e2 = _basis(cur)
        if kind == "voluntary":
            rms = _loguniform(rng, *sc.voluntary_rms_uv)
            gains = np.array([1.0, rng.uniform(0.3, 1.0)])[rng.permutation(2)]
            env = _raised_cos_env(L, int(rng.uniform(*sc.voluntary_ramp_s) * fs))
            env *= 1 + 0.2 * _smooth_uniform(rng, L, fs, 0.25)
            vol[a:b] += _bandlimited(rng, L, fs, 20, 250) * (rms * env)[:, None] * gains[None, :]
            aenv = _raised_cos_env(AL, int(0.1 * afs))
            amp = rng.uniform(5, 30)
            f1, f2 = rng.uniform(1, 4, 2)
            p1, p2 = rng.uniform(0, 2 * np.pi, 2)
            move = amp * aenv * np.sin(2 * np.pi * f1 * ta + p1)
            move2 = 0.5 * amp * aenv * np.sin(2 * np.pi * f2 * ta + p2)
            trem = rng.uniform(1, 4) * aenv * np.sin(2 * np.pi * rng.uniform(8, 12) * ta)
            acc[aa:ab] += move[:, None] * up0 + move2[:, None] * e1 + trem[:, None] * e2
            segs.append(TruthSegment("voluntary", a, b, None))
        elif kind == "walk":
            f = rng.uniform(*sc.step_hz)
            amp = rng.uniform(*sc.walk_acc_mg)
            aenv = _raised_cos_env(AL, int(0.5 * afs))
            ph = 2 * np.pi * f * ta
            vert = amp * np.sin(ph)
            lat = 0.3 * amp * np.sin(ph / 2 + rng.uniform(0, 6.3))
            ap = 0.2 * amp * np.sin(ph + np.pi / 2)
            steps = t_a + np.arange(0.25 / f, t_b - t_a, 1 / f)
            steps = steps + 0.02 / f * rng.standard_normal(steps.size)
            steps = steps[steps < t_b - 0.3]
            # heel-strike impacts: damped 15–25 Hz oscillation, 0.4 x step amplitude
            s0 = np.round(steps * afs).astype(np.int64)
            k = np.arange(int(0.15 * afs))
            fi = rng.uniform(15, 25)
            imp = 0.4 * amp * np.exp(-k / (0.03 * afs)) * np.cos(2 * np.pi * fi * k / afs)
            impact = np.zeros(m)
            add_rows(impact, s0, np.tile(imp, (s0.size, 1)) * rng.uniform(0.7, 1.3, (s0.size, 1)))
            acc[aa:ab] += ((vert * aenv)[:, None] * cur + (lat * aenv)[:, None] * e1 + (ap * aenv)[:, None] * e2)
            acc[:, :] += impact[:, None] * cur
            # EMG: slow deflection per step (Gaussian, sigma 30–80 ms) + 1–10 Hz drift
            e0 = np.round(steps * fs).astype(np.int64)
            sig = rng.uniform(0.03, 0.08)
            kk: np.ndarray = np.arange(-int(4 * sig * fs), int(4 * sig * fs) + 1)
            pulse = np.exp(-0.5 * (kk / (sig * fs)) ** 2)
            for c in range(N_EMG):
                amps = _loguniform(rng, *sc.walk_emg_uv, e0.size) * rng.choice((-1.0, 1.0), e0.size)
                add_rows(mot[:, c], e0 + kk[0], amps[:, None] * pulse[None, :])
            drift = _bandlimited(rng, L, fs, 1, 10) * rng.uniform(20, 80)
            mot[a:b] += drift * _raised_cos_env(L, int(0.5 * fs))[:, None]
            # cable-motion spikes: first derivative of a Gaussian, sigma 1–3 ms
            ts = np.sort(rng.uniform(t_a, t_b, rng.poisson(sc.cable_spikes_per_s * (t_b - t_a))))
            if ts.size:
                sg = rng.uniform(1e-3, 3e-3, ts.size)
                kk2 = np.arange(-int(0.012 * fs), int(0.012 * fs) + 1)
                x = kk2[None, :] / (sg[:, None] * fs)
                sp = -x * np.exp(0.5 - 0.5 * x * x) / 2  # peak-to-peak 1
                amp_s = _loguniform(rng, *sc.cable_spike_uv, ts.size) * rng.choice((-1.0, 1.0), ts.size)
                if sc.cable_spikes_follow_motion:
                    # a cable moves only as the limb does: each spike is kept with the
                    # probability of the bout's movement envelope at its time (its own
                    # generator, so every other part of the stream stays as it was)
                    at = np.clip(np.round((ts - t_a) * afs).astype(np.int64), 0, AL - 1)
                    amp_s = amp_s * (cable_rng.random(ts.size) < aenv[at])
                chs = rng.integers(0, N_EMG, ts.size)
                both = rng.random(ts.size) < 0.5
                st = np.round(ts * fs).astype(np.int64) + kk2[0]
                for c in range(N_EMG):
                    g = np.where(chs == c, 1.0, np.where(both, 0.5, 0.0))
                    add_rows(mot[:, c], st, sp * (amp_s * g)[:, None])
            segs.append(TruthSegment("motion", a, b, None))
        elif kind == "gross":
            new = _orientation(rng, 60.0)
            new = new if new.dot(cur) > 0 else -new
            s = np.clip(ta / max(ta[-1], 1e-9), 0, 1)
            s = s * s * (3 - 2 * s)
            path = (1 - s)[:, None] * cur + s[:, None] * new
            path /= np.linalg.norm(path, axis=1, keepdims=True)
            up[aa:ab] = path
            up[ab:] = new
            cur = new
            amp = rng.uniform(100, 800)
            hann = np.hanning(AL)
            osc = amp * hann * np.sin(2 * np.pi * rng.uniform(1, 5) * ta)
            acc[aa:ab] += osc[:, None] * e1 + (0.5 * osc)[:, None] * e2
            rms = rng.uniform(30, 200)
            hn = np.hanning(L)
            mot[a:b] += _bandlimited(rng, L, fs, 20, 250) * (rms * hn)[:, None]
            sig = rng.uniform(0.1, 0.3) * fs
            kk = np.arange(L) - L / 2
            # slow deflection: a Gaussian lowered to 0 at the segment's edges (cut off
            # there, it made a step of up to 0.7 x its height at the movement's first and
            # last sample, with no acceleration behind it)
            bump = np.exp(-0.5 * (kk / sig) ** 2)
            edge = max(bump[0], bump[-1])
            bump = np.clip((bump - edge) / (1.0 - edge), 0.0, None)
            mot[a:b] += (rng.uniform(200, 800) * rng.choice((-1.0, 1.0), N_EMG))[None, :] * bump[:, None]
            segs.append(TruthSegment("motion", a, b, None))
    return {"voluntary": vol, "motion": mot, "acc_motion": acc}, segs, up


# ---------------------------------------------------------------------------- pops, lead-off

def _pops(rng: np.random.Generator, sc: Scenario, n: int, fs: float, duration_s: float
          ) -> tuple[np.ndarray, list[TruthSegment]]:
    """Step of 200 µV–3 mV (log-uniform, random sign) then exponential decay (tau
    50–200 ms), on one channel; the segment spans 5 tau (to < 0.7 % of the step)."""
    out = np.zeros((n, N_EMG))
    times = _poisson_times(rng, sc.pops_per_min, duration_s)
    segs: list[TruthSegment] = []
    if times.size == 0:
        return out, segs
    amp = _loguniform(rng, *sc.pop_uv, times.size) * rng.choice((-1.0, 1.0), times.size)
    tau = rng.uniform(*sc.pop_tau_ms, times.size) / 1000.0
    ch = rng.integers(0, N_EMG, times.size)
    start = np.round(times * fs).astype(np.int64)
    k = np.arange(int(8 * tau.max() * fs) + 1)
    rows = amp[:, None] * np.exp(-k[None, :] / (tau[:, None] * fs)) * (k[None, :] < 8 * tau[:, None] * fs)
    for c in range(N_EMG):
        add_rows(out[:, c], start[ch == c], rows[ch == c])
    for s, t, c in zip(start, tau, ch):
        segs.append(TruthSegment("pop", int(s), int(min(n, s + int(np.ceil(5 * t * fs)))), int(c)))
    return out, segs


def _lead_off(rng: np.random.Generator, sc: Scenario, n: int, fs: float, duration_s: float
              ) -> list[tuple[TruthSegment, str, float]]:
    """Lead-off stretches per channel: ``rail`` (output pinned at ±rail) or ``hum``
    (5–20 mV of mains, the input floating)."""
    out: list[tuple[TruthSegment, str, float]] = []
    for t in _poisson_times(rng, sc.lead_off_per_min, duration_s):
        length = rng.uniform(*sc.lead_off_s)
        a, b = int(t * fs), min(n, int((t + length) * fs))
        c = int(rng.integers(0, N_EMG))
        if b - a < 2 or any(s.overlaps(a - int(fs), b + int(fs), c) for s, _m, _v in out):
            continue
        mode = "rail" if rng.random() < 0.5 else "hum"
        val = float(rng.choice((-1.0, 1.0)) * sc.rail_uv) if mode == "rail" else float(rng.uniform(5000, 20000))
        out.append((TruthSegment("lead_off", a, b, c), mode, val))
    return out


# ---------------------------------------------------------------------------- simulate

def simulate(scenario: str | Scenario, duration_s: float, seed: int, *, components: bool = False,
             **overrides: object) -> SimRecording:
    """Simulate ``duration_s`` seconds of ``scenario`` (a name in :data:`SCENARIOS` or a
    :class:`Scenario`), deterministically from ``seed``.

    ``overrides`` replace scenario fields (``simulate("benign_clean", 60, 1,
    twitch_rate_per_min=30)``). With ``components=True`` the recording keeps every
    additive part in ``rec.components`` (``"twitch"`` is the noise-free twitch part).
    """
    sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    if overrides:
        sc = sc.replace(**overrides)
    if duration_s <= 0:
        raise ValueError("duration_s must be > 0")
    fs, afs = float(sc.emg_rate_hz), float(sc.acc_rate_hz)
    n, m = int(round(duration_s * fs)), int(round(duration_s * afs))
    dur = n / fs
    R = lambda part: _rng(seed, sc.name, part)  # noqa: E731

    parts: dict[str, np.ndarray] = {}
    segments: list[TruthSegment] = []
    parts["noise"] = _noise(R("noise"), n, fs, sc.noise_white_uv, sc.noise_pink_uv)
    parts["wander"] = _wander(R("wander"), n, fs, sc.wander_uv, sc.wander_cutoff_hz)
    parts["mains"], fundamental, mseg, mains_info = _mains(R("mains"), n, fs, sc, dur)
    segments += mseg
    parts["ecg"], eseg, ecg_info = _ecg(R("ecg"), n, fs, sc)
    segments += eseg
    up0 = _orientation(R("orientation"), sc.acc_tilt_deg)
    acts = _timeline(R("timeline"), sc, dur)
    act_parts, aseg, up = _activities(R("activities"), sc, acts, n, fs, m, afs, up0, R("cable"))
    segments += aseg
    parts["voluntary"], parts["motion"] = act_parts["voluntary"], act_parts["motion"]
    parts["pop"], pseg = _pops(R("pops"), sc, n, fs, dur)
    segments += pseg
    leads = _lead_off(R("lead_off"), sc, n, fs, dur)
    segments += [s for s, _m, _v in leads]

    # twitches, never inside voluntary / motion / lead-off segments
    units = make_units(R("units"), N_EMG, sc) if not sc.is_control and sc.twitch_rate_per_min > 0 else []
    exclude = [(s.start_index, s.end_index) for s in segments if s.kind in EXCLUDE_KINDS]
    ev = fire(R("firing"), units, sc, fs, n, exclude)
    parts["twitch"], acc_mmg, twitches = render_twitches(units, ev, fs, n, N_EMG, afs, m, R("mmg"))

    emg = np.zeros((n, N_EMG))
    for p in parts.values():
        emg += p
    lead = np.zeros((n, N_EMG))
    for s, mode, val in leads:
        c = s.channel
        if mode == "rail":
            lead[s.start_index:s.end_index, c] = val - emg[s.start_index:s.end_index, c]
        else:
            env = _raised_cos_env(s.end_index - s.start_index, int(0.05 * fs))
            lead[s.start_index:s.end_index, c] = val * env * fundamental[s.start_index:s.end_index]
    emg += lead
    parts["lead_off"] = lead

    # accelerometer (mg): gravity along "up" + noise + tremor + motion + MMG
    ar = R("acc_noise")
    acc_parts = {
        "acc_gravity": 1000.0 * up,
        "acc_noise": ar.standard_normal((m, 3)) * sc.acc_noise_mg
        + _bandlimited(ar, m, afs, 8, 12, 3) * sc.acc_tremor_mg,
        "acc_motion": act_parts["acc_motion"],
        "acc_mmg": acc_mmg if acc_mmg is not None else np.zeros((m, 3)),
    }
    acc = np.zeros((m, 3))
    for p in acc_parts.values():
        acc += p
    if sc.acc_clock_ppm or sc.acc_clock_offset_ms or sc.acc_clock_wander_ppm:
        # the accelerometer samples on its own oscillator: sample j at EMG time t_j
        t_acc = chip_sample_times_s(m, afs, sc.acc_clock_ppm, sc.acc_clock_offset_ms * 1e-3,
                                    sc.acc_clock_wander_ppm, sc.acc_clock_wander_s)
        acc = resample_at(acc, afs, t_acc)
        if components:
            acc_parts = {k: resample_at(v, afs, t_acc) for k, v in acc_parts.items()}

    segments.sort(key=lambda s: (s.start_index, s.kind))
    params = {
        "scenario": sc.as_dict(), "seed": seed, "duration_s": dur, "n_emg": n, "n_acc": m,
        "units": [u.as_dict() for u in units], "mains": mains_info, "ecg": ecg_info,
        "orientation_up": up0.round(5).tolist(),
        "activities": [{"kind": k, "start_s": round(a, 4), "end_s": round(b, 4)} for k, a, b in acts],
        "lead_off": [{"start_index": s.start_index, "channel": s.channel, "mode": mo} for s, mo, _v in leads],
        "twitch_exclusion_kinds": list(EXCLUDE_KINDS),
        "rate_semantics": "twitch_rate_per_min is per channel, primary discharges only, over time "
                          "outside the excluded segments",
    }
    comps = {**parts, **acc_parts} if components else {}
    return SimRecording(sc.name, seed, fs, emg, EMG_LABELS, afs, acc, twitches, segments, params,
                        sc.is_control, comps)


def inject_twitches(background_uv: np.ndarray, rate_hz: float, seed: int, *, units_per_channel: int = 3,
                    rate_per_min: float = 20.0, amplitude_uv: tuple[float, float] = (50.0, 400.0),
                    duration_ms: tuple[float, float] = (5.0, 25.0), doublet_prob: float = 0.0,
                    crosstalk_prob: float = 0.0, exclude: Sequence[tuple[int, int]] = (),
                    ) -> tuple[np.ndarray, list[TruthTwitch]]:
    """Add simulated motor-unit potentials to a real recording (µV, (n, ch) or (n,)).

    Same unit and firing model as :func:`simulate` (``rate_per_min`` per channel);
    ``exclude`` lists sample intervals ``[start, end)`` to keep free of twitches (e.g.
    the recording's own voluntary bursts). Returns ``(background + twitches, truth)``;
    ``result - background`` is the noise-free twitch component. No accelerometer.
    """
    bg = np.asarray(background_uv, dtype=np.float64)
    one_d = bg.ndim == 1
    x = bg[:, None] if one_d else bg
    n, ch = x.shape
    sc = SCENARIOS["benign_clean"].replace(
        name="inject", units_per_channel=units_per_channel, twitch_rate_per_min=rate_per_min,
        twitch_amplitude_uv=tuple(amplitude_uv), twitch_duration_ms=tuple(duration_ms),
        doublet_prob=doublet_prob, crosstalk_prob=crosstalk_prob, mmg_prob=0.0)
    units = make_units(_rng(seed, "inject", "units"), ch, sc)
    ev = fire(_rng(seed, "inject", "firing"), units, sc, float(rate_hz), n, list(exclude))
    comp, _acc, truth = render_twitches(units, ev, float(rate_hz), n, ch)
    out = x + comp
    return (out[:, 0] if one_d else out), truth
