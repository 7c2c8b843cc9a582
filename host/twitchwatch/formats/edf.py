"""EDF / EDF+ / BDF / BDF+ through pyedflib: a lazy reader and ``write_edf``."""

from __future__ import annotations

import datetime as _dt
import math
import os
import pathlib
import re
import tempfile
from collections.abc import Iterable, Sequence

import numpy as np
import pyedflib

from twitchwatch.formats.base import (
    ACC_STREAM,
    ACCEPTED_SIGNALS,
    EMG_STREAM,
    FormatError,
    RecordingFile,
    acc_axis,
    acc_factor,
    emg_factor,
    emg_label,
)

EDF_MAGIC = b"0       "
BDF_MAGIC = b"\xffBIOSEMI"
_TRIM_RE = re.compile(r"twitchwatch_n=(\d+)(?:_(\d+))?")
#: rows read ahead per stream (EDFRecording._read): 16 s at 2 kHz, 0.5 MB for 2 channels
READ_CHUNK = 1 << 15


#: edflib's room for the recording field's "additional" part while the equipment field
#: holds "twitchwatch", as write_edf set it before 2026-12-07 (see _count_from_header)
_OLD_TRIM_ROOM = 28


def _count_from_header(r: pyedflib.EdfReader, signal: int, stored: int, digits: str, maybe_cut: bool, what: str,
                       notes: list[str]) -> int:
    """How many of a signal's ``stored`` samples are real, from the count ``write_edf``
    wrote (``digits``; the rest of the last data records is its padding, each signal's
    last value repeated).

    Before 2026-12-07 write_edf also set the equipment field, and edflib then cut the
    recording field to 28 characters: the last count of a long file lost its last digits
    (an hour at 1 kHz: "3600000" read as "360000", nine tenths of the accelerometer
    dropped without a word). With ``maybe_cut`` (such a header, its tag 28 characters
    long) the count is the smallest of ``digits`` and the longer numbers starting with
    them (up to ``stored``) after which the stored samples are one repeated value, as the
    padding is; the choice is said in ``notes`` when it is not ``digits`` itself."""
    count = int(digits)
    if not maybe_cut or count >= stored:
        return min(count, stored)
    extra = len(str(stored)) - len(digits)
    cands = [count] + [n for k in range(1, extra + 1) for n in range(count * 10**k, (count + 1) * 10**k)
                       if n <= stored]
    for n in cands:
        if n >= stored:
            break
        head = r.readSignal(signal, max(0, n - 1), min(stored - n + 1, 4096), digital=True)
        if np.all(head == head[0]) and np.all(r.readSignal(signal, max(0, n - 1), stored - n + 1, digital=True) == head[0]):
            break
    else:
        n = stored
    n = min(n, stored)
    if n != count:
        notes.append(f"the header's {what} sample count ({digits}) was cut short by an older writer; "
                     f"read as {n} (the samples after that are the writer's padding)")
    return n


class _SizeMismatch:
    """A file whose size does not match its header: what it holds (``whole`` complete data
    records of ``record_bytes`` after ``header_bytes``) and what its header says."""

    def __init__(self, header_bytes: int, n_records: int, record_bytes: int, record_s: float, size: int) -> None:
        self.header_bytes, self.n_records, self.record_bytes = header_bytes, n_records, record_bytes
        self.record_s, self.size = record_s, size
        self.whole = min(n_records, max(0, (size - header_bytes) // record_bytes))
        self.dropped_bytes = size - header_bytes - self.whole * record_bytes

    def describe(self) -> str:
        if self.whole < self.n_records:
            return (f"truncated: its header promises {self.n_records} data records of {self.record_bytes} bytes "
                    f"({self.header_bytes + self.n_records * self.record_bytes} bytes in all), the file has "
                    f"{self.size} bytes ({self.whole} whole records)")
        return f"{self.dropped_bytes} bytes after the {self.n_records} data records its header declares"

    def note(self) -> str:
        """What reading the whole records leaves out, for ``RecordingFile.notes`` and
        ``RecordingFile.unread``."""
        if self.whole < self.n_records:
            cut = f"; the {self.dropped_bytes} bytes after them (part of a record) are not read" if self.dropped_bytes else ""
            return (f"the file is truncated: {self.whole} of the {self.n_records} data records its header "
                    f"declares are whole ({self.whole * self.record_s:g} of {self.n_records * self.record_s:g} s), "
                    f"and only those are read{cut}")
        return f"{self.dropped_bytes} bytes after the file's {self.n_records} data records are not read"


def _size_mismatch(path: pathlib.Path, head: bytes, sample_bytes: int) -> _SizeMismatch | None:
    """The file's size against its header (header bytes + data records x record bytes);
    None if they match or the header cannot say (pyedflib then judges). Checked before
    pyedflib opens the file: its C library prints its own size complaint on standard
    output, and refuses the file."""
    try:
        n_signals = int(head[252:256].decode("ascii").strip())
        header_bytes = int(head[184:192].decode("ascii").strip())
        n_records = int(head[236:244].decode("ascii").strip())
        record_s = float(head[244:252].decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return None
    if n_signals < 1 or n_records < 0 or header_bytes != 256 * (n_signals + 1):
        return None
    with open(path, "rb") as fh:
        fh.seek(256 + 216 * n_signals)
        field = fh.read(8 * n_signals)
    try:
        per_record = [int(field[8 * i : 8 * i + 8].decode("ascii").strip()) for i in range(n_signals)]
    except (UnicodeDecodeError, ValueError):
        return None
    record_bytes = sample_bytes * sum(per_record)
    size = path.stat().st_size
    if record_bytes <= 0 or size == header_bytes + n_records * record_bytes:
        return None
    return _SizeMismatch(header_bytes, n_records, record_bytes, record_s, size)


def _whole_records_copy(path: pathlib.Path, mm: _SizeMismatch) -> pathlib.Path:
    """A temporary copy of ``path`` holding only its whole data records, its header's record
    count set to match (what pyedflib will open). The caller deletes it."""
    fd, tmp = tempfile.mkstemp(prefix="twitchwatch-", suffix=path.suffix or ".edf")
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            header = bytearray(src.read(mm.header_bytes))
            header[236:244] = f"{mm.whole:<8d}".encode("ascii")
            out.write(header)
            left = mm.whole * mm.record_bytes
            while left:
                chunk = src.read(min(left, 1 << 20))
                if not chunk:
                    raise OSError("the file shrank while it was copied")
                out.write(chunk)
                left -= len(chunk)
    except BaseException:
        os.unlink(tmp)
        raise
    return pathlib.Path(tmp)


def _rates_equal(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def zone_name(tz: _dt.tzinfo | None) -> str:
    """The zone's name ("Europe/Berlin"; this machine's zone abbreviation when None)."""
    if tz is None:
        return f"this computer's zone, {_dt.datetime.now().astimezone().tzname()}"
    return str(getattr(tz, "key", None) or tz)


def edf_local_to_unix_s(start: _dt.datetime, tz: _dt.tzinfo | None = None) -> float:
    """Unix seconds of an EDF header's start (a naive local date-time) read in ``tz``
    (None: this machine's zone)."""
    naive = start.replace(tzinfo=None)
    return (naive.astimezone() if tz is None else naive.replace(tzinfo=tz)).timestamp()


def unix_s_to_edf_local(unix_s: float, tz: _dt.tzinfo | None = None) -> _dt.datetime:
    """The naive local date-time an EDF header holds for ``unix_s`` in ``tz`` (None: this
    machine's zone); the inverse of :func:`edf_local_to_unix_s`."""
    return _dt.datetime.fromtimestamp(unix_s, tz=tz).replace(tzinfo=None)


class EdfRecording(RecordingFile):
    """An EDF/BDF(+) file read lazily with pyedflib (``readSignal(ch, start, n)``)."""

    def __init__(self, path: pathlib.Path, emg_channels: Sequence[int | str] | None = None,
                 tz: _dt.tzinfo | None = None) -> None:
        self._emg_select = emg_channels
        self._tz = tz
        self._chunks: dict[int, tuple[int, np.ndarray]] = {}  # stream -> (first row, rows read ahead)
        with open(path, "rb") as fh:
            head = fh.read(256)
        fmt = "bdf" if head.startswith(BDF_MAGIC) else "edf"
        super().__init__(path, fmt)
        where = path.name
        kind = fmt.upper()
        if len(head) < 256:
            raise FormatError(f"{where}: truncated {kind} header ({len(head)} of at least 256 bytes); "
                              f"accepted: complete EDF/EDF+/BDF/BDF+ files")
        if head[192:197] == b"EDF+D" or head[192:197] == b"BDF+D":
            raise FormatError(f"{where}: discontinuous {kind}+D recordings are not supported; "
                              f"accepted: continuous EDF/EDF+C/BDF/BDF+C files")
        # a file cut off mid-write (or with bytes after its records): its whole records are
        # read from a temporary copy whose header says how many there are
        self._copy: pathlib.Path | None = None
        mismatch = _size_mismatch(path, head, 3 if fmt == "bdf" else 2)
        if mismatch is not None:
            if mismatch.whole == 0:
                raise FormatError(f"{where}: not a readable {kind} file ({mismatch.describe()}); accepted: "
                                  f"complete, standard-compliant EDF/EDF+/BDF/BDF+ files")
            try:
                self._copy = _whole_records_copy(path, mismatch)
            except OSError as e:
                raise FormatError(f"{where}: {mismatch.describe()}, and its whole records could not be copied "
                                  f"to a temporary file to read them ({e.strerror or e}); accepted: complete, "
                                  f"standard-compliant EDF/EDF+/BDF/BDF+ files") from None
        try:
            reader = pyedflib.EdfReader(os.fspath(self._copy or path))
        except OSError as e:
            detail = str(e).replace(os.fspath(self._copy or path), "").strip(" :.") or "unreadable"
            self._remove_copy()
            if "already been opened" in detail:
                raise FormatError(f"{where}: already open in this process (pyedflib opens a file once); "
                                  "accepted: close the other RecordingFile of it first") from None
            raise FormatError(f"{where}: not a readable {kind} file ({detail}); accepted: complete, "
                              f"standard-compliant EDF/EDF+/BDF/BDF+ files") from None
        self._reader = reader
        if self._copy is not None and os.name == "posix":
            # the reader holds the copy open; unlinked now, it goes when the reader closes,
            # even if this recording is never closed (elsewhere: deleted by close())
            self._remove_copy()
        try:
            self._setup(reader, where)
        except BaseException:
            reader.close()
            self._remove_copy()
            raise
        if mismatch is not None:
            self.unread = (mismatch.note(),)
            self.notes = self.notes + self.unread

    def _setup(self, r: pyedflib.EdfReader, where: str) -> None:
        n_sig = r.signals_in_file
        labels = [r.getLabel(i).strip() for i in range(n_sig)]
        freqs = [float(f) for f in r.getSampleFrequencies()]
        nsamp = [int(n) for n in r.getNSamples()]
        dims = [r.getPhysicalDimension(i).strip() for i in range(n_sig)]

        emg_idx = [i for i in range(n_sig) if emg_label(labels[i])]
        if not emg_idx:
            found = ", ".join(labels) if labels else "no signals"
            raise FormatError(f"{where}: no EMG signal found; {ACCEPTED_SIGNALS}; this file has: {found}")
        not_selected: list[str] = []
        if self._emg_select is not None:
            chosen: list[int] = []
            for sel in self._emg_select:
                hit = [i for k, i in enumerate(emg_idx) if (isinstance(sel, int) and k == sel)
                       or (isinstance(sel, str) and labels[i].lower() == sel.lower())]
                if not hit:
                    raise FormatError(f"{where}: EMG channel {sel!r} not found; EMG channels in this file: "
                                      + ", ".join(f"{k} = {labels[i]!r}" for k, i in enumerate(emg_idx)))
                chosen.extend(h for h in hit if h not in chosen)
            not_selected = [f"{labels[i]} (EMG channel not selected)" for i in emg_idx if i not in chosen]
            emg_idx = chosen
        rate = freqs[emg_idx[0]]
        if any(not _rates_equal(freqs[i], rate) for i in emg_idx):
            desc = ", ".join(f"{labels[i]} {freqs[i]:g} Hz" for i in emg_idx)
            raise FormatError(f"{where}: EMG signals have different sample rates ({desc}); "
                              "accepted: all EMG signals at one rate (accelerometer may differ)")
        if rate <= 0:
            raise FormatError(f"{where}: EMG sample rate is {rate:g} Hz; accepted: a positive rate")
        self._emg_factor = [emg_factor(dims[i], where, labels[i]) for i in emg_idx]
        self._emg_idx = emg_idx
        self.emg_rate_hz = rate
        self.emg_labels = tuple(labels[i] for i in emg_idx)
        n_emg = min(nsamp[i] for i in emg_idx)

        used = set(emg_idx) | {i for i in range(n_sig) if emg_label(labels[i])}
        ignored: list[str] = list(not_selected)
        axes: dict[int, int] = {}
        for i in range(n_sig):
            ax = acc_axis(labels[i])
            if ax is not None and i not in used:
                if ax in axes:
                    ignored.append(f"{labels[i]} (second accelerometer {'XYZ'[ax]} signal)")
                else:
                    axes[ax] = i
        n_acc = 0
        self._acc_idx: list[int] = []
        self._acc_factor: list[float] = []
        if axes:
            if len(axes) < 3:
                missing = ", ".join("XYZ"[a] for a in range(3) if a not in axes)
                ignored.extend(f"{labels[i]} (accelerometer axis {missing} missing)" for i in axes.values())
            else:
                idx = [axes[0], axes[1], axes[2]]
                arate = freqs[idx[0]]
                if any(not _rates_equal(freqs[i], arate) for i in idx):
                    desc = ", ".join(f"{labels[i]} {freqs[i]:g} Hz" for i in idx)
                    raise FormatError(f"{where}: accelerometer axes have different sample rates ({desc}); "
                                      "accepted: ACC X, Y and Z at one rate")
                self._acc_factor = [acc_factor(dims[i], where, labels[i]) for i in idx]
                self._acc_idx = idx
                self.acc_rate_hz = arate
                self.acc_labels = tuple(labels[i] for i in idx)
                n_acc = min(nsamp[i] for i in idx)
                used.update(idx)
        for i in range(n_sig):
            if i not in used and not any(s.startswith(labels[i] + " (") for s in ignored):
                ignored.append(labels[i])
        self.ignored_signals = tuple(ignored)

        # write_edf pads the last data record; it records the true lengths here
        trim_notes: list[str] = []
        m = _TRIM_RE.search(r.getRecordingAdditional() or "")
        if m:
            # an older write_edf's count may have lost its last digits (_count_from_header)
            cut = len(m.group(0)) >= _OLD_TRIM_ROOM and (r.getEquipment() or "").strip() == "twitchwatch"
            last_is_acc = m.group(2) is not None
            n_emg = _count_from_header(r, emg_idx[0], n_emg, m.group(1), cut and not last_is_acc, "EMG", trim_notes)
            if last_is_acc and self._acc_idx:
                n_acc = _count_from_header(r, self._acc_idx[0], n_acc, m.group(2), cut, "accelerometer", trim_notes)
        self._n_stored = {EMG_STREAM: n_emg, ACC_STREAM: n_acc}

        try:
            # EDF headers hold the local time of the recording, without a zone: read in ``tz``
            # (default: this machine's zone), as write_edf writes it
            start = r.getStartdatetime()
            self.start_unix_s = edf_local_to_unix_s(start, self._tz)
        except Exception:  # noqa: BLE001 - a bad date leaves the start unknown
            self.start_unix_s = None
        try:
            onsets, durations, texts = r.readAnnotations()
            self.annotations = tuple((float(o), float(d) if d is not None and d >= 0 else 0.0, str(t))
                                     for o, d, t in zip(onsets, durations, texts))
        except Exception:  # noqa: BLE001
            self.annotations = ()
        self.notes = (f"EDF start time has no time zone; it is read as local time ({zone_name(self._tz)}; "
                      "another with --tz)",) + tuple(trim_notes)
        self._finish()

    def _read(self, stream_id: int, start: int, n: int) -> np.ndarray:
        """Rows ``[start, start + n)`` of a stream (physical units), served from a chunk of
        ``READ_CHUNK`` rows read ahead: pyedflib costs ~30 µs per call and signal, which at
        0.5-s blocks was a tenth of a whole replay. The same values (each sample converted
        on its own), checked for finiteness per block as before."""
        if n >= READ_CHUNK:  # read_all, a long block: read as asked, nothing kept
            out = self._read_rows(stream_id, start, n)
        else:
            chunk = self._chunks.get(stream_id)
            if chunk is None or not (chunk[0] <= start and start + n <= chunk[0] + chunk[1].shape[0]):
                m = max(n, min(READ_CHUNK, self._n_stored[stream_id] - start))
                chunk = self._chunks[stream_id] = (start, self._read_rows(stream_id, start, m))
            a = start - chunk[0]
            out = chunk[1][a : a + n].copy()
        if n and not np.all(np.isfinite(out)):
            raise FormatError(f"{self.path.name}: non-finite values in samples {start}..{start + n - 1}; "
                              "accepted: finite numbers only")
        return out

    def _read_rows(self, stream_id: int, start: int, n: int) -> np.ndarray:
        idx, fac = ((self._emg_idx, self._emg_factor) if stream_id == EMG_STREAM
                    else (self._acc_idx, self._acc_factor))
        out = np.empty((n, len(idx)), dtype=np.float64)
        for j, (i, f) in enumerate(zip(idx, fac)):
            if n:
                out[:, j] = self._reader.readSignal(i, start, n) * f
        return out

    def _remove_copy(self) -> None:
        if self._copy is not None:
            self._copy.unlink(missing_ok=True)
            self._copy = None

    def close(self) -> None:
        if not self._closed:
            self._reader.close()
            self._remove_copy()
        super().close()


# ---------------------------------------------------------------- writing

def _edf_num(x: float, up: bool) -> float:
    """``x`` rounded outward (up or down) to a number that fits EDF's 8-character field."""
    for k in range(6, -1, -1):
        scaled = x * 10 ** k
        v = (math.ceil(scaled) if up else math.floor(scaled)) / 10 ** k
        if len(f"{v:.{k}f}") <= 8:
            return float(f"{v:.{k}f}")
    raise ValueError(f"value {x!r} cannot be written in an EDF header (8 characters)")


def _phys_range(data: np.ndarray) -> tuple[float, float]:
    if data.size == 0:
        return -1.0, 1.0
    lo, hi = float(np.min(data)), float(np.max(data))
    span = hi - lo
    pad = max(span * 0.05, abs(hi) * 0.01, abs(lo) * 0.01, 1e-3)
    return _edf_num(lo - pad, up=False), _edf_num(hi + pad, up=True)


def _record_duration(rates: Sequence[float]) -> float:
    """Largest record duration ≤ 1 s holding a whole number of samples of every signal."""
    for d in (1.0, 0.5, 0.25, 0.2, 0.125, 0.1, 0.05, 0.04, 0.025, 0.02, 0.01):
        if all(abs(r * d - round(r * d)) < 1e-6 and round(r * d) >= 1 for r in rates):
            return d
    raise ValueError(f"sample rates {list(rates)} give no whole number of samples per EDF data record "
                     "(≤ 1 s); use rates that are multiples of 100 Hz or of 1 Hz")


def write_edf(path: str | os.PathLike[str], emg_uv: np.ndarray, emg_rate_hz: float, *,
              emg_labels: Sequence[str] | None = None, acc_mg: np.ndarray | None = None,
              acc_rate_hz: float | None = None, start_unix_s: float | None = None,
              annotations: Iterable[tuple[float, float, str]] = (), bdf: bool = False,
              tz: _dt.tzinfo | None = None) -> None:
    """Write an EDF+ (or BDF+ with ``bdf=True``) file: EMG in uV, ACC X/Y/Z in mg.

    ``emg_uv``: (n,) or (n, ch) µV; ``acc_mg``: (m, 3) mg at ``acc_rate_hz``.
    Physical min/max come from the data with headroom; digital range is the full
    16 (EDF) or 24 (BDF) bits.  The last data record is padded with each signal's
    last value (EDF files hold whole records); the true sample counts are written
    to the header's recording field ("twitchwatch_n=<emg>_<acc>") and
    :func:`open_recording` trims the padding.  Annotations are ``(onset_s,
    duration_s, text)``.  ``start_unix_s`` goes into the header as local time in
    ``tz`` (None: this machine's zone), as EDF readers expect.  Raises ValueError for
    bad arguments.
    """
    emg = np.asarray(emg_uv, dtype=np.float64)
    if emg.ndim == 1:
        emg = emg[:, None]
    if emg.ndim != 2 or emg.shape[1] < 1:
        raise ValueError(f"emg_uv must be (n,) or (n, channels), got shape {emg.shape}")
    if emg.shape[0] < 1:
        raise ValueError("emg_uv has no samples")
    if not np.all(np.isfinite(emg)):
        raise ValueError("emg_uv contains NaN or infinite values")
    n_ch = emg.shape[1]
    labels = list(emg_labels) if emg_labels is not None else (
        ["EMG"] if n_ch == 1 else [f"EMG {i + 1}" for i in range(n_ch)])
    if len(labels) != n_ch:
        raise ValueError(f"{len(labels)} emg_labels for {n_ch} EMG channels")
    for lab in labels:
        if not emg_label(lab) or len(lab) > 16:
            raise ValueError(f"EMG label {lab!r} must start with 'EMG' and be at most 16 characters")
    acc = None
    if acc_mg is not None:
        acc = np.asarray(acc_mg, dtype=np.float64)
        if acc.ndim != 2 or acc.shape[1] != 3:
            raise ValueError(f"acc_mg must be (m, 3), got shape {acc.shape}")
        if acc_rate_hz is None:
            acc_rate_hz = emg_rate_hz
        if not np.all(np.isfinite(acc)):
            raise ValueError("acc_mg contains NaN or infinite values")
    rates = [float(emg_rate_hz)] + ([float(acc_rate_hz)] if acc is not None and acc_rate_hz else [])
    if any(not (r > 0) for r in rates):
        raise ValueError(f"sample rates must be positive, got {rates}")
    rec_s = _record_duration(rates)

    signals: list[np.ndarray] = [emg[:, j] for j in range(n_ch)]
    heads: list[dict[str, str | int | float | None]] = []
    dmin, dmax = (-8388608, 8388607) if bdf else (-32768, 32767)
    for j, lab in enumerate(labels):
        lo, hi = _phys_range(signals[j])
        heads.append({"label": lab, "dimension": "uV", "sample_frequency": float(emg_rate_hz),
                      "physical_min": lo, "physical_max": hi, "digital_min": dmin, "digital_max": dmax,
                      "transducer": "surface EMG", "prefilter": ""})
    spr = [int(round(emg_rate_hz * rec_s))] * n_ch
    if acc is not None:
        assert acc_rate_hz is not None
        for j, ax in enumerate("XYZ"):
            col = acc[:, j]
            signals.append(col)
            lo, hi = _phys_range(col)
            heads.append({"label": f"ACC {ax}", "dimension": "mg", "sample_frequency": float(acc_rate_hz),
                          "physical_min": lo, "physical_max": hi, "digital_min": dmin, "digital_max": dmax,
                          "transducer": "accelerometer", "prefilter": ""})
        spr += [int(round(acc_rate_hz * rec_s))] * 3
    n_records = max(math.ceil(len(s) / k) for s, k in zip(signals, spr))
    padded = []
    for s, k, h in zip(signals, spr, heads):
        want = n_records * k
        if len(s) < want:
            fill = s[-1] if len(s) else 0.0
            s = np.concatenate([s, np.full(want - len(s), fill)])
        # physical -> digital with rounding (edflib's own conversion truncates: up to 1 LSB off)
        lo, hi = float(h["physical_min"] or 0.0), float(h["physical_max"] or 0.0)
        dig = np.rint((s - lo) / (hi - lo) * (dmax - dmin) + dmin)
        padded.append(np.ascontiguousarray(np.clip(dig, dmin, dmax).astype(np.int32)))

    ftype = pyedflib.FILETYPE_BDFPLUS if bdf else pyedflib.FILETYPE_EDFPLUS
    w = pyedflib.EdfWriter(os.fspath(path), len(padded), file_type=ftype)
    try:
        if rec_s != 1.0:
            w.setDatarecordDuration(rec_s)
        w.setSignalHeaders(heads)
        trim = f"twitchwatch_n={emg.shape[0]}" + (f"_{acc.shape[0]}" if acc is not None else "")
        # no equipment field: edflib shares the recording field's room between the two and
        # cut the count of a long file to 28 characters ("twitchwatch_n=7200000_360000" for
        # an hour at 1 kHz: _true_count); alone it holds 39, counts of 12 digits each
        w.setRecordingAdditional(trim)
        if start_unix_s is not None:
            w.setStartdatetime(unix_s_to_edf_local(start_unix_s, tz))
        for onset, dur, text in annotations:
            w.writeAnnotation(float(onset), float(dur) if dur else -1, str(text))
        w.writeSamples(padded, digital=True)
    finally:
        w.close()
