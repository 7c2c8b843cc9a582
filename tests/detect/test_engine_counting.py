"""What counts (docs/detection.md, *What counts*) and physiological plausibility (issue #19):
a single-sample spike is not a twitch at any sample rate; a weak firing counts when its
unit fired clearly before, not when its shape is new; real rest EMG's low-level blips are
candidates, not counted twitches; a twitch's own mechanical response is not movement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from twitchwatch.detect import DetectorConfig, TwitchDetector
from twitchwatch.detect.plausible import half_amplitude_width, impulse_width_ms, main_phase_ms
from twitchwatch.sim import simulate
from twitchwatch.sim.matching import match_events

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"


def _run(x: np.ndarray, fs: float, acc=None, afs=None, config=None, block: int = 100):
    det = TwitchDetector(fs, tuple(f"c{i}" for i in range(x.shape[1])), acc_rate_hz=afs, config=config)
    out = []
    n = x.shape[0]
    b = int(fs * block / 1000)
    ba = int(afs * block / 1000) if afs else 0
    for k in range(-(-n // b)):
        out += det.process_emg(x[k * b:(k + 1) * b], k * b)
        if acc is not None:
            out += det.process_acc(acc[k * ba:(k + 1) * ba], k * ba)
    return out + det.flush(), det


def test_half_amplitude_width_of_a_triangle():
    w = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0, 0.0])
    assert half_amplitude_width(w, 4) == pytest.approx(4.0)  # 2 .. 6
    assert half_amplitude_width(-w, 4) == pytest.approx(4.0)
    assert half_amplitude_width(np.zeros(5), 2) == 0.0


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 4000.0])
def test_a_spike_is_seen_as_wide_as_the_band_pass_and_a_muap_wider(fs):
    sos = signal.butter(2, (20.0, min(450.0, 0.45 * fs)), "bandpass", fs=fs, output="sos")
    wh = impulse_width_ms(sos, fs)
    assert 0.6 < wh < 1.5
    n = int(0.2 * fs)
    spike = np.zeros(n)
    spike[n // 2] = 1.0
    y = signal.sosfilt(sos, spike)
    p = int(np.argmax(np.abs(y)))
    h = int(0.008 * fs)
    assert main_phase_ms(y[p - h:p + h + 1], h, fs) == pytest.approx(wh, rel=0.25)
    # a Gaussian-derivative potential whose main phase is 2 ms at half amplitude
    t = (np.arange(n) - n / 2) / fs * 1e3
    sig = 2.0 / 1.16 / np.sqrt(2)  # ms: lam = 2 / 1.16, sigma = lam / sqrt(2)
    muap = -t * np.exp(-t * t / (2 * sig * sig))
    y = signal.sosfilt(sos, muap)
    p = int(np.argmax(np.abs(y)))
    assert main_phase_ms(y[p - h:p + h + 1], h, fs) > 1.3 * wh


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 4000.0])
def test_single_sample_spikes_are_not_counted_and_muaps_are(fs):
    rng = np.random.default_rng(7)
    n = int(40 * fs)
    x = rng.standard_normal((n, 1)) * 3.0
    t_ms = (np.arange(-int(0.015 * fs), int(0.015 * fs) + 1)) / fs * 1e3
    lam = 2.5  # ms: main phase ~2.9 ms at half amplitude
    muap = -(t_ms / lam) * np.exp(-(t_ms / lam) ** 2)
    muap *= 150.0 / np.ptp(muap)
    spikes, muaps = [], []
    for k, at in enumerate(np.arange(2.0, 39.0, 1.0)):
        i = int(at * fs)
        if k % 2:
            x[i, 0] += 150.0  # one sample: a glitch
            spikes.append(i)
        else:
            x[i - t_ms.size // 2:i + t_ms.size // 2 + 1, 0] += muap
            muaps.append(i)
    events, det = _run(x, fs)
    tol = int(0.005 * fs)
    near = lambda idx: [e for e in events if abs(e.sample_index - idx) <= tol]  # noqa: E731
    assert all(not e.counted for i in spikes for e in near(i)), "a single-sample spike was counted"
    assert det.counts["not_counted_spike"] >= 0.8 * len(spikes)
    counted_muaps = sum(any(e.counted for e in near(i)) for i in muaps)
    assert counted_muaps >= len(muaps) - 1
    for i in muaps:
        for e in near(i):
            assert e.main_phase_ms is not None and e.main_phase_ms > 1.5 * det.impulse_width_ms


def test_weak_firings_count_when_their_unit_fired_clearly_before():
    """A unit fires clearly while the noise is low (first 20 s), then the noise triples
    and the same unit's firings stand only 5-7 sigma out: they count (its shape is
    known)."""
    fs = 2000.0
    rng = np.random.default_rng(3)
    n = int(60 * fs)
    x = rng.standard_normal((n, 1)) * 3.0
    x[: int(20 * fs)] /= 3.0
    t_ms = (np.arange(-30, 31)) / fs * 1e3
    unit = (4 * (t_ms / 3.0) ** 2 - 2) * np.exp(-(t_ms / 3.0) ** 2)  # triphasic
    unit *= 26.0 / np.ptp(unit)
    other = -(t_ms / 2.0) * np.exp(-(t_ms / 2.0) ** 2)  # biphasic, another shape
    other *= 22.0 / np.ptp(other)
    times = 1.0 + np.cumsum(rng.uniform(0.3, 1.3, 90))  # irregular (a regular unit is taken for ECG)
    times = times[times < 59.0]
    clear, weak_known, weak_new = [], [], []
    for k, at in enumerate(times):
        i = int(at * fs)
        if at < 19.0:
            x[i - 30:i + 31, 0] += unit
            clear.append(i)
        elif at > 23.0 and k % 2:
            x[i - 30:i + 31, 0] += unit
            weak_known.append(i)
        elif at > 23.0:
            x[i - 30:i + 31, 0] += other
            weak_new.append(i)
    events, _ = _run(x, fs)
    near = lambda idx: [e for e in events if abs(e.sample_index - idx) <= 20]  # noqa: E731
    assert sum(any(e.counted for e in near(i)) for i in clear) >= len(clear) - 1
    found_known = [i for i in weak_known if near(i)]
    found_new = [i for i in weak_new if near(i)]
    assert len(found_known) >= 0.5 * len(weak_known) and len(found_new) >= 0.5 * len(weak_new)
    assert sum(any(e.counted for e in near(i)) for i in found_known) >= 0.8 * len(found_known)
    # Not asserted: firings of another shape at the same 5-6 sigma are counted too here,
    # because at that noise the unit book's distance limit widens to its cap (correlation
    # ~0.75) and they join the known unit (docs/detection.md, What counts: limits).


def test_count_k_zero_counts_every_twitch():
    rec = simulate("benign_poor_contact", 60, 5)
    events, _ = _run(rec.emg_uv, rec.emg_rate_hz, rec.acc_mg, rec.acc_rate_hz, DetectorConfig(count_k=0.0,
                                                                                             min_main_phase_ratio=0.0))
    assert events and all(e.counted for e in events)


def test_a_twitchs_own_mechanical_response_is_not_movement():
    """Visible twitches (5-30 mg response within ~5-30 ms of the EMG onset): reading the
    motion band only up to the potential's onset keeps them; the old window (to 25 ms
    after the peak) rejected many as motion."""
    rec = simulate("benign_clean", 120, 11, mmg_mg=(5.0, 30.0), mmg_prob=1.0, twitch_rate_per_min=20.0)
    truth = [(t.sample_index, t.channel) for t in rec.twitches]
    hits = {}
    for onset in (True, False):
        events, det = _run(rec.emg_uv, rec.emg_rate_hz, rec.acc_mg, rec.acc_rate_hz,
                           DetectorConfig(motion_ends_at_onset=onset))
        det_ev = sorted((e.sample_index, e.channel) for e in events if e.counted)
        hits[onset] = (match_events(truth, det_ev, rec.emg_rate_hz, 15.0).tp, det.counts["rejected_motion"])
    # measured: 82 of 86 kept, 3 rejected as motion (a neighbour's response in the
    # 150 ms before); the old window: 61 kept, 45 rejected
    assert hits[True][0] >= 0.9 * len(truth)
    assert hits[True][0] >= hits[False][0] + 10
    assert hits[True][1] <= 0.2 * hits[False][1]


def _load_biosppy_rest() -> np.ndarray:
    p = REAL / "biosppy-examples" / "emg.txt"
    if not p.exists():
        pytest.skip(f"real recordings not present: {p} (shared data folder absent)")
    x = np.loadtxt(p, comments="#")
    return ((x - np.median(x)) * (3000.0 / 4096.0))[:, None]  # bench/detect/real.py's conversion


def test_real_rest_emg_has_at_most_one_counted_twitch_per_minute():
    x = _load_biosppy_rest()
    events, _ = _run(x, 1000.0)
    minutes = x.shape[0] / 1000.0 / 60.0
    counted = [e for e in events if e.counted]
    assert len(counted) / minutes <= 1.0
    assert len(events) > len(counted)  # the low-level potentials are kept as candidates


@pytest.mark.parametrize("fs", [250.0, 500.0])
def test_below_1_khz_width_does_not_decide(fs):
    """Below 1 kHz the band-pass's top edge is under a MUAP's bandwidth: every potential
    is seen about as wide as one sample, so the spike rule does not apply there (the
    simulator at 500 Hz lost 63 % of its counted twitches with it)."""
    rec = simulate("benign_clean", 120, 1, emg_rate_hz=fs)
    events, det = _run(rec.emg_uv, fs, rec.acc_mg, rec.acc_rate_hz)
    assert det.counts["not_counted_spike"] == 0
    assert events and sum(e.counted for e in events) >= 0.7 * len(events)
