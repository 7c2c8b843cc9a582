"""`twitchwatch device selftest`: the result line's verdict, the command against the
virtual board (the real firmware under the MicroPython Unix port over a pty), and a
board whose firmware does not know SELFTEST."""

import pytest

from twitchwatch.board.selftest import SelftestError, parse_line, run_selftest
from twitchwatch.cli import main
from twitchwatch.protocol.cobs import cobs_encode
from twitchwatch.protocol.frame import FrameType, build_frame
from twitchwatch.protocol.payloads import build_reply_payload
from twitchwatch.transports import find_micropython

GOOD = ("selftest seconds=3.000 emg_hz=2000 ids=ads:0x73,lsm:0x6c spi9_us=118 i2c7_us=280 "
        "passes=31444 busy_pct=62 worst_pass_us=400 emg=6000 lost=0 bad=0")


def test_a_board_that_keeps_up():
    r = parse_line(GOOD)
    assert r.problems() == []
    v = r.verdict()
    assert v.startswith("keeps up at 2000 Hz with 38 % headroom (chips answer;")
    assert "SPI read 118 us" in v and "I2C word 280 us" in v


def test_lost_samples_fail_with_what_to_change():
    r = parse_line(GOOD.replace("lost=0", "lost=150").replace("busy_pct=62", "busy_pct=97"))
    (p,) = r.problems()
    assert p.startswith("150 samples lost in 3 s (50/s)") and "rate_hz=1000" in p
    assert r.verdict().startswith("FAILS: 150 samples lost")


def test_wrong_chip_ids_name_the_wiring():
    r = parse_line(GOOD.replace("ads:0x73", "ads:0xff!").replace("lsm:0x6c", "lsm:0x00!"))
    ads, lsm = r.problems()
    assert "ADS1292R ID register reads 0xff, want 0x73" in ads and "SCK 18" in ads
    assert "LSM6DSO WHO_AM_I reads 0x00, want 0x6c" in lsm


def test_not_a_selftest_line():
    with pytest.raises(ValueError):
        parse_line("boot: simulated front end")


class _OldFirmware:
    """A source whose firmware answers SELFTEST with 'unknown command' (firmware 0.1.0)."""

    def __init__(self):
        self.sent = []

    def write(self, data):
        self.sent.append(bytes(data))

    def read(self, timeout_s):
        frame = build_frame(FrameType.REPLY, 7, build_reply_payload(5, 1, 3000))
        return 0.0, cobs_encode(frame) + b"\0"


def test_old_firmware_is_told_apart():
    src = _OldFirmware()
    with pytest.raises(SelftestError, match="does not know SELFTEST"):
        run_selftest(src, 3.0, timeout_s=2.0)
    assert len(src.sent) == 2  # STOP, then SELFTEST


def test_virtual_board_answers(capsys):
    try:
        find_micropython()
    except Exception as exc:  # noqa: BLE001 - no Unix port on this machine
        pytest.skip(f"no MicroPython Unix port: {exc}")
    rc = main(["device", "selftest", "--port", "virtual", "--seconds", "1"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 0, out
    line, verdict = out
    r = parse_line(line)
    assert r.ids == {"sim": None}
    assert r.value("lost") == 0 and r.value("passes") > 100
    assert 1500 <= r.value("emg") <= 2500  # ~1 s of 2 kHz on the board's clock
    assert verdict.startswith("keeps up at 2000 Hz with") and "simulated front end" in verdict


def test_seconds_out_of_range_is_one_line(capsys):
    assert main(["device", "selftest", "--port", "virtual", "--seconds", "60"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("twitchwatch: error: --seconds") and err.count("\n") == 1
