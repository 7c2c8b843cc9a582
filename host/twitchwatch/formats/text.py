"""Text formats (placeholder until the CSV readers land)."""

from __future__ import annotations

import pathlib

from twitchwatch.formats.base import FormatError, RecordingFile


def open_text(path: pathlib.Path, head: bytes, *, board: int | str | None = None,
              rate_hz: float | None = None) -> RecordingFile:
    raise FormatError(f"{path.name}: not an EDF/BDF file and CSV reading is not implemented yet; "
                      "accepted: EDF/EDF+/BDF/BDF+")
