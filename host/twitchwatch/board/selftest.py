"""``twitchwatch device selftest``: ask a board to test itself and say whether it keeps up.

The host sends STOP (a board that streams by itself stops), then COMMAND SELFTEST with
the run's length in ms; the firmware answers REPLY, checks its chips' ID registers,
times an SPI conversion read and an I2C FIFO-word read, runs its real acquisition loop
for that long (frames built, not sent) and sends one TEXT line of ``key=value`` fields
(firmware/selftest.py, docs/protocol.md). This module parses that line and turns it
into a verdict with the figures.
"""

from __future__ import annotations

import dataclasses
import time

from ..protocol.decoder import FrameDecoder
from ..protocol.messages import Command, Reply, ReplyResult, Text
from ..protocol.payloads import encode_command

ADS_IDS = {0x73: "ADS1292R", 0x53: "ADS1292"}
LSM_ID = 0x6C


class SelftestError(Exception):
    """The board did not answer the self-test (no reply, too old, busy)."""


@dataclasses.dataclass(frozen=True)
class SelftestResult:
    """The board's result line (``line``) and its ``key=value`` fields."""

    line: str
    fields: dict[str, str]

    def value(self, key: str) -> int:
        """An integer field (0 when absent)."""
        return int(self.fields.get(key, "0"))

    @property
    def ids(self) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for part in self.fields.get("ids", "").split(","):
            name, _, value = part.partition(":")
            out[name] = int(value.rstrip("!"), 16) if value.startswith("0x") else None
        return out

    def problems(self) -> list[str]:
        """What fails, each with what to change."""
        out = []
        ids = self.ids
        if "sim" not in ids:
            ads, lsm = ids.get("ads"), ids.get("lsm")
            if ads not in ADS_IDS:
                out.append(f"ADS1292R ID register reads {_hex(ads)}, want 0x73: check its SPI wiring "
                           "(SCK 18, MOSI 23, MISO 19, /CS 5), its supply and /PWDN (GPIO16) high")
            if lsm != LSM_ID:
                out.append(f"LSM6DSO WHO_AM_I reads {_hex(lsm)}, want 0x6c: check I2C (SDA 21, SCL 22), "
                           "pull-ups and SA0 low (address 0x6A)")
        lost = self.value("lost")
        if lost:
            secs = float(self.fields.get("seconds", "1") or 1)
            out.append(f"{lost} samples lost in {secs:g} s ({lost / secs:.0f}/s): the loop does not keep up "
                       f"(busy {self.value('busy_pct')} %, worst pass {self.value('worst_pass_us')} us). Lower the "
                       "EMG rate (board_esp32.build(rate_hz=1000)), or shorten the slow jobs: SPI read "
                       f"{self.value('spi9_us')} us, I2C word {self.value('i2c7_us')} us (raise I2C_HZ if the "
                       "wiring allows)")
        return out

    def verdict(self) -> str:
        problems = self.problems()
        hz = self.value("emg_hz")
        buses = "" if "sim" in self.ids else (f"SPI read {self.value('spi9_us')} us, "
                                             f"I2C word {self.value('i2c7_us')} us, ")
        figures = (f"busy {self.value('busy_pct')} %, worst loop pass {self.value('worst_pass_us')} us, "
                   f"{self.value('passes')} passes, {buses}{self.value('lost')} lost")
        if problems:
            return "FAILS: " + "; ".join(problems) + f" [{figures}]"
        what = "simulated front end" if "sim" in self.ids else "chips answer"
        return f"keeps up at {hz} Hz with {100 - self.value('busy_pct')} % headroom ({what}; {figures})"


def _hex(v: int | None) -> str:
    return "nothing" if v is None else f"0x{v:02x}"


def parse_line(text: str) -> SelftestResult:
    if not text.startswith("selftest "):
        raise ValueError("not a selftest line")
    fields = dict(part.split("=", 1) for part in text.split()[1:] if "=" in part)
    return SelftestResult(text, fields)


def run_selftest(source, seconds: float = 3.0, timeout_s: float | None = None) -> SelftestResult:
    """Run the self-test over an open byte source (``SerialSource``, ``VirtualBoard``)."""
    ms = int(round(seconds * 1000))
    dec = FrameDecoder()
    source.write(encode_command(Command.STOP, 0, seq=0))
    source.write(encode_command(Command.SELFTEST, ms, seq=1))
    deadline = time.monotonic() + (timeout_s if timeout_s is not None else seconds + 10.0)
    replied = False
    while time.monotonic() < deadline:
        t, data = source.read(0.2)
        for msg in dec.feed(data, t):
            if isinstance(msg, Reply) and msg.command == Command.SELFTEST:
                if msg.result == ReplyResult.UNKNOWN_COMMAND:
                    raise SelftestError("the firmware does not know SELFTEST: flash firmware >= 0.2.0")
                if msg.result == ReplyResult.BUSY:
                    raise SelftestError("the board is busy (streaming): try again")
                replied = True
            elif isinstance(msg, Text) and msg.text.startswith("selftest "):
                return parse_line(msg.text)
    if not replied:
        raise SelftestError("no answer from the board (wrong port or baud rate, or not twitchwatch firmware?)")
    raise SelftestError("the board answered but sent no result in time")
