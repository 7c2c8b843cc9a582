"""The ``twitchwatch`` command: a thin face over the library.

Each command parses its arguments, calls the library (a :class:`Pipeline` for the
recording commands, the :class:`~twitchwatch.store.Store` for log/events/export/
delete-all, ``twitchwatch.report`` for report), and turns library errors into one
line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Sequence

from twitchwatch import TwitchwatchError, __version__
from twitchwatch.causes.annotate import NO_CANDIDATE

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


def _open_store(db: str | None, read_only: bool = False):
    """The store at ``--db`` (or the default). ``read_only``: for commands that only read
    (events, report, export): opened read-only, so a database on a read-only medium can be
    read, and a missing one is an error instead of an empty file left behind."""
    from twitchwatch.store import Store, default_db_path

    return Store(Path(db) if db else default_db_path(), read_only=read_only)


def _printable(text: str) -> str:
    """Text for the terminal: control characters (terminal escape codes) shown as '?',
    line breaks and tabs kept. Everything a person or a file gave (sites, notes, labels)
    goes through it before it is printed; new entries cannot hold them (person_text)."""
    return "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)


def _safe_message(text: str, limit: int = 2000) -> str:
    """An error for the terminal: :func:`_printable`, cut to ``limit`` characters."""
    text = _printable(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _db_path(db: str | None) -> Path:
    from twitchwatch.store import default_db_path

    return Path(db) if db else default_db_path()


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """``a`` and ``b`` name one file (an existing file by identity, else by resolved path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def refuse_overwriting(outputs: dict[str, str | os.PathLike | None], inputs: dict[str, str | os.PathLike | None]) -> None:
    """Raise one line if an output would write over an input (or another output): the
    events file naming the database lost every event of it (issue 17)."""
    named = [(k, v) for k, v in inputs.items() if v is not None]
    for out_name, out in outputs.items():
        if out is None:
            continue
        for in_name, path in named:
            if _same_file(out, path):
                raise TwitchwatchError(f"{out_name} {_shown(out)} is the same file as {in_name}: it would be "
                                       f"written over; name another file")
        named.append((out_name, out))


def _shown(path: str | os.PathLike, limit: int = 120) -> str:
    """A path for a message: printable characters only (terminal escapes are not echoed), cut
    to ``limit`` characters."""
    text = "".join(c if c.isprintable() else "?" for c in os.fspath(path))
    return text if len(text) <= limit else text[:limit] + "…"


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
    """One line per twitch on stderr; on a terminal it first clears the status line."""
    clear = "\r\033[K" if sys.stderr.isatty() else ""

    def show(e) -> None:
        if not quiet:
            unit = "" if getattr(e, "unit_id", None) is None else f"  unit {e.unit_id}"
            sys.stderr.write(f"{clear}  twitch t={e.t_s:8.3f} s  {e.channel_label}  {e.amplitude_uv:6.0f} uV p-p  "
                             f"{e.duration_ms:4.1f} ms  confidence {e.confidence:.2f}{unit}\n")
    return show


def _print_summary(summary, store_path: str | None) -> None:
    out = sys.stdout
    decoded = ", ".join(f"stream {k}: {v} samples" for k, v in sorted(summary.samples.items())) or "no samples"
    signal = f" ({summary.signal_s:.1f} s of signal)" if summary.signal_s else ""
    print(f"ended: {summary.ended_because} after {summary.duration_host_s:.1f} s of wall time{signal}", file=out)
    uncounted = getattr(summary, "candidates", 0)
    extra = f" (and {uncounted} uncounted candidates, kept in the store)" if uncounted else ""
    print(f"decoded: {decoded}; {summary.events} twitches{extra}; device resets: {summary.resets}", file=out)
    if summary.span_s:
        start = "" if summary.first_wall_s is None else f", from {_local(summary.first_wall_s)}"
        print(f"recorded: {summary.recorded_s:.1f} s of usable signal ({summary.signal_s:.1f} s received, "
              f"{summary.span_s:.1f} s first to last sample){start}, dated by {summary.dated_by}", file=out)
    if summary.artefacts:
        print("rejected as not twitches: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.artefacts.items())),
              file=out)
    for q in summary.quality:
        mains = f"{q['mains_hz']:g} Hz hum {q['mains_uv']:.1f} uV" if q.get("mains_hz") else "no mains hum found"
        print(f"signal quality, {q.get('label', q['channel'])}: noise floor {q['noise_floor_uv']:.1f} uV RMS, {mains}, "
              f"usable {100 * q['usable_fraction']:.0f} %{', LEAD OFF' if q.get('lead_off') else ''}", file=out)
    link = getattr(summary, "link", None)
    if link:
        drops = [d["duration_s"] for d in link.get("dropouts", [])]
        known = [d for d in drops if d is not None]
        longest = f" (longest {max(known):.1f} s)" if known else ""
        print(f"link: BLE {link.get('name') or ''} {link.get('address') or ''}, MTU {link.get('mtu')}, "
              f"{link.get('connects', 0)} connections, {len(drops)} dropouts{longest}, "
              f"{link.get('duplicates_dropped', 0)} repeated frames dropped", file=out)
    problems = summary.problems()
    if problems:
        print("dropped or damaged: " + ", ".join(f"{k} {v}" for k, v in problems.items()), file=out)
    else:
        print("dropped or damaged: nothing", file=out)
    for warning in summary.warnings:
        print(f"warning: {warning}", file=out)
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


def _chain(*callbacks):
    """One callback calling each of ``callbacks`` (None entries skipped) in order."""
    live = [c for c in callbacks if c is not None]
    if len(live) <= 1:
        return live[0] if live else None

    def call(x) -> None:
        for c in live:
            c(x)
    return call


def _start_dashboard(args, store_path: Path):
    """Serve the dashboard for this run; returns (hub, dashboard), or (None, None) if off."""
    import os

    if args.no_dashboard:
        return None, None
    from twitchwatch.dashboard import DEFAULT_PORT, Dashboard, LiveHub

    hub = LiveHub()
    token = args.access_token or os.environ.get("TWITCHWATCH_ACCESS_TOKEN") or None
    port = DEFAULT_PORT if args.dashboard_port is None else args.dashboard_port
    dashboard = Dashboard(hub, store_path, host=args.host, port=port, access_token=token,
                          tls_cert=args.tls_cert, tls_key=args.tls_key)
    url = dashboard.start()
    print(f"dashboard: {url}", file=sys.stderr)
    if dashboard.tls_fingerprint is not None and dashboard.tls is not None:
        made = "made now" if dashboard.tls_made_now else "made on first use"
        print(f"dashboard: self-signed TLS certificate ({made}, {dashboard.tls[0]}); your browser will warn "
              f"that nobody vouches for it: accept it only if it shows this SHA-256 fingerprint: "
              f"{dashboard.tls_fingerprint}", file=sys.stderr)
    if not args.no_browser and _can_open_browser():
        import webbrowser

        webbrowser.open(url)
    return hub, dashboard


def _can_open_browser() -> bool:
    """False on a Linux machine without a display (a server, CI): print the URL only."""
    import os

    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _linger(dashboard) -> None:
    """After the run, keep the dashboard up for history and logging until Ctrl-C
    (interactive terminals only; a script goes on at once)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    try:
        # printed inside the try: a Ctrl-C pressed on seeing it is the expected stop (exit 0),
        # even when it lands before the loop starts (the main thread can still be finishing
        # the print while the dashboard thread holds the interpreter)
        print(f"the dashboard stays up at {dashboard.url} for history and logging; Ctrl-C to stop", file=sys.stderr)
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass


def _notice_printer():
    """One line on stderr (clearing a live status line first on a terminal)."""
    clear = "\r\033[K" if sys.stderr.isatty() else ""

    def show(text: str) -> None:
        sys.stderr.write(f"{clear}{text}\n")
        sys.stderr.flush()
    return show


def _events_out_notice(path: str | None) -> None:
    """Say whether --events-out starts a file or appends to one (and how much it holds)."""
    if not path:
        return
    p = Path(path)
    if p.is_file() and p.stat().st_size > 0:
        with p.open("rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        print(f"events: appending to {p} (it already holds {lines} line(s); each line names its session_id)",
              file=sys.stderr)
    else:
        print(f"events: writing {p} (a new file)", file=sys.stderr)


def _source_hash(path: Path, args) -> str:
    """The file's SHA-256; refuses (TwitchwatchError) a file this database already holds,
    unless --again."""
    from twitchwatch.store.sources import already_stored_message, file_sha256

    digest = file_sha256(path)
    if not getattr(args, "again", False) and _db_path(args.db).exists():  # none made only to look (issue 17)
        with _open_store(args.db) as store:
            held = store.sessions_from_source(digest)
        if held:
            raise TwitchwatchError(already_stored_message(path.name, held))
    return digest


def _run(source, args, source_name: str, *, duration_s=None, capture=None, on_block=None, on_event=None,
         recording=None, live: bool = True, detect_every_s: float = 0.0, source_sha256: str | None = None,
         silent_port: bool = False):
    from twitchwatch.pipeline import Pipeline
    from twitchwatch.sinks import annotate_session

    lsl = None
    if getattr(args, "lsl", False):
        if not live:
            raise TwitchwatchError("--lsl needs a live source: stream, demo, or replay --realtime of a capture "
                                   "(LSL stamps samples with this computer's clock as they come)")
        from twitchwatch.lsl import LslSink

        lsl = LslSink()
    if getattr(args, "body_site", None) is not None:  # stored and shown: plain text, the entries' limit
        from twitchwatch.causes.entries import person_text

        args.body_site = person_text("--body-site", args.body_site)
    printer = _StatusPrinter(args.quiet)
    db_path = _db_path(args.db)
    refuse_overwriting({"--events-out": args.events_out, "--capture": capture},
                       {"the database": db_path, "the file replayed": getattr(args, "file", None)})
    if capture is not None and Path(capture).exists():
        raise TwitchwatchError(f"--capture {_shown(capture)} exists; a capture is never written over: name a new file")
    _events_out_notice(args.events_out)
    created = not db_path.exists()
    store = _open_store(args.db)
    hub = dashboard = None
    pipe = None
    try:
        if live:
            hub, dashboard = _start_dashboard(args, store.path)
        pipe = Pipeline(source, source_name=source_name, store=store, events_out=args.events_out,
                        capture=capture, on_event=on_event or _on_event_printer(args.quiet),
                        on_status=_chain(printer, hub and hub.on_status), on_block=on_block,
                        sinks=[s for s in (hub, lsl) if s is not None], body_site=args.body_site,
                        detect_every_s=detect_every_s, source_sha256=source_sha256,
                        on_notice=_notice_printer(), after_session=annotate_session)
        try:
            if recording is not None:
                progress = _Progress(recording.duration_s, args.quiet or live)  # live: the status line instead
                try:
                    summary = pipe.run_recording(recording, on_progress=progress, realtime=live)
                finally:
                    progress.close()
            else:
                summary = pipe.run(duration_s=duration_s, silent_port=silent_port)
        except KeyboardInterrupt:
            summary = pipe.summary
            summary.ended_because = "interrupted (Ctrl-C)"
        printer.done()
        _print_summary(summary, str(store.path))
        if not getattr(args, "skip_red_flags", False):  # replay --jobs: checked once, at the end
            _red_flag_check(store)
        if hub is not None and dashboard is not None:
            hub.on_end(summary.ended_because)
            args.live_dashboard, dashboard = dashboard, None  # main() keeps it up once the command is done
        return summary
    except BaseException:
        if created and (pipe is None or not pipe.summary.sessions):
            _remove_database(store)  # a refused run leaves no file behind
        raise
    finally:
        if dashboard is not None:
            dashboard.stop()
        if lsl is not None:
            lsl.close()
        store.close()


def _red_flag_check(store) -> None:
    """Print the standing red flags after a run (its data is stored whatever happens here)."""
    try:
        _print_red_flags(_standing_flags(store), sys.stdout)
    except TwitchwatchError as exc:  # the run's data is stored; say the check could not run
        print(f"warning: the red-flag check could not run ({exc}); run 'twitchwatch causes'", file=sys.stdout)


def _remove_database(store) -> None:
    """Delete a database this run created and wrote nothing to (with its -wal and -shm)."""
    store.close()
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{store.path}{suffix}")
        except OSError:
            pass


def _warm_detector(quiet: bool = False) -> None:
    """Load the detector's compiled kernels before samples flow: loading them when the
    first samples arrive (~0.2 s) would stop the host reading for that long, and the
    device would drop samples it cannot buffer. The first run on a machine compiles them
    (~15-20 s here): said on stderr if it takes a while."""
    import threading

    from twitchwatch.detect.warmup import warm_up

    def slow() -> None:
        sys.stderr.write("preparing the detector: compiling it for this machine (the first run only, "
                         "about 15-20 s)...\n")
        sys.stderr.flush()

    timer = threading.Timer(1.5, slow)
    timer.daemon = True
    if not quiet:
        timer.start()
    try:
        warm_up()
    finally:
        timer.cancel()


def cmd_demo(args) -> int:
    from twitchwatch.demo import run_demo

    _warm_detector(args.quiet)
    return run_demo(args, _run, _on_event_printer(args.quiet))


def cmd_stream(args) -> int:
    from twitchwatch.transports import SerialSource, autodetect_port

    if args.ble:
        return _stream_ble(args)
    port = autodetect_port() if args.port == "auto" else args.port
    with SerialSource(port, baudrate=args.baud) as source:
        # after the port opened (a wrong port fails at once), before the pipeline sends
        # START: the firmware streams only after it (firmware/main.py)
        _warm_detector(args.quiet)
        _run(source, args, f"serial:{port}", duration_s=args.duration, capture=args.capture, silent_port=True)
    return 0


def _stream_ble(args) -> int:
    from twitchwatch.transports.ble import BleSource

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr)

    _warm_detector(args.quiet)
    print(f"looking for {args.ble} over Bluetooth LE (Ctrl-C stops)", file=sys.stderr)
    source = BleSource(args.ble, on_event=say)
    with source:
        _run(source, args, f"ble:{args.ble}", duration_s=args.duration, capture=args.capture)
        if source.fatal:
            raise TwitchwatchError(source.fatal)
    return 0


def cmd_scan(args) -> int:
    import asyncio

    from twitchwatch.transports.ble import scan

    try:
        found = asyncio.run(scan(args.timeout))
    except Exception as exc:  # noqa: BLE001 - bleak's errors per OS: no adapter, adapter off, no permission
        raise TwitchwatchError(f"Bluetooth scan failed: {type(exc).__name__}: {exc} (is Bluetooth on, and on "
                               "Linux is bluetoothd running?)") from exc
    shown = [r for r in found if r.is_patch or args.all]
    if not shown:
        print("no twitchwatch patch found (is it powered and not connected to another computer?)"
              + ("" if args.all else "; --all lists every device seen"))
        return 0
    for r in shown:
        mark = "patch" if r.is_patch else "     "
        print(f"{mark}  {r.name or '(no name)':<20} {r.address:<40} {r.rssi_dbm:4d} dBm")
    return 0


def cmd_replay(args) -> int:
    from twitchwatch.replay_jobs import replay_files

    def report(db_path: Path) -> None:
        with _open_store(str(db_path)) as store:
            _red_flag_check(store)

    return replay_files(args, _replay_file, report, _events_out_notice)


def _replay_file(args) -> int:
    """Replay ``args.file`` (one file); replay_jobs calls it per file, in worker processes too."""
    from twitchwatch.transports import CaptureFormatError, ReplaySource

    from twitchwatch.transports.capture import FILE_MAGIC

    path = Path(args.file)
    try:
        exists = path.exists()
    except OSError as exc:  # a name too long for the system ...
        raise TwitchwatchError(f"{_shown(path)}: cannot be read ({exc.strerror or exc})") from None
    if not exists:
        raise TwitchwatchError(f"{_shown(path)}: no such file")
    if path.is_dir():
        raise TwitchwatchError(f"{_shown(path)}: is a folder, not a file; give a capture (.twcap) or an "
                               ".edf/.bdf/.csv/.txt recording")
    if not path.is_file():
        raise TwitchwatchError(f"{_shown(path)}: not a regular file (a FIFO or device?); replay reads a file "
                               "it can read to the end")
    refuse_overwriting({"--events-out": args.events_out},
                       {"the database": _db_path(args.db), "the file replayed": path})
    digest = _source_hash(path, args)
    try:
        source = ReplaySource(path, realtime=args.realtime)
    except CaptureFormatError as exc:
        with open(path, "rb") as fh:
            if fh.read(len(FILE_MAGIC)) == FILE_MAGIC:  # a capture, damaged: say so, not "a bad EDF/CSV"
                raise TwitchwatchError(str(exc)) from None
        return _replay_recording(args, path, digest)
    with source:
        # as fast as possible: the detector once per second of signal (same events, fewer calls)
        _run(source, args, f"replay:{path.name}", live=args.realtime, detect_every_s=0.0 if args.realtime else 1.0,
             source_sha256=digest)
    return 0


def _replay_recording(args, path: Path, digest: str | None = None) -> int:
    """EDF/BDF/CSV files: not a capture, so the formats module reads them."""
    from twitchwatch.formats import open_recording

    if getattr(args, "lsl", False):  # docs/lsl.md: a device's streams, not a file's
        raise TwitchwatchError("--lsl publishes a patch's streams: stream, demo, or replay --realtime of a "
                               "capture; a recording file is not published over LSL")

    channels = None
    if args.channels:
        channels = [int(c) if c.strip().isdigit() else c.strip() for c in args.channels.split(",")]
    with open_recording(path, board=args.board, rate_hz=args.rate_hz, emg_channels=channels,
                        tz=_zone(args.tz)) as rec:
        print(rec.describe(), file=sys.stderr)
        # --realtime: paced at the file's own rate, with the dashboard, as a live source; else
        # as fast as possible, the detector once per second of signal (same events, fewer calls)
        _run(None, args, f"file:{path.name}", recording=rec, live=args.realtime, source_sha256=digest,
             detect_every_s=0.0 if args.realtime else 1.0)
    return 0


def cmd_flash(args) -> int:
    from twitchwatch.board.files import BOARD_ENTRY
    from twitchwatch.board.flash import BLE_ENTRY, Flasher

    Flasher(args.port, compile_mpy=not args.no_compile, entry=BLE_ENTRY if args.ble else BOARD_ENTRY).flash()
    return 0


def cmd_device(args) -> int:
    from twitchwatch.board.selftest import SelftestError, run_selftest

    if not 0.5 <= args.seconds <= 10:
        raise TwitchwatchError(f"--seconds: {args.seconds:g} is outside 0.5 to 10")
    try:
        if args.port == "virtual":
            from twitchwatch.transports import VirtualBoard

            with VirtualBoard(extra_args=("--wait-start",)) as source:
                result = run_selftest(source, args.seconds)
        else:
            from twitchwatch.transports import SerialSource

            with SerialSource(args.port, baudrate=args.baud) as source:
                result = run_selftest(source, args.seconds)
    except SelftestError as exc:
        raise TwitchwatchError(str(exc)) from None
    print(result.line)
    print(result.verdict())
    return 1 if result.problems() else 0


def cmd_ports(args) -> int:
    from twitchwatch.transports import list_ports

    ports = list_ports()
    if not ports:
        print("no serial ports found (is the patch plugged in, and do you have permission? "
              "On Linux, add yourself to the 'dialout' group)")
        return 0
    for p in ports:
        mark = "  <- looks like a patch" if getattr(p, "bridge", "") else ""
        print((p.describe() if hasattr(p, "describe") else str(p)) + mark)
    if not any(getattr(p, "bridge", "") for p in ports):
        print("none of these looks like a patch (no ESP32 USB bridge): is it plugged in with a data cable? "
              "A patch on another adapter still works with --port NAME")
    return 0


_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*(min|mins|h|d|w)$")
_SPAN_S = {"min": 60.0, "mins": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def _since_unix_s(text: str, now: float) -> float:
    """``--since``: a duration back from ``now`` (14d, 12h, 2w, 90min) or a time."""
    match = _SPAN.match(text.strip().lower())
    if match:
        return now - float(match.group(1)) * _SPAN_S[match.group(2)]
    return _parse_time("--since", text, now)


def _parse_time(option: str, text: str, now: float | None = None) -> float:
    from twitchwatch.causes.timeparse import TIME_FORMATS, TimeParseError, parse_time

    try:
        return parse_time(text, now_unix_s=now)
    except TimeParseError as exc:
        extra = "; or a duration back from now: 14d, 12h, 2w, 90min" if option == "--since" else ""
        raise TwitchwatchError(f"{option}: {exc}; accepted: {'; '.join(TIME_FORMATS)}{extra}") from None


def _local(unix_s: float) -> str:
    """A time as this computer's local time, with its zone (twitchwatch.localtime)."""
    from twitchwatch.localtime import shown_time

    return shown_time(unix_s)


def _zone(text: str | None):
    """``--tz``: a zoneinfo zone, or None for this computer's."""
    if text is None:
        return None
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(text.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise TwitchwatchError(f"--tz: unknown time zone {text!r}; give an IANA name such as Europe/Berlin, "
                               "America/New_York or UTC") from None


def cmd_events(args) -> int:
    since = _since_unix_s(args.since, time.time())
    with _open_store(args.db, read_only=True) as store:
        rows = store.events_between(since_unix_s=since)
        flags = _standing_flags(store)
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
        _print_red_flags(flags, sys.stderr)  # the JSON stays a list of events; the flags are never hidden
        return 0
    _print_red_flags(flags, sys.stdout)
    if flags:
        print("")
    if not rows:
        print(f"no twitches logged since {_local(since)}")
        return 0
    table = [("time", "site", "channel", "amplitude", "unit", "candidate cause")]
    for r in rows:
        table.append((_local(r["wall_time_s"]), r["body_site"] or "-", r["channel_label"],
                      f"{r['amplitude_uv']:.0f} uV", "-" if r["unit_id"] is None else str(r["unit_id"]),
                      r["top_cause"] or "-"))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print(_printable("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()))
    print(f"{len(rows)} twitches since {_local(since)}")
    return 0


def cmd_export(args) -> int:
    if not (args.json_path or args.csv_dir or args.edf_path):
        raise TwitchwatchError("export: say where: --json FILE, --csv DIR and/or --edf FILE")
    refuse_overwriting({"--json": args.json_path, "--csv": args.csv_dir, "--edf": args.edf_path},
                       {"the database": _db_path(args.db)})
    if not _db_path(args.db).exists():
        raise TwitchwatchError(f"export: no database at {_shown(_db_path(args.db))} (nothing has been recorded or "
                               "logged with it); nothing was written")
    with _open_store(args.db, read_only=True) as store:
        since = _since_unix_s(args.since, time.time()) if args.since and args.edf_path else None
        if args.edf_path and not store.events_between(since):
            # checked first: a refusal writes nothing rather than half of what was asked
            raise TwitchwatchError("export --edf: no twitches with a time " + ("in the chosen span" if since else
                                   "in the database") + "; nothing was written (--json and --csv work without)")
        if args.json_path:
            counts = store.export_all(args.json_path)
            print(f"wrote {args.json_path}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
        if args.csv_dir:
            paths = store.export_csv(args.csv_dir)
            print(f"wrote {len(paths)} CSV files to {args.csv_dir}: " + ", ".join(p.name for p in paths.values()))
        if args.edf_path:
            from twitchwatch.localtime import shown_time

            info = store.export_edf(args.edf_path, since_unix_s=since, tz=_zone(args.tz))
            print(f"wrote {args.edf_path}: {info['events']} twitch annotations, "
                  f"{len(info['channels'])} twitch-rate channel(s), {info['duration_s'] / 3600:.1f} h "
                  f"from {_local(info['start_unix_s'])}, written into the header as "
                  f"{shown_time(info['start_unix_s'], tz=_zone(args.tz))} (an EDF header holds local time "
                  "without its zone)")
    return 0


def cmd_delete_all(args) -> int:
    from twitchwatch.store import default_db_path

    path = Path(args.db) if args.db else default_db_path()
    if not path.exists():
        print(f"nothing to delete: there is no database at {path}")
        return 0
    if not args.yes:
        prompt = (f"Delete EVERYTHING in {path} (recordings, twitches, everything you logged)? "
                  "This cannot be undone. Type 'yes' to delete: ")
        try:
            answer = input(prompt)
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            print("cancelled: nothing was deleted")
            return 1
    with _open_store(str(path)) as store:
        counts = store.delete_all()
    deleted = ", ".join(f"{n} {t}" for t, n in counts.items() if n) or "nothing (it was empty)"
    print(f"deleted from {path}: {deleted}; the file was compacted so no deleted data remains in it")
    return 0


def cmd_causes(args) -> int:
    from twitchwatch.annotations import annotate_stored, set_verdict
    from twitchwatch.verdicts import CONFIRMED, REJECTED

    now = time.time()
    since = _since_unix_s(args.since, now)
    with _open_store(args.db) as store:
        run = annotate_stored(store, since_unix_s=since, now_unix_s=now)
        cause_id = args.confirm or args.reject
        if cause_id:
            try:
                n = set_verdict(store, cause_id, CONFIRMED if args.confirm else REJECTED, since_unix_s=since)
            except ValueError as exc:
                known = ", ".join(a.cause_id for a in run.annotations) or "none yet"
                raise TwitchwatchError(f"{exc}; candidates in this span: {known}") from exc
            print(f"{cause_id}: marked {CONFIRMED if args.confirm else REJECTED} on {n} session(s)")
            run = annotate_stored(store, since_unix_s=since, now_unix_s=now)
    if args.json:
        json.dump({"red_flags": [dataclasses.asdict(f) for f in run.red_flags],
                   "causes": [dataclasses.asdict(a) for a in run.annotations]}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    print(f"{run.events_annotated} twitches in {run.sessions_annotated} session(s) since {_local(since)}. "
          "Not a diagnosis.")
    _print_red_flags(run.red_flags, sys.stdout)
    # Neurological causes are never candidates: they are only named under a red flag (above).
    ranked = run.annotations
    if not ranked:
        print(f"\n{NO_CANDIDATE}")
    for rank, a in enumerate(ranked, 1):
        line = a.summary or f"{a.cause_name} may fit"
        print(_printable(f"\n{rank}. {a.cause_id} (score {a.score:.2f}): {line}"))
        for reason in a.reasons_for:
            print(_printable(f"  + {reason}"))
        for reason in a.reasons_against:
            print(_printable(f"  - {reason}"))
        for note in a.notes:
            print(f"  . {note}")
        if a.tests:
            print("  a doctor may check it with: " + "; ".join(a.tests))
        if a.advice:
            print(f"  {a.advice}")
    return 0


def _print_red_flags(flags, out) -> None:
    """The standing red flags, as :meth:`RedFlag.lines` words them (the same in every
    text view), each after an empty line."""
    for flag in flags:
        print("", file=out)
        for line in flag.lines():
            print(_printable(line), file=out)


def _standing_flags(store) -> list:
    from twitchwatch.annotations import standing_red_flags

    return standing_red_flags(store)


def cmd_report(args) -> int:
    now = time.time()
    since = _since_unix_s(args.since, now)
    try:
        from twitchwatch.report import build_report
    except ImportError as exc:
        if exc.name is None or exc.name.startswith("twitchwatch.report") or "build_report" in str(exc):
            raise TwitchwatchError("report: not available in this build") from None
        raise TwitchwatchError(f"report: needs the Python package {exc.name!r}, which is not installed") from None
    refuse_overwriting({"--out": args.out}, {"the database": _db_path(args.db)})
    if _db_path(args.db).exists():
        with _open_store(args.db, read_only=True) as store:
            out = build_report(store, since, args.out, now_unix_s=now)
    else:  # nothing recorded yet: an empty report, and no database file made only to read it
        import tempfile

        from twitchwatch.store import Store

        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "empty.sqlite3") as store:
            out = build_report(store, since, args.out, now_unix_s=now)
    print(f"wrote {out}")
    return 0


_LOG_OPTIONS = {  # option dest -> the flag, and which entries take it ("exposure", "lab", "symptom")
    "until": ("--until", "exposure"), "mg": ("--mg", "exposure"), "ml": ("--ml", "exposure"),
    "minutes": ("--minutes", "exposure"), "intensity": ("--intensity", "exposure"),
    "dose": ("--dose", "exposure"), "unit": ("--unit", "exposure"), "drug_class": ("--class", "exposure"),
    "change": ("--change", "exposure"), "organophosphate": ("--organophosphate", "exposure"),
    "ref_range": ("--range", "lab"), "site": ("--site", "symptom"), "severity": ("--severity", "symptom"),
}
#: exposure kinds whose first value is a detail, not an amount (the rest take the amount)
_NAMED_VALUE = {"supplement": "name", "medication": "name", "pesticide": "product", "injury": "type"}


def _log_entry(args, now: float) -> tuple[str, dict]:
    """Parse ``twitchwatch log ...`` into (store table, validated entry dict); raises
    TwitchwatchError (EntryError) naming what is accepted. Writes nothing."""
    from twitchwatch.causes.entries import ACCEPTED, parse_entry, person_text

    what = args.kind.strip().lower()
    category = what if what in ("lab", "symptom", "test") else "exposure"
    # every text given: the page's limit and check (no terminal escape codes stored or echoed)
    args.note = person_text(f"log {what}: --note", args.note)
    for i, given in enumerate(args.values):
        person_text(f"log {what}: value {i + 1}", given)
    for dest, (flag, applies) in _LOG_OPTIONS.items():
        if dest == "site" and what == "injury":
            continue  # an injury has a site too
        if getattr(args, dest) is not None and applies != category:
            raise TwitchwatchError(f"log {what}: {flag} does not apply here; it is for "
                                   f"{'an exposure' if applies == 'exposure' else applies} entries")
    values = list(args.values)

    def take(n: int, names: str) -> list[str]:
        if len(values) != n:
            raise TwitchwatchError(f"log {what}: expected {names}, got {len(values)} value(s): {' '.join(values) or '-'}")
        return values

    if category == "lab":
        analyte, value, unit = take(3, "ANALYTE VALUE UNIT, e.g. log lab magnesium 0.62 mmol/L")
        low = high = None
        if args.ref_range is not None:
            parts = args.ref_range.replace(" ", "").split("-")
            if len(parts) != 2 or not all(parts):
                raise TwitchwatchError(f"log lab: --range {args.ref_range!r} is not LOW-HIGH, e.g. --range 0.70-1.00")
            low, high = parts
        return parse_entry("lab", analyte, {"value": value, "unit": unit, "at": args.at, "ref_low": low,
                                            "ref_high": high, "note": args.note}, now_unix_s=now)
    if category == "symptom":
        (kind,) = take(1, 'the symptom, e.g. log symptom weakness --site "left hand"')
        return parse_entry("symptom", kind, {"site": args.site, "severity": args.severity, "at": args.at,
                                             "note": args.note}, now_unix_s=now)
    if category == "test":
        from twitchwatch.store import CLINICAL_TEST_KINDS

        kind, result = take(2, 'KIND RESULT, e.g. log test emg "normal"')
        kind = kind.strip().lower()
        if kind not in CLINICAL_TEST_KINDS:
            raise TwitchwatchError(f"log test: unknown test {kind!r}; accepted: {', '.join(CLINICAL_TEST_KINDS)}")
        if not result.strip():
            raise TwitchwatchError('log test: the result is empty; write what it showed, e.g. "normal"')
        at = _parse_time("--at", args.at, now) if args.at is not None else now
        return "test", {"kind": kind, "result": result.strip(), "taken_unix_s": at, "note": args.note}

    # an exposure: the amount comes from one of --mg/--ml/--minutes/--dose or a positional value;
    # kinds with a name (supplement, medication) take the name as their positional value
    detail: dict[str, str] = {}
    named = _NAMED_VALUE.get(what.replace("-", "_"))
    if named and values:
        detail[named] = values.pop(0)
    if what == "injury" and args.site is not None:
        detail["site"] = args.site
    amounts = [(v, u) for v, u in ((args.mg, "mg"), (args.ml, "ml"), (args.minutes, "min"), (args.dose, args.unit))
               if v is not None]
    if args.unit is not None and args.dose is None:
        raise TwitchwatchError(f"log {what}: --unit goes with --dose, e.g. --dose 300 --unit mg")
    if len(values) > 1 or (values and amounts) or len(amounts) > 1:
        raise TwitchwatchError(f"log {what}: give the amount once, e.g. log caffeine --mg 200, log stress 7")
    amount: str | None = None
    amount_unit: str | None = None
    if amounts:
        amount, amount_unit = amounts[0]
    elif values:
        amount = values[0]
    for key, given in (("intensity", args.intensity), ("class", args.drug_class), ("change", args.change),
                       ("organophosphate", args.organophosphate)):
        if given is not None:
            detail[key] = given
    return parse_entry("exposure", what, {"value": amount, "unit": amount_unit, "at": args.at, "until": args.until,
                                          "detail": detail or None, "note": args.note}, now_unix_s=now)


def _log_seen_doctor(args, now: float) -> int:
    """``log seen-doctor FLAG|all``: a doctor saw this red flag; it stays away until
    something new raises it."""
    from twitchwatch.annotations import mark_seen_by_doctor

    for dest, (flag, _) in _LOG_OPTIONS.items():
        if getattr(args, dest) is not None:
            raise TwitchwatchError(f"log seen-doctor: {flag} does not apply here; give the red flag, --at and --note")
    if len(args.values) != 1:
        raise TwitchwatchError("log seen-doctor: say which red flag, e.g. log seen-doctor weakness (or: all)")
    at = _parse_time("--at", args.at, now) if args.at is not None else now
    with _open_store(args.db) as store:
        try:
            ids = mark_seen_by_doctor(store, args.values[0], seen_unix_s=at, note=args.note)
        except ValueError as exc:
            raise TwitchwatchError(f"log seen-doctor: {exc}") from None
    if not ids:
        print("no red flag is standing: nothing to mark")
    else:
        print(f"marked seen by a doctor at {_local(at)}: {', '.join(ids)}; a flag comes back if something "
              "new raises it")
    return 0


def cmd_log(args) -> int:
    from twitchwatch.causes.entries import describe_entry

    if args.kind.strip().lower() in ("seen-doctor", "seen_doctor"):
        return _log_seen_doctor(args, time.time())
    table, entry = _log_entry(args, time.time())
    with _open_store(args.db) as store:
        add = {"exposure": store.add_context, "lab": store.add_lab, "symptom": store.add_symptom,
               "test": store.add_clinical_test}[table]
        entry_id = add(entry)
    print(_printable(f"logged {describe_entry(table, entry)} (#{entry_id})"))
    return 0


COMMANDS = {"demo": cmd_demo, "stream": cmd_stream, "replay": cmd_replay, "ports": cmd_ports,
            "flash": cmd_flash, "scan": cmd_scan, "device": cmd_device,
            "log": cmd_log, "events": cmd_events, "export": cmd_export, "delete-all": cmd_delete_all,
            "report": cmd_report, "causes": cmd_causes}


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
            return (f"argument {i + 1} ({_safe_message(shown, 60)!r}) is not valid UTF-8 text; "
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
        rc = COMMANDS[args.command](args)
        dashboard = getattr(args, "live_dashboard", None)
        if dashboard is not None:
            _linger(dashboard)
        return rc
    except TwitchwatchError as exc:
        print(f"twitchwatch: error: {_safe_message(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `twitchwatch events | head`: the reader has what it wanted
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        return 0
    except OSError as exc:  # a missing or unreadable file, a full disk: the message names the file
        print(f"twitchwatch: error: {_safe_message(str(exc), 400)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twitchwatch: interrupted", file=sys.stderr)
        return 130
    finally:
        dashboard = getattr(args, "live_dashboard", None)
        if dashboard is not None:
            dashboard.stop()


if __name__ == "__main__":
    sys.exit(main())
