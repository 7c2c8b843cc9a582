"""The virtual board (firmware/unix_main.py under MicroPython) over a real pty.

The decoding here is deliberately minimal and independent of the host package: COBS
and struct straight from docs/protocol.md.
"""

import binascii
import os
import select
import struct
import subprocess
import time
import tty

import pytest

from conftest import FIRMWARE, MICROPYTHON

import sim_frontend  # noqa: E402

UNIX_MAIN = FIRMWARE / "unix_main.py"


def cobs_decode(enc: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(enc):
        code = enc[i]
        assert code != 0 and i + code <= len(enc), "COBS error"
        out += enc[i + 1: i + code]
        i += code
        if code != 0xFF and i < len(enc):
            out.append(0)
    return bytes(out)


def parse_frame(fr: bytes) -> dict:
    assert 10 <= len(fr) <= 244, len(fr)
    assert struct.unpack_from("<I", fr, len(fr) - 4)[0] == binascii.crc32(fr[:-4]), "CRC"
    version, ftype, seq = struct.unpack_from("<BBI", fr)
    assert version == 1
    p = fr[6:-4]
    f = {"type": ftype, "seq": seq, "payload": p}
    if ftype == 0x01:
        f["boot_id"] = struct.unpack_from("<I", p)[0]
        n = p[4]
        f["device_id"] = p[5:5 + n].decode()
    elif ftype == 0x02:
        sid, n, first, t_us = struct.unpack_from("<BBIQ", p)
        f.update(stream_id=sid, n=n, first=first, t_us=t_us)
        if sid == 0:
            assert len(p) == 14 + n * 2 * 3
            vals = [int.from_bytes(p[14 + 3 * k: 17 + 3 * k], "little", signed=True) for k in range(2 * n)]
            f["rows"] = [tuple(vals[2 * k: 2 * k + 2]) for k in range(n)]
        else:
            assert len(p) == 14 + n * 3 * 2
            vals = struct.unpack_from("<%dh" % (3 * n), p, 14)
            f["rows"] = [tuple(vals[3 * k: 3 * k + 3]) for k in range(n)]
    elif ftype == 0x03:
        keys = ("battery_mv", "battery_pct", "lead_off", "dropped_samples", "free_heap", "uptime_ms",
                "reset_cause", "reserved", "frames_refused")
        assert len(p) == 20
        f.update(zip(keys, struct.unpack("<HBBIIIBBH", p)))
    elif ftype == 0x04:
        f.update(zip(("command", "result", "arg"), struct.unpack("<BBI", p)))
    elif ftype == 0x05:
        f["text"] = p.decode()
    return f


def command_wire(cmd: int, arg: int, seq: int) -> bytes:
    body = struct.pack("<BBIBI", 1, 0x81, seq, cmd, arg)
    fr = body + struct.pack("<I", binascii.crc32(body))
    # COBS (reference style), then the delimiter.
    out, block = bytearray(), bytearray()
    for b in fr:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
    out += bytes([len(block) + 1]) + block
    return bytes(out) + b"\0"


class Board:
    """``unix_main.py`` on the master side of a pty; the test reads the slave."""

    def __init__(self, *args, timeout_s=30.0):
        if not MICROPYTHON.exists():
            pytest.skip("no MicroPython Unix port")
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([str(MICROPYTHON), str(UNIX_MAIN), "--fd", str(self.master), *map(str, args)],
                                     pass_fds=[self.master], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.deadline = self.t0 + timeout_s
        self.raw = bytearray()
        self.frames = []
        self._pending = bytearray()

    def _read_some(self, wait_s=0.2) -> bool:
        r, _, _ = select.select([self.slave], [], [], wait_s)
        if not r:
            return False
        data = os.read(self.slave, 1 << 16)
        self.raw += data
        self._pending += data
        *done, rest = bytes(self._pending).split(b"\0")
        self._pending = bytearray(rest)
        for enc in done:
            if enc:
                self.frames.append(parse_frame(cobs_decode(enc)))
        return True

    def read_until(self, pred):
        while time.monotonic() < self.deadline:
            for f in self.frames:
                if pred(f):
                    return f
            self._read_some()
        raise AssertionError("timed out waiting for a frame")

    def send(self, data: bytes):
        os.write(self.slave, data)

    def read_to_exit(self):
        while time.monotonic() < self.deadline:
            got = self._read_some()
            if not got and self.proc.poll() is not None:
                while self._read_some(0.05):
                    pass
                return self.proc.returncode, time.monotonic() - self.t0
        raise AssertionError("board did not exit in time")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def board_factory():
    boards = []

    def make(*args, **kw):
        b = Board(*args, **kw)
        boards.append(b)
        return b

    yield make
    for b in boards:
        b.close()


def _rows(frames, sid):
    rows, nxt = [], 0
    for f in frames:
        if f["type"] == 0x02 and f["stream_id"] == sid:
            assert f["first"] == nxt, "gap or overlap"
            rate_mhz = 2_000_000 if sid == 0 else 1_000_000
            assert f["t_us"] == f["first"] * 10**9 // rate_mhz
            rows += f["rows"]
            nxt += f["n"]
    return rows


def test_streams_ground_truth_and_exits(board_factory):
    b = board_factory("--seed", 5, "--duration-s", 2, "--boot-id", "0xB007", "--twitch-rate-per-min", 120)
    rc, _ = b.read_to_exit()
    assert rc == 0
    assert b.proc.stdout.read() == b""  # nothing on stdout
    assert b.raw[0] == 0  # resync delimiter first
    fr = b.frames
    assert fr[0]["type"] == 0x01 and fr[0]["boot_id"] == 0xB007 and fr[0]["device_id"] == "sim-0005"
    assert fr[1]["type"] == 0x05 and "seed 5" in fr[1]["text"]
    assert [f["seq"] for f in fr] == list(range(len(fr)))
    assert any(f["type"] == 0x03 for f in fr)
    emg, acc, tw = sim_frontend.ground_truth(5, 4000, 2000, twitch_rate_per_min=120)
    assert _rows(fr, 0) == emg  # bit for bit, exactly 2 s
    assert _rows(fr, 1) == acc
    assert tw  # the stretch had twitches to compare
    full = [f for f in fr if f["type"] == 0x02 and f["n"] == 20]
    assert len(full) == 4000 // 20 + 2000 // 20
    last_status = [f for f in fr if f["type"] == 0x03][-1]
    assert last_status["dropped_samples"] == 0 and last_status["free_heap"] > 0
    assert last_status["battery_pct"] == 255


def test_ping_hello_start_commands(board_factory):
    b = board_factory("--seed", 2, "--duration-s", 4, "--realtime", "--boot-id", 99)
    b.read_until(lambda f: f["type"] == 0x02)
    b.send(command_wire(3, 0xDEADBEEF, seq=0))  # PING
    rep = b.read_until(lambda f: f["type"] == 0x04 and f["command"] == 3)
    assert (rep["result"], rep["arg"]) == (0, 0xDEADBEEF)
    b.send(b"\x09\x01\x02\x03\x00" + command_wire(4, 0, seq=1))  # junk, then HELLO
    rep = b.read_until(lambda f: f["type"] == 0x04 and f["command"] == 4)
    later = [f for f in b.frames if f["seq"] > rep["seq"]] or [b.read_until(lambda f: f["seq"] == rep["seq"] + 1)]
    assert later[0]["type"] == 0x01 and later[0]["boot_id"] == 99
    b.send(command_wire(0x77, 5, seq=2))  # unknown command
    rep = b.read_until(lambda f: f["type"] == 0x04 and f["command"] == 0x77)
    assert (rep["result"], rep["arg"]) == (1, 5)
    b.send(command_wire(1, 0, seq=3))  # START: indexes restart at 0 after a HELLO
    rep = b.read_until(lambda f: f["type"] == 0x04 and f["command"] == 1)
    b.read_until(lambda f: f["seq"] > rep["seq"] + 3)
    after = [f for f in b.frames if f["seq"] > rep["seq"]]
    assert after[0]["type"] == 0x01
    first_emg = next(f for f in after if f["type"] == 0x02 and f["stream_id"] == 0)
    assert first_emg["first"] == 0
    rc, wall_s = b.read_to_exit()
    assert rc == 0
    assert wall_s >= 3.5  # real time: 4 s of samples, the last ones after START


def test_bad_arguments_exit_2():
    if not MICROPYTHON.exists():
        pytest.skip("no MicroPython Unix port")
    p = subprocess.run([str(MICROPYTHON), str(UNIX_MAIN), "--seed", "3"], capture_output=True, timeout=30)
    assert p.returncode == 2 and b"--fd" in p.stderr and p.stdout == b""


def test_fast_mode_throughput_30s(board_factory):
    """30 s of the full stream (2 kHz x 2 EMG + 1 kHz x 3 ACC) in well under 10 s."""
    b = board_factory("--seed", 1, "--duration-s", 30, "--boot-id", 1, timeout_s=60)
    rc, wall_s = b.read_to_exit()
    assert rc == 0
    data = [f for f in b.frames if f["type"] == 0x02]
    assert sum(f["n"] for f in data if f["stream_id"] == 0) == 60_000
    assert sum(f["n"] for f in data if f["stream_id"] == 1) == 30_000
    assert wall_s < 10, wall_s
    print(f"30 s of stream in {wall_s:.2f} s wall, {len(b.raw)} bytes")
