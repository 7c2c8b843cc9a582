"""The one interface every byte link implements: :class:`ByteSource`."""

from __future__ import annotations

import abc
import time
from types import TracebackType

from .. import TwitchwatchError


class TransportError(TwitchwatchError):
    """A link could not be opened or used."""


class TransportClosed(TransportError):
    """The link went away (cable unplugged, pty closed, process exited, end of a
    capture) or was closed; the message says which.  Nothing more will be read."""


def host_time_s() -> float:
    """The host clock every transport stamps chunks with: ``time.monotonic()`` s."""
    return time.monotonic()


class ByteSource(abc.ABC):
    """A source of raw received bytes, stamped with the host receive time.

    Use as a context manager (``close()`` on exit).  Every blocking call has a
    timeout; when the link goes away, :meth:`read` raises :class:`TransportClosed`
    instead of blocking or returning empty chunks forever.
    """

    @abc.abstractmethod
    def read(self, timeout_s: float) -> tuple[float, bytes]:
        """Wait up to ``timeout_s`` seconds for bytes.

        Returns:
            ``(host_time_s, chunk)``: the receive time (``time.monotonic`` s, or the
            recorded time for a replay) and the bytes received, ``b""`` on timeout.

        Raises:
            TransportClosed: the link went away or was closed.
        """

    def start_read_ahead(self) -> None:
        """Read the link in a thread of its own from now on, so bytes leave the
        operating system's small buffer as they come, whatever the caller is busy with
        (:class:`~twitchwatch.transports.readahead.ReadAhead`; a live run asks this).
        Default: nothing (a file, or a link that already reads in a thread: BLE)."""

    def write(self, data: bytes) -> None:
        """Send bytes to the device (commands).

        Raises:
            TransportError: the link cannot send.
            TransportClosed: the link went away or was closed.
        """
        raise TransportError(f"{self.describe()} cannot send")

    @abc.abstractmethod
    def close(self) -> None:
        """Release the link; idempotent."""

    @property
    @abc.abstractmethod
    def closed(self) -> bool:
        """True once :meth:`close` was called or the link went away."""

    def describe(self) -> str:
        """One line naming the link, for messages and logs."""
        return type(self).__name__

    def link_status(self) -> dict | None:
        """A wireless link's state, signal and dropouts (BLE), or None (wired links, files)."""
        return None

    def describe_link(self) -> str | None:
        """One line on the link's state for the status line and dashboard, or None."""
        return None

    def wall_clock_offset_s(self) -> float:
        """Unix time minus the host clock of this source's ``host_time_s`` (s).

        ``host_time_s + wall_clock_offset_s()`` is the unix time a chunk arrived.
        Live links use this machine's clocks now; a replay uses the ones recorded
        in the capture, so replayed events get the wall times of the recording.
        """
        return time.time() - host_time_s()

    #: whose clock dates this source's samples (for the run's summary)
    clock_name = "this computer's clock"

    def damage(self) -> dict[str, int]:
        """What the source itself dropped or repaired before the decoder saw it, by kind
        (e.g. a capture's damaged bytes skipped); empty for a live link."""
        return {}

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
