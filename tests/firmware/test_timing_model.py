"""The board's firmware under the ESP32 timing model (esp32_timing.py): every bus call,
driver call and Python step takes modelled time while the chips convert on their own
clocks. The bytes the model's UART sends are decoded by the host's FrameDecoder.

What these tests show (figures in docs/firmware.md, "Timing budget"):
- at the default configuration and the assumed CPU costs, no sample is lost, the UART
  never blocks, and the worst DRDY-to-read latency leaves headroom in the 0.5 ms window;
- under injected stalls (GC pauses) and CPU overload every lost conversion is counted
  by the firmware and arrives at the host as a Gap at its index; every delivered sample
  sits at its own index (its value encodes the conversion number), so the time base is
  never compressed;
- the ESP32 port's Pin.irq (scheduled, queue of 8) would lose edges silently; the PCNT
  counts them all.
"""

import pytest

import esp32_timing as tm

EMG_WINDOW_US = 500  # 1 / 2000 SPS: a conversion is overwritten by the next one


def _check_time_base(blocks, rate_hz_emg=2000):
    """Every delivered sample is the conversion of its index (no shift, no compression)."""
    n = {0: 0, 1: 0}
    for b in blocks:
        for i, row in enumerate(b.samples):
            idx = b.first_sample_index + i
            if b.stream_id == 0:
                assert tuple(row) == tm.emg_value(idx), (idx, tuple(row))
            else:
                assert tuple(row) == tm.acc_value(idx), (idx, tuple(row))
            n[b.stream_id] += 1
        if b.stream_id == 0:
            assert b.t_first_us == b.first_sample_index * 10**6 // rate_hz_emg
    return n


@pytest.fixture(scope="module")
def default_run():
    return tm.run(3.0)


def test_zero_loss_at_default_configuration(default_run):
    r = default_run
    assert r.acq.dropped_samples == 0
    assert r.acq.frames_refused == 0
    assert r.acq.fe.ads.bad_frames == 0
    assert r.board.uart_blocked_ns == 0  # the pacer never lets a write wait
    blocks, gaps, stats = tm.decode_on_host(r)
    assert gaps == [] and stats.samples_lost == 0 and stats.seq_gaps == 0
    n = _check_time_base(blocks)
    # every conversion up to STOP delivered (STOP's last fill reads what came meanwhile)
    assert r.board.emg_at_stop <= n[0] <= r.board.emg_made
    assert r.board.acc_at_stop - 40 <= n[1] <= r.board.acc_made  # words still in the FIFO at STOP


def test_headroom_at_default_configuration(default_run):
    """The figures docs/firmware.md states: worst DRDY-to-read latency ~260 us of the
    500 us window, the loop busy ~62 % of the time (38 % idle spins)."""
    r = default_run
    lat_us = r.board.worst_latency_ns / 1000
    assert lat_us < 0.6 * EMG_WINDOW_US, lat_us
    assert 0.45 < r.busy_fraction < 0.7, r.busy_fraction


def test_faster_cpu_has_more_headroom():
    """A sanity check of the model: half the CPU cost, less latency and busy time."""
    fast = tm.run(1.0, cpu_factor=0.5)
    slow = tm.run(1.0, cpu_factor=1.0)
    assert fast.board.worst_latency_ns < slow.board.worst_latency_ns
    assert fast.busy_fraction < slow.busy_fraction


STALLS = [(0.5, 3.0), (1.0, 20.0), (1.5, 0.7), (2.0, 300.0)]  # (at s, ms): GC pauses, a flash write


def test_stalls_are_counted_and_marked_as_gaps():
    r = tm.run(2.5, stalls=STALLS)
    assert r.board.stall_ns == int(sum(d for _, d in STALLS) * 1e6)
    blocks, gaps, stats = tm.decode_on_host(r)
    emg_gaps = [g for g in gaps if g.stream_id == 0]
    # one gap per stall, where it happened, about as long as the stall (0.5 ms per sample)
    # plus what catching up costs: the conversion a read was overtaken by and the slow
    # job due after the stall (a STATUS, 0.5 ms: one more), depending on the stall's phase
    assert len(emg_gaps) == len(STALLS)
    for g, (at_s, ms) in zip(emg_gaps, STALLS):
        assert abs(g.first_missing_index - at_s * 2000) <= 2, (g, at_s)
        assert ms * 2 - 2 <= g.n_missing <= ms * 2 + 3, (g, ms)
    # every loss counted by the firmware reaches the host as a gap, and nothing else
    assert sum(g.n_missing for g in gaps) == stats.samples_lost == r.acq.dropped_samples
    # the accelerometer FIFO (438 words, 0.53 s) rides out stalls shorter than itself
    assert not [g for g in gaps if g.stream_id == 1]
    _check_time_base(blocks)


def test_cpu_overload_losses_are_counted_never_silent():
    r = tm.run(1.0, cpu_factor=2.0)
    assert r.acq.dropped_samples > 100  # the loop cannot keep up
    blocks, gaps, stats = tm.decode_on_host(r)
    assert stats.samples_lost == r.acq.dropped_samples == sum(g.n_missing for g in gaps)
    n = _check_time_base(blocks)
    accounted = n[0] + sum(g.n_missing for g in gaps if g.stream_id == 0)
    assert r.board.emg_at_stop <= accounted <= r.board.emg_made  # every conversion to STOP


def test_unpaced_writes_would_block_the_loop():
    """Without the pacer (a FIFO it believes is huge) stdout writes wait for the UART:
    the loop stalls in them and conversions are lost (counted)."""
    board, loop = tm.build()
    loop.pacer.fifo_bytes = 100000
    loop.acq.handle_command(1, 0)  # START
    t0 = board.t_ns
    while board.t_ns < t0 + 1e9:
        board.cpu(board.c.loop_ns)
        loop.run_once()
    assert board.uart_blocked_ns > 10_000_000  # > 10 ms of the second spent waiting
    assert loop.acq.dropped_samples > 0  # and conversions lost (counted) meanwhile


def test_soft_irq_would_lose_edges_silently():
    """The ESP32 port's Pin.irq: a 10 ms stall (a GC pause) brings 20 DRDY edges; the
    schedule queue holds 8, the other 12 vanish, so an IRQ edge counter says 8 while the
    PCNT (the firmware's counter) says 20."""
    board, loop = tm.build()
    board.irq = tm.SoftIrqScheduler()
    loop.acq.handle_command(1, 0)
    c0 = board.ads.counter.count
    board.advance(10_000_000)  # nothing runs: no scheduled callback either
    for _ in range(50):
        board.irq.run_pending()
    assert board.ads.counter.count - c0 == 20
    assert board.irq.count == tm.SoftIrqScheduler.DEPTH == 8
    assert board.irq.dropped == 12


def test_timing_stamps_bound_each_conversion_on_the_board_clock():
    """The chips 1 % apart (EMG +0.5 %, LSM6DSO -0.5 %): every TIMING stamp's board time
    is at or after its sample's conversion (model time) and close behind it (EMG: inside
    its 0.5 ms window; accelerometer: within the FIFO polling interval), and the host's
    aligner, from these stamps only, puts each accelerometer sample on the EMG timeline
    within a sample of where it belongs; indexed at nominal rates it would be 20 ms off
    after 2 s."""
    import numpy as np

    from twitchwatch.clock import AccAligner
    from twitchwatch.protocol import Hello, SampleBlock, Timing

    r = tm.run(4.0, emg_clock_ppm=5000, acc_clock_ppm=-5000)
    msgs = tm.messages_on_host(r)
    hello = [m for m in msgs if isinstance(m, Hello)][-1]
    emg_t = np.array(r.board.emg_times)
    acc_t = np.array(r.board.acc_times)
    late = {0: [], 1: []}
    timings = [m for m in msgs if isinstance(m, Timing)]
    assert 35 <= len(timings) <= 41  # every 100 ms
    for m in timings:
        for s in m.stamps:
            conv_ns = (emg_t if s.stream_id == 0 else acc_t)[s.sample_index]
            late[s.stream_id].append(s.board_us * 1000 - conv_ns)
    assert min(late[0]) >= -1000 and max(late[0]) < EMG_WINDOW_US * 1000, (min(late[0]), max(late[0]))
    assert min(late[1]) >= -1000 and max(late[1]) < 6_000_000, (min(late[1]), max(late[1]))

    al = AccAligner(hello.streams[0], hello.streams[1])
    placed = []
    for m in msgs:
        if isinstance(m, Timing):
            al.add(m)
        elif isinstance(m, SampleBlock) and m.stream_id == 1:
            n = m.samples.shape[0]
            gap, k0, rows = al.place(m.first_sample_index, n)
            rows = np.arange(n) if rows is None else rows
            placed += [(k0 + i, m.first_sample_index + int(j)) for i, j in enumerate(rows)]
    k = np.array([p[0] for p in placed])
    j = np.array([p[1] for p in placed])
    acc_hz = hello.streams[1].sample_rate_hz
    # where sample j belongs: the EMG index (fractional) at its conversion time, at the acc rate
    emg_index = np.interp(acc_t[j], emg_t, np.arange(len(emg_t)))
    want = emg_index * acc_hz / 2000
    after = k > 2 * acc_hz
    assert after.sum() > 1000
    err = np.abs(want[after] - k[after])
    assert err.max() < 1.5, err.max()
    assert np.abs(want[after] - j[after]).max() > 15  # what the nominal rates would give


@pytest.mark.parametrize("stall_ms,acc_ppm", [(800.0, 5000), (2000.0, -8000), (5000.0, 5000)])
def test_a_fifo_overrun_is_counted_by_the_board_clock(stall_ms, acc_ppm):
    """A stall longer than the LSM6DSO FIFO holds (438 words, 0.53 s at 833 Hz) overflows
    it: the chip says so but not how many it lost. The firmware counts them from the
    board clock at the accelerometer's measured rate (its clock off nominal here), so
    the host marks a gap of about the real length where it happened, and every later
    sample sits within a few samples of its true index (the rate measured over the
    stamps before the stall is off by up to ~0.1 %). Counted as one, they would sit
    hundreds of samples behind. (While the full FIFO drains it may overflow once more,
    by a word: a second, short gap.)"""
    r = tm.run(3.0 + stall_ms / 1000, stalls=[(1.5, stall_ms)], acc_clock_ppm=acc_ppm)
    blocks, gaps, stats = tm.decode_on_host(r)
    acc_gaps = [g for g in gaps if g.stream_id == 1]
    g = acc_gaps[0]
    assert abs(g.first_missing_index - 1.5 * 833 * (1 - acc_ppm * 1e-6)) < 40  # where the stall began
    assert all(gg.n_missing <= 2 for gg in acc_gaps[1:])
    assert sum(gg.n_missing for gg in gaps) == stats.samples_lost == r.acq.dropped_samples
    # acc_value(k) encodes conversion k: each delivered sample says where it belongs
    bound = 2 + stall_ms * 1e-3 * 833 * 1e-3  # samples: 2 + 0.1 % of the stall
    offsets = []
    for b in blocks:
        if b.stream_id == 1:
            for i, row in enumerate(b.samples):
                offsets.append(int(row[0]) + 30000 * int(row[1]) - (b.first_sample_index + i))
    before = [o for o, _ in zip(offsets, range(g.first_missing_index))]
    assert set(before) == {0}
    after = offsets[g.first_missing_index:]
    assert after and max(abs(o) for o in after) <= bound, (sorted(set(after)), bound)
    lost_true = g.n_missing + after[0]
    assert lost_true > stall_ms * 0.833 * (1 - acc_ppm * 1e-6) - 438 - 10  # the FIFO did overflow
