"""Measure TwitchDetector throughput (not a test): 2 EMG at 2 kHz + 3-axis acc at 1 kHz.

    .venv/bin/python tests/detect/engine_throughput.py [block_ms ...]

Prints the real-time factor (seconds of signal per second of CPU) per block length on
10 minutes of synthetic EMG (3 µV noise, 20 µV 50 Hz hum on one channel, a potential
every ~0.5 s) and quiet accelerometer data, fed alternately in blocks of that length.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from detect_synth import RATE_HZ, make_recording  # noqa: E402
from engine_synth import quiet_acc  # noqa: E402
from twitchwatch.detect import TwitchDetector  # noqa: E402


def main(block_ms_list: list[float]) -> None:
    duration_s = 600.0
    emg, truth = make_recording(0, duration_s)
    emg[:, 1] += 20.0 * np.sin(2 * np.pi * 50.0 * np.arange(emg.shape[0]) / RATE_HZ)
    acc = quiet_acc(int(duration_s * 1000), 0)
    for block_ms in block_ms_list:
        be, ba = max(1, int(block_ms * 2)), max(1, int(block_ms))
        det = TwitchDetector(RATE_HZ, ["emg0", "emg1"], 1000.0)
        n_events = 0
        started = time.process_time()
        for k in range(0, emg.shape[0] // be + 1):
            n_events += len(det.process_emg(emg[k * be : (k + 1) * be], k * be)) if k * be < emg.shape[0] else 0
            if k * ba < acc.shape[0]:
                n_events += len(det.process_acc(acc[k * ba : (k + 1) * ba], k * ba))
        n_events += len(det.flush())
        elapsed_s = time.process_time() - started
        print(f"block {block_ms:7.1f} ms: {duration_s / elapsed_s:8.0f} x real time "
              f"({elapsed_s:.2f} s CPU for {duration_s:.0f} s, {n_events} events, {len(truth)} injected)")


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [10.0, 50.0, 100.0, 1000.0])
