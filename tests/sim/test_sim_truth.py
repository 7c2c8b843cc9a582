"""The truth matches the signal: twitch amplitudes, peaks, rates, doublets, units, MMG."""

from collections import defaultdict

import numpy as np
import pytest

from twitchwatch.sim import EXCLUDE_KINDS, SCENARIOS, simulate
from twitchwatch.sim.units import Shape


def _isolated(rec):
    """Twitches whose window no other potential (or crosstalk copy) touches."""
    wins = []
    for t in rec.twitches:
        margin = int(0.45 * (t.end_index - t.onset_index)) + 4  # crosstalk copies are wider
        wins.append((t.onset_index - margin, t.end_index + margin, {t.channel, *[c for c, _a in t.crosstalk]}))
    out = []
    for i, t in enumerate(rec.twitches):
        a, b, chans = wins[i]
        clash = any(j != i and a2 < b and b2 > a and (chans & ch2) for j, (a2, b2, ch2) in enumerate(wins)
                    if abs(j - i) < 20)
        if not clash:
            out.append(t)
    return out


@pytest.mark.parametrize("name", ["benign_clean", "als_like", "doublets", "mixed"])
def test_twitch_amplitude_peak_and_support_match_the_noise_free_component(name):
    rec = simulate(name, 120.0, seed=21, components=True)
    comp = rec.components["twitch"]
    iso = _isolated(rec)
    assert len(iso) >= 0.6 * len(rec.twitches) > 10
    for t in iso:
        seg = comp[t.onset_index:t.end_index, t.channel]
        assert np.ptp(seg) == pytest.approx(t.amplitude_uv, rel=0.01)
        assert t.onset_index + int(np.argmax(np.abs(seg))) == t.sample_index
        # nothing of this potential outside [onset, end)
        assert comp[t.onset_index - 1, t.channel] == 0.0 and comp[t.end_index, t.channel] == 0.0
        assert 4.5 <= t.duration_ms <= 26.0
        assert abs((t.end_index - t.onset_index) / rec.emg_rate_hz * 1000 - t.duration_ms) <= 1.5
        for ch, ptp in t.crosstalk:
            assert ch != t.channel and 0 < ptp < t.amplitude_uv


def test_amplitudes_within_configured_range():
    rec = simulate("als_like", 300.0, seed=3)
    lo, hi = SCENARIOS["als_like"].twitch_amplitude_uv
    amps = np.array([t.amplitude_uv for t in rec.twitches])
    assert amps.min() >= lo * 0.85 and amps.max() <= hi * 1.05


def test_no_twitch_inside_voluntary_motion_or_lead_off():
    for name in ["mixed", "walking", "voluntary_bursts", "electrode_pops"]:
        rec = simulate(name, 600.0, seed=4)
        excl = [s for s in rec.segments if s.kind in EXCLUDE_KINDS]
        assert excl, name
        for t in rec.twitches:
            assert not any(s.overlaps(t.onset_index, t.end_index) for s in excl)


@pytest.mark.parametrize("name,rate", [("benign_clean", None), ("als_like", None), ("benign_clean", 30.0)])
def test_poisson_rate_within_confidence_interval(name, rate):
    kw = {} if rate is None else {"twitch_rate_per_min": rate}
    rec = simulate(name, 1800.0, seed=9, **kw)
    r = rate or SCENARIOS[name].twitch_rate_per_min
    for ch in (0, 1):
        n = sum(1 for t in rec.twitches if t.channel == ch and not t.doublet)
        # units are independent; crosstalk never moves a twitch to another channel
        expected = r * rec.duration_s / 60.0
        assert abs(n - expected) < 4.0 * np.sqrt(expected), (ch, n, expected)


def test_rate_counts_time_outside_excluded_segments():
    rec = simulate("voluntary_bursts", 1800.0, seed=2, voluntary_per_min=10.0)
    excluded = sum(s.end_index - s.start_index for s in rec.segments if s.kind in EXCLUDE_KINDS)
    free_min = (rec.emg_uv.shape[0] - excluded) / rec.emg_rate_hz / 60.0
    assert free_min < 0.9 * rec.duration_s / 60.0
    n = sum(1 for t in rec.twitches if not t.doublet)
    expected = 2 * SCENARIOS["voluntary_bursts"].twitch_rate_per_min * free_min
    assert abs(n - expected) < 4.0 * np.sqrt(expected)


def test_inter_discharge_intervals_are_exponential():
    rec = simulate("benign_clean", 3600.0, seed=5, units_per_channel=1, twitch_rate_per_min=30.0,
                   doublet_prob=0.0)
    idx = np.array([t.sample_index for t in rec.twitches if t.channel == 0]) / rec.emg_rate_hz
    isi = np.diff(idx)
    # exponential: coefficient of variation ~1 (a periodic or refractory train would be << 1)
    assert 0.85 < isi.std() / isi.mean() < 1.15


def test_doublet_spacing_and_fraction():
    sc = SCENARIOS["doublets"]
    rec = simulate("doublets", 900.0, seed=6)
    by_unit = defaultdict(list)
    for t in rec.twitches:
        by_unit[t.unit_id].append(t)
    n_doublet = 0
    for ts in by_unit.values():
        for prev, cur in zip(ts, ts[1:]):
            if cur.doublet:
                n_doublet += 1
                gap_ms = (cur.sample_index - prev.sample_index) / rec.emg_rate_hz * 1000
                lo, hi = sc.doublet_interval_ms
                assert lo - 1.0 <= gap_ms <= hi + 1.0
                assert not prev.doublet
    primaries = sum(1 for t in rec.twitches if not t.doublet)
    assert n_doublet == sum(t.doublet for t in rec.twitches)
    p = n_doublet / primaries
    assert abs(p - sc.doublet_prob) < 4 * np.sqrt(sc.doublet_prob * (1 - sc.doublet_prob) / primaries)


def test_units_stable_in_shape_and_distinguishable():
    rec = simulate("als_like", 600.0, seed=8, components=True)
    units = rec.params["units"]
    for ch in (0, 1):
        amps = sorted(u["amplitude_uv"] for u in units if u["channel"] == ch)
        assert len(amps) == SCENARIOS["als_like"].units_per_channel
        assert all(b / a >= 1.25 for a, b in zip(amps, amps[1:]))
    by_unit = defaultdict(list)
    for t in _isolated(rec):
        by_unit[t.unit_id].append(t)
    comp = rec.components["twitch"]
    for uid, ts in by_unit.items():
        amps = np.array([t.amplitude_uv for t in ts])
        med = np.median(amps)
        assert np.all(np.abs(amps / med - 1) <= 0.11)  # ±5 % jitter (+ sampling phase)
        durs = np.array([t.duration_ms for t in ts])
        assert np.all(np.abs(durs / np.median(durs) - 1) <= 0.045)  # ±2 % width jitter
        # shape stable: sampled waveforms around the peak correlate (sub-sample phase varies)
        w = [comp[t.sample_index - 8:t.sample_index + 9, t.channel] for t in ts[:20]]
        w = [x / np.linalg.norm(x) for x in w]
        assert np.median([float(np.dot(w[0], x)) for x in w]) > 0.9


def test_unit_shapes_have_finite_support_and_unit_ptp():
    for coefs in ([0, 1, 0, 0], [0.1, 0.2, -1, 0.1], [0, 0.2, 0.1, 1.0]):
        s = Shape.from_coefs(np.array(coefs, float))
        assert 2.0 < s.width < 8.0 and s.norm > 0


def test_mmg_follows_its_twitch_with_the_stated_peak_and_delay():
    rec = simulate("benign_clean", 600.0, seed=12, components=True, twitch_rate_per_min=3.0)
    mmg = rec.components["acc_mmg"]
    k = rec.acc_rate_hz / rec.emg_rate_hz
    with_mmg = [t for t in rec.twitches if t.acc_response_mg > 0]
    assert 0.3 * len(rec.twitches) < len(with_mmg) < len(rec.twitches)
    checked = 0
    for t in with_mmg:
        if any(o is not t and abs(o.onset_index - t.onset_index) < 2000 and o.acc_response_mg > 0
               for o in with_mmg):
            continue
        a = int(t.onset_index * k)
        seg = np.linalg.norm(mmg[a:a + 600], axis=1)
        first = int(np.argmax(seg > 0))
        assert 4 <= first <= 32  # 5–30 ms ± 1 ms jitter, at 1 kHz
        assert seg.max() == pytest.approx(t.acc_response_mg, rel=1e-6)
        assert 0.8 <= t.acc_response_mg <= 3.3
        checked += 1
    assert checked > 10


def test_every_units_main_phase_reaches_the_physiological_floor():
    """Issue #19: a surface MUAP's main phase is >= twitch_main_phase_min_ms at half
    amplitude (docs/simulator.md); without the floor short polyphasic units were
    needle-like (~0.6 ms)."""
    import numpy as np

    from twitchwatch.sim.scenarios import SCENARIOS
    from twitchwatch.sim.units import make_units

    narrow_before = 0
    for seed in range(5):
        for name in ("benign_clean", "als_like"):
            sc = SCENARIOS[name]
            for u in make_units(np.random.default_rng(seed), 2, sc):
                assert u.shape.main_phase * u.lam_s * 1e3 >= sc.twitch_main_phase_min_ms - 1e-9
            for u in make_units(np.random.default_rng(seed), 2, sc.replace(twitch_main_phase_min_ms=0.0)):
                narrow_before += u.shape.main_phase * u.lam_s * 1e3 < 1.0
    assert narrow_before > 0
