"""A motor unit firing a regular train (voluntary drive: a weak contraction, recruitment
or de-recruitment at a burst's edge) is not a fasciculation (issue #19 item 1,
docs/detection.md 3a, ``detect/train.py``): its discharges are kept as candidates, not
counted, at any sample rate; the same potential firing irregularly and rarely, or as a
doublet, still counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twitchwatch.detect import DetectorConfig
from twitchwatch.detect.train import fires_in_train, recurrences

from test_engine_counting import _run  # the detector in 100 ms blocks, then flush

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"


def _muap(fs: float, pp_uv: float) -> np.ndarray:
    """A triphasic surface potential (second Hermite-Rodriguez shape), main phase ~3 ms."""
    t = np.arange(-int(0.012 * fs), int(0.012 * fs) + 1) / fs * 1e3
    lam = 2.0
    w = (1 - 2 * (t / lam) ** 2) * np.exp(-(t / lam) ** 2)
    return w * pp_uv / np.ptp(w)


def _stream(fs: float, times_s, pp_uv, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((int(seconds * fs), 1)) * 2.5
    w = _muap(fs, 1.0)
    h = w.size // 2
    for t, a in zip(times_s, pp_uv):
        i = int(round(t * fs))
        x[i - h:i + h + 1, 0] += a * w
    return x


def _trains(rng, seconds):
    """Trains of 0.6-1.2 s at 8-14 Hz (interspike intervals +-15 %) every ~4 s: the last
    unit firing at a voluntary burst's edge; discharges 25-45 µV p-p on 2.5 µV noise (~10-18
    sigma, clear)."""
    times, amps = [], []
    t = 1.0
    while t < seconds - 2.0:
        rate = rng.uniform(8.0, 14.0)
        end = t + rng.uniform(0.6, 1.2)
        while t < end:
            times.append(t)
            amps.append(rng.uniform(25.0, 45.0))
            t += rng.uniform(0.85, 1.15) / rate
        t += rng.uniform(3.0, 5.0)
    return times, amps


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 4000.0])
def test_a_unit_firing_a_regular_train_is_not_counted(fs):
    rng = np.random.default_rng(int(fs))
    times, amps = _trains(rng, 60.0)
    x = _stream(fs, times, amps, 60.0, seed=3)
    events, det = _run(x, fs)
    counted = [e for e in events if e.counted]
    n_trains = sum(1 for a, b in zip(times, times[1:]) if b - a > 1.0) + 1
    # at most the first two discharges of each train can count (nothing before them yet)
    assert len(events) > 0.8 * len(times)
    assert len(counted) <= 2 * n_trains
    assert det.counts["not_counted_train"] >= len(times) - 2 * n_trains - 0.15 * len(times)
    # with the rule off they would all count: they are clear potentials
    off, _ = _run(x, fs, config=DetectorConfig(train_min_corr=0.0))
    assert sum(e.counted for e in off) > 0.8 * len(times)


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 4000.0])
def test_the_same_potential_firing_irregularly_or_as_doublets_counts(fs):
    rng = np.random.default_rng(11)
    times, t = [], 1.0
    while t < 58.0:  # Poisson firing at 20/min, a third of them doublets 10-35 ms apart
        times.append(t)
        if rng.random() < 0.33:
            times.append(t + rng.uniform(0.010, 0.035))
        t += 0.3 + rng.exponential(3.0)
    amps = rng.uniform(25.0, 45.0, len(times))
    x = _stream(fs, times, amps, 60.0, seed=5)
    events, det = _run(x, fs)
    hits = sum(any(abs(e.sample_index / fs - t) < 0.015 and e.counted for e in events) for t in times)
    assert hits >= 0.9 * len(times)
    assert det.counts["not_counted_train"] == 0


def test_recurrences_and_fires_in_train_on_a_plain_signal():
    fs = 2000.0
    w = _muap(fs, 30.0)
    h = w.size // 2
    y = np.zeros(int(fs))
    peaks = [200, 400, 590]  # 100 ms then 95 ms: a 10 Hz train
    for p in peaks:
        y[p - h:p + h + 1] += w
    y += np.random.default_rng(1).standard_normal(y.size) * 0.5
    half, isi = int(0.004 * fs), (int(0.04 * fs), int(0.2 * fs))
    kw = dict(min_corr=0.8, amp_ratio=(0.4, 2.5), min_k=3.0)
    rec = recurrences(y, 590, half, 1.0, first=0, last=590 - isi[0], **kw)
    assert any(abs(j - 200) <= 1 for j in rec) and any(abs(j - 400) <= 1 for j in rec)
    assert fires_in_train(y, 590, half, 1.0, isi=isi, **kw)
    assert not fires_in_train(y, 400, half, 1.0, isi=isi, **kw)  # one discharge before it only
    z = y.copy()
    z[200 - h:200 + h + 1] -= w * 0.8  # the first discharge 5x smaller: not the same unit's
    assert not fires_in_train(z, 590, half, 1.0, isi=isi, **kw)
    # another unit's shape (biphasic) at the same times is no recurrence
    t = (np.arange(w.size) - h) / fs * 1e3
    odd = -t * np.exp(-(t / 2.0) ** 2)
    v = np.random.default_rng(2).standard_normal(y.size) * 0.5
    v[590 - h:590 + h + 1] += w
    for p in peaks[:2]:
        v[p - h:p + h + 1] += odd * 30.0 / np.ptp(odd)
    assert not fires_in_train(v, 590, half, 1.0, isi=isi, **kw)


def test_real_rest_between_voluntary_bursts_counts_no_voluntary_train():
    """PLUX adductor pollicis, 21 brief voluntary bursts on a ~2.5 µV baseline: the potentials
    counted between bursts (engine 1.11: 10 in 1.04 rest minutes) were one unit firing at
    8-18 Hz at the bursts' edges; with the train test they are candidates."""
    p = REAL / "plux-biosignalsnotebooks" / "derived_csv" / "emg_1000_hz_16_bits_solo_emg.csv"
    if not p.exists():
        pytest.skip(f"real recordings not present: {p} (shared data folder absent)")
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.detect import real as realdata
    rec = next(r for r in realdata.load_plux(REAL) if r.name.startswith("plux/emg_1000_hz_16_bits_solo"))
    act = realdata.activity_segments(rec.emg_uv, rec.rate_hz)
    events, det = _run(rec.emg_uv, rec.rate_hz)
    rest = [e for e in events if e.counted and not any(a <= e.sample_index < b for a, b, _ in act)]
    rest_min = (rec.emg_uv.shape[0] - sum(b - a for a, b, _ in act)) / rec.rate_hz / 60.0
    assert len(rest) / rest_min <= 1.0
    assert det.counts["not_counted_train"] >= 5
