"""Helpers for TwitchDetector tests: feed EMG and accelerometer in given splits and order."""

from __future__ import annotations

import numpy as np

from twitchwatch.detect import TwitchDetector


def feed(detector: TwitchDetector, emg: np.ndarray, acc: np.ndarray | None, emg_sizes, acc_sizes, order):
    """Feed both streams; ``order`` is a sequence of 0 (next EMG block) / 1 (next acc block),
    consumed cyclically, then the rest. Returns (events, artefacts) sorted."""
    events, artefacts = [], []
    e_pos = a_pos = 0
    e_sizes = list(emg_sizes) or [emg.shape[0]]
    a_sizes = list(acc_sizes) or [1 if acc is None else acc.shape[0]]
    ei = ai = 0
    k = 0
    n_acc = 0 if acc is None else acc.shape[0]
    while e_pos < emg.shape[0] or a_pos < n_acc:
        pick = order[k % len(order)] if order else 0
        k += 1
        if (pick == 0 and e_pos < emg.shape[0]) or a_pos >= n_acc:
            n = e_sizes[ei % len(e_sizes)]
            ei += 1
            events += detector.process_emg(emg[e_pos : e_pos + n], e_pos)
            e_pos += min(n, emg.shape[0] - e_pos)
        else:
            n = a_sizes[ai % len(a_sizes)]
            ai += 1
            events += detector.process_acc(acc[a_pos : a_pos + n], a_pos)
            a_pos += min(n, n_acc - a_pos)
        artefacts += detector.pop_artefacts()
    events += detector.flush()
    artefacts += detector.pop_artefacts()
    key = lambda a: (a.start_index, -1 if a.channel is None else a.channel, a.kind, a.end_index, a.detail)  # noqa: E731
    return sorted(events, key=lambda e: (e.sample_index, e.channel)), sorted(artefacts, key=key)


def run_in_blocks(detector: TwitchDetector, rec, block_s: float = 0.1) -> list:
    """Stream a simulator recording (``twitchwatch.sim.simulate``) through ``detector`` as
    a live source would: ``block_s`` of EMG, then ``block_s`` of accelerometer, in turn;
    returns the events in the order the detector emitted them, flush included (the
    artefacts stay in the detector for ``pop_artefacts``)."""
    step, astep = int(block_s * rec.emg_rate_hz), int(block_s * rec.acc_rate_hz)
    events = []
    for k in range(rec.emg_uv.shape[0] // step + 1):
        events += detector.process_emg(rec.emg_uv[k * step : (k + 1) * step], k * step)
        acc = rec.acc_mg[k * astep : (k + 1) * astep]
        if len(acc):
            events += detector.process_acc(acc, k * astep)
    return events + detector.flush()


def quiet_acc(n: int, seed: int, noise_mg: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0.0, noise_mg, size=(n, 3))
    acc[:, 2] += 1000.0  # gravity
    return acc


def add_ecg(x: np.ndarray, rng: np.random.Generator, fs: float, rr_s: float, r_uv, breathing: float = 0.0) -> np.ndarray:
    """Add an ECG to ``x`` (samples, channels) in place and return its R-wave times (s).

    Beats from 0.5 s to 0.6 s before the end, every ``rr_s`` +- 2 % (one
    ``rng.standard_normal()`` per beat); QRS 80 ms (Q, R, S Gaussians) and a small T
    wave 250 ms after R; R amplitude ``r_uv[c]`` µV on channel c (sign = polarity),
    times ``1 + breathing x sin(2 pi 0.25 Hz t)`` at the beat's time t (respiratory
    modulation; 0: every beat the same).
    """
    n = x.shape[0]
    beats, t = [], 0.5
    while t < n / fs - 0.6:
        beats.append(t)
        t += rr_s * (1 + 0.02 * rng.standard_normal())
    q = 0.08
    tt = np.arange(-0.1, 0.5, 1 / fs)
    g = lambda c, s: np.exp(-0.5 * ((tt - c) / s) ** 2)  # noqa: E731
    wave = -0.15 * g(-0.3 * q, q / 14) + g(0, q / 10) - 0.3 * g(0.3 * q, q / 12) + 0.12 * g(0.25, 0.04)
    for b in beats:
        i = int(round((b - 0.1) * fs))
        gain = 1.0 + breathing * np.sin(2 * np.pi * 0.25 * b)
        for c in range(x.shape[1]):
            x[i : i + wave.size, c] += gain * r_uv[c] * wave[: max(0, min(wave.size, n - i))]
    return np.asarray(beats)


def biphasic_6ms(fs: float) -> np.ndarray:
    """A brief biphasic potential (~6 ms, 25 samples at 2 kHz), peak-to-peak 1, centred."""
    k = np.arange(-12, 13) / fs
    shape = -np.sin(2 * np.pi * k / 0.012) * np.exp(-0.5 * (k / 0.004) ** 2)
    return shape / (shape.max() - shape.min())
