"""``twitchwatch demo``: the main job on its embedded default.

The real firmware, with its simulated front end, runs under the MicroPython Unix
port as a virtual board; its bytes cross a pseudo-terminal into the same pipeline a
real patch uses. At the end the detected twitches are scored against the
simulator's own ground truth (a twitch counts as found when an event on the same
channel peaks within ±15 ms of it).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from twitchwatch import TwitchwatchError

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


def match_events(truth: list[tuple[float, int]], events: list[tuple[float, int]],
                 tolerance_s: float = MATCH_TOLERANCE_S) -> Score:
    """Match ``(t_s, channel)`` events one-to-one to ``(t_s, channel)`` truth twitches
    within ``tolerance_s`` (inclusive), with the benchmark's matcher
    (:func:`twitchwatch.sim.matching.match_events`: most pairs, then least total error),
    on a 1 µs time grid."""
    from twitchwatch.sim.matching import match_events as match_indices

    grid_hz = 1e6

    def to_index(pairs: list[tuple[float, int]]) -> list[tuple[int, int]]:
        return [(int(round(t_s * grid_hz)), int(ch)) for t_s, ch in pairs]

    match = match_indices(to_index(truth), to_index(events), grid_hz, tolerance_s * 1000.0)
    return Score(truth=len(truth), detected=len(events), matched=match.tp)


def run_demo(args, run) -> int:
    """Run the virtual board through ``run`` (the CLI's pipeline runner) and score it."""
    from twitchwatch.transports import VirtualBoard
    from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR

    events: list[tuple[float, int]] = []
    emg_rate_hz: list[float] = []

    def on_block(block) -> None:
        if not emg_rate_hz and any(ch.kind == 1 for ch in block.info.channels):
            emg_rate_hz.append(block.info.sample_rate_hz)

    pace = "as fast as the host reads" if args.fast else "in real time"
    print(f"twitchwatch demo: firmware with its simulated front end (seed {args.seed}) under MicroPython, "
          f"{args.duration:g} s {pace}; Ctrl-C stops", file=sys.stderr)
    with VirtualBoard(seed=args.seed, duration_s=args.duration, realtime=not args.fast) as source:
        from twitchwatch.cli import _on_event_printer

        show = _on_event_printer(args.quiet)

        def on_event(e) -> None:
            events.append((e.t_s, e.channel))
            show(e)

        summary = run(source, args, f"virtual:seed={args.seed}", duration_s=args.duration,
                      capture=args.capture, on_block=on_block, on_event=on_event)
    if not summary.samples or not emg_rate_hz:
        print("no EMG samples arrived: nothing to score", file=sys.stderr)
        return 1
    sim = load_simulator(Path(DEFAULT_FIRMWARE_DIR))
    n_emg = summary.samples.get(0, 0)
    rate_hz = emg_rate_hz[0]
    truth = [(tw["peak_index"] / rate_hz, tw["channel"]) for tw in sim.twitch_schedule(args.seed, n_emg)]
    score = match_events(truth, events)
    print(f"ground truth: the simulator placed {score.truth} twitches; detected {score.detected}, "
          f"matched {score.matched} within ±{MATCH_TOLERANCE_S * 1000:.0f} ms "
          f"(sensitivity {score.sensitivity:.2f}, precision {score.precision:.2f})")
    return 0
