"""A recording run, put together: the store, the sinks, the dashboard, the LSL outlet,
the pipeline, the words for the person, and the summary at the end.

:class:`Runner` is what ``twitchwatch stream``, ``demo`` and ``replay`` call (the CLI
only turns its arguments into :class:`RunOptions`), and what a program calls to run a
source the same way::

    runner = Runner(RunOptions(db="my.sqlite3"))  # dashboard=DashboardOptions() serves one
    try:
        summary = runner.run(source, "serial:/dev/ttyUSB0", duration_s=60)
    finally:
        runner.close()

One :meth:`Runner.run` opens the store (refusing an output that would write over an
input, and a capture that exists), serves the dashboard for a live run, opens the LSL
outlet (``lsl``), runs the :class:`~twitchwatch.pipeline.Pipeline` with cause annotation
as its end-of-session hook, prints the summary and the standing red flags, and returns
the :class:`~twitchwatch.pipeline.RunSummary`. A run that is refused before it stored
anything leaves no database file it created. The dashboard of a live run stays up
after it (:attr:`Runner.dashboard`, for history and logging) until :meth:`Runner.close`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from twitchwatch import TwitchwatchError
from twitchwatch.console import Console, events_out_notice, shown_path
from twitchwatch.heap import LIVE_TRIM_EVERY_S

if TYPE_CHECKING:
    from twitchwatch.detect import TwitchEvent
    from twitchwatch.formats import RecordingFile
    from twitchwatch.pipeline import RunSummary
    from twitchwatch.protocol import SampleBlock
    from twitchwatch.store import Store
    from twitchwatch.transports import ByteSource


@dataclasses.dataclass(frozen=True)
class DashboardOptions:
    """Serving the live dashboard (docs/dashboard.md). ``port`` None: the default port, or a
    free one if taken; 0: any free port. ``access_token`` None: ``$TWITCHWATCH_ACCESS_TOKEN``."""

    host: str = "127.0.0.1"
    port: int | None = None
    access_token: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    open_browser: bool = True


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What a recording run writes and shows, as plain values.

    ``db``: the SQLite file (None: the default one); ``events_out``: a JSONL file of
    twitches, appended to; ``body_site``: stored with the session; ``lsl``: publish over
    Lab Streaming Layer (live sources only); ``dashboard``: None for none (a replay as fast
    as possible never serves one; the default: none); ``quiet``: no live lines; ``red_flags``: print the
    standing red flags after the run (``replay --jobs`` checks once, at the end)."""

    db: str | None = None
    events_out: str | None = None
    body_site: str | None = None
    lsl: bool = False
    dashboard: DashboardOptions | None = None
    quiet: bool = False
    red_flags: bool = True


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
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
            if same_file(out, path):
                raise TwitchwatchError(f"{out_name} {shown_path(out)} is the same file as {in_name}: it would be "
                                       f"written over; name another file")
        named.append((out_name, out))


def source_hash(path: Path, db: str | None, again: bool = False) -> str:
    """The file's SHA-256; refuses (TwitchwatchError) a file the database ``db`` already
    holds, unless ``again``."""
    from twitchwatch.store import Store, db_path
    from twitchwatch.store.sources import already_stored_message, file_sha256

    digest = file_sha256(path)
    if not again and db_path(db).exists():  # none made only to look (issue 17)
        with Store(db_path(db)) as store:
            held = store.sessions_from_source(digest)
        if held:
            raise TwitchwatchError(already_stored_message(path.name, held))
    return digest


def warm_detector(quiet: bool = False) -> None:
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


def red_flag_check(store: Store, console: Console) -> None:
    """Print the standing red flags after a run (its data is stored whatever happens here)."""
    from twitchwatch.annotations import standing_red_flags

    try:
        console.red_flags(standing_red_flags(store))
    except TwitchwatchError as exc:  # the run's data is stored; say the check could not run
        console.warning(f"the red-flag check could not run ({exc}); run 'twitchwatch causes'")


def start_dashboard(options: DashboardOptions, store_path: Path) -> tuple[Any, Any]:
    """Serve the dashboard for a run; returns (hub, dashboard), its address said on stderr."""
    from twitchwatch.dashboard import DEFAULT_PORT, Dashboard, LiveHub

    hub = LiveHub()
    token = options.access_token or os.environ.get("TWITCHWATCH_ACCESS_TOKEN") or None
    port = DEFAULT_PORT if options.port is None else options.port
    dashboard = Dashboard(hub, store_path, host=options.host, port=port, access_token=token,
                          tls_cert=options.tls_cert, tls_key=options.tls_key)
    url = dashboard.start()
    print(f"dashboard: {url}", file=sys.stderr)
    if dashboard.tls_fingerprint is not None and dashboard.tls is not None:
        made = "made now" if dashboard.tls_made_now else "made on first use"
        print(f"dashboard: self-signed TLS certificate ({made}, {dashboard.tls[0]}); your browser will warn "
              f"that nobody vouches for it: accept it only if it shows this SHA-256 fingerprint: "
              f"{dashboard.tls_fingerprint}", file=sys.stderr)
    if options.open_browser and _can_open_browser():
        import webbrowser

        webbrowser.open(url)
    return hub, dashboard


def _can_open_browser() -> bool:
    """False on a Linux machine without a display (a server, CI): print the URL only."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _remove_database(store: Store) -> None:
    """Delete a database this run created and wrote nothing to (with its -wal and -shm)."""
    store.close()
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{store.path}{suffix}")
        except OSError:
            pass


def _chain(*callbacks: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
    """One callback calling each of ``callbacks`` (None entries skipped) in order."""
    live = [c for c in callbacks if c is not None]
    if len(live) <= 1:
        return live[0] if live else None

    def call(x: Any) -> None:
        for c in live:
            c(x)
    return call


class Runner:
    """Runs sources with one set of :class:`RunOptions` (see the module's docstring).

    ``console``: the words for the person (default: a :class:`~twitchwatch.console.Console`
    with the options' ``quiet``). :attr:`dashboard`: the dashboard of the last live run,
    still serving, or None; :meth:`close` stops it."""

    def __init__(self, options: RunOptions, console: Console | None = None) -> None:
        self.options = options
        self.console = console if console is not None else Console(options.quiet)
        self.dashboard: Any = None

    def run(self, source: ByteSource | None, source_name: str, *, duration_s: float | None = None,
            capture: str | None = None, on_block: Callable[[SampleBlock], None] | None = None,
            on_event: Callable[[TwitchEvent], None] | None = None, recording: RecordingFile | None = None,
            live: bool = True, detect_every_s: float = 0.0, source_sha256: str | None = None,
            silent_port: bool = False, replayed: str | os.PathLike | None = None) -> RunSummary:
        """Run ``source`` (a byte source) or ``recording`` (a file's blocks) to its end.

        ``live``: a source in real time (the dashboard is served, LSL may publish; a
        recording is paced at its own rate); ``on_event``: each counted twitch (default:
        the console's twitch line); ``replayed``: the file replayed (no output may write
        over it). The other arguments are :class:`~twitchwatch.pipeline.Pipeline`'s.
        Raises :class:`TwitchwatchError` for what is refused (one line); Ctrl-C ends the
        run as "interrupted" with everything so far stored."""
        from twitchwatch.causes.entries import person_text
        from twitchwatch.pipeline import Pipeline
        from twitchwatch.sinks import annotate_session
        from twitchwatch.store import Store, db_path

        opts = self.options
        lsl = None
        if opts.lsl:
            if not live:
                raise TwitchwatchError("--lsl needs a live source: stream, demo, or replay --realtime of a capture "
                                       "(LSL stamps samples with this computer's clock as they come)")
            from twitchwatch.lsl import LslSink

            lsl = LslSink()
        body_site = person_text("--body-site", opts.body_site)  # stored and shown: plain text, the entries' limit
        console = self.console
        path = db_path(opts.db)
        refuse_overwriting({"--events-out": opts.events_out, "--capture": capture},
                           {"the database": path, "the file replayed": replayed})
        if capture is not None and Path(capture).exists():
            raise TwitchwatchError(f"--capture {shown_path(capture)} exists; a capture is never written over: "
                                   "name a new file")
        events_out_notice(opts.events_out)
        created = not path.exists()
        store = Store(path)
        hub = dashboard = None
        pipe = None
        try:
            if live and opts.dashboard is not None:
                hub, dashboard = start_dashboard(opts.dashboard, store.path)
            pipe = Pipeline(source, source_name=source_name, store=store, events_out=opts.events_out,
                            capture=capture, on_event=on_event or console.event,
                            on_status=_chain(console.status, hub and hub.on_status), on_block=on_block,
                            sinks=[s for s in (hub, lsl) if s is not None], body_site=body_site,
                            detect_every_s=detect_every_s, source_sha256=source_sha256,
                            on_notice=console.notice, after_session=annotate_session,
                            trim_heap_every_s=LIVE_TRIM_EVERY_S if recording is None else None)
            try:
                if recording is not None:
                    from twitchwatch.console import Progress

                    progress = Progress(recording.duration_s, opts.quiet or live)  # live: the status line instead
                    try:
                        # as fast as possible: 1-s blocks (half the per-block work; the detector
                        # runs once per second of signal either way: detect_every_s)
                        summary = pipe.run_recording(recording, block_s=0.5 if live else 1.0,
                                                     on_progress=progress, realtime=live)
                    finally:
                        progress.close()
                else:
                    summary = pipe.run(duration_s=duration_s, silent_port=silent_port)
            except KeyboardInterrupt:
                summary = pipe.summary
                summary.ended_because = "interrupted (Ctrl-C)"
            console.status_done()
            console.summary(summary, str(store.path))
            if opts.red_flags:
                red_flag_check(store, console)
            if hub is not None and dashboard is not None:
                hub.on_end(summary.ended_because)
                self.close()  # the previous run's, if any
                self.dashboard, dashboard = dashboard, None  # kept up until close()
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

    def close(self) -> None:
        """Stop the dashboard kept up after a live run (if any)."""
        if self.dashboard is not None:
            dashboard, self.dashboard = self.dashboard, None
            dashboard.stop()
