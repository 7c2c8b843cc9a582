"""Load the engine's compiled kernels before a live stream starts.

numba compiles each kernel on its first call, or loads it from its on-disk cache
(~0.2 s in all on this machine when cached, several seconds the first time). A live
run that pays this when the first samples arrive stops reading its serial port or
pseudo-terminal for that long, and a device whose buffer is smaller than that drops
samples at the source. :func:`warm_up` runs a fresh detector over a few seconds of a
synthetic signal that takes every compiled path (noise, mains hum, brief biphasic
potentials on both channels, the accelerometer), before the source is opened.
"""

from __future__ import annotations

import numpy as np

from .engine import TwitchDetector
from .features import phases_and_lobes

WARM_UP_S = 3.5  #: seconds of synthetic signal: the engine's settling time plus some potentials


def warm_up(emg_rate_hz: float = 2000.0, n_channels: int = 2, acc_rate_hz: float | None = 1000.0) -> int:
    """Run a throw-away :class:`TwitchDetector` over ``WARM_UP_S`` of synthetic signal
    (µV: 3 µV RMS noise, a 50 Hz hum of 8 µV, a 200 µV biphasic 6 ms potential every
    0.25 s from 2.2 s on, alternating channels; accelerometer in mg: 1 g plus 2 mg
    noise). Deterministic. Returns the number of events it found (for tests)."""
    fs = float(emg_rate_hz)
    n = int(WARM_UP_S * fs)
    rng = np.random.default_rng(0)
    t = np.arange(n) / fs
    emg = rng.normal(0.0, 3.0, (n, n_channels)) + 8.0 * np.sqrt(2.0) * np.sin(2 * np.pi * 50.0 * t)[:, None]
    half = int(0.003 * fs)
    k = np.arange(-half, half + 1) / max(half, 1)
    spike = -200.0 * k * np.exp(0.5 - 2.0 * k * k)  # biphasic: extremes ±100 µV at k = ∓0.5, 200 µV p-p
    for j, start in enumerate(np.arange(2.2, WARM_UP_S - 0.2, 0.25)):
        i = int(start * fs)
        emg[i - half : i + half + 1, j % n_channels] += spike
    labels = tuple(f"EMG {c + 1}" for c in range(n_channels))
    det = TwitchDetector(fs, labels, acc_rate_hz=acc_rate_hz)
    acc = None
    if acc_rate_hz is not None:
        m = int(WARM_UP_S * acc_rate_hz)
        acc = rng.normal(0.0, 2.0, (m, 3)) + np.array([0.0, 0.0, 1000.0])
    events = []
    step = max(1, int(0.1 * fs))
    for s in range(0, n, step):
        events += det.process_emg(emg[s : s + step], s)
        if acc is not None and acc_rate_hz is not None:
            a0, a1 = int(s * acc_rate_hz / fs), int(min(n, s + step) * acc_rate_hz / fs)
            if a1 > a0:
                events += det.process_acc(acc[a0:a1], a0)
    events += det.flush()
    # the one kernel that only a twitch on a heartbeat reaches from Python (engine._twitch_on_beat)
    phases_and_lobes(spike.astype(np.float64), 20.0, 100.0)
    return len(events)
