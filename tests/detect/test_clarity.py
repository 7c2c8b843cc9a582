"""Clear in a MUAP's band (detector 1.13, :mod:`twitchwatch.detect.clarity`).

Under broad-band (white) noise a potential lasting a few ms stands out more once both are
smoothed over ~1-5 ms; a one-sample spike does not. Under poor contact (simulator,
`benign_poor_contact`: ~13 µV RMS of mostly white noise) units of ~120 µV peak at 5-7
plain sigmas and were never counted by 1.12 (never "clear"); the smoothed measure counts
them, while no noise blip reaches 8 smoothed sigmas.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from twitchwatch.detect import DetectorConfig, TwitchDetector
from twitchwatch.detect.clarity import smoothed_clarity
from twitchwatch.sim import simulate

FS = 2000.0


def _band(x):
    return signal.sosfilt(signal.butter(2, (20.0, 450.0), "bandpass", fs=FS, output="sos"), x)


def test_a_smooth_potential_gains_and_a_spike_does_not():
    rng = np.random.default_rng(3)
    noise = _band(rng.normal(0.0, 10.0, 4000))
    sd = float(np.median(np.abs(noise[1000:]))) / 0.6745
    t = (np.arange(50) - 25) / FS
    muap = -t / 2e-3 * np.exp(-0.5 * (t / 2e-3) ** 2)  # a biphasic potential, sigma 2 ms
    muap *= 6.0 * sd / np.abs(muap).max()
    spike = np.zeros(50)
    spike[25] = 6.0 * sd
    bg = noise[1000:1400]
    z_muap = smoothed_clarity(_band(np.r_[np.zeros(200), muap])[200:], int(np.argmax(np.abs(_band(np.r_[np.zeros(200), muap])[200:]))), bg, FS)
    z_spike = smoothed_clarity(_band(np.r_[np.zeros(200), spike])[200:], 25, bg, FS)
    assert z_muap >= 8.0
    assert z_spike < 6.0
    # pure noise stays far below 8 smoothed sigmas
    y = noise[2000:2050]
    assert smoothed_clarity(y, int(np.argmax(np.abs(y))), bg, FS) < 5.0


def _counted(rec, **cfg):
    fs = float(rec.emg_rate_hz)
    det = TwitchDetector(fs, tuple(rec.emg_labels), config=DetectorConfig(**cfg))
    b = int(0.1 * fs)
    ev = []
    for k in range(-(-rec.emg_uv.shape[0] // b)):
        ev += det.process_emg(rec.emg_uv[k * b:(k + 1) * b], k * b)
    ev += det.flush()
    return [e for e in ev if e.counted]


def _score(rec, events):
    tol = int(0.015 * rec.emg_rate_hz)
    truth = [(t.sample_index, t.channel) for t in rec.twitches]
    hits = sum(any(abs(e.sample_index - i) <= tol and e.channel == c for e in events) for i, c in truth)
    false = sum(not any(abs(e.sample_index - i) <= tol and e.channel == c for i, c in truth) for e in events)
    return hits, false


@pytest.mark.parametrize("seed", [1, 2])
def test_poor_contact_units_count(seed):
    rec = simulate("benign_poor_contact", 180.0, seed, twitch_rate_per_min=15.0, twitch_amplitude_uv=(100.0, 160.0))
    new = _score(rec, _counted(rec))
    old = _score(rec, _counted(rec, count_smooth=False))
    assert new[0] >= old[0] + 5, f"counted hits {new[0]} (without the smoothed measure {old[0]}) of {len(rec.twitches)}"
    assert new[1] == 0


def test_no_false_count_under_poor_contact_without_twitches():
    rec = simulate("control_poor_contact", 300.0, 5)
    assert _counted(rec) == []


def test_good_contact_is_unchanged():
    rec = simulate("benign_clean", 120.0, 1, twitch_amplitude_uv=(12.0, 40.0))
    a = [(e.sample_index, e.channel) for e in _counted(rec)]
    b = [(e.sample_index, e.channel) for e in _counted(rec, count_smooth=False)]
    assert a == b
