"""RecordingFile: the common face of every recording format.

A reader subclass fills in the metadata and provides ``_read(stream_id, start, n)``
(stored rows ``start .. start+n`` of one stream, already converted to µV / mg).
Everything else (blocks, gaps, the synthesized HELLO) lives here, once.
"""

from __future__ import annotations

import math
import pathlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from twitchwatch import TwitchwatchError
from twitchwatch.protocol.messages import ACC_KINDS, ChannelInfo, ChannelKind, Hello, SampleFormat, StreamInfo
from twitchwatch.units import ACC_UNITS, EMG_UNITS, unit_key

EMG_STREAM = 0
ACC_STREAM = 1

#: What the readers recognise, for error messages (one place, so messages agree).
ACCEPTED_SIGNALS = ("signals are recognised by label: 'EMG…' in uV/mV/V, "
                    "'ACC X'/'ACC Y'/'ACC Z' (also 'AccX', 'Accel X', 'Accel Channel 0/1/2') "
                    "in g/mg/m/s^2")


class FormatError(TwitchwatchError):
    """A recording file that cannot be read: the message is one sentence naming the
    file, what is wrong and what is accepted."""


# ---------------------------------------------------------------- labels and units

_EMG_RE = re.compile(r"^\s*emg", re.IGNORECASE)
_ACC_RE = re.compile(
    r"^\s*(?:acc|accel|accelerometer|acceleration)[\s_\-.]*(?:channel[\s_\-]*)?([xyz012])\s*$",
    re.IGNORECASE)
_AXIS = {"x": 0, "y": 1, "z": 2, "0": 0, "1": 1, "2": 2}

def emg_label(label: str) -> bool:
    """True if ``label`` names an EMG signal ('EMG…', case-insensitive)."""
    return bool(_EMG_RE.match(label))


def acc_axis(label: str) -> int | None:
    """0/1/2 for an accelerometer X/Y/Z label ('ACC X', 'AccX', 'Accel Channel 0'…), else None."""
    m = _ACC_RE.match(label)
    return _AXIS[m.group(1).lower()] if m else None


def emg_factor(unit: str, where: str, label: str) -> float:
    """Factor from ``unit`` to µV; FormatError naming the unit if unknown."""
    f = EMG_UNITS.get(unit_key(unit))
    if f is None:
        shown = repr(unit.strip()) if unit.strip() else "no unit"
        raise FormatError(f"{where}: EMG signal {label!r} has unit {shown}; EMG units accepted: "
                          "uV (µV), mV, V")
    return f


def acc_factor(unit: str, where: str, label: str) -> float:
    """Factor from ``unit`` to mg; FormatError naming the unit if unknown."""
    f = ACC_UNITS.get(unit_key(unit))
    if f is None:
        shown = repr(unit.strip()) if unit.strip() else "no unit"
        raise FormatError(f"{where}: accelerometer signal {label!r} has unit {shown}; "
                          "accelerometer units accepted: g, mg, m/s^2 (m/s2)")
    return f


def rate_mhz(rate_hz: float) -> int:
    return int(round(rate_hz * 1000.0))


def synth_hello(name: str, emg_rate_hz: float, emg_labels: Sequence[str], acc_rate_hz: float | None,
                acc_labels: Sequence[str] = ("ACC X", "ACC Y", "ACC Z"), block_s: float = 0.5) -> Hello:
    """The HELLO a device would send for this file: stream 0 = EMG in µV (kind 1),
    stream 1 = ACC X/Y/Z in mg (kinds 2, 3, 4) if present; scale 1.0 (samples are
    already physical floats); ``samples_per_frame`` = samples per default block."""
    streams = [StreamInfo(
        stream_id=EMG_STREAM, sample_rate_hz=rate_mhz(emg_rate_hz) / 1000.0,
        sample_format=int(SampleFormat.INT24),
        samples_per_frame=max(1, int(round(emg_rate_hz * block_s))),
        channels=tuple(ChannelInfo(int(ChannelKind.EMG), lab, "uV", 1.0) for lab in emg_labels),
        sample_rate_mhz=rate_mhz(emg_rate_hz))]
    if acc_rate_hz is not None:
        streams.append(StreamInfo(
            stream_id=ACC_STREAM, sample_rate_hz=rate_mhz(acc_rate_hz) / 1000.0,
            sample_format=int(SampleFormat.INT16),
            samples_per_frame=max(1, int(round(acc_rate_hz * block_s))),
            channels=tuple(ChannelInfo(int(k), lab, "mg", 1.0) for k, lab in zip(ACC_KINDS, acc_labels)),
            sample_rate_mhz=rate_mhz(acc_rate_hz)))
    return Hello(boot_id=0, device_id=f"file:{name}", firmware_version="file", streams=tuple(streams))


# ---------------------------------------------------------------- the file object

class RecordingFile:
    """An opened recording: metadata plus lazy, block-wise access to the samples.

    Sample indices given by :meth:`iter_blocks` and in :attr:`gaps` are on the
    recording's sample clock: when rows are known to be missing (an OpenBCI
    'Sample Index' jump, a jump in a CSV time column) the index skips them, as a
    live stream's ``first_sample_index`` skips a :class:`~twitchwatch.protocol.Gap`.
    Missing samples are never filled in.  :meth:`read_all` returns the stored rows.
    """

    path: pathlib.Path
    format: str
    emg_rate_hz: float
    emg_labels: tuple[str, ...]
    acc_rate_hz: float | None
    acc_labels: tuple[str, ...]
    start_unix_s: float | None
    duration_s: float
    ignored_signals: tuple[str, ...]
    #: rows dropped while parsing (text formats); 0 for EDF/BDF
    skipped_rows: int
    #: what the file holds but is not read, one phrase each (e.g. an EDF cut off mid-record:
    #: its last partial data record); shown at the end of a replay as well as in the notes
    unread: tuple[str, ...]
    #: (first missing sample index, n_missing) on the EMG sample clock
    gaps: tuple[tuple[int, int], ...]
    #: EDF+ annotations (onset_s, duration_s, text); empty for text formats
    annotations: tuple[tuple[float, float, str], ...]
    #: human-readable notes about quirks handled while reading (shown to the user)
    notes: tuple[str, ...]
    hello: Hello

    def __init__(self, path: pathlib.Path, fmt: str) -> None:
        self.path = path
        self.format = fmt
        self.acc_rate_hz = None
        self.acc_labels = ()
        self.start_unix_s = None
        self.ignored_signals = ()
        self.skipped_rows = 0
        self.unread = ()
        self.gaps = ()
        self.annotations = ()
        self.notes = ()
        self._n_stored: dict[int, int] = {}
        # per stream: sorted list of (stored_row, n_missing_before_that_row)
        self._gap_rows: dict[int, list[tuple[int, int]]] = {EMG_STREAM: [], ACC_STREAM: []}
        self._closed = False

    # -- to be provided by readers
    def _read(self, stream_id: int, start: int, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # -- set-up helpers for readers
    def _finish(self) -> None:
        """Compute duration, gaps and hello once metadata and stored counts are set.
        Raises :class:`FormatError` for a rate or channel count the pipeline does not
        support (:mod:`twitchwatch.limits`), before any sample is read."""
        from twitchwatch.limits import UnsupportedSource, check_channels, check_rate

        where = self.path.name
        try:
            check_rate(self.emg_rate_hz, "EMG", where, emg=True)
            check_channels(len(self.emg_labels), "EMG", where)
            if self.acc_rate_hz is not None:
                check_rate(self.acc_rate_hz, "accelerometer", where, emg=False)
        except UnsupportedSource as exc:
            raise FormatError(str(exc)) from None
        missing = sum(n for _, n in self._gap_rows[EMG_STREAM])
        self.duration_s = (self._n_stored[EMG_STREAM] + missing) / self.emg_rate_hz
        gaps = []
        shift = 0
        for row, n in self._gap_rows[EMG_STREAM]:
            gaps.append((row + shift, n))
            shift += n
        self.gaps = tuple(gaps)
        self.hello = synth_hello(self.path.name, self.emg_rate_hz, self.emg_labels, self.acc_rate_hz,
                                 self.acc_labels or ("ACC X", "ACC Y", "ACC Z"))

    # -- public
    @property
    def n_emg_samples(self) -> int:
        """Stored EMG samples (rows), not counting gaps."""
        return self._n_stored[EMG_STREAM]

    @property
    def n_acc_samples(self) -> int:
        return self._n_stored.get(ACC_STREAM, 0) if self.acc_rate_hz is not None else 0

    def _segments(self, stream_id: int) -> list[tuple[int, int, int]]:
        """(stored_start, stored_end, clock_index_of_start) runs without gaps."""
        n = self._n_stored[stream_id]
        segs = []
        start = 0
        shift = 0
        for row, miss in self._gap_rows.get(stream_id, []):
            if row > start:
                segs.append((start, row, start + shift))
            shift += miss
            start = row
        if n > start:
            segs.append((start, n, start + shift))
        return segs

    def _stream_blocks(self, stream_id: int, rate: float, block_s: float) -> Iterator[tuple[float, int, int, int]]:
        """(start time s, clock index, stored start, n) per block of a stream."""
        size = max(1, int(round(block_s * rate)))
        for s0, s1, c0 in self._segments(stream_id):
            i = s0
            while i < s1:
                n = min(size, s1 - i)
                clock = c0 + (i - s0)
                yield (clock / rate, clock, i, n)
                i += n

    def iter_blocks(self, block_s: float = 0.5) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(stream_id, first_sample_index, samples)``: float64 (n, n_channels),
        µV for EMG (stream 0) / mg for ACC (stream 1), in time order of block start
        (EMG first on ties), every stored sample exactly once.  Blocks never span a
        gap.  Reads lazily."""
        if not block_s > 0 or not math.isfinite(block_s):
            raise ValueError(f"block_s must be a positive number of seconds, not {block_s!r}")
        self._check_open()
        emg = self._stream_blocks(EMG_STREAM, self.emg_rate_hz, block_s)
        acc = (self._stream_blocks(ACC_STREAM, self.acc_rate_hz, block_s)
               if self.acc_rate_hz is not None and self.n_acc_samples else iter(()))
        ne = next(emg, None)
        na = next(acc, None)
        while ne is not None or na is not None:
            if na is None or (ne is not None and ne[0] <= na[0]):
                assert ne is not None
                yield EMG_STREAM, ne[1], self._read(EMG_STREAM, ne[2], ne[3])
                ne = next(emg, None)
            else:
                yield ACC_STREAM, na[1], self._read(ACC_STREAM, na[2], na[3])
                na = next(acc, None)

    def read_all(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(emg_uv (n, ch), acc_mg (m, 3) or None): every stored row, gaps not filled."""
        self._check_open()
        emg = self._read(EMG_STREAM, 0, self._n_stored[EMG_STREAM])
        acc = self._read(ACC_STREAM, 0, self._n_stored[ACC_STREAM]) if self.acc_rate_hz is not None else None
        return emg, acc

    def describe(self) -> str:
        """A few lines for the user: format, signals, rates, what was ignored or skipped."""
        lines = [f"{self.path.name}: {self.format}, {self.duration_s:.1f} s, "
                 f"EMG {len(self.emg_labels)} ch at {self.emg_rate_hz:g} Hz ({', '.join(self.emg_labels)})"]
        lines.append(f"  accelerometer at {self.acc_rate_hz:g} Hz" if self.acc_rate_hz is not None
                     else "  no accelerometer")
        if self.ignored_signals:
            lines.append(f"  ignored: {', '.join(self.ignored_signals)}")
        if self.skipped_rows:
            lines.append(f"  skipped {self.skipped_rows} malformed row(s)")
        if self.gaps:
            lines.append(f"  {len(self.gaps)} gap(s), {sum(n for _, n in self.gaps)} sample(s) missing")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path.name}: recording is closed")

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> RecordingFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<RecordingFile {self.path.name} {self.format} emg={len(self.emg_labels)}ch@{self.emg_rate_hz:g}Hz "
                f"acc={'none' if self.acc_rate_hz is None else f'{self.acc_rate_hz:g}Hz'} {self.duration_s:.2f}s>")
