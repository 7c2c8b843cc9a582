"""Measure ThresholdDetector throughput (not a test): 2 channels at 2 kHz.

    .venv/bin/python tests/detect/throughput.py [block_ms ...]

Prints the real-time factor (seconds of signal per second of CPU) per block length,
on 10 minutes of 3 µV noise with a potential every ~0.5 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from detect_synth import RATE_HZ, make_recording  # noqa: E402
from twitchwatch.detect import ThresholdDetector  # noqa: E402


def main(block_ms_list: list[float]) -> None:
    duration_s = 600.0
    recording, truth = make_recording(0, duration_s)
    for block_ms in block_ms_list:
        block = max(1, int(block_ms * 1e-3 * RATE_HZ))
        detector = ThresholdDetector(RATE_HZ, ["emg0", "emg1"])
        n_events = 0
        started = time.perf_counter()
        for start in range(0, recording.shape[0], block):
            n_events += len(detector.process(recording[start : start + block], start))
        n_events += len(detector.flush())
        elapsed_s = time.perf_counter() - started
        print(
            f"block {block_ms:7.1f} ms: {duration_s / elapsed_s:8.0f} x real time "
            f"({elapsed_s:.2f} s for {duration_s:.0f} s, {n_events} events, {len(truth)} injected)"
        )


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [10.0, 50.0, 100.0, 1000.0])
