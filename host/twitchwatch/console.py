"""What a run and the data commands say to a person at a terminal.

:class:`Console` is how a run (:class:`~twitchwatch.session.Runner`) talks: the live
status line, one line per twitch, notices, the progress bar of a long file, the summary
at the end and the standing red flags. Status lines, twitches, notices and progress go
to stderr; the summary and red flags to stdout (what a script keeps). ``quiet`` silences
the live lines (status, twitches, progress), never the summary. The streams are looked
up when written (``sys.stdout``/``sys.stderr`` at that moment), so a caller that
redirects them (a ``replay --jobs`` worker, a test) gets the text.

Everything a person or a file gave (sites, notes, labels, paths) goes through
:func:`printable` before it is shown: no terminal escape codes are echoed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from twitchwatch.localtime import shown_time

if TYPE_CHECKING:
    from twitchwatch.pipeline import LiveStatus, RunSummary


def printable(text: str) -> str:
    """Text for the terminal: control characters (terminal escape codes) shown as '?',
    line breaks and tabs kept. Everything a person or a file gave (sites, notes, labels)
    goes through it before it is printed; new entries cannot hold them (person_text)."""
    return "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)


def safe_message(text: str, limit: int = 2000) -> str:
    """An error for the terminal: :func:`printable`, cut to ``limit`` characters."""
    text = printable(text)
    return text if len(text) <= limit else text[:limit] + "…"


def shown_path(path: str | os.PathLike, limit: int = 120) -> str:
    """A path for a message: printable characters only (terminal escapes are not echoed), cut
    to ``limit`` characters (:func:`twitchwatch.limits.short`)."""
    from twitchwatch.limits import short

    return short(os.fspath(path), limit)


def print_red_flags(flags: list, out: TextIO) -> None:
    """The standing red flags, as :meth:`RedFlag.lines` words them (the same in every
    text view), each after an empty line."""
    for flag in flags:
        print("", file=out)
        for line in flag.lines():
            print(printable(line), file=out)


def summary_lines(summary: RunSummary, store_path: str | None) -> list[str]:
    """The end of a run in words: why it ended, what was decoded, recorded and rejected,
    signal quality per channel, the link, what was dropped, warnings, where it is logged."""
    lines = []
    decoded = ", ".join(f"stream {k}: {v} samples" for k, v in sorted(summary.samples.items())) or "no samples"
    signal = f" ({summary.signal_s:.1f} s of signal)" if summary.signal_s else ""
    lines.append(f"ended: {summary.ended_because} after {summary.duration_host_s:.1f} s of wall time{signal}")
    uncounted = getattr(summary, "candidates", 0)
    extra = f" (and {uncounted} uncounted candidates, kept in the store)" if uncounted else ""
    lines.append(f"decoded: {decoded}; {summary.events} twitches{extra}; device resets: {summary.resets}")
    if summary.span_s:
        start = "" if summary.first_wall_s is None else f", from {shown_time(summary.first_wall_s)}"
        lines.append(f"recorded: {summary.recorded_s:.1f} s of usable signal ({summary.signal_s:.1f} s received, "
                     f"{summary.span_s:.1f} s first to last sample){start}, dated by {summary.dated_by}")
    if summary.artefacts:
        lines.append("rejected as not twitches: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.artefacts.items())))
    for q in summary.quality:
        mains = f"{q['mains_hz']:g} Hz hum {q['mains_uv']:.1f} uV" if q.get("mains_hz") else "no mains hum found"
        lines.append(f"signal quality, {q.get('label', q['channel'])}: noise floor {q['noise_floor_uv']:.1f} uV RMS, "
                     f"{mains}, usable {100 * q['usable_fraction']:.0f} %{', LEAD OFF' if q.get('lead_off') else ''}")
    link = getattr(summary, "link", None)
    if link:
        drops = [d["duration_s"] for d in link.get("dropouts", [])]
        known = [d for d in drops if d is not None]
        longest = f" (longest {max(known):.1f} s)" if known else ""
        lines.append(f"link: BLE {link.get('name') or ''} {link.get('address') or ''}, MTU {link.get('mtu')}, "
                     f"{link.get('connects', 0)} connections, {link.get('dropouts_total', len(drops))} dropouts{longest}, "
                     f"{link.get('duplicates_dropped', 0)} repeated frames dropped")
    problems = summary.problems()
    if problems:
        lines.append("dropped or damaged: " + ", ".join(f"{k} {v}" for k, v in problems.items()))
    else:
        lines.append("dropped or damaged: nothing")
    lines.extend(f"warning: {warning}" for warning in summary.warnings)
    if getattr(summary, "warnings_not_kept", 0):
        lines.append(f"warning: {summary.warnings_not_kept} more warning(s), not kept")
    if store_path:
        lines.append(f"logged to {store_path}")
    return lines


class Progress:
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


class Console:
    """A run's words for a person (see the module's docstring). ``quiet``: no live lines."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._tty = sys.stderr.isatty()
        self._clear = "\r\033[K" if self._tty else ""  # a line on a terminal first clears the status line
        self._last_status_s = -10.0

    def say(self, line: str) -> None:
        """A line on stderr unless quiet (a link's events: connecting, reconnected ...)."""
        if not self.quiet:
            print(line, file=sys.stderr)

    def status(self, st: LiveStatus) -> None:
        """One live status line: rewritten in place on a terminal, one line per 5 s otherwise."""
        if self.quiet:
            return
        if not self._tty and st.host_elapsed_s - self._last_status_s < 5.0:
            return
        self._last_status_s = st.host_elapsed_s
        floor = ", ".join(f"{x:.1f}" for x in st.noise_floor_uv) or "-"
        problems = ", ".join(f"{k} {v}" for k, v in st.problems.items()) or "none"
        line = (f"[{st.device_elapsed_s:6.1f} s] {st.link}: {st.events} twitches "
                f"({st.rate_per_min:.1f}/min), noise floor {floor} uV RMS, dropped/damaged: {problems}")
        if self._tty:
            sys.stderr.write("\r\033[K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def status_done(self) -> None:
        """The run is over: end the status line (on a terminal)."""
        if self._tty and not self.quiet:
            sys.stderr.write("\n")

    def event(self, e: Any) -> None:
        """One line per twitch on stderr (a :class:`~twitchwatch.detect.TwitchEvent`)."""
        if not self.quiet:
            unit = "" if getattr(e, "unit_id", None) is None else f"  unit {e.unit_id}"
            sys.stderr.write(f"{self._clear}  twitch t={e.t_s:8.3f} s  {e.channel_label}  {e.amplitude_uv:6.0f} uV "
                             f"p-p  {e.duration_ms:4.1f} ms  confidence {e.confidence:.2f}{unit}\n")

    def notice(self, text: str) -> None:
        """One line on stderr, even when quiet (what to check on a silent port ...)."""
        sys.stderr.write(f"{self._clear}{text}\n")
        sys.stderr.flush()

    def summary(self, summary: RunSummary, store_path: str | None) -> None:
        """The end of a run on stdout (:func:`summary_lines`)."""
        for line in summary_lines(summary, store_path):
            print(line, file=sys.stdout)

    def red_flags(self, flags: list) -> None:
        """The standing red flags after a run, on stdout."""
        print_red_flags(flags, sys.stdout)

    def warning(self, text: str) -> None:
        print(f"warning: {text}", file=sys.stdout)


def events_out_notice(path: str | None) -> None:
    """Say on stderr whether an events file starts or is appended to (and how much it holds)."""
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


def linger(dashboard: Any) -> None:
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
