"""Peel-off of superimposed potentials with known units' templates (issue #19 item 3;
detect/peel.py, detect/matched.py, TwitchDetector._peel_off)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from twitchwatch.detect import DetectorConfig, TwitchDetector
from twitchwatch.detect.matched import NoiseWhitener, threshold
from twitchwatch.detect.peel import peel

from engine_synth import feed

FS = 2000.0


def _muap(fs: float, width_ms: float, phases: int) -> np.ndarray:
    """A unit-norm motor-unit-like potential: the (phases-1)-th derivative of a Gaussian."""
    t = np.arange(-2 * width_ms, 2 * width_ms, 1e3 / fs) / width_ms
    g = np.exp(-0.5 * (2.5 * t) ** 2)
    for _ in range(phases - 1):
        g = np.gradient(g)
    return g / np.linalg.norm(g)


def _coloured_noise(rng, n: int, sd: float) -> np.ndarray:
    """Band-passed (20-450 Hz) white + 1/f-like noise, as the cleaned EMG's background."""
    w = rng.normal(0, 1, n)
    pink = signal.lfilter([1.0], [1.0, -0.9], rng.normal(0, 1, n))
    x = signal.sosfilt(signal.butter(2, (20, 450), "bandpass", fs=FS, output="sos"), w + pink)
    return sd * x / np.std(x)


def _whitener(rng, sd: float) -> tuple[np.ndarray, float]:
    wh = NoiseWhitener(8, 0.2)
    for _ in range(10):
        y = _coloured_noise(rng, 400, sd)
        wh.update(y, np.ones(y.size, bool))
    fit = wh.filter()
    assert fit is not None
    return fit


def test_two_overlapping_units_are_both_found():
    rng = np.random.default_rng(1)
    a, se = _whitener(rng, 3.0)
    A, B = _muap(FS, 4.0, 2), _muap(FS, 3.0, 3)
    L = A.size
    rows = np.stack([A, np.pad(B, (0, L - B.size))])
    amps = np.array([300.0, 150.0]) * 1.0
    x = _coloured_noise(rng, 200, 3.0)
    gA, gB = 300.0 / np.ptp(rows[0]), 150.0 / np.ptp(rows[1])
    x[60:60 + L] += gA * rows[0]
    x[72:72 + L] += gB * rows[1]  # B 6 ms after A: one candidate for the engine
    comps, excess = peel(x, rows, amps, a, se, threshold(FS, 2), (0.75, 1.33))
    assert len(comps) == 2
    got = sorted((c.row, c.start) for c in comps)
    assert got[0][0] == 0 and abs(got[0][1] - 60) <= 1
    assert got[1][0] == 1 and abs(got[1][1] - 72) <= 1
    assert excess < 0.15


def test_noise_alone_takes_nothing():
    rng = np.random.default_rng(2)
    a, se = _whitener(rng, 3.0)
    rows = np.stack([_muap(FS, 4.0, 2), _muap(FS, 4.0, 3)])
    taken = 0
    for _ in range(50):
        comps, _ = peel(_coloured_noise(rng, 200, 3.0), rows, np.array([30.0, 30.0]), a, se, threshold(FS, 2),
                        (0.75, 1.33))
        taken += len(comps)
    assert taken == 0


def test_the_residue_of_a_large_misfitting_firing_is_not_a_second_unit():
    """A 600 µV firing 10 % wider than its template leaves a residue that a small unit's
    template fits at z >> tau; the mismatch term (peel_mismatch) keeps it out."""
    rng = np.random.default_rng(3)
    a, se = _whitener(rng, 3.0)
    A, small = _muap(FS, 4.0, 3), _muap(FS, 2.0, 2)
    rows = np.stack([A, np.pad(small, (0, A.size - small.size))])
    wide = _muap(FS, 4.4, 3)[: A.size]
    x = _coloured_noise(rng, 200, 3.0)
    x[60:60 + A.size] += 600.0 / np.ptp(A) * wide[: A.size]
    amps = np.array([600.0, 60.0])
    kw = dict(templates=rows, amps_pp_uv=amps, a=a, sigma_e=se, tau=threshold(FS, 2), amp_ratio=(0.75, 1.33))
    loose, _ = peel(x, mismatch=0.0, **kw)
    guarded, _ = peel(x, **kw)
    assert len(loose) >= 2  # the trap is real
    assert len(guarded) == 1 and guarded[0].row == 0


def _pairs_stream(seed: int, n_alone: int = 8, n_pairs: int = 6, gap_ms: float = 6.0, b_uv: float = 160.0):
    """Two units on channel 0 (A 300 µV biphasic, B ``b_uv`` triphasic), each firing alone
    ``n_alone`` times at irregular intervals, then ``n_pairs`` times together (B
    ``gap_ms`` after A); 3 µV white noise on 2 channels. Returns (emg, truth peaks)."""
    rng = np.random.default_rng(seed)
    A, B = _muap(FS, 4.0, 2), _muap(FS, 3.0, 3)
    gA, gB = 300.0 / np.ptp(A), b_uv / np.ptp(B)
    times = np.cumsum(rng.uniform(0.7, 1.6, 2 * n_alone + n_pairs)) + 1.0
    n = int((times[-1] + 1.5) * FS)
    emg = rng.normal(0, 3.0, (n, 2))
    truth = []
    kinds = ["A", "B"] * n_alone + ["AB"] * n_pairs
    for t, k in zip(times, kinds):
        i = int(t * FS)
        if "A" in k:
            emg[i:i + A.size, 0] += gA * A
            truth.append(i + int(np.argmax(np.abs(A))))
        if "B" in k:
            j = i + (int(gap_ms * 1e-3 * FS) if k == "AB" else 0)
            emg[j:j + B.size, 0] += gB * B
            truth.append(j + int(np.argmax(np.abs(B))))
    return emg, sorted(truth), n_pairs


def _hits(events, truth, tol: int = 12) -> int:
    peaks = sorted(e.sample_index for e in events if e.counted and e.channel == 0)
    used, hit = set(), 0
    for t in truth:
        m = [p for p in peaks if abs(p - t) <= tol and p not in used]
        if m:
            used.add(min(m, key=lambda p: abs(p - t)))
            hit += 1
    return hit


@pytest.mark.parametrize("seed", [11, 12])
def test_superimposed_firings_of_known_units_are_both_reported(seed):
    emg, truth, n_pairs = _pairs_stream(seed)
    on = TwitchDetector(FS, ("a", "b"))
    ev_on, _ = feed(on, emg, None, [200], [], [0])
    off = TwitchDetector(FS, ("a", "b"), config=DetectorConfig(peel_false_per_min=0.0))
    ev_off, _ = feed(off, emg, None, [200], [], [0])
    assert on.counts["peeled"] >= n_pairs - 1
    assert _hits(ev_on, truth) >= _hits(ev_off, truth) + n_pairs - 1
    # nothing that is not a truth firing
    assert len([e for e in ev_on if e.counted]) - _hits(ev_on, truth) == len([e for e in ev_off if e.counted]) - _hits(ev_off, truth)


def test_peel_off_is_the_same_for_any_block_split():
    emg, _truth, _ = _pairs_stream(13)
    ref = None
    for sizes in ([20], [200], [2000], [3400], [7, 333, 1999]):
        ev, _ = feed(TwitchDetector(FS, ("a", "b")), emg, None, sizes, [], [0])
        got = [(e.sample_index, e.channel, e.unit_id, e.amplitude_uv, e.counted, e.confidence) for e in ev]
        if ref is None:
            ref = got
        assert got == ref


def test_a_known_unit_firing_just_after_a_larger_one_is_not_an_echo():
    """B (90 µV, under half of A's peak) fires 30 ms after A: rule 1 took it for A's
    filter echo; B's template explains it, so it is B's firing (peel_echo)."""
    emg, truth, n_pairs = _pairs_stream(21, gap_ms=30.0, b_uv=90.0)
    on = TwitchDetector(FS, ("a", "b"))
    ev_on, _ = feed(on, emg, None, [200], [], [0])
    off = TwitchDetector(FS, ("a", "b"), config=DetectorConfig(peel_echo=False))
    ev_off, _ = feed(off, emg, None, [200], [], [0])
    assert off.counts["echo"] >= n_pairs - 1  # the trap: without it they are echoes
    assert on.counts["echo_known_unit"] >= n_pairs - 1
    assert _hits(ev_on, truth) >= _hits(ev_off, truth) + n_pairs - 1
    assert len([e for e in ev_on if e.counted]) == _hits(ev_on, truth)  # nothing false


def test_random_single_potentials_are_not_taken_apart():
    """Potentials of random shape, width and size, >= 60 ms apart (no two overlap): the
    unit book groups similar ones, and two shifted templates of a group can approximate a
    wider potential. The residual is judged against the weakest placement, and one unit
    does not fire twice within a doublet's interval: at most 1 false firing in 4 min."""
    from detect_synth import make_recording

    peeled = 0
    for seed in range(4):
        emg, _truth = make_recording(seed, 60.0)
        det = TwitchDetector(FS, ("a", "b"))
        feed(det, emg, None, (200,), (), (0,))
        peeled += det.counts["peeled"]
    assert peeled <= 1
