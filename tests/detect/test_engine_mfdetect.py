"""Detection in a motor-unit potential's band (detector 1.18, :mod:`twitchwatch.detect.mfdetect`).

Under poor contact (broad-band noise of ~13 µV RMS) a surface potential of ~60 µV
peak-to-peak peaks at ~4.5 sigma in single samples: never a candidate of the plain
5-sigma threshold, while its energy over its ~10 ms stands far out of the noise. The bank
of Hermite-Rodriguez matched filters finds it; on twitch-free noise of the same level
it finds (almost) nothing; under good contact (3 µV) it does not search; and any block
split gives the same events.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from twitchwatch.detect import DetectorConfig, TwitchDetector
from twitchwatch.detect.mfdetect import hermite_rodriguez

FS = 2000.0
FS_I = int(FS)
AMP_UV = 60.0  #: peak-to-peak; the band-passed noise of 13 µV white is ~8.5 µV: peaks at ~4.5 sigma


def _stream(seed: int, seconds: float, noise_uv: float, amp_uv: float, every_s: float = 1.7):
    """White noise plus MUAP-shaped potentials (Hermite-Rodriguez order 1 and 2 mixed,
    lambda 2.5 ms, as a surface unit of ~12 ms) of ``amp_uv`` peak-to-peak, irregularly."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    x = rng.normal(0.0, noise_uv, n)
    w = hermite_rodriguez(1, 2.5, FS) + 0.4 * hermite_rodriguez(2, 2.5, FS)
    w *= amp_uv / np.ptp(w)
    centres = []
    t = 5.0
    while t < seconds - 1.0:
        i = int(t * FS)
        x[i - w.size // 2:i - w.size // 2 + w.size] += w
        centres.append(i)
        t += every_s * rng.uniform(0.7, 1.3)
    return x[:, None], np.array(centres)


def _run(x, block: int, **cfg):
    det = TwitchDetector(FS, ("c",), config=DetectorConfig(**cfg))
    ev = []
    for k in range(0, x.shape[0], block):
        ev += det.process_emg(x[k:k + block], k)
    ev += det.flush()
    return ev, det


def _hits(events, centres, counted_only=True):
    tol = int(0.015 * FS)
    return sum(any(abs(e.sample_index - c) <= tol and (e.counted or not counted_only) for e in events) for c in centres)


def test_weak_potentials_under_poor_contact_are_found_and_counted():
    x, centres = _stream(1, 60.0, 13.0, AMP_UV)
    # in single samples they stay under the plain threshold (5 sigma of the band-passed noise)
    y = signal.sosfilt(signal.butter(2, (20.0, 450.0), "bandpass", fs=FS, output="sos"), x[:, 0])
    sd = np.median(np.abs(y[FS_I:])) / 0.6745
    assert np.median([np.abs(y[c - 20:c + 20]).max() for c in centres]) < 5 * sd
    plain, _ = _run(x, 200, mf_detect_false_per_min=0.0)
    events, det = _run(x, 200)
    assert _hits(plain, centres, counted_only=False) <= 0.25 * centres.size  # 5 of 33
    assert det.counts["mf_found"] >= 0.5 * centres.size  # 21 of 33
    assert _hits(events, centres) >= 0.5 * centres.size  # 21 of 33 counted
    assert sum(e.counted for e in events) - _hits(events, centres) <= 1  # no counted noise


def test_twitch_free_poor_contact_noise_counts_nothing():
    x, _ = _stream(2, 120.0, 13.0, 0.0)
    events, det = _run(x, 200)
    assert sum(e.counted for e in events) == 0
    assert len(events) <= 2  # uncounted candidates at the 0.2/min detection rate


def test_good_contact_is_not_searched():
    """Under good contact (3 µV) the bank does not run its search: real rest EMG there
    holds low-level potentials that its false-alarm rate does not describe."""
    x, centres = _stream(3, 30.0, 3.0, 20.0)
    _, det = _run(x, 200)
    assert det.counts["mf_found"] == 0


@pytest.mark.parametrize("block", [37, 1000, 2000])
def test_any_block_split_gives_the_same_events(block):
    x, _ = _stream(4, 40.0, 13.0, AMP_UV, every_s=0.9)
    ref, det_ref = _run(x, 200)
    assert det_ref.counts["mf_found"] > 10
    ev, det = _run(x, block)
    assert ev == ref
    assert det.counts == det_ref.counts


def test_the_compiled_fir_bank_is_scipys_lfilter_whatever_the_split():
    """The bank's filters (a numba kernel, no scipy.signal at run time) give
    ``scipy.signal.lfilter(taps, 1, x)`` for each template, and the same numbers in any
    block split (its state: the channel's last samples)."""
    from twitchwatch.detect.designs import butter_sos
    from twitchwatch.detect.mfdetect import MuapBank, _fir_bank

    bank = MuapBank(1, FS, butter_sos(2, (20.0, 450.0), "bandpass", FS), 200, 31, 5.0, 6, 0.1)
    x = np.random.default_rng(9).normal(0.0, 10.0, 3001)
    ref = np.array([signal.lfilter(t, [1.0], x) for t in bank._taps])
    for block in (1, 37, 3001):
        hist = np.zeros(bank.memory)
        r = np.empty_like(ref)
        for k in range(0, x.size, block):
            part = np.empty((bank.n_templates, min(block, x.size - k)))
            _fir_bank(bank._taps, bank._tap_first, bank._tap_last, hist, np.ascontiguousarray(x[k:k + block]), part)
            r[:, k:k + block] = part
        np.testing.assert_allclose(r, ref, rtol=0, atol=1e-9)
        if block == 1:
            first = r
        else:
            assert r.tobytes() == first.tobytes()
