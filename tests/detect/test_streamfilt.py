"""SosState: scipy's sosfilt kernel and the public signal.sosfilt fallback agree."""

import numpy as np
import pytest
from scipy import signal

import twitchwatch.detect.streamfilt as streamfilt


@pytest.mark.parametrize("n_signals", [1, 2, 3])
def test_the_fallback_without_scipys_kernel_gives_the_same_samples(monkeypatch, n_signals):
    """Regression: the fallback passed the state as (sections, 2, signals) instead of
    (sections, signals, 2): with 2 signals the shapes matched and the output was wrong
    (by up to ~5 on unit-variance input), with 1 or 3 it raised."""
    if streamfilt._kernel is None:
        pytest.skip("this scipy build has no private sosfilt kernel: only the fallback exists")
    sos = signal.butter(4, [20, 450], "bandpass", fs=2000, output="sos")
    x = np.random.default_rng(0).normal(size=(n_signals, 1000))

    def blocks():
        st = streamfilt.SosState(sos, n_signals)
        return np.hstack([st.process(x[:, :300]), st.process(x[:, 300:710]), st.process(x[:, 710:])])

    with_kernel = blocks()
    monkeypatch.setattr(streamfilt, "_kernel", None)
    without = blocks()
    np.testing.assert_allclose(without, with_kernel, rtol=0, atol=1e-9)
