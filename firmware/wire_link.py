"""A serial link on byte streams: frames out, COMMAND frames in, without blocking.

``StreamLink`` wraps an output stream (``write``) and an optional input stream that
``select.poll`` can watch (a pty fd on the Unix port, ``sys.stdin.buffer`` or a UART on
the ESP32). Incoming bytes are read one at a time only while ``poll`` says they are
there (MicroPython's ``readinto`` on a blocking stream waits to fill the whole buffer).
"""

import select

import wire_frames


class LinkClosed(Exception):
    """The other side went away (EOF, hang-up or a write error)."""


class StreamLink:
    def __init__(self, out_stream, in_stream=None) -> None:
        self.out = out_stream
        self.inp = in_stream
        self.parser = wire_frames.CommandParser()
        self._one = bytearray(1)
        self._poll = None
        if in_stream is not None:
            self._poll = select.poll()
            self._poll.register(in_stream, select.POLLIN)

    def send(self, data) -> None:
        try:
            self.out.write(data)
        except OSError as e:
            raise LinkClosed(str(e)) from e

    def send_delimiter(self) -> None:
        self.send(b"\x00")

    def poll_commands(self, handler, max_bytes: int = 64) -> int:
        """Read up to ``max_bytes`` waiting bytes; call ``handler(command, arg)`` per
        valid COMMAND. Returns the number of commands handled."""
        p = self._poll
        if p is None:
            return 0
        handled = 0
        one = self._one
        parser = self.parser
        while max_bytes > 0:
            ready = p.poll(0)
            if not ready:
                break
            ev = ready[0][1]
            if not ev & select.POLLIN:
                if ev & (select.POLLHUP | select.POLLERR):
                    raise LinkClosed("hang-up")
                break
            try:
                got = self.inp.readinto(one)
            except OSError as e:
                raise LinkClosed(str(e)) from e
            if not got:
                raise LinkClosed("end of input")
            max_bytes -= 1
            if parser.feed(one[0]):
                handler(parser.command, parser.arg)
                handled += 1
        return handled
