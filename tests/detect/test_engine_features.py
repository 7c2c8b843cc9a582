"""Mains finder, accelerometer fusion, unit identity, lead-off: each on its own."""

from __future__ import annotations

import numpy as np
import pytest

from detect_synth import RATE_HZ, make_recording, match, potential_shape
from engine_synth import feed, quiet_acc
from twitchwatch.detect import TwitchDetector

LABELS = ["emg0", "emg1"]


def _hum(n, f0, amp_uv, drift_hz=0.0, harmonics=((3, 0.4), (5, 0.15)), seed=0):
    t = np.arange(n) / RATE_HZ
    f = f0 + drift_hz * np.sin(2 * np.pi * t / 60.0)  # slow drift (faster than real grids)
    phase = 2 * np.pi * np.cumsum(f) / RATE_HZ
    hum = amp_uv * np.sin(phase)
    for h, rel in harmonics:
        hum += rel * amp_uv * np.sin(h * phase + seed)
    return hum


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("f0", [50.0, 60.0])
def test_mains_found_and_drift_followed(f0, seed):
    emg, _ = make_recording(seed, 40.0)
    hum = _hum(emg.shape[0], f0 + 0.1 * (seed - 1), 30.0, drift_hz=0.2, seed=seed)
    det = TwitchDetector(RATE_HZ, LABELS)
    found = []
    for k in range(0, emg.shape[0], 2000):
        det.process_emg(emg[k : k + 2000] + hum[k : k + 2000, None], k)
        found.append(det.quality()[0].mains_hz)
    t = np.arange(emg.shape[0]) / RATE_HZ
    true_f = f0 + 0.1 * (seed - 1) + 0.2 * np.sin(2 * np.pi * t / 60.0)
    errors = [abs(f - true_f[min(k * 2000 + 1000, len(t) - 1)]) for k, f in enumerate(found[2:], start=1)]
    assert all(f is not None for f in found[2:])
    assert max(errors) <= 0.1  # the estimate of the previous 1-s window follows the drift
    assert any(abs(x - 3 * found[-1]) < 1.0 for x in det.mains_notches_hz)  # 3rd harmonic notched


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("f0", [50.0, 60.0])
def test_twitch_detection_unaffected_by_hum_on_dense_data(f0, seed):
    """30 µV hum, two 50-300 µV potentials per second. Before 1.8 (a known weakness, xfail)
    the notches rang after large potentials (echo-rule rejections of close followers) and
    the potentials jittered the hum estimate (residual hum): 89-94 % of the hum-free hits.
    The transient gate (docs/detection.md, mains) keeps them >= 97 %."""
    emg, truth = make_recording(seed, 40.0)
    clean_events, _ = feed(TwitchDetector(RATE_HZ, LABELS), emg, None, (200,), (), (0,))
    hum = _hum(emg.shape[0], f0 + 0.1 * (seed - 1), 30.0, drift_hz=0.2, seed=seed)
    events, _ = feed(TwitchDetector(RATE_HZ, LABELS), emg + hum[:, None], None, (200,), (), (0,))
    hits_clean, fp_clean = match(clean_events, truth)
    hits, fp = match(events, truth)
    assert hits >= 0.95 * hits_clean
    assert len(fp) <= len(fp_clean) + 3


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("f0", [50.0, 60.0])
def test_twitch_detection_with_hum_at_a_realistic_rate(f0, seed):
    """One potential every ~3 s (fasciculation rates are a few to tens per minute)."""
    emg, truth = make_recording(seed, 60.0, mean_interval_s=3.0)
    clean_events, _ = feed(TwitchDetector(RATE_HZ, LABELS), emg, None, (200,), (), (0,))
    hum = _hum(emg.shape[0], f0 + 0.1 * (seed - 1), 30.0, drift_hz=0.2, seed=seed)
    events, _ = feed(TwitchDetector(RATE_HZ, LABELS), emg + hum[:, None], None, (200,), (), (0,))
    hits_clean, fp_clean = match(clean_events, truth)
    hits, fp = match(events, truth)
    assert hits >= 0.9 * hits_clean
    assert len(fp) <= len(fp_clean) + 2


def test_notches_do_not_ring_after_a_large_potential():
    """1.8: the notches' resonators free-run over a large potential (transient gate), so
    the cleaned signal after it is the hum-free one to within the residual hum. Before, a
    300 µV potential left an 11-13 µV ring at the notch frequency (now 0.9-1.7 µV; the
    residual hum alone reaches 1.2 µV)."""
    rng = np.random.default_rng(5)
    n = int(12 * RATE_HZ)
    x = rng.normal(0, 3.0, (n, 1))
    shape = potential_shape(300.0, 10.0, 2, RATE_HZ)
    starts = [int(s * RATE_HZ) for s in (4.3, 6.1, 8.7, 10.2)]
    for s in starts:
        x[s : s + shape.size, 0] += shape
    cleaned = {}
    for name, sig in (("hum", x + _hum(n, 50.0, 30.0)[:, None]), ("clean", x)):
        det = TwitchDetector(RATE_HZ, ["emg0"])
        out = []
        for k in range(0, n, 200):
            det.process_emg(sig[k : k + 200], k)
            out.append(det._ring.read(k, k + 200, det._rows["y"])[0].copy())
        cleaned[name] = np.concatenate(out)
    diff_uv = cleaned["hum"] - cleaned["clean"]
    for s in starts:
        after = diff_uv[s + shape.size + int(0.02 * RATE_HZ) : s + int(0.2 * RATE_HZ)]
        assert np.abs(after).max() < 3.0


def test_residual_hum_below_a_tenth_of_the_noise():
    rng = np.random.default_rng(4)
    n = int(30 * RATE_HZ)
    noise = rng.normal(0, 3.0, (n, 1))
    hum = _hum(n, 50.0, 100.0, drift_hz=0.2)[:, None]
    det = TwitchDetector(RATE_HZ, ["emg0"])
    det.process_emg(noise + hum, 0)
    det_ref = TwitchDetector(RATE_HZ, ["emg0"])
    det_ref.process_emg(noise, 0)
    # cleaned outputs over the last 10 s: the difference is the residual hum
    y = det._ring.read(n - int(1.9 * RATE_HZ), n, det._rows["y"])[0]
    y_ref = det_ref._ring.read(n - int(1.9 * RATE_HZ), n, det_ref._rows["y"])[0]
    residual_rms = float(np.sqrt(np.mean((y - y_ref) ** 2)))
    assert residual_rms < 0.1 * 3.0 * 10  # < 3 µV from 100 µV hum (+ 40 µV 3rd, 15 µV 5th): -30 dB


def _single_potentials(seed, n_s=30.0, amp=80.0):
    rng = np.random.default_rng(seed)
    n = int(n_s * RATE_HZ)
    emg = rng.normal(0, 3.0, (n, 1))
    # irregular intervals 0.3-1.8 s (a regular train at 0.4-1.5 s would look like ECG)
    peaks = np.cumsum(rng.uniform(0.3, 1.8, size=int(n_s)) * RATE_HZ).astype(int) + int(RATE_HZ)
    peaks = peaks[peaks < n - 2000]
    shape = potential_shape(amp, 10.0, 2, RATE_HZ)
    for p in peaks:
        emg[p : p + shape.size, 0] += shape
    return emg, peaks + shape.size // 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_accelerometer_response_raises_confidence(seed):
    emg, peaks = _single_potentials(seed)
    acc_quiet = quiet_acc(emg.shape[0] // 2, seed)
    acc_twitch = acc_quiet.copy()
    for p in peaks:
        a = p // 2 + 12
        acc_twitch[a : a + 16, 1] += 6.0 * np.sin(np.linspace(0, 2 * np.pi, 16))
    e_quiet, _ = feed(TwitchDetector(RATE_HZ, ["emg0"], 1000.0), emg, acc_quiet, (200,), (100,), (0, 1))
    e_twitch, _ = feed(TwitchDetector(RATE_HZ, ["emg0"], 1000.0), emg, acc_twitch, (200,), (100,), (0, 1))
    assert len(e_quiet) == len(e_twitch) >= 0.9 * len(peaks)
    assert all(b.confidence > a.confidence for a, b in zip(e_quiet, e_twitch))
    assert all(b.acc_response_mg > 2.0 for b in e_twitch)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gross_motion_suppresses_and_is_reported(seed):
    emg, peaks = _single_potentials(seed)
    acc = quiet_acc(emg.shape[0] // 2, seed)
    lo, hi = 8000, 14000  # acc samples = EMG 16000..28000
    t = np.arange(hi - lo) / 1000.0
    acc[lo:hi, 0] += 300.0 * np.sin(2 * np.pi * 1.5 * t)
    events, artefacts = feed(TwitchDetector(RATE_HZ, ["emg0"], 1000.0), emg, acc, (200,), (100,), (0, 1))
    assert not [e for e in events if 2 * lo <= e.sample_index < 2 * hi]
    assert any(a.kind == "motion" and a.start_index < 2 * hi and a.end_index > 2 * lo for a in artefacts)
    assert len(events) >= 0.85 * len([p for p in peaks if not (2 * lo - 400 <= p < 2 * hi + 400)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_units_are_stable_and_not_merged(seed):
    """Three units with different shapes fire ~40 times each at random times."""
    rng = np.random.default_rng(seed)
    n = int(120 * RATE_HZ)
    emg = rng.normal(0, 3.0, (n, 1))
    shapes = [potential_shape(120.0, 8.0, 2, RATE_HZ), -potential_shape(200.0, 14.0, 3, RATE_HZ),
              potential_shape(90.0, 20.0, 3, RATE_HZ)]
    times = np.sort(rng.choice(np.arange(2000, n - 2000, 300), size=120, replace=False))
    labels = rng.integers(0, 3, size=times.size)
    for t0, u in zip(times, labels):
        emg[t0 : t0 + shapes[u].size, 0] += shapes[u] * rng.uniform(0.9, 1.1)
    centres = times + np.array([shapes[u].size // 2 for u in labels])
    events, _ = feed(TwitchDetector(RATE_HZ, ["emg0"]), emg, None, (200,), (), (0,))
    ids_per_unit: list[list[int]] = [[], [], []]
    for c, u in zip(centres, labels):
        near = [e for e in events if abs(e.sample_index - c) <= 30]
        if near:
            ids_per_unit[u].append(near[0].unit_id)
    majority = []
    for ids in ids_per_unit:
        assert len(ids) >= 25
        top, count = np.unique(ids, return_counts=True)
        assert count.max() >= 0.9 * len(ids)
        majority.append(int(top[np.argmax(count)]))
    assert len(set(majority)) == 3


def test_lead_off_rail_is_reported_and_not_a_twitch():
    emg, _ = make_recording(3, 20.0)
    emg[20000:28000, 0] = 400_000.0  # at the rail for 4 s
    det = TwitchDetector(RATE_HZ, LABELS)
    events, artefacts = feed(det, emg, None, (200,), (), (0,))
    assert not [e for e in events if e.channel == 0 and 19600 <= e.sample_index < 28400]
    assert any(a.kind == "lead_off" and a.channel == 0 and a.start_index <= 20000 and a.end_index >= 28000 for a in artefacts)


def test_mains_burst_is_reported_and_not_a_twitch():
    emg, _ = make_recording(5, 30.0)
    n = emg.shape[0]
    hum = _hum(n, 50.0, 3.0, harmonics=())
    env = np.ones(n)
    env[30000:32000] = 20.0  # one second of 20x hum
    emg += (hum * env)[:, None]
    events, artefacts = feed(TwitchDetector(RATE_HZ, LABELS), emg, None, (200,), (), (0,))
    bursts = [a for a in artefacts if a.kind == "mains_burst" and a.start_index < 32000 and a.end_index > 30000]
    assert bursts
    # twitches inside the burst may be lost; none is invented there beyond the injected ones
    assert len([e for e in events if 30000 <= e.sample_index < 32000]) <= 4


def _one_channel_units(seed, shapes, noise_uv, n_firings=90):
    """``shapes`` fire at random times (±5 % amplitude) in white noise; returns, per
    shape, the unit ids the engine gave its firings."""
    rng = np.random.default_rng(seed)
    n = int(120 * RATE_HZ)
    emg = rng.normal(0, noise_uv, (n, 1))
    times = np.sort(rng.choice(np.arange(2000, n - 2000, 300), size=n_firings, replace=False))
    labels = rng.integers(0, len(shapes), size=times.size)
    for t0, u in zip(times, labels):
        emg[t0 : t0 + shapes[u].size, 0] += shapes[u] * rng.uniform(0.95, 1.05)
    centres = times + np.array([shapes[u].size // 2 for u in labels])
    events, _ = feed(TwitchDetector(RATE_HZ, ["emg0"]), emg, None, (200,), (), (0,))
    ids: list[list[int]] = [[] for _ in shapes]
    for c, u in zip(centres, labels):
        near = [e for e in events if abs(e.sample_index - c) <= 30]
        if near:
            ids[u].append(near[0].unit_id)
    return ids


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_small_unit_in_noise_keeps_one_identity(seed):
    """A unit not far above its detection threshold: the noise alone moves its
    unit-norm shape by more than the clean-shape limit (0.35). Regression: its firings
    were split over 12-23 ids (51-62 % in the largest; the simulator's
    `benign_poor_contact` had completeness 0.35); the limit now widens with the shape's
    noise-to-signal energy (units.py)."""
    noise_uv = 6.0
    ids = _one_channel_units(seed, [potential_shape(60.0, 10.0, 2, RATE_HZ)], noise_uv)[0]
    assert len(ids) >= 60
    top, count = np.unique(ids, return_counts=True)
    assert count.max() >= 0.9 * len(ids), dict(zip(top.tolist(), count.tolist()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_units_of_one_size_with_different_shapes_stay_apart_in_noise(seed):
    """Same amplitude, same duration, opposite polarity and a different number of
    phases: the amplitude bound cannot separate them, only the shape, and the noise
    allowance must not merge them."""
    noise_uv = 6.0
    ids = _one_channel_units(seed, [potential_shape(80.0, 12.0, 2, RATE_HZ),
                                    -potential_shape(80.0, 12.0, 3, RATE_HZ)], noise_uv)
    majority = []
    for unit_ids in ids:
        assert len(unit_ids) >= 30
        top, count = np.unique(unit_ids, return_counts=True)
        assert count.max() >= 0.75 * len(unit_ids)  # mostly one id (splits are the other test's subject)
        majority.append(int(top[np.argmax(count)]))
    assert majority[0] != majority[1]
    assert not set(ids[0]) & set(ids[1]), "no id holds firings of both units"
