"""The recording commands as library calls: stream from a serial port or over Bluetooth
LE, replay captures and recording files. Each opens its source and runs it through a
:class:`~twitchwatch.session.Runner` (the demo's is :func:`twitchwatch.demo.run_demo`).
Each returns the command's exit status and raises
:class:`~twitchwatch.TwitchwatchError` (one line) for what it refuses.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from twitchwatch import TwitchwatchError
from twitchwatch.console import events_out_notice, shown_path
from twitchwatch.session import RunOptions, Runner, refuse_overwriting, source_hash, warm_detector


def stream_serial(runner: Runner, port: str, *, baud: int = 921600, duration_s: float | None = None,
                  capture: str | None = None) -> int:
    """Stream from the patch on serial ``port`` ("auto": the one plugged in)."""
    from twitchwatch.transports import SerialSource, autodetect_port

    port = autodetect_port() if port == "auto" else port
    with SerialSource(port, baudrate=baud) as source:
        # after the port opened (a wrong port fails at once), before the pipeline sends
        # START: the firmware streams only after it (firmware/main.py)
        warm_detector(runner.options.quiet)
        runner.run(source, f"serial:{port}", duration_s=duration_s, capture=capture, silent_port=True)
    return 0


def stream_ble(runner: Runner, name: str, *, duration_s: float | None = None, capture: str | None = None) -> int:
    """Stream over Bluetooth LE from the patch called ``name`` (or at that address)."""
    from twitchwatch.transports.ble import BleSource

    warm_detector(runner.options.quiet)
    print(f"looking for {name} over Bluetooth LE (Ctrl-C stops)", file=sys.stderr)
    source = BleSource(name, on_event=runner.console.say)
    with source:
        runner.run(source, f"ble:{name}", duration_s=duration_s, capture=capture)
        if source.fatal:
            raise TwitchwatchError(source.fatal)
    return 0


@dataclasses.dataclass(frozen=True)
class ReplayOptions:
    """``twitchwatch replay``'s choices, as plain values (see its --help): ``jobs`` None:
    every core; ``realtime``: at the recorded pace, live; ``board``, ``rate_hz``,
    ``channels`` (positions or labels, comma-separated), ``tz`` (an IANA zone name): how
    to read a recording file; ``again``: store a file the database already holds."""

    files: tuple[str, ...]
    jobs: int | None = None
    realtime: bool = False
    board: str | None = None
    rate_hz: float | None = None
    channels: str | None = None
    tz: str | None = None
    again: bool = False


def replay(runner: Runner, options: ReplayOptions) -> int:
    """Replay ``options.files`` (several at a time with ``jobs``, :mod:`twitchwatch.replay_jobs`);
    the standing red flags are checked once, at the end."""
    from twitchwatch.detect.mains import hold_one_blas_thread
    from twitchwatch.replay_jobs import replay_files
    from twitchwatch.session import red_flag_check
    from twitchwatch.store import Store

    if not options.realtime:  # as fast as possible, on one core (per worker): BLAS stays at one thread
        hold_one_blas_thread()

    def report(db_path: Path) -> None:
        with Store(db_path) as store:
            red_flag_check(store, runner.console)

    return replay_files(runner, options, replay_file, report, events_out_notice)


def replay_file(runner: Runner, options: ReplayOptions, file: str) -> int:
    """Replay one file (a capture, else a recording file); replay_jobs calls it per file,
    in worker processes too."""
    from twitchwatch.store import db_path
    from twitchwatch.transports import CaptureFormatError, ReplaySource
    from twitchwatch.transports.capture import FILE_MAGIC

    path = Path(file)
    try:
        exists = path.exists()
    except OSError as exc:  # a name too long for the system ...
        raise TwitchwatchError(f"{shown_path(path)}: cannot be read ({exc.strerror or exc})") from None
    if not exists:
        raise TwitchwatchError(f"{shown_path(path)}: no such file")
    if path.is_dir():
        raise TwitchwatchError(f"{shown_path(path)}: is a folder, not a file; give a capture (.twcap) or an "
                               ".edf/.bdf/.csv/.txt recording")
    if not path.is_file():
        raise TwitchwatchError(f"{shown_path(path)}: not a regular file (a FIFO or device?); replay reads a file "
                               "it can read to the end")
    refuse_overwriting({"--events-out": runner.options.events_out},
                       {"the database": db_path(runner.options.db), "the file replayed": path})
    digest = source_hash(path, runner.options.db, options.again)
    try:
        source = ReplaySource(path, realtime=options.realtime)
    except CaptureFormatError as exc:
        with open(path, "rb") as fh:
            if fh.read(len(FILE_MAGIC)) == FILE_MAGIC:  # a capture, damaged: say so, not "a bad EDF/CSV"
                raise TwitchwatchError(str(exc)) from None
        return _replay_recording(runner, options, path, digest)
    with source:
        # as fast as possible: the detector once per second of signal (same events, fewer calls)
        runner.run(source, f"replay:{path.name}", live=options.realtime,
                   detect_every_s=0.0 if options.realtime else 1.0, source_sha256=digest, replayed=path)
    return 0


def _replay_recording(runner: Runner, options: ReplayOptions, path: Path, digest: str | None = None) -> int:
    """EDF/BDF/CSV files: not a capture, so the formats module reads them."""
    from twitchwatch.formats import open_recording
    from twitchwatch.localtime import zone

    if runner.options.lsl:  # docs/lsl.md: a device's streams, not a file's
        raise TwitchwatchError("--lsl publishes a patch's streams: stream, demo, or replay --realtime of a "
                               "capture; a recording file is not published over LSL")
    channels: list[int | str] | None = None
    if options.channels:
        channels = [int(c) if c.strip().isdigit() else c.strip() for c in options.channels.split(",")]
    with open_recording(path, board=options.board, rate_hz=options.rate_hz, emg_channels=channels,
                        tz=zone(options.tz)) as rec:
        print(rec.describe(), file=sys.stderr)
        # --realtime: paced at the file's own rate, with the dashboard, as a live source; else
        # as fast as possible, the detector once per second of signal (same events, fewer calls)
        runner.run(None, f"file:{path.name}", recording=rec, live=options.realtime, source_sha256=digest,
                   replayed=path, detect_every_s=0.0 if options.realtime else 1.0)
    return 0


__all__ = ["ReplayOptions", "RunOptions", "Runner", "replay", "replay_file", "stream_ble", "stream_serial"]
