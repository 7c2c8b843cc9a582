"""The host's side of the link handshake: when to ask a device for HELLO and START.

One job, its state explicit (:class:`LinkHandshake`): a run reads the device's frames
(:mod:`twitchwatch.protocol`) and tells the handshake what it saw; the handshake sends
the commands the protocol asks of the host (docs/protocol.md):

- until a HELLO has come, HELLO is asked for every ``hello_wait_s`` (a device that was
  already streaming when the port opened announced itself long ago);
- after a HELLO, or a device reset (its new HELLO), with no DATA since, START is sent
  once ``start_wait_s`` has passed, and again every ``start_wait_s`` while none comes (real
  firmware waits for START; the simulator streams by itself, so DATA comes first);
- a sequence restart the decoder saw (a reset whose HELLO was lost) asks for HELLO at once.

Commands carry their own sequence number. A source that takes no commands (a replayed
capture) refuses them; that is not an error. Times are the host's monotonic clock (s).
"""

from __future__ import annotations

import time
from typing import Callable

from twitchwatch import TwitchwatchError
from twitchwatch.protocol import Command, encode_command

HELLO_WAIT_S = 1.0  #: without a HELLO, how often it is asked for (s)
#: a device that announced itself (HELLO) and sent no DATA for this long is sent START (s)
START_WAIT_S = 1.0


class LinkHandshake:
    """When to send HELLO and START; see the module docstring.

    Args:
        write: writes bytes to the device (a :class:`~twitchwatch.transports.ByteSource`'s
            ``write``); :class:`TwitchwatchError` or :class:`OSError` from it means the
            source takes no commands, and is ignored.
        clock: the host's monotonic clock in s (tests pass their own).
    """

    def __init__(self, write: Callable[[bytes], object], *, clock: Callable[[], float] = time.monotonic,
                 hello_wait_s: float = HELLO_WAIT_S, start_wait_s: float = START_WAIT_S) -> None:
        self._write = write
        self._clock = clock
        self.hello_wait_s = float(hello_wait_s)
        self.start_wait_s = float(start_wait_s)
        self.has_hello = False  #: a HELLO (or a reset's) has come
        #: host time of the last HELLO (or reset) with no DATA since; None once data flows
        self.no_data_since_s: float | None = None
        self._asked_hello_s = clock()
        self.cmd_seq = 0  #: the next command's sequence number
        self.sent: dict[Command, int] = {}  #: commands sent, by command

    def send(self, command: Command, arg: int = 0) -> None:
        """Send one command; a source that takes none refuses it silently."""
        try:
            self._write(encode_command(command, arg, self.cmd_seq))
            self.cmd_seq = (self.cmd_seq + 1) & 0xFFFFFFFF
            self.sent[command] = self.sent.get(command, 0) + 1
        except (TwitchwatchError, OSError):
            pass  # read-only sources (replay) cannot take commands

    def hello_seen(self) -> None:
        """A HELLO came: DATA should follow at once if the device streams."""
        self.has_hello = True
        self.no_data_since_s = self._clock()

    def reset_seen(self) -> None:
        """A device reset (with its new HELLO): it waits for START again."""
        self.hello_seen()

    def data_seen(self) -> None:
        """DATA came: the device streams."""
        self.no_data_since_s = None

    def seq_restarted(self) -> None:
        """The decoder saw the frame counter start again without a HELLO: ask for it."""
        self.send(Command.HELLO)

    def tick(self) -> None:
        """Called after every read: send what is due."""
        now = self._clock()
        if not self.has_hello and now - self._asked_hello_s > self.hello_wait_s:
            self._asked_hello_s = now
            self.send(Command.HELLO)
        if self.no_data_since_s is not None and now - self.no_data_since_s > self.start_wait_s:
            self.no_data_since_s = now  # ask again later if still nothing comes
            self.send(Command.START)
