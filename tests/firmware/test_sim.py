"""The simulator: deterministic, bit-identical under MicroPython and CPython, plausible."""

import statistics
import subprocess
import sys

import pytest

from conftest import FIRMWARE, MP_SCRIPTS, run_micropython

import sim_clocks  # noqa: E402  (conftest put firmware/ on sys.path)
import sim_frontend  # noqa: E402

EMG_UV_PER_LSB = 2.42 / 6 / 8388607 * 1e6
ACC_MG_PER_LSB = 0.061


def _dump_args(seed=7, n_emg=4000, n_acc=2000, rate=300):
    return [FIRMWARE, seed, n_emg, n_acc, rate]


def test_sim_identical_under_micropython_and_cpython():
    mp = run_micropython(MP_SCRIPTS / "sim_dump.py", *_dump_args()).stdout
    cp = subprocess.run([sys.executable, str(MP_SCRIPTS / "sim_dump.py"), *map(str, _dump_args())],
                        capture_output=True, text=True, timeout=60, check=True).stdout
    assert mp.count("\ne ") + 1 >= 4000 and "\nt " in mp  # twitches present
    assert mp == cp


def test_ground_truth_matches_dump_format():
    emg, acc, tw = sim_frontend.ground_truth(7, 4000, 2000, twitch_rate_per_min=300)
    cp = subprocess.run([sys.executable, str(MP_SCRIPTS / "sim_dump.py"), *map(str, _dump_args())],
                        capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    assert cp[0] == "e %d %d" % emg[0] and cp[4000] == "a %d %d %d" % acc[0]
    assert all(isinstance(v, int) for row in emg[:50] + acc[:50] for v in row)
    assert all(len(t) == 3 and all(isinstance(v, int) for v in t) for t in tw)


def test_deterministic_and_seed_dependent():
    a = sim_frontend.ground_truth(1, 3000, 1500)
    b = sim_frontend.ground_truth(1, 3000, 1500)
    c = sim_frontend.ground_truth(2, 3000, 1500)
    assert a == b
    assert a[0] != c[0] and a[1] != c[1]


def test_prefix_stable():
    """Asking for more samples never changes the earlier ones (streaming == batch)."""
    short = sim_frontend.ground_truth(4, 5000, 2500)
    long = sim_frontend.ground_truth(4, 9000, 4500)
    assert long[0][:5000] == short[0] and long[1][:2500] == short[1]
    assert long[2][: len(short[2])] == short[2]


def test_chunked_generation_equals_one_pass():
    """The firmware pulls samples in chunks and interleaves streams; same samples."""
    import array

    opts = sim_frontend.SimOptions(9, twitch_rate_per_min=200)
    sig = sim_frontend.SimSignal(opts)
    emg = array.array("i", bytes(4 * 2 * 6000))
    acc = array.array("i", bytes(4 * 3 * 3000))
    pe = pa = 0
    for n in [1, 7, 20, 333, 1000, 639, 2000, 2000]:
        pe = sig.emg_into(emg, pe, n)
        pa = sig.acc_into(acc, pa, n // 2 + 1) if pa < 3 * 3000 - 3 * (n // 2 + 1) else pa
    emg_rows, acc_rows, _ = sim_frontend.ground_truth(9, 6000, pa // 3, twitch_rate_per_min=200)
    assert [(emg[2 * i], emg[2 * i + 1]) for i in range(6000)] == emg_rows
    assert [(acc[3 * i], acc[3 * i + 1], acc[3 * i + 2]) for i in range(pa // 3)] == acc_rows


def test_signal_levels():
    emg, acc, tw = sim_frontend.ground_truth(1, 120_000, 60_000)  # 60 s
    per_channel = [sum(1 for t in tw if t[1] == ch) for ch in (0, 1)]
    assert all(10 <= n <= 30 for n in per_channel), per_channel  # ~20/min/channel
    assert all(50 <= t[2] <= 400 for t in tw)
    # Noise: samples far from any twitch, ~3 uV RMS (+1 uV hum).
    busy = set()
    for i, ch, _ in tw:
        busy.update(range(i - 40, i + 40))
    quiet = [emg[i][0] for i in range(0, 120_000, 3) if i not in busy]
    rms_uv = statistics.pstdev(quiet) * EMG_UV_PER_LSB
    assert 2.5 < rms_uv < 4.0, rms_uv
    # Every twitch peak is where ground truth says, clearly above noise, right size.
    for i, ch, uv in tw:
        got_uv = abs(emg[i][ch]) * EMG_UV_PER_LSB
        assert abs(got_uv - uv) < 20, (i, ch, uv, got_uv)
        assert got_uv > 8 * rms_uv
    # Gravity on Z, small noise on X/Y.
    z = [r[2] * ACC_MG_PER_LSB for r in acc]
    assert 995 < statistics.mean(z) < 1005
    assert 0.2 < statistics.pstdev([r[0] * ACC_MG_PER_LSB for r in acc[:500]]) < 1.5


def test_acc_transients_follow_some_twitches():
    sched = sim_frontend.twitch_schedule(1, 120_000)
    with_acc = [d for d in sched if d["acc"]]
    assert 0.2 * len(sched) < len(with_acc) < 0.8 * len(sched)
    _, acc, _ = sim_frontend.ground_truth(1, 120_000, 60_000)
    base_x = statistics.pstdev([r[0] for r in acc[:1000]])
    for d in with_acc[:5]:
        j = d["acc"]["start_index"]
        seg = [abs(r[0]) + abs(r[1]) for r in acc[j: j + 60]]
        assert max(seg) * ACC_MG_PER_LSB > 1.0, d  # a few mg, above the ~0.5 mg noise
        assert d["acc"]["start_index"] > d["peak_index"] // 2
        assert 5 <= d["acc"]["freq_hz"] <= 50
    assert base_x * ACC_MG_PER_LSB < 1.0


def test_twitch_rate_option():
    _, _, none = sim_frontend.ground_truth(1, 60_000, 10, twitch_rate_per_min=0)
    _, _, many = sim_frontend.ground_truth(1, 60_000, 10, twitch_rate_per_min=120)
    assert none == []
    assert 80 <= len(many) <= 160  # 2 channels x 120/min x 0.5 min
    with pytest.raises(TypeError):
        sim_frontend.ground_truth(1, 10, 10, no_such_option=1)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("n_units", [1, 3, 4])
def test_twitches_come_from_a_few_motor_units_each_with_its_own_shape(seed, n_units):
    """Each channel fires ``units_per_channel`` units; a unit keeps its template and
    polarity, and its amplitude stays within 8 % of its own; no two units of a channel
    share a template."""
    sched = sim_frontend.twitch_schedule(seed, 1_200_000, twitch_rate_per_min=60, units_per_channel=n_units)
    for ch in (0, 1):
        mine = [d for d in sched if d["channel"] == ch]
        units = {d["unit"] for d in mine}
        assert units == set(range(n_units)), units  # ~600 firings per channel: every unit fires
        shapes = {}
        for u in units:
            fired = [d for d in mine if d["unit"] == u]
            assert len({(d["duration_samples"], d["polarity"]) for d in fired}) == 1
            amps = [d["peak_uv"] for d in fired]
            assert max(amps) <= min(amps) * 1.08 / 0.92 + 1
            shapes[u] = fired[0]["duration_samples"]
        assert len(set(shapes.values())) == n_units
    with pytest.raises(ValueError):
        sim_frontend.SimOptions(1, units_per_channel=5)


def test_sampling_path_allocates_nothing_under_heap_lock():
    out = run_micropython(MP_SCRIPTS / "heap_lock_fill.py").stdout.split("\n")
    assert "control ALLOC 1/1" in out  # the harness does catch an allocation
    assert "fill ok" in out
    assert "fill_and_pack ok" in out
    assert "overrun ok" in out
    dropped = int(next(line for line in out if line.startswith("dropped")).split()[1])
    assert dropped > 0  # the overrun really dropped (and counted) samples


CLOCKS = dict(emg_clock_ppm=5000, acc_clock_ppm=-5000, clock_wander_ppm=1000, clock_wander_s=20)


def test_chip_clocks_identical_under_micropython_and_cpython():
    args = _dump_args(n_emg=20000, n_acc=10000) + ["%s=%d" % kv for kv in CLOCKS.items()]
    mp = run_micropython(MP_SCRIPTS / "sim_dump.py", *args).stdout
    cp = subprocess.run([sys.executable, str(MP_SCRIPTS / "sim_dump.py"), *map(str, args)],
                        capture_output=True, text=True, timeout=60, check=True).stdout
    assert mp == cp


def test_chip_clock_model():
    """Sample k at board time k/f (1 + ppm) + W(k/f): no error is the board's clock; the
    rate error and the wander's peak show in the sample counts; chip and board times
    are inverses; counts never go back."""
    exact = sim_clocks.ChipClock(1000)
    assert [exact.count(t) for t in (0, 999, 1000, 10**9)] == [0, 0, 1, 10**6]
    slow = sim_clocks.ChipClock(1000, ppm=10000)  # a 1 % longer period
    assert slow.count(100 * 10**6) == 99009  # 100 s / 1.01 ms
    w = sim_clocks.ChipClock(2000, ppm=-3000, wander_ppm=2000, wander_s=10, phase_256=40)
    for c in (0, 123457, 5 * 10**6 + 3, 61 * 10**6):
        assert abs(w.chip_us(w.board_us(c)) - c) <= 2
    counts = [w.count(t) for t in range(0, 30 * 10**6, 997)]
    assert all(b >= a for a, b in zip(counts, counts[1:]))
    # the rate over each second stays within ppm ± wander (+ a sample of rounding)
    per_s = [w.count((s + 1) * 10**6) - w.count(s * 10**6) for s in range(30)]
    assert all(2000 / 0.997 * (1 - 0.0021) - 1 <= n <= 2000 / 0.997 * (1 + 0.0021) + 1 for n in per_s), per_s
    assert max(per_s) - min(per_s) >= 6  # the wander shows: ±0.2 % of 2000/s


def test_a_movement_starts_10_ms_of_board_time_after_its_peak_whatever_the_clocks():
    """The accelerometer's part of a twitch is placed by the board's time, so with the
    chips 1 % apart it moves by 10 ms per second of recording against index × rate."""
    plain = sim_frontend.twitch_schedule(3, 120_000, twitch_rate_per_min=60)
    drift = sim_frontend.twitch_schedule(3, 120_000, twitch_rate_per_min=60, **CLOCKS)
    assert [d["peak_index"] for d in plain] == [d["peak_index"] for d in drift]  # EMG is its own reference
    clocks = sim_clocks.ChipClocks(2000, 1000, emg_ppm=5000, acc_ppm=-5000, wander_ppm=1000, wander_s=20)
    for a, b in zip(plain, drift):
        if a["acc"] is None:
            continue
        assert a["acc"]["start_index"] == a["peak_index"] // 2 + 10
        board_peak_us = clocks.emg.board_us(b["peak_index"] * 500)
        # the movement's first sample is the first one the accelerometer converts 10 ms later
        assert b["acc"]["start_index"] == clocks.acc.count(board_peak_us + 10_000)
    late = [(a, b) for a, b in zip(plain, drift) if a["acc"] and a["peak_index"] > 100_000]
    assert late and all(b["acc"]["start_index"] - a["acc"]["start_index"] > 400 for a, b in late)
