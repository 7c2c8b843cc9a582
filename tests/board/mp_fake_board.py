"""A board at the other end of a pty, for `twitchwatch flash` tests. Runs under the
MicroPython Unix port:

    micropython mp_fake_board.py --fd N --firmware DIR --root DIR

fd 0 and 1 are the device side of the pty (the board's UART), as is fd N. It boots as
a board with twitchwatch firmware does: the virtual firmware (``unix_main``, waiting
for START) on fd N. COMMAND REPL ends that loop, and the board is then at a MicroPython
REPL on fd 0/1 that speaks the raw-REPL protocol mpremote uses (Ctrl-A raw mode, code
ended by Ctrl-D, "OK", output, 0x04, error, 0x04, ">"; Ctrl-D alone: soft reboot;
raw-paste answered as unsupported). Code runs in *this* MicroPython, with ``os`` and
``open`` confined to ``--root`` (the board's flash) and ``machine.reset()`` ending the
process with exit code 99: the harness then boots it again.

What this does not do: run the copied files. They are ESP32 firmware (``machine.SPI``,
the ADS1292R on the bus); after a reset the board runs the virtual firmware again.
"""

import sys

import os as _real_os

RESET_EXIT = 99


def _arg(name, default=None):
    argv = sys.argv
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return default


ROOT = _arg("--root")
FIRMWARE = _arg("--firmware")


def _path(p):
    """A board path ('/main.py', 'main.py', '') as a path under ROOT; '..' refused."""
    parts = [x for x in p.split("/") if x and x != "."]
    for x in parts:
        if x == "..":
            raise OSError(22)
    return ROOT + ("/" + "/".join(parts) if parts else "")


class FakeOs:
    """The board's ``os``: the real one, confined to ROOT."""

    sep = "/"

    def stat(self, p):
        return _real_os.stat(_path(p))

    def ilistdir(self, p=""):
        return _real_os.ilistdir(_path(p))

    def listdir(self, p=""):
        return [e[0] for e in _real_os.ilistdir(_path(p))]

    def remove(self, p):
        _real_os.remove(_path(p))

    def mkdir(self, p):
        _real_os.mkdir(_path(p))

    def rmdir(self, p):
        _real_os.rmdir(_path(p))

    def rename(self, a, b):
        _real_os.rename(_path(a), _path(b))

    def getcwd(self):
        return "/"

    def chdir(self, p):
        if p not in ("/", ""):
            raise OSError(2)

    def uname(self):
        return ("esp32", "esp32", "1.29.0", "fake", "fake board with ESP32")

    def statvfs(self, p):
        return (4096, 4096, 512, 256, 256, 0, 0, 0, 0, 255)


def _open(p, mode="r"):
    return open(_path(p), mode)


class FakeMachine:
    def reset(self):
        sys.exit(RESET_EXIT)

    def soft_reset(self):
        sys.exit(RESET_EXIT)


def run_firmware():
    """Boot: the virtual firmware as a real board runs main.py; returns at COMMAND REPL."""
    sys.path.insert(0, FIRMWARE)
    import unix_main

    unix_main.run(unix_main.parse_args(["--fd", _arg("--fd"), "--wait-start"]))


def repl():
    inp = sys.stdin.buffer
    out = sys.stdout.buffer
    sys.modules["os"] = FakeOs()
    sys.modules["machine"] = FakeMachine()
    env = {"__name__": "__main__", "open": _open}
    raw = False
    code = bytearray()
    out.write(b"\r\nMicroPython v1.29.0 on fake board; ESP32 module with ESP32\r\n>>> ")
    while True:
        c = inp.read(1)
        if not c:
            return
        if c == b"\x01":  # raw REPL
            raw = True
            code = bytearray()
            out.write(b"raw REPL; CTRL-B to exit\r\n>")
        elif c == b"\x02":  # friendly REPL
            raw = False
            out.write(b"\r\nMicroPython v1.29.0 on fake board\r\n>>> ")
        elif c == b"\x03":
            code = bytearray()
        elif not raw:
            continue  # the friendly REPL's editing is not needed by mpremote
        elif c == b"\x05":  # raw-paste: answered as unsupported
            inp.read(2)
            out.write(b"R\x00")
        elif c == b"\x04" and not code:  # soft reboot
            env = {"__name__": "__main__", "open": _open}
            out.write(b"OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>")
        elif c == b"\x04":
            out.write(b"OK")
            source = bytes(code)
            code = bytearray()
            err = b""
            try:
                exec(source, env)
            except Exception as e:  # SystemExit (machine.reset) goes through
                import io

                buf = io.StringIO()
                sys.print_exception(e, buf)
                err = buf.getvalue().encode()
            out.write(b"\x04" + err + b"\x04>")
        else:
            code.extend(c)


def main():
    run_firmware()
    repl()


main()
