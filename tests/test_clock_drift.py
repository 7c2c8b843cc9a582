"""One time base for the EMG and the accelerometer (issue #16 item 4).

The ADS1292R and the LSM6DSO sample on independent oscillators (±0.5–2 %, see
docs/firmware.md): indexed at their nominal rates the two streams drift apart by 10 ms
per second at 1 %, against the detector's 25 ms mechanical-response window. The
firmware stamps both streams on the board's one clock (TIMING frames) and the host's
:class:`~twitchwatch.clock.AccAligner` places the accelerometer on the EMG timeline.
"""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch import clock as clock_mod
from twitchwatch.clock import AccAligner
from twitchwatch.pipeline import Pipeline
from twitchwatch.protocol import ClockStamp, StreamInfo, Timing
from twitchwatch.protocol.messages import ChannelInfo
from twitchwatch.transports import VirtualBoard

from test_end_to_end import SIM

EMG = StreamInfo(0, 2000.0, 3, 20, (ChannelInfo(1, "EMG 1", "uV", 1.0),), sample_rate_mhz=2_000_000)
ACC = StreamInfo(1, 833.0, 2, 20, (ChannelInfo(2, "ACC X", "mg", 1.0),), sample_rate_mhz=833_000)


def _stamps(emg_ppm: float, acc_ppm: float, seconds: float, rng, offset_us: float = 3000.0):
    """TIMING frames every 0.1 s: each stream's newest sample and a board time just
    before its read (0–0.4 ms after its conversion for the EMG, 0–4 ms for the FIFO)."""
    out = []
    for t in np.arange(0.1, seconds, 0.1):
        t_us = t * 1e6
        je = int(t_us * 2000e-6 * (1 + emg_ppm * 1e-6))  # conversions so far on the chip's clock
        ja = int((t_us - offset_us) * 833e-6 * (1 + acc_ppm * 1e-6))
        ce = je / (2000 * (1 + emg_ppm * 1e-6)) * 1e6  # board µs of those conversions
        ca = ja / (833 * (1 + acc_ppm * 1e-6)) * 1e6 + offset_us
        out.append(Timing((ClockStamp(0, je - 1, int(ce + rng.uniform(0, 400))),
                           ClockStamp(1, ja - 1, int(ca + rng.uniform(0, 4000))))))
    return out


def _true_k(j: np.ndarray, emg_ppm: float, acc_ppm: float, offset_us: float = 3000.0) -> np.ndarray:
    """Grid place of accelerometer sample j: its board time as EMG time, at 833 Hz."""
    board_us = (j + 1) / (833 * (1 + acc_ppm * 1e-6)) * 1e6 + offset_us
    emg_index = board_us * 2000e-6 * (1 + emg_ppm * 1e-6) - 1
    return emg_index * 833 / 2000


@pytest.mark.parametrize("emg_ppm,acc_ppm", [(5000, -5000), (-10000, 8000), (0, 0)])
def test_the_aligner_places_the_accelerometer_within_a_sample_on_the_emg_timeline(emg_ppm, acc_ppm):
    rng = np.random.default_rng(3)
    al = AccAligner(EMG, ACC)
    timings = _stamps(emg_ppm, acc_ppm, 20.0, rng)
    placed: list[tuple[int, int]] = []  # (grid index, source index)
    j, fed = 0, 0
    for t_i, timing in enumerate(timings):
        al.add(timing)
        end = int((t_i + 1) * 0.1 * 833) - 10
        while j + 20 <= end:  # 20-sample blocks as they arrive
            gap, k0, rows = al.place(j, 20)
            if rows is None:
                rows = np.arange(20)
            placed += [(k0 + i, j + int(r)) for i, r in enumerate(rows)]
            j += 20
        fed = j
    k = np.array([p[0] for p in placed])
    src = np.array([p[1] for p in placed])
    assert np.all(np.diff(k) >= 1)  # each grid point given once, in order
    late = k > 2 * 833  # from 2 s on (a fit over 0.5 s exists from the first second)
    err_samples = _true_k(src[late], emg_ppm, acc_ppm) - k[late]
    assert np.max(np.abs(err_samples)) < 1.5, np.max(np.abs(err_samples))  # < 1.8 ms at 833 Hz
    # without the aligner the skew would be 1 % of the elapsed time: 200 ms after 20 s
    if emg_ppm != acc_ppm:
        nominal_err = _true_k(src[-1:], emg_ppm, acc_ppm) - src[-1]
        assert abs(nominal_err[0]) > 100
    assert fed > 16000


def test_without_stamps_the_accelerometer_keeps_its_own_indexes():
    al = AccAligner(EMG, ACC)
    assert al.place(0, 20) == (None, 0, None)
    assert al.place(20, 20) == (None, 20, None)
    assert al.place(60, 20) == (None, 60, None)  # a source gap: the decoder's Gap marks it
    assert not al.aligned


def test_a_lost_stretch_becomes_a_gap_on_the_grid_and_is_never_filled():
    rng = np.random.default_rng(4)
    al = AccAligner(EMG, ACC)
    for t in _stamps(3000, -3000, 3.0, rng):
        al.add(t)
    j = 0
    while j < 2000:
        gap, k0, rows = al.place(j, 20)
        j += 20
    next_k = al.next_k
    gap, k0, rows = al.place(j + 100, 20)  # 100 samples lost
    assert gap is not None and gap[0] == next_k and 95 <= gap[1] <= 105
    assert k0 == gap[0] + gap[1] and rows is not None and rows.min() >= 0
    # the samples after the gap are their own, in order, none repeated more than once
    assert np.all(np.diff(rows) >= 0) and np.all(np.diff(rows) <= 2)


def test_a_gap_before_the_first_fit_is_marked_once_and_the_grid_goes_on_from_it():
    """A gap the decoder reports while the grid is still the stream's own index is the
    detector's to mark (``lost`` says so); the grid continues after it, so when the first
    fit arrives right after, the aligner does not mark it a second time."""
    rng = np.random.default_rng(6)
    al = AccAligner(EMG, ACC)
    assert al.place(0, 500) == (None, 0, None)
    assert al.lost(500, 60) is True  # marked by the caller, on the stream's own index
    for t in _stamps(0, 0, 1.2, rng, offset_us=0.0):
        al.add(t)
    gap, k0, rows = al.place(560, 20)
    assert al.aligned and gap is None and 558 <= k0 <= 562, (gap, k0)
    assert al.lost(580, 20) is False  # from now on the aligner marks it, on its grid
    gap, k0, rows = al.place(600, 20)
    assert gap is not None and 18 <= gap[1] <= 22


def test_placing_does_not_depend_on_block_sizes():
    """The same stamps and frames, each frame placed whole or in pieces (a read that
    ends inside a run of frames): the same source row for every grid point."""
    rng = np.random.default_rng(5)
    timings = _stamps(7000, -2000, 6.0, rng)

    def run(pieces):
        al = AccAligner(EMG, ACC)
        out: dict[int, int] = {}
        j = 0
        for t_i, timing in enumerate(timings):
            al.add(timing)
            while j + 20 <= int((t_i + 1) * 0.1 * 833) - 30:  # the frames that arrived
                for n in pieces:
                    gap, k0, rows = al.place(j, n)
                    if gap is not None:  # the first fit moves the stream once (offset + drift so far)
                        out[-gap[0]] = gap[1]
                    for i, r in enumerate(range(n) if rows is None else rows):
                        assert k0 + i not in out
                        out[k0 + i] = j + int(r)
                    j += n
        return out

    whole = run([20])
    assert run([10, 10]) == whole
    assert run([7, 1, 12]) == whole
    assert len(whole) > 4000


def _events(extra, fix: bool = True, seed: int = 5, seconds: int = 30):
    events = []
    add = clock_mod.AccAligner.add
    if not fix:  # the host as it was: TIMING ignored, the accelerometer by index
        clock_mod.AccAligner.add = lambda self, timing: None  # type: ignore[method-assign]
    try:
        with VirtualBoard(seed=seed, duration_s=seconds, twitch_rate_per_min=60, extra_args=extra) as source:
            summary = Pipeline(source, source_name="drift", on_event=events.append).run()
    finally:
        clock_mod.AccAligner.add = add  # type: ignore[method-assign]
    assert summary.problems() == {}, summary.problems()
    return events


def _responses(events, seed: int = 5, seconds: int = 30):
    """(mechanical response mg of twitches with a movement, of those without), per true twitch."""
    on, off = {}, {}
    # the board stops after ``seconds`` worth of samples of each stream, which on chips
    # 1 % apart end 0.3 s apart: the last second is left out
    for d in SIM.twitch_schedule(seed, (seconds - 1) * 2000, twitch_rate_per_min=60):
        hit = [e for e in events if e.channel == d["channel"] and abs(e.sample_index - d["peak_index"]) < 10]
        if hit and hit[0].acc_response_mg is not None:
            (on if d["acc"] is not None else off)[d["peak_index"]] = hit[0].acc_response_mg
    return on, off


DRIFT = ("--sim", "emg_clock_ppm=5000", "--sim", "acc_clock_ppm=-5000", "--sim", "clock_wander_ppm=1000",
         "--sim", "clock_wander_s=20")


@pytest.fixture(scope="module")
def drift_runs():
    return _events(()), _events(DRIFT), _events(DRIFT, fix=False)


def test_a_one_percent_clock_drift_leaves_events_and_mechanical_responses_as_without_it(drift_runs):
    """The virtual board's chips 1 % apart (EMG +0.5 %, accelerometer -0.5 %, each
    wandering ±0.1 %) through the whole host pipeline: the same twitches, and each
    twitch's mechanical response found as without drift."""
    clean, drift, _ = drift_runs
    assert [(e.sample_index, e.channel) for e in drift] == [(e.sample_index, e.channel) for e in clean]
    assert [e.counted for e in drift] == [e.counted for e in clean]
    on0, off0 = _responses(clean)
    on1, off1 = _responses(drift)
    assert len(on0) >= 15 and on0.keys() == on1.keys()
    ratio = np.array([on1[k] / on0[k] for k in on0])
    assert 0.8 < np.median(ratio) < 1.25, ratio
    assert np.median(list(on1.values())) > 2 * np.median(list(off1.values()))


def test_without_the_board_clock_the_drift_loses_the_mechanical_responses(drift_runs):
    """The same drifting board with the TIMING stamps ignored (the accelerometer by its
    index, as before): after a few seconds the skew (10 ms/s) moves each movement out of
    the 25 ms response window, and the responses sink to the noise."""
    clean, _, nofix = drift_runs
    on0, _ = _responses(clean)
    on2, off2 = _responses(nofix)
    late = [k for k in on0 if k > 10 * 2000 and k in on2]
    assert len(late) >= 8
    assert np.median([on2[k] / on0[k] for k in late]) < 0.6
    assert np.median([on2[k] for k in late]) < 1.5 * np.median(list(off2.values()))
