"""The mains estimator's factored DFTs equal the direct ones (up to float rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.detect.mains import MAINS_BASES_HZ, REFERENCE_OFFSET_HZ, MainsCanceller


def _canceller(rate_hz: float = 2000.0) -> MainsCanceller:
    return MainsCanceller(2, rate_hz, int(rate_hz), 0.05, 1.0, 0.3, 0.15, 2.0, 8)


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
def test_grid_spectrum_matches_direct_dft(rate_hz: float) -> None:
    m = _canceller(rate_hz)
    rng = np.random.default_rng(3)
    n = np.arange(m.window)
    buf = rng.normal(0.0, 3.0, (2, m.window)) + 20.0 * np.sin(2 * np.pi * 59.37 * n / rate_hz)
    grid = np.concatenate([np.arange(b - 1.0, b + 1.0 + 1e-9, 0.05) for b in MAINS_BASES_HZ])
    direct = np.abs((buf * m._hann) @ np.exp(-2j * np.pi * np.outer(n, grid) / rate_hz)) ** 2
    got = m._grid_spectrum(buf)
    assert got.shape == direct.shape
    np.testing.assert_allclose(got, direct, rtol=1e-9, atol=1e-9 * direct.max())


@pytest.mark.parametrize("n_channels", [1, 2, 3])
def test_harmonic_dft_matches_direct_cos_sin(n_channels: int) -> None:
    m = MainsCanceller(n_channels, 2000.0, 2001, 0.05, 1.0, 0.3, 0.15, 2.0, 8)  # odd window: a tail after the 8 lanes
    f0 = 50.0135
    H = m.max_harmonic
    h = np.arange(1, H + 1) * f0
    freqs = np.concatenate((h, h - REFERENCE_OFFSET_HZ, h + REFERENCE_OFFSET_HZ))
    phase = 2 * np.pi * np.outer(freqs, np.arange(m.window)) / m.rate_hz
    direct = np.concatenate((np.cos(phase), np.sin(phase))) * m._hann
    rng = np.random.default_rng(5)
    n = np.arange(m.window)
    buf = rng.normal(0.0, 3.0, (n_channels, m.window)) + 20.0 * np.sin(2 * np.pi * 3 * f0 * n / m.rate_hz + 0.3)
    got = m._harmonic_dft(buf, f0)
    want = direct @ buf.T
    assert got.shape == (6 * H, n_channels)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max())


def test_estimate_finds_drifting_hum_and_harmonics() -> None:
    m = _canceller()
    n = np.arange(m.window)
    m._buf[:] = 0.5 * np.random.default_rng(0).normal(size=(2, m.window))
    m._buf[1] += 20.0 * np.sin(2 * np.pi * 60.23 * n / 2000.0) + 4.0 * np.sin(2 * np.pi * 3 * 60.23 * n / 2000.0)
    m._estimate(np.array([3.0, 3.0]))
    assert m.mains_hz == pytest.approx(60.23, abs=0.01)
    assert m.harmonic_rms_uv[1, 0] == pytest.approx(20.0 / np.sqrt(2), rel=0.02)
    assert m.harmonic_rms_uv[1, 2] == pytest.approx(4.0 / np.sqrt(2), rel=0.05)
    assert len(m.notches_hz) == 2


@pytest.mark.parametrize("n_channels", [1, 2, 3])
def test_grid_power_same_bits_as_numpy(n_channels: int) -> None:
    """The compiled grid power (and its sum over channels) is the numpy expression's, bit for bit."""
    m = MainsCanceller(n_channels, 2000.0, 2000, 0.05, 1.0, 0.3, 0.15, 2.0, 8)
    rng = np.random.default_rng(7)
    buf = rng.normal(0.0, 5.0, (n_channels, m.window)) + 30.0 * np.sin(2 * np.pi * 50.3 * np.arange(m.window) / 2000.0)
    got = m._grid_spectrum(buf).copy()
    K = m._k_half
    z = buf[:, None, :] * m._demod[None]
    p = (z.reshape(-1, m.window) @ m._grid_cs).reshape(-1, 2, 2, 2 * K + 1)
    rc, rs = p[:, :, 0, : K + 1], p[:, :, 0, K + 1 :]
    ic, is_ = p[:, :, 1, : K + 1], p[:, :, 1, K + 1 :]
    spec = np.empty((n_channels, 2, 2 * K + 1))
    spec[:, :, K] = rc[:, :, 0] ** 2 + ic[:, :, 0] ** 2
    spec[:, :, K + 1 :] = (rc[:, :, 1:] + is_) ** 2 + (ic[:, :, 1:] - rs) ** 2
    spec[:, :, K - 1 :: -1] = (rc[:, :, 1:] - is_) ** 2 + (ic[:, :, 1:] + rs) ** 2
    want = spec.reshape(n_channels, -1)
    assert got.tobytes() == want.tobytes()
    assert m._pooled.tobytes() == want.sum(axis=0).tobytes()


@pytest.mark.parametrize("n_channels", [1, 2, 3])
def test_tone_levels_same_bits_as_numpy(n_channels: int) -> None:
    """The compiled tone levels are the numpy expressions' values, bit for bit (zeros,
    infinities and NaN among the sums; the hum sum over harmonics in numpy's order)."""
    from twitchwatch.detect.mains import PEAK_RATIO, _tone_levels

    rng = np.random.default_rng(11)
    H = 8
    k = float(0.001 / np.sqrt(2.0))
    for trial in range(300):
        out = rng.normal(size=(6 * H, n_channels)) * 10.0 ** rng.uniform(-4, 4, size=(6 * H, n_channels))
        if trial % 10 == 0:
            out.flat[rng.integers(out.size, size=3)] = [0.0, np.inf, np.nan]
        valid = rng.random(H) < 0.8
        floor = rng.uniform(0.0, 5.0, n_channels)
        amp = (np.hypot(out[: 3 * H], out[3 * H :]) * k).T
        rms, ref = amp[:, :H], np.maximum(amp[:, H : 2 * H], amp[:, 2 * H :])
        rms[:, ~valid] = 0.0
        tonal = rms > PEAK_RATIO * ref
        with np.errstate(invalid="ignore"):  # inf x 0
            hum = np.sqrt((rms**2 * tonal).sum(axis=1))
        limit = np.maximum(0.3, 0.15 * floor)[:, None]
        present = ((rms > limit) & (rms > PEAK_RATIO * ref)).any(axis=0) & valid
        got_rms, got_sq = np.empty((H, n_channels)).T, np.empty((H, n_channels)).T
        got_present = np.empty(H, dtype=np.bool_)
        _tone_levels(out, k, valid, floor, 0.3, 0.15, PEAK_RATIO, got_rms, got_sq, got_present)
        assert got_rms.tobytes() == rms.tobytes()
        assert np.sqrt(got_sq.sum(axis=1)).tobytes() == hum.tobytes()
        assert np.array_equal(got_present, present)


def test_peak_index_as_numpy_argmax() -> None:
    from twitchwatch.detect.mains import _peak_index

    rng = np.random.default_rng(17)
    for trial in range(2000):
        pooled = rng.integers(0, 6, 82).astype(float)  # ties
        if trial % 7 == 0:
            pooled[rng.integers(82, size=2)] = np.nan
        split = 41
        best = [int(np.argmax(pooled[:split])), split + int(np.argmax(pooled[split:]))]
        want = best[0] if pooled[best[0]] >= pooled[best[1]] else best[1]
        assert _peak_index(pooled, split) == want


def test_the_window_mean_is_numpys_and_the_blas_limit_is_restored() -> None:
    """The estimate's window less its mean (np.add.reduce, then the division, as np.mean
    does) equals ``buf - buf.mean(axis=1, keepdims=True)`` bit for bit; the one-thread
    BLAS limit around the grid product puts every library's thread count back."""
    from threadpoolctl import threadpool_info

    from twitchwatch.detect import mains

    rng = np.random.default_rng(3)
    for n in (7, 200, 1000, 2000, 2001, 4000):
        buf = rng.normal(0.0, 50.0, (2, n)) + rng.normal(0.0, 1e3, (2, 1))
        mean = np.add.reduce(buf, axis=1, keepdims=True)
        np.true_divide(mean, n, out=mean)
        assert (buf - mean).tobytes() == (buf - buf.mean(axis=1, keepdims=True)).tobytes()
    before = [(i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
    with mains._one_blas_thread():
        inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert all(n == 1 for n in inside)
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_a_notch_set_seen_before_gets_the_same_cascade() -> None:
    """The cascade of a notch set is designed once and shared (never written to): the same
    sections as designing it again."""
    m = _canceller()
    sets = [(50.0, 100.0, 150.0), (50.05, 100.1), (50.0, 100.0, 150.0), ()]
    got = [m._design(s) for s in sets]
    assert got[0] is got[2]
    for s, sos in zip(sets, got):
        assert sos.tobytes() == m._design_sections(s).tobytes()
    assert got[3].shape == (0, 6)


def test_a_one_core_process_keeps_blas_at_one_thread(monkeypatch) -> None:
    """After hold_one_blas_thread() (a fast replay), the limit is not undone after the
    product: every BLAS library stays at one thread."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from twitchwatch.detect import mains

    with threadpool_limits(limits=None):  # whatever the test leaves, put back at the end
        monkeypatch.setattr(mains, "_blas_held", False)
        mains.hold_one_blas_thread()
        with mains._one_blas_thread():
            pass
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
