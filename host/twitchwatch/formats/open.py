"""open_recording: pick the reader by content (magic bytes, first lines), not by name."""

from __future__ import annotations

import datetime

import os
import pathlib
from collections.abc import Sequence

from twitchwatch.formats.base import FormatError, RecordingFile
from twitchwatch.formats.edf import BDF_MAGIC, EDF_MAGIC, EdfRecording
from twitchwatch.formats.text import open_text

ACCEPTED_FORMATS = ("accepted: EDF/EDF+/BDF/BDF+, OpenBCI GUI CSV (OpenBCI-RAW-*.txt), "
                    "BrainFlow CSV (DataFilter.write_file, with --board), "
                    "or a CSV with a header row naming 'EMG…' columns")


def open_recording(path: str | os.PathLike[str], *, board: int | str | None = None,
                   rate_hz: float | None = None,
                   emg_channels: Sequence[int | str] | None = None,
                   tz: datetime.tzinfo | None = None) -> RecordingFile:
    """Open a recording file; the format is detected from its content.

    ``board``: BrainFlow board id or name (e.g. 0 / "cyton") for BrainFlow CSV files,
    which carry no header; without it the column count must identify the board.
    ``rate_hz``: sample rate for a generic CSV that has neither a ``time_s`` column
    nor a rate comment line.  ``emg_channels``: use only these EMG channels (0-based
    positions among the recognised EMG signals, or labels); the rest are listed in
    ``ignored_signals``.  ``tz``: the zone an EDF/BDF header's start time is in (None:
    this machine's zone).  Raises :class:`FormatError` (one sentence) for every
    file that cannot be read.
    """
    p = pathlib.Path(path)
    name = p.name
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except IsADirectoryError:
        raise FormatError(f"{name}: is a directory, not a recording file; {ACCEPTED_FORMATS}") from None
    except FileNotFoundError:
        raise FormatError(f"{name}: no such file; {ACCEPTED_FORMATS}") from None
    except OSError as e:
        raise FormatError(f"{name}: cannot be read ({e.strerror or e}); {ACCEPTED_FORMATS}") from None
    if not head:
        raise FormatError(f"{name}: the file is empty; {ACCEPTED_FORMATS}")
    if head.startswith(EDF_MAGIC) or head.startswith(BDF_MAGIC):
        return EdfRecording(p, emg_channels=emg_channels, tz=tz)
    return open_text(p, head, board=board, rate_hz=rate_hz, emg_channels=emg_channels)
