"""Baselines of the detection benchmark: they find clear spikes, and the fast NeuroKit2
path gives the same events as NeuroKit2's public ``emg_process``."""

from __future__ import annotations

import numpy as np
import pytest

from bench.detect.baselines import mad_events, run_per_channel, runs_of


def spikes(rate=1000.0, seconds=10.0, every_s=1.0, amp=200.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 3.0, int(rate * seconds))
    width = int(0.01 * rate)
    peaks = []
    for t in np.arange(0.5, seconds - 0.5, every_s):
        i = int(t * rate)
        x[i : i + width] += amp * np.sin(np.linspace(0, 2 * np.pi, width))
        peaks.append(i)
    return x, peaks


def test_runs_of():
    s, e = runs_of(np.array([1, 1, 0, 0, 1, 0, 1], bool))
    assert s.tolist() == [0, 4, 6] and e.tolist() == [2, 5, 7]


def test_mad_finds_each_spike_once():
    x, peaks = spikes()
    ev = mad_events(x, 1000.0)
    assert len(ev) == len(peaks)
    assert np.all(np.abs(ev - np.array(peaks)) <= 10)


def test_run_per_channel_catches_errors():
    def broken(x, rate):
        raise ValueError("boom")

    ev, cpu, err = run_per_channel(broken, np.zeros((100, 2)), 1000.0)
    assert ev == [] and err is not None and "boom" in err


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
def test_neurokit2_fast_path_matches_public_call(rate_hz):
    # at 2 kHz (the simulator's rate) too: emg_process passes the rate to every step
    pytest.importorskip("neurokit2", reason="neurokit2 not installed (bench extra)")
    from bench.detect.baselines import neurokit2_events, neurokit2_events_fast
    from twitchwatch.sim import simulate

    if rate_hz == 1000.0:
        x, _ = spikes(seconds=6.0, every_s=2.0, amp=300.0)
        x[3000:3400] += np.random.default_rng(1).normal(0, 80, 400)  # a 400 ms burst
    else:
        x = simulate("als_like", 30.0, 1000).emg_uv[:, 0]
    a = neurokit2_events(x, rate_hz)
    b = neurokit2_events_fast(x, rate_hz)
    assert len(a) >= 1
    assert a.tolist() == b.tolist()


def test_biosppy_finds_spikes():
    pytest.importorskip("biosppy", reason="biosppy not installed (bench extra)")
    from bench.detect.baselines import biosppy_events

    x, peaks = spikes()
    ev = biosppy_events(x, 1000.0)
    assert len(ev) == len(peaks)
