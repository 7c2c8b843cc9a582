"""inject_twitches into a real rest recording (PLUX biosignalsnotebooks, adductor pollicis).

The file: derived_csv/emg_1000_hz_16_bits_solo_emg.csv, 1000 Hz, columns time_s, adc,
emg_mV (see its SOURCE.md); 21 voluntary thumb bursts on a ~2.4 µV RMS baseline, which
the test finds from the envelope and keeps free of injected twitches.
"""

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from twitchwatch.sim import inject_twitches

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
CSV = REAL / "plux-biosignalsnotebooks" / "derived_csv" / "emg_1000_hz_16_bits_solo_emg.csv"
FS = 1000.0


@pytest.fixture(scope="module")
def real_uv():
    if not CSV.exists():
        pytest.skip(f"real recordings not present: {CSV} (shared data folder absent)")
    data = np.loadtxt(CSV, delimiter=",", skiprows=2, usecols=2)
    return (data - np.median(data)) * 1000.0  # mV -> µV


def _busy_intervals(x_uv):
    """Voluntary bursts of the real file: 50 ms RMS envelope of 20–450 Hz > 8x its median."""
    sos = sps.butter(4, [20, 450], btype="band", fs=FS, output="sos")
    y = sps.sosfiltfilt(sos, x_uv)
    env = np.sqrt(np.convolve(y * y, np.ones(50) / 50, mode="same"))
    busy = env > 8 * np.median(env)
    edges = np.flatnonzero(np.diff(busy.astype(int)))
    if busy[0]:
        edges = np.r_[0, edges]
    if busy[-1]:
        edges = np.r_[edges, busy.size - 1]
    return [(max(0, a - 500), b + 500) for a, b in zip(edges[::2], edges[1::2])], y


def test_inject_into_real_rest_emg(real_uv):
    busy, _y = _busy_intervals(real_uv)
    assert 10 <= len(busy) <= 60  # the file's ~21 thumb bursts (some split)
    out, truth = inject_twitches(real_uv, FS, seed=1, rate_per_min=30.0, exclude=busy)
    assert out.shape == real_uv.shape
    comp = out - real_uv
    duration_min = real_uv.size / FS / 60
    assert 0.4 * 30 * duration_min < len(truth) < 1.6 * 30 * duration_min
    for t in truth:
        assert t.channel == 0 and t.acc_response_mg == 0.0
        assert not any(a < t.end_index and b > t.onset_index for a, b in busy)
        others = [o for o in truth if o is not t and o.onset_index < t.end_index + 20 and o.end_index > t.onset_index - 20]
        if not others:
            assert np.ptp(comp[t.onset_index:t.end_index]) == pytest.approx(t.amplitude_uv, rel=0.01)
        assert 40.0 <= t.amplitude_uv <= 420.0
    # injected potentials stand well above the real noise floor in the detection band
    sos = sps.butter(4, [20, 450], btype="band", fs=FS, output="sos")
    y = sps.sosfiltfilt(sos, out)
    floor = np.median(np.abs(sps.sosfiltfilt(sos, real_uv))) / 0.6745
    assert 1.0 < floor < 6.0
    peaks = np.array([np.max(np.abs(y[t.onset_index:t.end_index])) for t in truth])
    assert np.median(peaks) > 10 * floor


def test_inject_is_deterministic_and_seed_dependent(real_uv):
    x = real_uv[:30000]
    a = inject_twitches(x, FS, seed=4)
    b = inject_twitches(x, FS, seed=4)
    c = inject_twitches(x, FS, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1] and a[1] != c[1]
