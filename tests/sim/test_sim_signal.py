"""Noise floors, mains, and every artefact present where its TruthSegment says."""

import numpy as np
import pytest
from scipy import signal as sps

from twitchwatch.sim import SCENARIOS, simulate


def _band(x, fs, lo=20.0, hi=450.0):
    """Single-pass (causal) Butterworth band-pass: the detection band as a detector sees it."""
    sos = sps.butter(4, [lo, hi], btype="band", fs=fs, output="sos")
    return sps.sosfilt(sos, x, axis=0)


def _notch(x, fs, f0):
    for k in (1, 3, 5):
        b, a = sps.iirnotch(k * f0, 30.0, fs)
        x = sps.lfilter(b, a, x, axis=0)
    return x


def _mask(rec, kinds, channel=None, pad=0):
    m = np.zeros(rec.emg_uv.shape[0], bool)
    for s in rec.segments:
        if s.kind in kinds and (channel is None or s.channel in (None, channel)):
            m[max(0, s.start_index - pad):s.end_index + pad] = True
    return m


def test_control_clean_noise_rms_in_documented_range():
    rec = simulate("control_clean", 60.0, seed=1)
    x = _notch(_band(rec.emg_uv, rec.emg_rate_hz), rec.emg_rate_hz, 50.0)
    rms = x[4000:].std(axis=0)
    assert np.all((rms > 2.0) & (rms < 3.0)), rms  # docs: ~2.3 µV RMS in 20–450 Hz


def test_poor_contact_noise_rms_and_1_over_f():
    rec = simulate("control_poor_contact", 120.0, seed=1, pops_per_min=0.0, lead_off_per_min=0.0,
                   components=True)
    x = _band(rec.components["noise"], rec.emg_rate_hz)
    rms = x.std(axis=0)
    assert np.all((rms > 10.0) & (rms < 20.0)), rms
    f, p = sps.welch(rec.components["noise"][:, 0], fs=rec.emg_rate_hz, nperseg=8192)
    low = p[(f > 1) & (f < 5)].mean()
    high = p[(f > 400) & (f < 600)].mean()
    assert low > 3 * high  # 1/f excess at low frequencies


@pytest.mark.parametrize("name,f0", [("benign_clean", 50.0), ("mains60_drift", 60.0)])
def test_mains_peak_and_drift_within_bounds(name, f0):
    sc = SCENARIOS[name]
    rec = simulate(name, 120.0, seed=3, components=True)
    hum = rec.components["mains"][:, 0]
    fs = rec.emg_rate_hz
    spec = np.abs(np.fft.rfft(hum))
    f = np.fft.rfftfreq(hum.size, 1 / fs)
    assert abs(f[np.argmax(spec)] - f0) <= sc.mains_drift_hz + 0.05
    # short-time peak frequency: drifts, but never beyond ±0.2 Hz (+ resolution)
    peaks = []
    win = int(10 * fs)
    for a in range(0, hum.size - win + 1, win):
        seg = hum[a:a + win] * np.hanning(win)
        sp = np.abs(np.fft.rfft(seg, n=8 * win))
        ff = np.fft.rfftfreq(8 * win, 1 / fs)
        band = (ff > f0 - 1) & (ff < f0 + 1)
        peaks.append(ff[band][np.argmax(sp[band])])
    peaks = np.array(peaks)
    assert np.all(np.abs(peaks - f0) <= sc.mains_drift_hz + 0.03), peaks
    assert np.ptp(peaks) > 0.02
    # odd harmonics present
    for k in (3, 5):
        b = (f > k * f0 - 2) & (f < k * f0 + 2)
        assert spec[b].max() > 0.02 * spec.max()
    lo, hi = rec.params["mains"]["freq_min_hz"], rec.params["mains"]["freq_max_hz"]
    assert f0 - sc.mains_drift_hz <= lo <= hi <= f0 + sc.mains_drift_hz


def test_mains_bursts_raise_the_hum_inside_their_segments():
    rec = simulate("mains60_drift", 300.0, seed=4, components=True)
    m = _mask(rec, ("mains_burst",))
    assert m.any()
    hum = rec.components["mains"]
    for s in rec.segments_of("mains_burst"):
        mid = (s.start_index + s.end_index) // 2
        inside = hum[mid - 200:mid + 200].std()
        assert inside > 5 * hum[~m].std()


def _energy_inside(rec, part, kinds, per_channel=False):
    comp = rec.components[part]
    tot = inside = 0.0
    for c in range(comp.shape[1]):
        m = _mask(rec, kinds, channel=c if per_channel else None)
        e = comp[:, c] ** 2
        tot += e.sum()
        inside += e[m].sum()
    return inside / tot


@pytest.mark.parametrize("name,part,kinds,per_channel,frac", [
    ("control_voluntary", "voluntary", ("voluntary",), False, 0.999),
    ("control_walking", "motion", ("motion",), False, 0.99),
    ("electrode_pops", "pop", ("pop",), True, 0.99),
    ("control_ecg", "ecg", ("ecg",), False, 0.85),  # the segment covers QRS; T wave outside
    ("electrode_pops", "lead_off", ("lead_off",), True, 1.0),
])
def test_artefact_component_lives_inside_its_segments(name, part, kinds, per_channel, frac):
    rec = simulate(name, 600.0, seed=5, components=True)
    assert rec.segments_of(kinds[0]), f"{name}: no {kinds[0]} segment"
    assert _energy_inside(rec, part, kinds, per_channel) >= frac


@pytest.mark.parametrize("name,kind,ratio", [
    ("control_voluntary", "voluntary", 5.0),
    ("control_walking", "motion", 5.0),
    ("electrode_pops", "pop", 10.0),
    ("control_ecg", "ecg", 3.0),
])
def test_artefacts_visible_in_the_raw_signal(name, kind, ratio):
    rec = simulate(name, 600.0, seed=6, lead_off_per_min=0.0)
    x = rec.emg_uv - np.median(rec.emg_uv, axis=0)
    x = _band(x, rec.emg_rate_hz, 5.0, 450.0) if kind != "pop" else x
    for c in (0, 1):
        m = _mask(rec, (kind,), channel=c)
        if not m.any():
            continue
        assert np.sqrt(np.mean(x[m, c] ** 2)) > ratio * np.sqrt(np.mean(x[~m, c] ** 2))


def test_walking_moves_the_accelerometer_only_inside_motion_segments():
    rec = simulate("control_walking", 600.0, seed=7)
    m = _mask(rec, ("motion",))
    k = int(rec.emg_rate_hz / rec.acc_rate_hz)
    am = m[::k][: rec.acc_mg.shape[0]]
    dev = np.linalg.norm(_band(rec.acc_mg, rec.acc_rate_hz, 0.5, 100.0), axis=1)  # gravity removed
    walk = [s for s in rec.segments_of("motion") if s.end_index - s.start_index > 10 * rec.emg_rate_hz]
    assert walk
    for s in walk:
        seg = dev[s.start_index // k:s.end_index // k]
        assert 150 < np.percentile(seg, 99) < 1500  # ±200–500 mg steps plus impacts
    quiet = rec.acc_mg[~am]
    # still periods: only noise, tremor (and gravity, which a gross movement may rotate)
    assert np.median(np.std(np.diff(quiet, axis=0), axis=0)) < 5.0


def test_ecg_rate_and_qrs_width():
    rec = simulate("ecg_contaminated", 120.0, seed=8)
    segs = rec.segments_of("ecg")
    widths = np.array([s.end_index - s.start_index for s in segs]) / rec.emg_rate_hz * 1000
    assert np.all((widths >= 59) & (widths <= 101))
    rr = np.diff([s.start_index for s in segs]) / rec.emg_rate_hz
    assert 60 / 95 < np.median(rr) < 60 / 57
    r = np.abs(rec.params["ecg"]["r_uv"])
    assert max(r) == pytest.approx(100.0)


def test_pop_step_then_exponential_decay():
    rec = simulate("electrode_pops", 300.0, seed=9, components=True)
    pop = rec.components["pop"]
    for s in rec.segments_of("pop")[:20]:
        x = pop[s.start_index:s.end_index, s.channel]
        step = x[0]
        assert 150 < abs(step) < 3500 or abs(step) > 3500 * 0  # overlaps can add
        # decays to < 1 % of the step by the segment end (5 tau), monotone if isolated
        others = [o for o in rec.segments_of("pop") if o is not s and o.channel == s.channel
                  and o.overlaps(s.start_index, s.end_index + 2000)]
        if not others:
            assert abs(x[-1]) < 0.01 * abs(step)
            tau_ms = (np.argmax(np.abs(x) < abs(step) / np.e)) / rec.emg_rate_hz * 1000
            assert 45 <= tau_ms <= 205


def test_lead_off_rail_or_huge_hum():
    rec = simulate("electrode_pops", 600.0, seed=10)
    segs = rec.segments_of("lead_off")
    assert segs
    for s in segs:
        x = rec.emg_uv[s.start_index:s.end_index, s.channel]
        rail = SCENARIOS["electrode_pops"].rail_uv
        assert np.all(np.abs(x) == rail) or x.std() > 2000.0


@pytest.mark.parametrize("seed", [1, 2])
def test_gross_movements_start_and_end_without_a_step(seed):
    # the slow deflection of a gross movement rises from and returns to 0 at its
    # segment's edges; a jump there would be an electrode step no movement explains
    rec = simulate("control_walking", 600.0, seed, components=True, walking_fraction=0.0, gross_moves_per_min=3.0)
    mot = rec.components["motion"]
    segs = rec.segments_of("motion")
    assert len(segs) >= 10
    inside = np.concatenate([mot[s.start_index:s.end_index] for s in segs])
    for s in segs:
        for i in (s.start_index, s.end_index):
            jump = np.abs(mot[min(i, mot.shape[0] - 1)] - mot[max(i - 1, 0)]).max()
            assert jump < 0.01 * np.abs(inside).max(), (s.start_index, s.end_index, jump)


def test_the_simulator_makes_ectopic_beats_early_and_wide():
    rec = simulate("control_ecg", 120.0, 5, ecg_ectopic_fraction=0.05)
    rate = float(rec.emg_rate_hz)
    segs = sorted((s for s in rec.segments if s.kind == "ecg"), key=lambda s: s.start_index)
    mids = np.array([(s.start_index + s.end_index) / 2 for s in segs]) / rate
    widths = np.array([s.end_index - s.start_index for s in segs]) / rate
    wide = np.flatnonzero(widths >= 0.11)
    assert wide.size >= 3 and np.all(widths[widths < 0.11] <= 0.1)
    rr = np.median(np.diff(mids))
    for k in wide:
        if 0 < k < mids.size - 1:
            assert mids[k] - mids[k - 1] < 0.85 * rr  # premature
            assert mids[k + 1] - mids[k - 1] > 1.8 * rr  # the next beat keeps its time (compensatory pause)
    # without the parameter nothing changes: no ectopic beat
    assert simulate("control_ecg", 30.0, 5).params["ecg"]["ectopic_beats"] == 0


def test_cable_spikes_follow_the_walking_movement():
    # A cable moves only as the limb does: spikes are thinned by the bout's movement
    # envelope (0 at a bout's first and last sample, 1 from 0.5 s in), so none come
    # before the accelerometer shows the walking; mid-bout the stream is unchanged.
    kw = dict(walking_fraction=0.6, cable_spikes_per_s=40.0, components=True)
    on = simulate("control_walking", 240.0, 3, **kw)
    off = simulate("control_walking", 240.0, 3, cable_spikes_follow_motion=False, **kw)
    assert np.array_equal(on.acc_mg, off.acc_mg)
    rate = float(on.emg_rate_hz)
    sos = sps.butter(4, 100.0, "highpass", fs=rate, output="sos")
    hp_on, hp_off = (sps.sosfiltfilt(sos, r.components["motion"], axis=0) for r in (on, off))
    bouts = on.segments_of("motion")
    assert len(bouts) >= 3
    onset = int(0.06 * rate)
    ramp = int(0.55 * rate)
    first_on = sum(np.sum(hp_on[s.start_index:s.start_index + onset] ** 2) for s in bouts)
    first_off = sum(np.sum(hp_off[s.start_index:s.start_index + onset] ** 2) for s in bouts)
    assert first_on < 0.1 * first_off, (first_on, first_off)
    for s in bouts:
        mid = slice(s.start_index + ramp, s.end_index - ramp)
        assert np.array_equal(on.components["motion"][mid], off.components["motion"][mid])
