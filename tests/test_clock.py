"""ClockMap against a simulated USB link: drift, a latency floor, jitter, stalls, bunching."""

import numpy as np
import pytest

from twitchwatch.clock import ClockMap
from twitchwatch.protocol import SampleBlock
from twitchwatch.protocol.synthetic import reference_hello

LATENCY_FLOOR_S = 0.002  # the fastest a frame ever gets from the device to the host
USB_FRAME_S = 0.001  # arrival jitter above the floor: uniform over one USB frame
HOST_T0_S = 1000.0


def simulate(drift_ppm, seed, duration_s=120.0):
    """Returns device times (s) of each frame's last sample, true host times of those
    samples, and the (late, bunched) host receive times."""
    rng = np.random.default_rng(seed)
    dev_s = np.sort(np.concatenate([np.arange(0.0095, duration_s, 0.010),   # EMG frames, 20 @ 2 kHz
                                    np.arange(0.0195, duration_s, 0.020)]))  # ACC frames, 20 @ 1 kHz
    true_host_s = HOST_T0_S + dev_s * (1 + drift_ppm * 1e-6)
    arrive_s = true_host_s + LATENCY_FLOOR_S + rng.uniform(0, USB_FRAME_S, dev_s.size)
    stalled = rng.random(dev_s.size) < 0.01  # 1 % of frames held up to 50 ms (scheduler, hub)
    arrive_s = np.maximum.accumulate(arrive_s + stalled * rng.uniform(0, 0.05, dev_s.size))
    # The host reads every 12-20 ms: everything that arrived since is stamped with the read time.
    reads_s = HOST_T0_S + np.cumsum(rng.uniform(0.012, 0.020, int(duration_s / 0.012) + 100))
    recv_s = reads_s[np.searchsorted(reads_s, arrive_s)]
    return dev_s, true_host_s, recv_s


@pytest.mark.parametrize("drift_ppm", [-100, 0, 100])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_error_bounded_by_the_arrival_jitter_above_the_floor(drift_ppm, seed):
    dev_s, true_host_s, recv_s = simulate(drift_ppm, seed)
    late_ms = (recv_s - true_host_s - LATENCY_FLOOR_S) * 1e3
    assert late_ms.max() > 30  # bunching and stalls make raw receive times useless as stamps
    clock = ClockMap()
    errors_s = []
    for d, r, t in zip(dev_s, recv_s, true_host_s):
        d_us = int(round(d * 1e6))
        clock.add(d_us, r)
        if d > 10.0:  # after 10 s of warm-up, map the newest sample (no look-ahead)
            errors_s.append(clock.to_host_s(d_us) - (t + LATENCY_FLOOR_S))
    errors_s = np.array(errors_s)
    # The floor itself is unobservable; relative to it, the map may be off by at
    # most the jitter band the earliest arrivals still carry: one USB frame.
    assert np.abs(errors_s).max() <= USB_FRAME_S
    assert abs(clock.rate - (1 + drift_ppm * 1e-6)) < 20e-6


def test_arrays_and_scalars_agree():
    dev_s, _, recv_s = simulate(50, 4, duration_s=20)
    clock = ClockMap()
    for d, r in zip(dev_s, recv_s):
        clock.add(int(round(d * 1e6)), r)
    us = np.array([0, 1_000_000, 19_000_000], dtype=np.int64)
    np.testing.assert_allclose(clock.to_host_s(us), [clock.to_host_s(int(u)) for u in us], rtol=0, atol=1e-9)


def test_reset_follows_a_rebooted_device():
    clock = ClockMap()
    dev_s, true_s, recv_s = simulate(80, 5, duration_s=30)
    for d, r in zip(dev_s, recv_s):
        clock.add(int(round(d * 1e6)), r)
    clock.reset()
    assert not clock.ready
    with pytest.raises(ValueError):
        clock.to_host_s(0)
    # The new boot's clock starts at 0 again, 100 s later on the host.
    for d, r, t in zip(dev_s, recv_s + 100.0, true_s + 100.0):
        clock.add(int(round(d * 1e6)), r)
    assert abs(clock.to_host_s(int(25e6)) - (HOST_T0_S + 100 + 25 * (1 + 80e-6) + LATENCY_FLOOR_S)) <= USB_FRAME_S


def test_add_block_uses_the_last_sample():
    info = reference_hello().stream(0)  # 2 kHz
    block = SampleBlock(0, info, 0, 1_000_000, np.zeros((20, 2), np.int32), host_time_s=50.0)
    clock = ClockMap()
    clock.add_block(block)
    # one point: slope 1 through it; the last sample (index 19) is at 1_009_500 µs
    assert clock.to_host_s(1_009_500) == pytest.approx(50.0)


def test_bad_arguments():
    with pytest.raises(ValueError):
        ClockMap(window_s=1.0, bin_s=2.0)


def test_fit_history_maps_each_sample_with_the_fit_of_its_own_second():
    """FitHistory records the fit when the first block reaches into each second, and maps
    a sample with its second's fit, however late it is asked (later points moved the map)."""
    from twitchwatch.clock import FitHistory

    dev_s, _, recv_s = simulate(80, 5, duration_s=30)
    clock, hist = ClockMap(), FitHistory(epoch_samples=2000)
    expected = {}
    for d, r in zip(dev_s, recv_s):
        d_us = int(round(d * 1e6))
        clock.add(d_us, r)
        last_index = int(round(d * 2000))
        second = last_index // 2000
        if second not in expected:
            expected[second] = clock.to_host_s(d_us)  # the map as it stood at that moment, at that point
        hist.note(last_index, clock)
    assert clock.to_host_s(int(5.0 * 1e6)) != hist.fit_for(5 * 2000).to_host_s(int(5.0 * 1e6)), \
        "the map moved after second 5: the test would not see a wrong fit"
    for second, host_s in expected.items():
        d_us = int(round(dev_s[np.searchsorted(dev_s * 2000, second * 2000)] * 1e6))
        fit = hist.fit_for(second * 2000 + 1999)
        assert fit == hist.fit_for(second * 2000)
        assert fit.to_host_s(d_us) == host_s


def test_fit_history_keeps_a_bounded_window_and_resets():
    from twitchwatch.clock import FitHistory

    clock, hist = ClockMap(), FitHistory(epoch_samples=100, keep_epochs=5)
    assert hist.fit_for(0) is None
    for k in range(50):
        clock.add(k * 50_000, 10.0 + k * 0.05 + (0.003 if k % 3 else 0.0))  # one 100-sample block (one epoch) per point
        hist.note(k * 100 + 99, clock)
    assert len(hist._fits) <= 6
    assert hist.fit_for(0) == hist.fit_for(44 * 100), "older than the window: the oldest kept fit"
    assert hist.fit_for(49 * 100 + 50) == clock.fit()
    hist.reset()
    assert hist.fit_for(4900) is None
    with pytest.raises(ValueError):
        FitHistory(0)


def test_add_blocks_equals_add_block_then_note_block_by_block():
    """The pipeline's batched path: the same points, fits and fit history, bit for bit."""
    from twitchwatch.clock import FitHistory

    info = reference_hello().stream(0)  # 2 kHz, 20 samples per frame
    dev_s, _, recv_s = simulate(120, 7, duration_s=20)
    rng = np.random.default_rng(3)
    blocks, index = [], 0
    for r in recv_s[::2]:  # a 20-sample block per point, arriving in bunches of 1-7 sharing a time
        blocks.append(SampleBlock(0, info, index, index * 500, np.zeros((20, 2), np.int32), host_time_s=r))
        index += 20
    one, one_hist = ClockMap(), FitHistory(epoch_samples=2000)
    many, many_hist = ClockMap(), FitHistory(epoch_samples=2000)
    pos = 0
    while pos < len(blocks):
        n = int(rng.integers(1, 8))
        for b in blocks[pos:pos + n]:
            one.add_block(b)
            one_hist.note(b.first_sample_index + b.n_samples - 1, one)
        many.add_blocks(blocks[pos:pos + n], many_hist)
        pos += n
    assert many.points() == one.points() and many.n_points == one.n_points
    assert many.fit() == one.fit()
    assert many_hist._epochs == one_hist._epochs and many_hist._fits == one_hist._fits


def _objects_held(obj):
    """Python objects reachable from ``obj``'s attributes through dicts, lists and tuples
    (a numpy array counts as one)."""
    seen, todo = 0, list(vars(obj).values())
    while todo:
        o = todo.pop()
        seen += 1
        if isinstance(o, dict):
            todo += [*o.keys(), *o.values()]
        elif isinstance(o, (list, tuple)):
            todo += list(o)
    return seen


def test_the_kept_points_are_no_python_objects_however_long_it_runs():
    """Issue 17: the window's points were a dict of (x, y) tuples, one per 0.25 s bin
    (241 entries: ~960 small objects, replaced as the window moves), long-lived objects
    allocated one at a time among a run's short-lived ones. Now they are three
    preallocated arrays: what the map holds is the same after one window and after
    eleven, and no Python object per point."""
    m = ClockMap()
    for i in range(6_000):  # a full window: 60 s of points 10 ms apart
        m.add(i * 10_000, i * 0.01 + (i % 7) * 1e-3)
    m.fit()
    held = _objects_held(m)
    for i in range(6_000, 66_000):  # ten more windows
        m.add(i * 10_000, i * 0.01 + (i % 7) * 1e-3)
    m.fit()
    assert _objects_held(m) == held
    assert held < len(vars(m)) + 10  # its attributes, not a few per point
    assert len(m.points()[0]) == 241 and m.measured
