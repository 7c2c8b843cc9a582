"""Rule 5b (issue #19 item 2, docs/detection.md): an electrode pop is recognised by its
own waveform - the band-pass image of a step with an exponential recovery - whatever its
recovery time, the front end's filters and the sample rate (1, 2, 4 kHz); motor-unit
potentials of every simulated shape are not. Before 1.12 a pop recovering in 20-80 ms,
or one seen through a front-end high-pass, passed rule 5's low-band step test (read
12-25 ms after the peak, when the step has largely recovered) and was reported as a
twitch."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from twitchwatch.detect import DetectorConfig
from twitchwatch.detect.popshape import PopShapes

from test_engine_counting import _run  # the detector in 100 ms blocks, then flush


def _front(x: np.ndarray, fs: float, hp_hz: float | None, lp_hz: float | None) -> np.ndarray:
    if hp_hz:
        x = signal.sosfilt(signal.butter(1, hp_hz, "highpass", fs=fs, output="sos"), x, axis=0)
    if lp_hz:
        x = signal.sosfilt(signal.butter(2, min(lp_hz, 0.45 * fs), "lowpass", fs=fs, output="sos"), x, axis=0)
    return x


def _muaps(fs: float):
    """Surface potentials of the simulator's shape family (Hermite-Rodriguez orders 0-3 and
    mixtures), main phases 1.5-4 ms."""
    t = np.arange(-int(0.02 * fs), int(0.02 * fs) + 1) / fs * 1e3
    out = []
    for lam in (1.5, 2.5, 4.0):
        x = t / lam
        g = np.exp(-x * x)
        for w in (x * g, (1 - 2 * x * x) * g, (x - 2 * x ** 3 / 3) * g, g * (1 + 0.8 * x), x * g + 0.4 * g):
            out.append(w / np.ptp(w))
    return out


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 4000.0])
@pytest.mark.parametrize("front", [(None, None), (20.0, 250.0), (5.0, None)])
def test_fast_recovering_pops_are_pops_at_every_rate_and_front_end(fs, front):
    rng = np.random.default_rng(int(fs) + int(front[0] or 0))
    n = int(60 * fs)
    x = np.zeros(n)
    at = np.arange(2.0, 58.0, 2.0)
    tk = np.arange(int(0.5 * fs)) / fs * 1e3
    for t in at:
        i = int(t * fs)
        tau = rng.uniform(20.0, 80.0)
        amp = rng.uniform(300.0, 3000.0) * rng.choice((-1.0, 1.0))
        x[i:i + tk.size] += amp * np.exp(-tk / tau)[: n - i]
    x = _front(x, fs, *front) + rng.standard_normal(n) * 3.0
    events, det = _run(x[:, None], fs)
    near = [e for e in events if any(abs(e.sample_index / fs - t) < 0.35 for t in at)]
    assert not near, [(round(e.t_s, 3), e.amplitude_uv) for e in near]
    assert det.counts["rejected_pop"] >= 0.9 * at.size
    # without the rule, some were twitches (behind a high-pass most): the test can fail
    off, _ = _run(x[:, None], fs, config=DetectorConfig(pop_fit_r2=0.0))
    n_off = len([e for e in off if any(abs(e.sample_index / fs - t) < 0.35 for t in at)])
    assert n_off >= (0.5 * at.size if front[0] else 3)


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 4000.0])
def test_motor_unit_potentials_are_not_pop_shaped(fs):
    bp = signal.butter(2, (20.0, min(450.0, 0.45 * fs)), "bandpass", fs=fs, output="sos")
    pre, post = int(round(0.010 * fs)), int(round(0.015 * fs))
    shapes = PopShapes(bp, fs, pre + 2, pre + post + 5)
    for front in [(None, None), (20.0, 250.0)]:
        for w in _muaps(fs):
            x = np.zeros(int(0.3 * fs))
            x[int(0.1 * fs):int(0.1 * fs) + w.size] = w * 200.0
            y = signal.sosfilt(bp, _front(x, fs, *front))
            p = int(np.argmax(np.abs(y)))
            r2, _ = shapes.fit(y[p - pre - 2:p + post + 3])
            assert r2 < 0.9
        # and a pop is
        x = np.zeros(int(0.3 * fs))
        i = int(0.1 * fs)
        x[i:] = 500.0 * np.exp(-np.arange(x.size - i) / fs * 1e3 / 30.0)
        y = signal.sosfilt(bp, _front(x, fs, *front))
        p = int(np.argmax(np.abs(y)))
        r2, sign = shapes.fit(y[p - pre - 2:p + post + 3])
        assert r2 >= 0.95 and sign == 1


@pytest.mark.parametrize("fs", [1000.0, 4000.0])
def test_motor_unit_potentials_stay_twitches_behind_a_front_end(fs):
    rng = np.random.default_rng(3)
    n = int(40 * fs)
    x = rng.standard_normal(n) * 3.0
    shapes = _muaps(fs)
    at = np.arange(1.0, 39.0, 0.7)
    for k, t in enumerate(at):
        w = shapes[k % len(shapes)] * rng.uniform(60.0, 600.0) * rng.choice((-1.0, 1.0))
        i = int(t * fs)
        x[i:i + w.size] += w
    x = _front(x, fs, 20.0, 250.0)
    events, det = _run(x[:, None], fs)
    hits = sum(any(abs(e.sample_index / fs - t - 0.02) < 0.03 for e in events) for t in at)
    assert hits >= 0.95 * at.size
    assert det.counts["rejected_pop"] == 0
