"""The detector without scipy.signal at run time (issue #19, item 6): every design and
filter it uses instead gives scipy.signal's values bit for bit, the design cache gives
back what scipy designed, and a replay whose designs are cached never imports
scipy.signal (its import alone costs ~0.9 s of CPU)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from twitchwatch.detect import designs
from twitchwatch.detect.plausible import _interp_fir, interpolate_up, main_phase_ms

HOST = Path(__file__).resolve().parents[2] / "host"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty design cache of the test's own, and the process's memo forgotten."""
    monkeypatch.setenv("TWITCHWATCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(designs, "_memo", {})
    monkeypatch.setattr(designs, "_disk", None)
    return tmp_path


def test_iirnotch_is_scipys_bit_for_bit():
    rng = np.random.default_rng(0)
    cases = [(50.0, 25.0, 2000.0), (60.0, 30.0, 1000.0), (150.0, 75.0 / np.sqrt(3), 4000.0)]
    cases += [(float(f), float(f / bw), float(fs)) for f, bw, fs in
              zip(rng.uniform(45, 500, 2000), rng.uniform(0.5, 6, 2000), rng.choice([250, 500, 1000, 2000, 4000], 2000))
              if f < fs / 2]
    for f, q, fs in cases:
        b, a = designs.iirnotch(f, q, fs)
        rb, ra = signal.iirnotch(f, q, fs=fs)
        assert b.tobytes() == rb.tobytes() and a.tobytes() == ra.tobytes(), (f, q, fs)
    with pytest.raises(ValueError):
        designs.iirnotch(600.0, 10.0, 1000.0)


@pytest.mark.parametrize("up", [2, 3, 4, 5, 8, 16])
def test_interpolate_up_is_resample_poly_bit_for_bit(up):
    rng = np.random.default_rng(up)
    for size in list(range(1, 40)) + [97, 200]:
        for _ in range(5):
            w = rng.normal(0, 50, size) * 10.0 ** rng.integers(-3, 3)
            ref = signal.resample_poly(w, up, 1, window=_interp_fir(up))
            ours = interpolate_up(w, up)
            assert ours.shape == ref.shape and ours.tobytes() == ref.tobytes(), (up, size)


def test_interp_taps_are_resample_polys_default_design():
    for up in (2, 4, 8):
        assert _interp_fir(up).tobytes() == signal.firwin(20 * up + 1, 1.0 / up, window=("kaiser", 5.0)).tobytes()


def test_main_phase_width_of_a_potential_at_1_2_and_4_khz():
    # a lobe whose half-amplitude width is known: a Gaussian of sigma s has FWHM 2.3548 s
    for fs in (1000.0, 2000.0, 4000.0):
        t = (np.arange(41) - 20) / fs * 1e3  # ms
        w = np.exp(-0.5 * (t / 1.0) ** 2)
        assert main_phase_ms(w, 20, fs) == pytest.approx(2.3548, abs=0.05)


def test_the_peel_whitening_is_lfilter_bit_for_bit():
    from twitchwatch.detect import peel as peel_mod

    rng = np.random.default_rng(5)
    for n in (20, 333):
        x = rng.normal(0, 10, n)
        a = np.concatenate(([1.0], rng.normal(0, 0.3, 8)))
        ref = signal.lfilter(a, [1.0], x)
        ours = np.convolve(np.array(a, dtype=np.float64), x)[:n]
        assert ours.tobytes() == ref.tobytes()
    assert "lfilter" not in vars(peel_mod)


def test_the_design_cache_gives_back_scipys_designs_bit_for_bit(cache_dir):
    cases = [(4, (20.0, 450.0), "bandpass", 2000.0), (2, (2.0, 40.0), "bandpass", 1000.0),
             (1, 7.957747154594767, "lowpass", 4000.0), (2, 250.0, "lowpass", 2000.0)]
    first = [designs.butter_sos(*c) for c in cases]
    doc = json.loads((cache_dir / designs._FILE).read_text())
    assert len(doc["designs"]) == len(cases) and doc["scipy"] == designs._scipy_version()
    designs._memo.clear()
    designs._disk = None  # as a new process: from the file
    for c, a in zip(cases, first):
        order, wn, btype, fs = c
        ref = signal.butter(order, wn, btype, fs=fs, output="sos")
        got = designs.butter_sos(*c)
        assert got.tobytes() == ref.tobytes() == a.tobytes()
        assert designs.sosfilt_zi(got).tobytes() == signal.sosfilt_zi(ref).tobytes()
    got[0, 0] = 99.0  # callers get copies
    assert designs.butter_sos(*cases[-1])[0, 0] != 99.0


def test_a_damaged_or_foreign_cache_file_is_designed_again(cache_dir):
    (cache_dir / designs._FILE).write_text("{not json")
    a = designs.butter_sos(2, (20.0, 450.0), "bandpass", 2000.0)
    assert a.tobytes() == signal.butter(2, (20.0, 450.0), "bandpass", fs=2000.0, output="sos").tobytes()
    designs._memo.clear()
    designs._disk = None
    doc = json.loads((cache_dir / designs._FILE).read_text())
    key = next(iter(doc["designs"]))
    doc["scipy"] = "0.0"  # another scipy's designs: not used
    doc["designs"][key][1] = [float(1.5).hex()] * len(doc["designs"][key][1])
    (cache_dir / designs._FILE).write_text(json.dumps(doc))
    assert designs.butter_sos(2, (20.0, 450.0), "bandpass", 2000.0).tobytes() == a.tobytes()


def test_an_unwritable_cache_place_only_means_designing_again(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("TWITCHWATCH_CACHE_DIR", str(blocked / "sub"))  # under a file: cannot be made
    monkeypatch.setattr(designs, "_memo", {})
    monkeypatch.setattr(designs, "_disk", None)
    a = designs.butter_sos(3, (10.0, 300.0), "bandpass", 1000.0)
    assert a.tobytes() == signal.butter(3, (10.0, 300.0), "bandpass", fs=1000.0, output="sos").tobytes()


_PROBE = """
import sys
import numpy as np
from twitchwatch.detect import TwitchDetector
rng = np.random.default_rng(0)
det = TwitchDetector(2000.0, ("a", "b"), acc_rate_hz=1000.0)
n = 6000
x = rng.normal(0, 3, (n, 2)) + 20 * np.sin(2 * np.pi * 50 * np.arange(n) / 2000)[:, None]
for k in range(2400, n - 100, 400):
    x[k:k + 9, 0] += 150 * np.hanning(9) * np.sign(np.arange(9) - 4)
ev = det.process_emg(x, 0) + det.process_acc(rng.normal(0, 2, (3000, 3)) + 1000, 0) + det.flush()
# poor contact (13 uV of broad-band noise) with weak potentials: the broad-band gate opens and
# the matched-filter bank searches (detector 1.18)
poor = TwitchDetector(2000.0, ("a",))
y = rng.normal(0, 13, (24000, 1))
w = np.hanning(24) * np.sign(np.arange(24) - 11.5) * 30
for k in range(8000, 23000, 1500):
    y[k:k + 24, 0] += w
ev += poor.process_emg(y, 0) + poor.flush()
print(len(ev), "scipy.signal" in sys.modules, "scipy.stats" in sys.modules, poor.counts["mf_found"])
"""


def test_a_detector_whose_designs_are_cached_does_not_import_scipy_signal(tmp_path):
    env = dict(os.environ, TWITCHWATCH_CACHE_DIR=str(tmp_path), PYTHONPATH=str(HOST))
    runs = [subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300,
                           check=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == runs[1][0] and int(runs[0][0]) >= 1  # the same events, designed or cached
    assert runs[0][1] == "True"  # the first run designed with scipy.signal
    assert runs[1][1:3] == ["False", "False"]  # the second read its designs from the cache
    assert int(runs[1][3]) > 0  # ... and its matched-filter bank searched (no scipy.signal there either)


def test_the_matched_filters_threshold_is_scipys_ndtri(cache_dir):
    from scipy.special import ndtri as scipy_ndtri

    from twitchwatch.detect.matched import threshold

    for rate, k, fpm in ((2000.0, 1, 0.2), (1000.0, 7, 0.2), (4000.0, 64, 0.05)):
        p = fpm / (rate * 60.0 * k)
        assert threshold(rate, k, fpm) == float(-scipy_ndtri(p))
        designs._memo.clear()
        designs._disk = None
        assert threshold(rate, k, fpm) == float(-scipy_ndtri(p))  # from the file


def test_the_whitener_solve_is_solve_toeplitz_bit_for_bit():
    # matched.py calls scipy's Levinson routine on the values solve_toeplitz forms:
    # the same coefficients, bit for bit, over autocorrelations like the whitener's
    from scipy.linalg import solve_toeplitz

    from twitchwatch.detect.matched import NoiseWhitener, _solve_symmetric_toeplitz

    rng = np.random.default_rng(11)
    for trial in range(3000):
        p = int(rng.integers(1, 13))
        x = rng.normal(0, 1, 400)
        if trial % 2:  # coloured, as band-passed noise is
            x = signal.lfilter([1.0], [1.0, -rng.uniform(0.0, 0.95)], x)
        r = np.array([x[: x.size - k] @ x[k:] for k in range(p + 1)]) / x.size
        r[0] *= 1.0 + rng.uniform(0.0, 0.2)
        assert _solve_symmetric_toeplitz(r[:-1], r[1:]).tobytes() == solve_toeplitz(r[:-1], r[1:]).tobytes()
    # non-finite input: solve_toeplitz's own error
    with pytest.raises(ValueError):
        _solve_symmetric_toeplitz(np.array([1.0, np.nan]), np.array([0.5, 0.1]))
    # and the whitener built on it
    wh = NoiseWhitener(8, 0.2)
    for _ in range(3):
        y = signal.lfilter([1.0], [1.0, -0.8], rng.normal(0, 3, 400))
        assert wh.update(y, np.ones(y.size, bool))
    a, sigma_e = wh.filter()
    r = wh._r.copy()
    r[0] *= 1.0 + wh.load
    assert a[1:].tobytes() == (-solve_toeplitz(r[:-1], r[1:])).tobytes() and sigma_e > 0
