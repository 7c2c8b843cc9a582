"""Detection below 1 kHz: amplitude and share of twitches found at 250 and 500 Hz.

120 s of the simulator's ``benign_clean`` scenario at its native 2 kHz, resampled to
each rate (scipy ``resample_poly``, anti-alias filtered), run through the detector in
1 s blocks, matched to the ground truth within 10 ms. Prints per rate the median of
detected / true peak-to-peak and the share of true twitches found; the numbers go
into ``twitchwatch.detect.lowrate.MEASURED``.

Run: ``python bench/detect/lowrate_bench.py [rate ...]`` (default 250 500 1000).
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import signal

from twitchwatch.detect import TwitchDetector
from twitchwatch.sim import simulate


def measure(rate_hz: float, seeds=(1, 2, 3), duration_s: float = 120.0) -> tuple[float, float]:
    """(median detected / true amplitude, share of true twitches found) at ``rate_hz``."""
    ratios: list[float] = []
    found = total = 0
    for seed in seeds:
        rec = simulate("benign_clean", duration_s, seed)
        q = int(round(rec.emg_rate_hz / rate_hz))
        x = signal.resample_poly(rec.emg_uv, 1, q, axis=0) if q > 1 else rec.emg_uv
        det = TwitchDetector(rate_hz, list(rec.emg_labels))
        events = []
        step = int(rate_hz)
        for i in range(0, x.shape[0], step):
            events += det.process_emg(x[i:i + step], i)
        events += det.flush()
        total += len(rec.twitches)
        for twitch in rec.twitches:
            t = twitch.sample_index / rec.emg_rate_hz
            near = [e for e in events if e.channel == twitch.channel and abs(e.sample_index / rate_hz - t) <= 0.01]
            if near:
                found += 1
                ratios.append(near[0].amplitude_uv / twitch.amplitude_uv)
    return float(np.median(ratios)) if ratios else float("nan"), found / max(total, 1)


if __name__ == "__main__":
    for rate in [float(r) for r in sys.argv[1:]] or [250.0, 500.0, 1000.0]:
        amp, share = measure(rate)
        print(f"{rate:g} Hz: median amplitude {amp:.2f} of true, {share:.0%} of twitches found")
