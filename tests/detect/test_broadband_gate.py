"""The matched-filter bank searches only where the raised floor is broad-band electrode
noise (detector 1.18, :mod:`twitchwatch.detect.broadband`): not muscle activity (a
band-limited, spiky interference pattern), not quantisation (a staircase of ADC steps),
not a floor that waxes and wanes. Each rule is shown to matter: with the gate opened wide
(its limits set to let anything through) the bank searches those floors and finds
potentials there; and any block split gives the same events.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from twitchwatch.detect import DetectorConfig, TwitchDetector
from twitchwatch.detect.broadband import BroadbandGate
from twitchwatch.detect.mfdetect import hermite_rodriguez

FS = 2000.0
REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
#: the gate's limits opened wide: every raised floor searched (the bank of 1.18 before the gate)
OPEN = dict(mf_gate_min_hf_share=0.0, mf_gate_max_rms_ratio=1e9, mf_gate_max_spread=1e9, mf_gate_lattice_k=0.0)


def _activity(seed: int, seconds: float, fs: float = FS, rate_hz: float = 60.0) -> np.ndarray:
    """A weak contraction's surface EMG: biphasic potentials of 8-15 ms (energy below
    250 Hz) of 20-60 µV at random (Poisson) times, summed, on 2 µV of white noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    x = rng.normal(0.0, 2.0, n)
    t = 0.0
    while True:
        t += rng.exponential(1.0 / rate_hz)
        i = int(t * fs)
        if i >= n - int(0.05 * fs):
            break
        lam = rng.uniform(1.5, 3.0) * 1e-3 * fs
        k = np.arange(-int(4 * lam), int(4 * lam) + 1) / lam
        w = 2 * k * np.exp(-k * k)
        x[i:i + w.size] += rng.uniform(20.0, 60.0) * rng.choice([-1, 1]) * w / np.ptp(w) * 2
    return x


def _run(x: np.ndarray, block: int = 200, fs: float = FS, **cfg):
    det = TwitchDetector(fs, ("c",), config=DetectorConfig(**cfg))
    ev = []
    for k in range(0, x.shape[0], block):
        ev += det.process_emg(x[k:k + block, None], k)
    ev += det.flush()
    return ev, det


def _floor(det) -> float:
    return float(det.noise_floor_uv[0])


def test_muscle_activity_raising_the_floor_is_not_searched():
    x = _activity(1, 40.0)
    events, det = _run(x)
    assert _floor(det) > 5.0  # the floor is raised: the bank of 1.18 before the gate searched it
    _, det_open = _run(x, **OPEN)
    assert det_open.counts["mf_found"] >= 20  # ... and found that activity's potentials
    assert det.counts["mf_found"] == 0


def test_a_quantised_floor_is_not_broad_band_noise():
    """Noise of 8-15 µV in band read by an 8-bit front end (11.7 µV steps, as the real
    PLUX 8-bit recording): the steps are estimated from the samples, and a floor under
    twice the step is not searched (it passes every other test: white, Gaussian enough,
    steady). The real 8-bit recording, where such a floor made the ungated bank count
    4 -> 35 at rest, is the real-data test below."""
    rng = np.random.default_rng(2)
    for sd in (12.0, 20.0):
        x = np.round(rng.normal(0.0, sd, int(10 * FS)) / 11.71) * 11.71
        y = _bp(x)
        gate = BroadbandGate(1, FS, 200, 31)
        assert not gate.process(x[None, :], y[None, :]).any()
        assert gate.lattice[0] == pytest.approx(11.71)
        no_lattice_rule = BroadbandGate(1, FS, 200, 31, lattice_k=0.0)
        assert no_lattice_rule.process(x[None, :], y[None, :])[0, -1]
        fine = x + rng.normal(0.0, 1e-3, x.size)  # the same floor off the lattice: searched
        assert BroadbandGate(1, FS, 200, 31).process(fine[None, :], _bp(fine)[None, :])[0, -1]


def test_a_floor_that_waxes_and_wanes_is_not_broad_band_noise():
    """Broad-band Gaussian noise whose level alternates every half second between 8 and
    20 µV (an unsteady contact, or activity switching on and off): not the steady noise
    the threshold's false-alarm rate is stated for. Steady noise of the same band is."""
    rng = np.random.default_rng(3)
    n = int(20 * FS)
    level = np.where((np.arange(n) // 1000) % 2 == 0, 8.0, 20.0)
    x = rng.normal(0.0, 1.0, n) * level
    assert not BroadbandGate(1, FS, 200, 31).process(x[None, :], _bp(x)[None, :]).any()
    no_spread_rule = BroadbandGate(1, FS, 200, 31, max_spread=1e9)
    assert no_spread_rule.process(x[None, :], _bp(x)[None, :])[0, -1]
    y0 = rng.normal(0.0, 13.0, n)
    assert BroadbandGate(1, FS, 200, 31).process(y0[None, :], _bp(y0)[None, :])[0, -1]


def _bp(x: np.ndarray, fs: float = FS) -> np.ndarray:
    return signal.sosfilt(signal.butter(2, (20.0, 450.0), "bandpass", fs=fs, output="sos"), x)


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 4000.0])
def test_broad_band_noise_is_broad_band_and_a_contraction_is_not(fs):
    rng = np.random.default_rng(4)
    n = int(10 * fs)
    w = rng.normal(0.0, 13.0, n)
    g = BroadbandGate(1, fs, int(0.1 * fs), 31)
    on = g.process(w[None, :], _bp(w, fs)[None, :])[0]
    assert not on[: int(3.0 * fs)].any()  # a full history first (3.1 s)
    assert on[int(3.2 * fs):].all()
    a = _activity(5, 10.0, fs, rate_hz=150.0)
    g2 = BroadbandGate(1, fs, int(0.1 * fs), 31)
    assert not g2.process(a[None, :], _bp(a, fs)[None, :]).any()


@pytest.mark.parametrize("block", [37, 1000, 2000])
def test_any_block_split_gives_the_same_gate_and_events(block):
    """Poor-contact noise with potentials, then 10 s of activity, then noise again: the
    gate turns off and on at the same samples whatever the split."""
    rng = np.random.default_rng(6)
    n = int(36 * FS)
    x = rng.normal(0.0, 13.0, n)
    x[int(12 * FS):int(22 * FS)] += 3 * _activity(7, 10.0)
    w = hermite_rodriguez(1, 2.5, FS) + 0.4 * hermite_rodriguez(2, 2.5, FS)
    w *= 60.0 / np.ptp(w)  # 60 µV p-p: ~4.5 sigma in single samples, found by the bank only
    for t in np.arange(4.0, 35.0, 0.9):
        i = int(t * FS)
        x[i:i + w.size] += w
    ref, det_ref = _run(x, 200)
    assert det_ref.counts["mf_found"] >= 5  # searched before and after the activity
    ev, det = _run(x, block)
    assert ev == ref
    assert det.counts == det_ref.counts


def _real(path: str, column: str) -> np.ndarray:
    p = REAL / path
    if not p.exists():
        pytest.skip(f"real recordings not present: {p} (shared data folder absent)")
    with open(p) as fh:
        lines = fh.readlines(4096)
    head = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    col = lines[head].strip().split(",").index(column)
    return np.loadtxt(p, delimiter=",", skiprows=head + 1, usecols=[col]) * 1000.0


@pytest.mark.parametrize("path, column, fs", [
    ("plux-biosignalsnotebooks/derived_csv/emg_1000_hz_8_16_bits_emg.csv", "emg_mV_8bit", 1000.0),
    ("physionet-emgdb/derived_csv/emg_myopathy_clean.csv", "emg_mV", 4000.0),
])
def test_real_floors_raised_by_quantisation_or_activity_are_not_searched(path, column, fs):
    """The two real recordings where the ungated bank counted most (8-bit PLUX 4 -> 35 at
    rest, needle myopathy 43 -> 127): the gate keeps the bank out of both."""
    x = _real(path, column)
    _, det = _run(x, int(0.1 * fs), fs)
    assert det.counts["mf_found"] == 0
    _, det_open = _run(x, int(0.1 * fs), fs, **OPEN)
    assert det_open.counts["mf_found"] > 100


def test_decisions_computed_only_where_the_floor_is_raised_are_the_same_there():
    """The gate computes a window's medians only when a decision is read (the engine's
    floor above 5 µV): where it is read, the answer equals the one computed at every
    window end. Noise alternating 3 / 13 µV every 6 s, with coarse steps for a while (the
    lattice changes while decisions wait), fed in blocks of 37 samples."""
    rng = np.random.default_rng(8)
    n = int(40 * FS)
    level = np.where((np.arange(n) // int(6 * FS)) % 2 == 0, 3.0, 13.0)
    x = rng.normal(0.0, 1.0, n) * level
    x[: int(8 * FS)] = np.round(x[: int(8 * FS)] / 4.0) * 4.0
    y = _bp(x)
    # the floor as the engine's: a running median of 100-ms window sigmas over 31 windows
    sig = np.median(np.abs(y[: n // 200 * 200].reshape(-1, 200)), axis=1) / 0.6745
    fl_w = np.array([np.median(sig[max(0, i - 30):i + 1]) for i in range(sig.size)])
    floor = np.concatenate([[np.nan], fl_w])[np.arange(n) // 200]  # in force after each window end
    eager, lazy = BroadbandGate(1, FS, 200, 31), BroadbandGate(1, FS, 200, 31)
    out_e, out_l = np.zeros(n, bool), np.zeros(n, bool)
    for k in range(0, n, 37):
        e = min(n, k + 37)
        out_e[k:e] = eager.process(x[None, k:e], y[None, k:e])[0]
        after = floor[e] if e < n else fl_w[-1]
        out_l[k:e] = lazy.process(x[None, k:e], y[None, k:e], None, floor[None, k:e], np.array([after]))[0]
    read = floor > 5.0
    assert read.mean() > 0.3 and out_e[read].any()
    assert (out_e[read] == out_l[read]).all()
