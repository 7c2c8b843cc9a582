"""firmware/decimate.py (the lower rates the BLE link streams at) and firmware/ble_budget.py
(which rate a connection carries): filter response, timing, gaps, allocation, and the
same bytes under MicroPython and CPython."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import FIRMWARE, MP_SCRIPTS, run_micropython

import acquire  # noqa: E402  (firmware/, put on sys.path by conftest)
import ble_budget  # noqa: E402
import clocks  # noqa: E402
import decimate  # noqa: E402
import sim_frontend  # noqa: E402
import stream_desc  # noqa: E402


def _gain(factor, f_rel, shift=0, n=4000):
    """Amplitude out / in of a sine at ``f_rel`` x the input rate, fitted at the output rate."""
    amp = 100000
    rows = [(int(round(amp * math.sin(2 * math.pi * f_rel * i + 0.3))),) for i in range(n)]
    out = np.array([r[0] for r in decimate.decimate(rows, factor, shift)], dtype=float)[50:]
    j = np.arange(50, 50 + len(out))
    ph = 2 * math.pi * f_rel * factor * j + 0.3  # output j stands for input factor * j
    basis = np.stack([np.sin(ph), np.cos(ph)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, out, rcond=None)
    return float(np.hypot(*coef)) / amp, coef


def test_a_half_band_stage_passes_the_band_and_stops_what_would_fold_back():
    assert _gain(2, 0.0625)[0] == pytest.approx(1.0, abs=0.01)  # 125 Hz at 2 kHz
    assert _gain(2, 0.125)[0] == pytest.approx(0.975, abs=0.01)  # 250 Hz: -0.2 dB
    assert _gain(2, 0.2)[0] == pytest.approx(0.772, abs=0.01)  # 400 Hz: -2.2 dB
    assert _gain(2, 0.375)[0] < 0.03  # 750 Hz, would fold to 250 Hz: below -30 dB
    assert _gain(2, 0.45)[0] < 0.005


def test_the_output_is_centred_on_its_input_sample_no_phase_shift():
    # a sine in the pass band comes out in phase (the fit's cosine term is ~0)
    for factor in (2, 4, 8):
        g, coef = _gain(factor, 0.02 / factor * 2)
        assert g > 0.95 and abs(coef[1]) < 0.01 * 100000
    # a straight line comes out exactly: output j is input factor * j
    rows = [(1000 + 37 * i, -5 * i) for i in range(400)]
    for factor in (2, 4, 8):
        out = decimate.decimate(rows, factor)
        assert out[3:40] == [rows[factor * j] for j in range(3, 40)]


def test_cascades_stop_aliasing_of_their_own_output_rate():
    for factor in (4, 8):
        fold = 0.75 / factor  # 3/4 of the input band that folds onto the output band
        assert _gain(factor, fold)[0] < 0.03
        assert _gain(factor, 0.2 / factor)[0] > 0.75


def test_int24_values_stay_small_ints_and_rails_clamp():
    top = (1 << 23) - 1
    rows = [((top if (i // 7) % 2 else -top - 1),) for i in range(200)]
    out = decimate.decimate(rows, 8, shift=3)
    assert all(-(1 << 23) <= v[0] < (1 << 23) for v in out)


class _Inner:
    """A front end of one ramp stream that loses samples when told."""

    def __init__(self):
        self.streams = (stream_desc.Stream(0, 2000000, stream_desc.FORMAT_INT24, 20, (
            stream_desc.Channel(stream_desc.KIND_EMG, "EMG 1", "uV", stream_desc.EMG_SCALE_BITS),)),)
        self.next = 0
        self.due = 0
        self.missed = 0

    def start(self):
        self.next = self.due = self.missed = 0

    def available(self, sid):
        return self.due - self.next

    def take_missed(self, sid):
        m, self.missed = self.missed, 0
        return m

    def read(self, sid, ring, n):
        for _ in range(n):
            ring.put((self.next * 40,))
            self.next += 1

    def stop(self):
        pass

    def lead_off(self):
        return 0

    def battery_mv(self):
        return 0

    def battery_pct(self):
        return 255

    def lose(self, n):
        self.next += n
        self.due += n
        self.missed += n


def test_a_gap_in_the_input_is_a_counted_gap_in_the_output():
    inner = _Inner()
    fe = decimate.DecimatingFrontEnd(inner)
    fe.set_factors((4,))
    assert fe.streams[0].sample_rate_mhz == 500000
    frames = []
    acq = acquire.Acquisition(fe, clocks.VirtualClock(), lambda v: frames.append(bytes(v)), 1, "x", raw_frames=True)
    acq.start()
    for _ in range(10):
        inner.due += 50
        acq.step()
    inner.lose(203)
    for _ in range(10):
        inner.due += 50
        acq.step()
    acq.flush()
    from twitchwatch.protocol import FrameDecoder, Gap, SampleBlock

    msgs = FrameDecoder().feed(b"".join(_ble_notes(frames)), 0.0)
    blocks = [m for m in msgs if isinstance(m, SampleBlock)]
    gaps = [m for m in msgs if isinstance(m, Gap)]
    idx = np.concatenate([np.arange(b.first_sample_index, b.first_sample_index + b.n_samples) for b in blocks])
    vals = np.concatenate([np.asarray(b.samples)[:, 0] for b in blocks])
    assert len(gaps) == 1 and acq.dropped_samples == gaps[0].n_missing
    # a ramp comes through exactly: every output j is input 4 j, before and after the gap,
    # except the first few after each start (the held past is not on the ramp)
    restart = gaps[0].first_missing_index + gaps[0].n_missing
    settled = (idx >= 3) & ((idx < gaps[0].first_missing_index) | (idx >= restart + 3))
    assert np.array_equal(vals[settled], idx[settled] * 4 * 40)
    assert settled.sum() > len(idx) - 8
    missing = set(range(idx[0], idx[-1] + 1)) - set(idx.tolist())
    assert missing == set(range(gaps[0].first_missing_index, gaps[0].first_missing_index + gaps[0].n_missing))


def _ble_notes(frames):
    """Raw frames as the serial wire would carry them (COBS + 0x00), for FrameDecoder."""
    from twitchwatch.protocol.cobs import cobs_encode as encode

    return [encode(f) + b"\x00" for f in frames]


def _decimated_truth(seed, n_in_emg, n_in_acc, factors):
    emg, acc, _ = sim_frontend.ground_truth(seed, n_in_emg, n_in_acc, twitch_rate_per_min=300)
    return (decimate.decimate([tuple(r) for r in emg], factors[0], 3),
            decimate.decimate([tuple(r) for r in acc], factors[1], 0))


@pytest.mark.parametrize("step_us", [3000, 10000, 37000])
def test_the_lowered_stream_is_the_decimated_ground_truth_whatever_the_step(step_us):
    clock = clocks.VirtualClock()
    fe = decimate.DecimatingFrontEnd(sim_frontend.SimFrontEnd(clock, seed=5, twitch_rate_per_min=300))
    fe.set_factors((2, 4))
    frames = []
    acq = acquire.Acquisition(fe, clock, lambda v: frames.append(bytes(v)), 1, "sim-0005", raw_frames=True)
    acq.start()
    while clock.now_ms() < 2000:
        clock.advance(step_us)
        acq.step()
    from twitchwatch.protocol import FrameDecoder, Gap, Hello, SampleBlock

    msgs = FrameDecoder().feed(b"".join(_ble_notes(frames)), 0.0)
    hello = next(m for m in msgs if isinstance(m, Hello))
    assert [s.sample_rate_hz for s in hello.streams] == [1000, 250]
    assert not any(isinstance(m, Gap) for m in msgs)
    emg_t, acc_t = _decimated_truth(5, 5000, 2500, (2, 4))
    for sid, truth in ((0, emg_t), (1, acc_t)):
        blocks = [m for m in msgs if isinstance(m, SampleBlock) and m.stream_id == sid]
        got = np.concatenate([np.asarray(b.samples) for b in blocks])
        assert blocks[0].first_sample_index == 0 and len(got) >= (1900 if sid == 0 else 460)
        assert np.array_equal(got, np.asarray(truth[:len(got)]))


def _script_output(interp_cmd, env=None):
    out = {}
    text = interp_cmd.stdout if hasattr(interp_cmd, "stdout") else interp_cmd
    for line in text.splitlines():
        k, v = line.split()
        out[k] = int(v)
    return out


def test_micropython_sends_the_same_bytes_as_cpython_and_allocates_nothing():
    mp = _script_output(run_micropython(MP_SCRIPTS / "decimate_checks.py"))
    env = dict(os.environ, PYTHONPATH=str(FIRMWARE))
    cp = _script_output(subprocess.run([sys.executable, str(MP_SCRIPTS / "decimate_checks.py")], capture_output=True,
                                       text=True, timeout=120, env=env, check=True))
    assert mp["fill_alloc"] == 0
    assert mp["frames"] > 100 and mp == cp


# ----------------------------------------------------------------------------- the budget

REF = stream_desc.reference_streams()


@pytest.mark.parametrize("mtu, interval_ms, level", [
    (247, 7.5, 0), (247, 15, 0), (185, 15, 0), (247, 30, 2), (247, 50, 3),
    (23, 7.5, 3), (23, 15, 3), (23, 30, 3), (23, 50, 3),
])
def test_the_rule_picks_the_best_level_that_fits(mtu, interval_ms, level):
    assert ble_budget.choose(REF, mtu, round(interval_ms / 1.25)) == level


def test_what_the_rule_counts():
    # full stream at MTU 247: 100 EMG + 50 ACC frames + 1 STATUS, one packet each
    assert ble_budget.need_milli_packets(REF, (1, 1), 247) == 151000
    # at MTU 23 a 144-byte frame is 8 notifications of 20 bytes (COBS adds ~3 bytes)
    assert ble_budget.packets_per_frame(144, 23) == 8
    assert ble_budget.capacity_milli_packets(6) == 533333  # 7.5 ms, 4 packets an event
    assert ble_budget.capacity_milli_packets(0) == 266666  # not reported: 15 ms assumed
    # level 3 at MTU 23 and 30 ms does not fit: the rule says so (gaps will be counted)
    assert ble_budget.need_milli_packets(REF, ble_budget.LEVELS[3], 23) > ble_budget.capacity_milli_packets(24)
    assert ble_budget.describe(REF, 2) == "EMG 1000 Hz, ACC 250 Hz"
