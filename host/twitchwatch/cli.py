"""The ``twitchwatch`` command: a thin face over the library.

Each command parses its arguments, builds a source and a :class:`Pipeline`, and
turns library errors into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from twitchwatch import TwitchwatchError, __version__

DESCRIPTION = """\
twitchwatch watches a muscle for twitches (fasciculations).

A patch on the muscle streams surface EMG and accelerometer data; twitchwatch
decodes it, detects twitches as they happen, and logs every event to a local
SQLite file (your health data stays on this machine). It is not a diagnostic
device: if you have weakness, muscle wasting, trouble speaking or swallowing, or
were exposed to pesticides, see a doctor.

Start here:
  twitchwatch demo                  a simulated patch (the real firmware under the
                                    MicroPython Unix port), 30 s, nothing to plug in
  twitchwatch ports                 list serial ports, marking likely patches
  twitchwatch stream --port auto    stream from a real patch over USB
  twitchwatch replay FILE.twcap     replay a capture made with --capture
  twitchwatch replay FILE.edf --events-out events.jsonl
                                    detect twitches in an EDF/BDF/CSV recording
"""


def _add_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help="SQLite file for sessions and events "
                   "(default: twitchwatch.sqlite3 in your user data folder)")
    p.add_argument("--events-out", metavar="FILE.jsonl",
                   help="also write one JSON object per twitch to this file "
                        "(keys t [s from recording start], channel, amplitude_uv, duration_ms, confidence, ...)")
    p.add_argument("--no-dashboard", action="store_true",
                   help="do not serve the live dashboard (the dashboard is not built yet: "
                        "this flag is accepted so scripts keep working when it arrives)")
    p.add_argument("--body-site", metavar="SITE", help='where the patch is worn, e.g. "left calf"')
    p.add_argument("-q", "--quiet", action="store_true", help="no live status lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twitchwatch", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"twitchwatch {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log decoder and device messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser("demo", help="run the firmware's simulated front end under MicroPython and watch it",
                          description="Run the real firmware with its simulated front end under the "
                                      "MicroPython Unix port, stream it through a pseudo-terminal into "
                                      "the host, detect twitches, log them, and compare with the "
                                      "simulator's ground truth at the end.")
    demo.add_argument("--duration", type=float, default=30.0, metavar="S",
                      help="seconds of signal to stream (default 30)")
    demo.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    demo.add_argument("--fast", action="store_true",
                      help="stream as fast as the host reads instead of in real time")
    demo.add_argument("--capture", metavar="PATH", help="also record the raw stream to this capture file")
    _add_output_args(demo)

    stream = sub.add_parser("stream", help="stream from a patch on a serial port")
    stream.add_argument("--port", default="auto",
                        help="serial port (e.g. /dev/ttyUSB0, COM3), or 'auto' to pick the one patch plugged in")
    stream.add_argument("--baud", type=int, default=921600, help="baud rate for UART bridges (default 921600)")
    stream.add_argument("--duration", type=float, default=None, metavar="S",
                        help="stop after S seconds of signal (default: until Ctrl-C or unplugged)")
    stream.add_argument("--capture", metavar="PATH", help="also record the raw stream to this capture file")
    _add_output_args(stream)

    replay = sub.add_parser("replay", help="replay a capture, or run an EDF/BDF/CSV recording, through the same path as live",
                            description="Replay a capture written with --capture (bit-exact: the same samples "
                                        "and events as live), or run a recording file through the same "
                                        "detection: EDF/EDF+/BDF (signals recognised by label: 'EMG...' in "
                                        "uV/mV/V, 'ACC X/Y/Z' in g/mg/m/s^2) or CSV as written by OpenBCI GUI "
                                        "or BrainFlow. See docs/formats.md.")
    replay.add_argument("file", metavar="FILE", help="a capture (.twcap), or an .edf/.bdf/.csv/.txt recording")
    replay.add_argument("--realtime", action="store_true",
                        help="replay a capture at the recorded pace (default: as fast as possible)")
    replay.add_argument("--board", help="BrainFlow CSV only: the board that wrote it (id or name, e.g. cyton)")
    replay.add_argument("--rate-hz", type=float, help="CSV without a time column or rate line: its sample rate")
    replay.add_argument("--channels", help="use only these EMG channels: 0-based positions or labels, comma-separated")
    _add_output_args(replay)

    sub.add_parser("ports", help="list serial ports, marking the ones that look like a patch")
    return parser


def _open_store(db: str | None):
    from twitchwatch.store import Store, default_db_path

    return Store(Path(db) if db else default_db_path())


class _StatusPrinter:
    """One live status line: rewritten in place on a terminal, one line per 5 s otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._last_printed_s = -10.0

    def __call__(self, st) -> None:
        if self.quiet:
            return
        if not self.tty and st.host_elapsed_s - self._last_printed_s < 5.0:
            return
        self._last_printed_s = st.host_elapsed_s
        floor = ", ".join(f"{x:.1f}" for x in st.noise_floor_uv) or "-"
        problems = ", ".join(f"{k} {v}" for k, v in st.problems.items()) or "none"
        line = (f"[{st.device_elapsed_s:6.1f} s] {st.link}: {st.events} twitches "
                f"({st.rate_per_min:.1f}/min), noise floor {floor} uV RMS, dropped/damaged: {problems}")
        if self.tty:
            sys.stderr.write("\r\033[K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


def _on_event_printer(quiet: bool):
    def show(e) -> None:
        if not quiet:
            sys.stderr.write(f"\r\033[K  twitch t={e.t_s:8.3f} s  {e.channel_label}  {e.amplitude_uv:6.0f} uV p-p  "
                             f"{e.duration_ms:4.1f} ms  confidence {e.confidence:.2f}\n" if sys.stderr.isatty() else
                             f"  twitch t={e.t_s:.3f} s {e.channel_label} {e.amplitude_uv:.0f} uV p-p "
                             f"{e.duration_ms:.1f} ms confidence {e.confidence:.2f}\n")
    return show


def _print_summary(summary, store_path: str | None) -> None:
    out = sys.stdout
    decoded = ", ".join(f"stream {k}: {v} samples" for k, v in sorted(summary.samples.items())) or "no samples"
    print(f"ended: {summary.ended_because} after {summary.duration_host_s:.1f} s", file=out)
    print(f"decoded: {decoded}; {summary.events} twitches; device resets: {summary.resets}", file=out)
    if summary.artefacts:
        print("rejected as not twitches: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.artefacts.items())),
              file=out)
    for q in summary.quality:
        mains = f"{q['mains_hz']:g} Hz hum {q['mains_uv']:.1f} uV" if q.get("mains_hz") else "no mains hum found"
        print(f"signal quality, channel {q['channel']}: noise floor {q['noise_floor_uv']:.1f} uV RMS, {mains}, "
              f"usable {100 * q['usable_fraction']:.0f} %{', LEAD OFF' if q.get('lead_off') else ''}", file=out)
    problems = summary.problems()
    if problems:
        print("dropped or damaged: " + ", ".join(f"{k} {v}" for k, v in problems.items()), file=out)
    else:
        print("dropped or damaged: nothing", file=out)
    if store_path:
        print(f"logged to {store_path}", file=out)


class _Progress:
    """A progress bar (tqdm, on stderr) over seconds of signal, for long files."""

    def __init__(self, total_s: float, quiet: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=round(total_s, 1), unit="s", unit_scale=False, disable=quiet,
                         desc="replaying", file=sys.stderr, dynamic_ncols=True)
        self._done = 0.0

    def __call__(self, done_s: float) -> None:
        step = round(done_s, 1) - self._done
        if step > 0:
            self._bar.update(step)
            self._done += step

    def close(self) -> None:
        self._bar.close()


def _run(source, args, source_name: str, *, duration_s=None, capture=None, on_block=None, on_event=None,
         recording=None):
    from twitchwatch.pipeline import Pipeline

    printer = _StatusPrinter(args.quiet)
    store = _open_store(args.db)
    try:
        pipe = Pipeline(source, source_name=source_name, store=store, events_out=args.events_out,
                        capture=capture, on_event=on_event or _on_event_printer(args.quiet), on_status=printer,
                        on_block=on_block, body_site=args.body_site)
        try:
            if recording is not None:
                progress = _Progress(recording.duration_s, args.quiet)
                try:
                    summary = pipe.run_recording(recording, on_progress=progress)
                finally:
                    progress.close()
            else:
                summary = pipe.run(duration_s=duration_s)
        except KeyboardInterrupt:
            summary = pipe.summary
            summary.ended_because = "interrupted (Ctrl-C)"
        printer.done()
        _print_summary(summary, str(store.path))
        return summary
    finally:
        store.close()


def cmd_demo(args) -> int:
    from twitchwatch.demo import run_demo

    return run_demo(args, _run)


def cmd_stream(args) -> int:
    from twitchwatch.transports import SerialSource, autodetect_port

    port = autodetect_port() if args.port == "auto" else args.port
    with SerialSource(port, baudrate=args.baud) as source:
        _run(source, args, f"serial:{port}", duration_s=args.duration, capture=args.capture)
    return 0


def cmd_replay(args) -> int:
    from twitchwatch.transports import CaptureFormatError, ReplaySource

    path = Path(args.file)
    if not path.is_file():
        raise TwitchwatchError(f"{path}: no such file")
    try:
        source = ReplaySource(path, realtime=args.realtime)
    except CaptureFormatError:
        return _replay_recording(args, path)
    with source:
        _run(source, args, f"replay:{path.name}")
    return 0


def _replay_recording(args, path: Path) -> int:
    """EDF/BDF/CSV files: not a capture, so the formats module reads them."""
    from twitchwatch.formats import open_recording

    channels = None
    if args.channels:
        channels = [int(c) if c.strip().isdigit() else c.strip() for c in args.channels.split(",")]
    with open_recording(path, board=args.board, rate_hz=args.rate_hz, emg_channels=channels) as rec:
        print(rec.describe(), file=sys.stderr)
        if args.realtime:
            print("--realtime applies to captures; a recording file is replayed as fast as possible",
                  file=sys.stderr)
        _run(None, args, f"file:{path.name}", recording=rec)
    return 0


def cmd_ports(args) -> int:
    from twitchwatch.transports import list_ports

    ports = list_ports()
    if not ports:
        print("no serial ports found (is the patch plugged in, and do you have permission? "
              "On Linux, add yourself to the 'dialout' group)")
        return 0
    for p in ports:
        print(p.describe() if hasattr(p, "describe") else str(p))
    return 0


COMMANDS = {"demo": cmd_demo, "stream": cmd_stream, "replay": cmd_replay, "ports": cmd_ports}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except TwitchwatchError as exc:
        print(f"twitchwatch: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a missing or unreadable file, a full disk: the message names the file
        print(f"twitchwatch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twitchwatch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
