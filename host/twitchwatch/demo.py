"""``twitchwatch demo``: the main job on its embedded default.

The real firmware, with its simulated front end, runs under the MicroPython Unix
port as a virtual board; its bytes cross a pseudo-terminal into the same pipeline a
real patch uses. At the end the detected twitches are scored against the
simulator's own ground truth (a twitch counts as found when an event on the same
channel peaks within ±15 ms of it), and so are the motor-unit ids the detector gave
them (the simulator fires a few units per channel, each with its own shape).
"""

from __future__ import annotations

import collections
import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from twitchwatch import TwitchwatchError

if TYPE_CHECKING:
    from twitchwatch.session import Runner

MATCH_TOLERANCE_S = 0.015


@dataclasses.dataclass(frozen=True)
class Score:
    """Detected events matched one-to-one against ground-truth twitches."""

    truth: int
    detected: int
    matched: int

    @property
    def sensitivity(self) -> float:
        return self.matched / self.truth if self.truth else float("nan")

    @property
    def precision(self) -> float:
        return self.matched / self.detected if self.detected else float("nan")


def load_simulator(firmware_dir: Path) -> ModuleType:
    """Import the firmware's ``sim_frontend`` module under CPython (it is board-independent)."""
    path = firmware_dir / "sim_frontend.py"
    if not path.exists():
        raise TwitchwatchError(f"firmware simulator not found at {path}")
    if str(firmware_dir) not in sys.path:
        sys.path.insert(0, str(firmware_dir))  # its own imports (stream_desc, ...) live beside it
    spec = importlib.util.spec_from_file_location("twitchwatch_sim_frontend", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclasses.dataclass(frozen=True)
class UnitScore:
    """Motor-unit ids of the matched events against the simulator's units."""

    truth_units: int  # (channel, unit) pairs of the simulator with a matched twitch
    detected_ids: int  # distinct unit ids among the matched events
    matched: int
    agreeing: int  # matched events whose id is the one most of their unit's events got


def _match_pairs(truth: list[tuple[float, int]], events: list[tuple[float, int]],
                 tolerance_s: float) -> list[tuple[int, int]]:
    from twitchwatch.sim.matching import match_events as match_indices

    grid_hz = 1e6

    def to_index(pairs: list[tuple[float, int]]) -> list[tuple[int, int]]:
        return [(int(round(t_s * grid_hz)), int(ch)) for t_s, ch in pairs]

    return match_indices(to_index(truth), to_index(events), grid_hz, tolerance_s * 1000.0).pairs


def match_events(truth: list[tuple[float, int]], events: list[tuple[float, int]],
                 tolerance_s: float = MATCH_TOLERANCE_S) -> Score:
    """Match ``(t_s, channel)`` events one-to-one to ``(t_s, channel)`` truth twitches
    within ``tolerance_s`` (inclusive), with the benchmark's matcher
    (:func:`twitchwatch.sim.matching.match_events`: most pairs, then least total error),
    on a 1 µs time grid."""
    return Score(truth=len(truth), detected=len(events), matched=len(_match_pairs(truth, events, tolerance_s)))


def _unit_score(truth: list[tuple[float, int, int]], events: list[tuple[float, int, int | None]],
                pairs: list[tuple[int, int]]) -> UnitScore:
    ids_of: dict[tuple[int, int], collections.Counter] = collections.defaultdict(collections.Counter)
    for ti, di in pairs:
        ids_of[(truth[ti][1], truth[ti][2])][events[di][2]] += 1
    usual = {unit: min(c, key=lambda i: (-c[i], -1 if i is None else i)) for unit, c in ids_of.items()}
    agreeing = sum(1 for ti, di in pairs if events[di][2] == usual[(truth[ti][1], truth[ti][2])])
    return UnitScore(truth_units=len(ids_of), detected_ids=len({events[di][2] for _, di in pairs}),
                     matched=len(pairs), agreeing=agreeing)


def score_units(truth: list[tuple[float, int, int]], events: list[tuple[float, int, int | None]],
                tolerance_s: float = MATCH_TOLERANCE_S) -> UnitScore:
    """``truth``: ``(t_s, channel, unit)`` twitches; ``events``: ``(t_s, channel,
    unit_id)``. Matched as :func:`match_events`; a matched event *agrees* when its id is
    the one most matched events of its truth unit got (ties: the smallest id)."""
    return _unit_score(truth, events, _match_pairs([t[:2] for t in truth], [e[:2] for e in events], tolerance_s))


def run_demo(runner: Runner, *, seed: int = 1, duration_s: float = 30.0, fast: bool = False,
             ble: bool = False, capture: str | None = None) -> int:
    """Run the virtual board (``seed``, ``duration_s`` of signal, as fast as the host reads
    when ``fast``; over BLE through Bumble's virtual controllers when ``ble``) through
    ``runner`` and score its twitches against the simulator's ground truth. Returns the
    exit status (1: no EMG samples arrived)."""
    from twitchwatch.protocol import ChannelKind
    from twitchwatch.session import warm_detector
    from twitchwatch.transports import VirtualBoard
    from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR

    warm_detector(runner.options.quiet)
    events: list[tuple[float, int, int | None]] = []
    emg_rate_hz: list[float] = []

    def on_block(block) -> None:
        if not emg_rate_hz and any(ch.kind == ChannelKind.EMG for ch in block.info.channels):
            emg_rate_hz.append(block.info.sample_rate_hz)

    pace = "as fast as the host reads" if fast else "in real time"
    over = "over Bluetooth LE (Bumble virtual controllers)" if ble else "over a pseudo-terminal"
    print(f"twitchwatch demo: firmware with its simulated front end (seed {seed}) under MicroPython, "
          f"{over}, {duration_s:g} s {pace}; Ctrl-C stops", file=sys.stderr)
    source_cm: Any
    if ble:
        from twitchwatch.transports.ble_sim import virtual_ble_source

        source_cm = virtual_ble_source(seed, duration_s, realtime=not fast, on_event=runner.console.say)
        source_name = f"virtual-ble:seed={seed}"
    else:
        source_cm = VirtualBoard(seed=seed, duration_s=duration_s, realtime=not fast)
        source_name = f"virtual:seed={seed}"
    with source_cm as source:
        def on_event(e) -> None:
            events.append((e.t_s, e.channel, e.unit_id))
            runner.console.event(e)

        summary = runner.run(source, source_name, duration_s=duration_s, capture=capture,
                             on_block=on_block, on_event=on_event)
    if not summary.samples or not emg_rate_hz:
        print("no EMG samples arrived: nothing to score", file=sys.stderr)
        return 1
    sim = load_simulator(Path(DEFAULT_FIRMWARE_DIR))
    n_emg = summary.samples.get(0, 0)
    rate_hz = emg_rate_hz[0]
    schedule = sim.twitch_schedule(seed, n_emg)
    truth = [(tw["peak_index"] / rate_hz, tw["channel"], tw["unit"]) for tw in schedule]
    pairs = _match_pairs([t[:2] for t in truth], [e[:2] for e in events], MATCH_TOLERANCE_S)  # matched once
    score = Score(truth=len(truth), detected=len(events), matched=len(pairs))
    print(f"ground truth: the simulator placed {score.truth} twitches; detected {score.detected}, "
          f"matched {score.matched} within ±{MATCH_TOLERANCE_S * 1000:.0f} ms "
          f"(sensitivity {score.sensitivity:.2f}, precision {score.precision:.2f})")
    units = _unit_score(truth, events, pairs)
    if units.matched:
        print(f"motor units: the simulator fired {units.truth_units}, the detector named {units.detected_ids}; "
              f"{units.agreeing} of {units.matched} matched twitches carry the id most twitches of their unit got")
    return 0
