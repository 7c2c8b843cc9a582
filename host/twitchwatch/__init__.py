"""twitchwatch: watch a muscle for twitches (fasciculations).

The host side of twitchwatch: decodes the device's wire protocol
(``docs/protocol.md``), detects twitches, logs them to SQLite and replays captures.
Not a diagnostic device.
"""

__version__ = "0.1.0"


class TwitchwatchError(Exception):
    """Root of every error twitchwatch raises on purpose; the CLI prints it as one line."""
