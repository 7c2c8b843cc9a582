"""Rule 10c (detector 1.16): a potential inside the activity that made the channel's
previous candidate a contraction's onset is part of that activity, not a twitch.

Rule 10 rejects a candidate as the onset of a contraction when the 25 ms after it are
busy (``activity after`` / ``weak activity after``). The potentials that make that
window busy are the contraction's own discharges; before 1.16 the next of them, if it
stood out of the weak activity and had a quiet stretch after it, was counted as a twitch.
On the real rest recording ``biosppy/emg_1.txt`` both counted events at rest (35.95 s
and 45.01 s) were such potentials: each followed, within 12-20 ms, a candidate rejected
as an onset (``activity after 0.64`` / ``0.68``), at the start of a weak contraction
(35.9-41 s, 20-450 Hz RMS 1.5-2x the resting 4 µV) and inside an ~80-ms burst of
potentials (44.96-45.04 s).

The synthetic stream: white noise (3 µV), a biphasic potential A, weak activity (an
80-300 Hz burst of 40 ms, ~4 µV RMS) starting right after it, and in that activity a
second potential B 12 ms after A's end; then quiet.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from twitchwatch.detect import DetectorConfig, TwitchDetector

FS = 2000.0


def _stream(seed: int, gap_ms: float, b_uv: float = 40.0) -> tuple[np.ndarray, int, int]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 3.0, int(4 * FS))
    t = (np.arange(40) - 20) / FS
    mu = -t / 2e-3 * np.exp(-0.5 * (t / 2e-3) ** 2)
    mu /= np.abs(mu).max()
    a = int(2.0 * FS)
    x[a - 20:a + 20] += 60.0 * mu
    s0, n = a + 20 + int(0.002 * FS), int(0.040 * FS)
    burst = signal.sosfilt(signal.butter(2, (80.0, 300.0), "bandpass", fs=FS, output="sos"), rng.normal(0, 1, n + 400))[400:]
    x[s0:s0 + n] += burst * 4.0 / burst.std() * np.hanning(n) ** 0.3
    b = s0 + int(gap_ms * 1e-3 * FS)
    x[b - 20:b + 20] += b_uv * mu
    return x[:, None], a, b


def _run(x: np.ndarray, block: int, **cfg):
    det = TwitchDetector(FS, ("c",), config=DetectorConfig(**cfg))
    events, arts = [], []
    for k in range(0, x.shape[0], block):
        events += det.process_emg(x[k:k + block], k)
        arts += det.pop_artefacts()
    events += det.flush()
    arts += det.pop_artefacts()
    return events, arts


@pytest.mark.parametrize("b_uv", [40.0, 60.0])
def test_a_potential_in_the_activity_after_an_onset_is_not_a_twitch(b_uv):
    x, a, b = _stream(1, 12.0, b_uv)
    tol = int(0.01 * FS)
    # without rule 10c: A is an onset (activity after it), B is counted as a twitch
    events, arts = _run(x, 200, onset_follow=False)
    assert any(r.kind == "voluntary" and r.detail.startswith("activity after") and abs(r.start_index - a) <= 2 * tol
               for r in arts)
    assert [e.counted for e in events if abs(e.sample_index - b) <= tol] == [True]
    # with it: B is part of that activity (reported as voluntary), no event at all
    for block in (37, 200, 2000):
        events, arts = _run(x, block)
        assert events == [], f"block {block}: {events}"
        assert any(r.kind == "voluntary" and r.detail == "inside the activity after an onset"
                   and r.start_index <= b <= r.end_index for r in arts)


def test_a_second_potential_after_a_quiet_window_still_counts():
    """The rule reaches only as far as the window that was judged busy: when A's 25 ms
    after it are not busy (the weak activity starts later), A and B are both twitches."""
    x, a, b = _stream(1, 16.0)
    events, _ = _run(x, 200)
    tol = int(0.01 * FS)
    assert [e.counted for e in events if abs(e.sample_index - a) <= tol] == [True]
    assert [e.counted for e in events if abs(e.sample_index - b) <= tol] == [True]
