"""SosState: the compiled sos loop gives scipy.signal.sosfilt's samples bit for bit."""

import numpy as np
import pytest
from scipy import signal

import twitchwatch.detect.streamfilt as streamfilt


@pytest.mark.parametrize("n_signals", [1, 2, 3])
@pytest.mark.parametrize("design", [(4, [20, 450], "bandpass", 2000.0), (2, [2, 40], "bandpass", 1000.0),
                                    (1, 3.0, "lowpass", 4000.0), (8, [20, 120], "bandpass", 250.0)])
def test_the_compiled_cascade_is_scipys_sosfilt_bit_for_bit_in_any_block_split(n_signals, design):
    """The state carried across blocks of any length, the steady start included: the same
    samples as one scipy.signal.sosfilt call with sosfilt_zi scaled by the first sample
    (this is what lets the detector run without importing scipy.signal)."""
    order, wn, btype, fs = design
    sos = signal.butter(order, wn, btype, fs=fs, output="sos")
    rng = np.random.default_rng(order)
    x = rng.normal(size=(n_signals, 1000)) * 10.0 ** rng.integers(-3, 4) + 5.0
    st = streamfilt.SosState(sos, n_signals)
    ours = np.hstack([st.process(x[:, :1]), st.process(x[:, 1:300]), st.process(x[:, 300:300]),
                      st.process(x[:, 300:710]), st.process(x[:, 710:])])
    zi = signal.sosfilt_zi(sos)[:, None, :] * x[:, 0][None, :, None]
    ref, zf = signal.sosfilt(sos, x, axis=1, zi=zi)
    assert ours.tobytes() == ref.tobytes()
    assert st.zi is not None and np.moveaxis(st.zi, 0, 1).tobytes() == np.ascontiguousarray(zf).tobytes()


def test_sosfilt_from_rest_is_scipys():
    sos = signal.butter(2, 250.0, "lowpass", fs=2000.0, output="sos")
    x = np.random.default_rng(3).normal(size=777)
    assert streamfilt.sosfilt(sos, x).tobytes() == signal.sosfilt(sos, x).tobytes()
    assert streamfilt.sosfilt(sos, x[:0]).shape == (0,)
