"""Text recordings: OpenBCI GUI v5 CSV, BrainFlow ``DataFilter.write_file`` CSV and a
simple generic CSV with a header row.  Text files are parsed whole at open (they
must be parsed to be read at all); blocks are then slices of the parsed arrays."""

from __future__ import annotations

import json
import math
import pathlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
from twitchwatch.units import ACC_UNITS, EMG_UNITS

ACCEPTED_TEXT = ("accepted text formats: OpenBCI GUI v5 CSV ('%' header lines, then a 'Sample Index, "
                 "EXG Channel 0, …' row), BrainFlow DataFilter.write_file CSV (tab-separated, no header; "
                 "board from --board or the column count), or a CSV whose header row names 'EMG…' columns")


class ArrayRecording(RecordingFile):
    """A recording held in memory: EMG (n, ch) µV and ACC (n, 3) mg arrays."""

    def __init__(self, path: pathlib.Path, fmt: str, emg: np.ndarray, acc: np.ndarray | None) -> None:
        super().__init__(path, fmt)
        self._emg = np.ascontiguousarray(emg, dtype=np.float64)
        self._acc = None if acc is None else np.ascontiguousarray(acc, dtype=np.float64)
        self._n_stored = {EMG_STREAM: len(self._emg), ACC_STREAM: 0 if acc is None else len(acc)}

    def _read(self, stream_id: int, start: int, n: int) -> np.ndarray:
        src = self._emg if stream_id == EMG_STREAM else self._acc
        assert src is not None
        return src[start:start + n].copy()


# ---------------------------------------------------------------- low-level parsing

@dataclass
class _Rows:
    values: np.ndarray        # (n, k) float64, the requested columns
    line_no: np.ndarray       # (n,) 1-based line numbers
    bad_lines: list[int]      # lines skipped (wrong field count or not a number)
    first_bad: str            # description of the first bad line


def _parse_rows(lines: Sequence[str], first_line_no: int, delim: str | None, n_fields: int | None,
                cols: Sequence[int], col_names: Sequence[str]) -> _Rows:
    out: list[list[float]] = []
    nums: list[int] = []
    bad: list[int] = []
    first_bad = ""
    for k, line in enumerate(lines):
        ln = first_line_no + k
        s = line.strip()
        if not s:
            continue
        parts = s.split(delim) if delim is not None else s.split()
        if n_fields is not None and len(parts) != n_fields:
            bad.append(ln)
            if not first_bad:
                first_bad = f"line {ln} has {len(parts)} fields, the header has {n_fields}"
            continue
        try:
            out.append([float(parts[c]) for c in cols])
        except (ValueError, IndexError):
            bad.append(ln)
            if not first_bad:
                for c, name in zip(cols, col_names):
                    try:
                        float(parts[c])
                    except ValueError:
                        first_bad = f"line {ln}: {parts[c].strip()[:20]!r} in column {name!r} is not a number"
                        break
                    except IndexError:
                        first_bad = f"line {ln} is too short"
                        break
            continue
        nums.append(ln)
    vals = np.array(out, dtype=np.float64).reshape(len(out), len(cols))
    return _Rows(vals, np.array(nums, dtype=np.int64), bad, first_bad)


def _check_finite(where: str, rows: _Rows, names: Sequence[str]) -> None:
    ok = np.isfinite(rows.values)
    if not ok.all():
        r, c = np.argwhere(~ok)[0]
        raise FormatError(f"{where}: line {rows.line_no[r]} has {rows.values[r, c]!r} in column {names[c]!r}; "
                          "accepted: finite numbers only (NaN/inf samples cannot be placed in time)")


def _index_gaps(idx: np.ndarray, times: np.ndarray | None, rate: float) -> tuple[list[tuple[int, int]], int]:
    """Gaps from a wrapping sample counter (OpenBCI 'Sample Index', BrainFlow package
    number): [(stored_row, n_missing_before_it)], and the counter modulus used.

    The modulus is (largest value seen + 1), the step the most common increment.
    Where host timestamps exist and a jump spans more than one counter period,
    whole periods are added from the timestamps."""
    if len(idx) < 2:
        return [], 0
    iv = np.rint(idx).astype(np.int64)
    mod = int(iv.max()) + 1
    d = np.diff(iv) % mod
    pos = d[d > 0]
    step = int(np.bincount(pos).argmax()) if len(pos) else 1
    gaps: list[tuple[int, int]] = []
    for i in np.nonzero(d != step)[0]:
        di = int(d[i])
        n_missing = (di // step - 1) if di % step == 0 and di > 0 else max(0, int(math.ceil(di / step)) - 1)
        if di == 0:
            n_missing = mod // step - 1  # the counter came round exactly: a full period lost
        if times is not None and np.isfinite(times[i]) and np.isfinite(times[i + 1]):
            span = (times[i + 1] - times[i]) * rate
            period = mod // step
            if span > period:
                n_missing += period * int(round((span - 1 - n_missing) / period))
        if n_missing > 0:
            gaps.append((int(i) + 1, n_missing))
    return gaps, mod


def _time_gaps(t: np.ndarray, rate: float, where: str, line_no: np.ndarray) -> list[tuple[int, int]]:
    if len(t) < 2:
        return []
    d = np.diff(t) * rate
    back = np.nonzero(d <= 0)[0]
    if len(back):
        i = int(back[0])
        raise FormatError(f"{where}: the time column does not increase at line {line_no[i + 1]} "
                          f"({t[i]!r} then {t[i + 1]!r}); accepted: strictly increasing time_s")
    return [(int(i) + 1, int(round(d[i])) - 1) for i in np.nonzero(d > 1.5)[0] if int(round(d[i])) > 1]


def _estimate_rate(t: np.ndarray) -> float:
    """Sample rate from a time column (robust to rounding and jumps); whole Hz when close."""
    d = np.diff(t)
    med = float(np.median(d))
    if not med > 0:
        return 0.0
    normal = d[(d > 0) & (d < 1.5 * med)]
    dt = float(normal.mean()) if len(normal) else med
    rate = 1.0 / dt
    r = round(rate)
    return float(r) if r > 0 and abs(rate - r) / r < 0.005 else rate


_RATE_RE = re.compile(r"(?:sampl(?:e|ing)[ _]?(?:rate|frequency)|\bfs\b)[ _]?(?:\(?hz\)?)?\s*[:=]*\s*"
                      r"([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)


# ---------------------------------------------------------------- column names

_SPLIT_RE = re.compile(r"[\s_\[\]()]+")
_BRACKET_RE = re.compile(r"[\[(]\s*([^\])]*)\s*[\])]\s*$")
_RAW_UNITS = {"adc", "raw", "counts", "count", "au", "a.u.", "lsb", "digital"}
_TIME_NAMES = {"time_s": 1.0, "time": 1.0, "t": 1.0, "time (s)": 1.0, "time[s]": 1.0, "time [s]": 1.0,
               "t_s": 1.0, "seconds": 1.0, "time_ms": 1e-3, "time (ms)": 1e-3, "t_ms": 1e-3}


def _split_unit(name: str) -> tuple[str, str | None, bool]:
    """(base name, unit or None, unit was explicit in brackets)."""
    m = _BRACKET_RE.search(name)
    if m:
        return name[:m.start()].strip(), m.group(1).strip(), True
    toks = [t for t in _SPLIT_RE.split(name.strip()) if t]
    unit = None
    keep: list[str] = []
    for t in toks:
        key = t.lower()
        if unit is None and len(keep) >= 1 and (key in EMG_UNITS or key in ACC_UNITS or key in _RAW_UNITS):
            unit = t
        else:
            keep.append(t)
    return " ".join(keep), unit, False


@dataclass
class _Columns:
    emg: list[int]
    emg_names: list[str]
    emg_factor: list[float]
    acc: list[int]            # X, Y, Z column indices (empty if none)
    acc_names: list[str]
    acc_factor: list[float]
    ignored: list[str]


def _classify(where: str, names: Sequence[str], skip: set[int], emg_default: float = 1.0,
              acc_default: float = 1.0, emg_channels: Sequence[int | str] | None = None,
              force_emg: frozenset[int] = frozenset()) -> _Columns:
    emg: list[tuple[int, str, float]] = []
    axes: dict[int, tuple[int, str, float]] = {}
    ignored: list[str] = []
    for i, name in enumerate(names):
        if i in skip:
            continue
        base, unit, explicit = _split_unit(name)
        if i in force_emg or emg_label(base) or emg_label(name):
            if unit is not None and unit.lower() in _RAW_UNITS:
                raise FormatError(f"{where}: EMG column {name!r} is in {unit!r} (raw converter counts), which "
                                  "cannot be converted; EMG units accepted: uV (µV), mV, V")
            f = emg_factor(unit, where, name) if unit is not None else emg_default
            emg.append((i, name.strip(), f))
            continue
        ax = acc_axis(base)
        if ax is not None:
            if unit is not None and unit.lower() in _RAW_UNITS:
                ignored.append(f"{name.strip()} (raw {unit}, no calibration)")
                continue
            f = acc_factor(unit, where, name) if unit is not None else acc_default
            if ax in axes:
                ignored.append(f"{name.strip()} (second accelerometer {'XYZ'[ax]} column)")
            else:
                axes[ax] = (i, name.strip(), f)
            continue
        ignored.append(name.strip())
    if not emg:
        found = ", ".join(n.strip() for n in names) if names else "no columns"
        raise FormatError(f"{where}: no EMG signal found; {ACCEPTED_SIGNALS}; this file has: {found}")
    if emg_channels is not None:
        chosen: list[tuple[int, str, float]] = []
        for sel in emg_channels:
            hit = [e for k, e in enumerate(emg) if (isinstance(sel, int) and k == sel)
                   or (isinstance(sel, str) and e[1].lower() == sel.lower())]
            if not hit:
                raise FormatError(f"{where}: EMG channel {sel!r} not found; EMG channels in this file: "
                                  + ", ".join(f"{k} = {e[1]!r}" for k, e in enumerate(emg)))
            chosen.extend(h for h in hit if h not in chosen)
        ignored.extend(f"{e[1]} (EMG channel not selected)" for e in emg if e not in chosen)
        emg = chosen
    acc: list[tuple[int, str, float]] = []
    if axes and len(axes) < 3:
        missing = ", ".join("XYZ"[a] for a in range(3) if a not in axes)
        ignored.extend(f"{v[1]} (accelerometer axis {missing} missing)" for v in axes.values())
    elif axes:
        acc = [axes[0], axes[1], axes[2]]
    return _Columns([e[0] for e in emg], [e[1] for e in emg], [e[2] for e in emg],
                    [a[0] for a in acc], [a[1] for a in acc], [a[2] for a in acc], ignored)


# ---------------------------------------------------------------- entry point

def _decode(path: pathlib.Path, head: bytes) -> list[str]:
    sample = head[:4096]
    printable = sum(1 for b in sample if b >= 32 or b in (9, 10, 13))
    if b"\x00" in sample or printable < 0.95 * len(sample):
        raise FormatError(f"{path.name}: binary data that is not EDF/BDF (no EDF '0       ' or BDF "
                          f"'\\xffBIOSEMI' header) and not text; accepted: EDF/EDF+/BDF/BDF+ or {ACCEPTED_TEXT}")
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


def open_text(path: pathlib.Path, head: bytes, *, board: int | str | None = None,
              rate_hz: float | None = None, emg_channels: Sequence[int | str] | None = None) -> RecordingFile:
    lines = _decode(path, head)
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise FormatError(f"{path.name}: the file holds only blank lines; {ACCEPTED_TEXT}")
    if lines[first].lstrip().startswith("%"):
        return _open_openbci(path, lines, emg_channels)
    # skip '#' comment lines
    comments = []
    i = first
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        comments.append(lines[i])
        i += 1
    if i >= len(lines):
        raise FormatError(f"{path.name}: only comment lines, no header row or samples; {ACCEPTED_TEXT}")
    header = lines[i]
    delim = _delimiter(header)
    fields = [f.strip().strip('"').strip("'") for f in (header.split(delim) if delim else header.split())]
    if delim is None and len(fields) > 1:
        # no delimiter: whitespace-separated columns, or one column whose name has a space
        # ('EMG 1'), told apart by the first sample row
        row = next((ln for ln in lines[i + 1:] if ln.strip() and not ln.lstrip().startswith("#")), "")
        if len(row.split()) == 1:
            fields = [header.strip().strip('"').strip("'")]
    if all(_is_number(f) for f in fields if f):
        if board is not None or "\t" in header or _sidecar(path) is not None:
            return _open_brainflow(path, lines, i, board)
        raise FormatError(f"{path.name}: no header row naming the columns (line {i + 1} is numbers) and it is "
                          f"not a tab-separated BrainFlow file; {ACCEPTED_TEXT}")
    return _open_generic(path, lines, i, delim, fields, comments, rate_hz, emg_channels)


def _delimiter(header: str) -> str | None:
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------- generic CSV

def _open_generic(path: pathlib.Path, lines: list[str], hi: int, delim: str | None, names: list[str],
                  comments: list[str], rate_hz: float | None,
                  emg_channels: Sequence[int | str] | None) -> RecordingFile:
    where = path.name
    time_col = next((k for k, n in enumerate(names) if n.strip().lower() in _TIME_NAMES), None)
    skip = {time_col} if time_col is not None else set()
    cols = _classify(where, names, skip, emg_channels=emg_channels)
    want = cols.emg + cols.acc + ([time_col] if time_col is not None else [])
    want_names = [names[k] for k in want]
    rows = _parse_rows(lines[hi + 1:], hi + 2, delim, len(names), want, want_names)
    if len(rows.values) == 0:
        why = f" ({rows.first_bad})" if rows.first_bad else ""
        raise FormatError(f"{where}: no numeric sample rows after the header{why}; accepted: one row per "
                          "sample with a number in every column")
    _check_finite(where, rows, want_names)
    ne, na = len(cols.emg), len(cols.acc)
    notes: list[str] = []
    gap_rows: list[tuple[int, int]] = []
    comment_rate = None
    for c in comments:
        m = _RATE_RE.search(c)
        if m:
            comment_rate = float(m.group(1))
            break
    t = None
    if time_col is not None:
        t = rows.values[:, ne + na] * _TIME_NAMES[names[time_col].strip().lower()]
    if rate_hz is not None:
        rate = float(rate_hz)
    elif comment_rate is not None:
        rate = comment_rate
    elif t is not None:
        rate = _estimate_rate(t)
    else:
        raise FormatError(f"{where}: no sample rate (no time_s column and no '# sample_rate_hz = N' comment "
                          "line); accepted: a time_s column, a rate comment, or rate_hz= when opening")
    if not (rate > 0 and math.isfinite(rate)):
        raise FormatError(f"{where}: sample rate {rate!r} Hz is not a positive number; accepted: a time_s "
                          "column that increases, or a positive rate")
    if t is not None:
        est = _estimate_rate(t) if len(t) > 1 else rate
        if est > 0 and abs(est - rate) / rate > 0.02:
            notes.append(f"time column suggests {est:.6g} Hz, using the stated {rate:g} Hz")
        gap_rows = _time_gaps(t, rate, where, rows.line_no)
    if rows.bad_lines:
        if t is None:
            raise FormatError(f"{where}: {rows.first_bad}; without a time column a skipped row would shift "
                              "every later sample in time; accepted: a number in every column of every row "
                              "(or add a time_s column so bad rows can be skipped)")
        notes.append(f"skipped {len(rows.bad_lines)} malformed row(s), first: {rows.first_bad}")
    rec = ArrayRecording(path, "csv", rows.values[:, :ne] * np.array(cols.emg_factor),
                         rows.values[:, ne:ne + na] * np.array(cols.acc_factor) if na else None)
    rec.emg_rate_hz = rate
    rec.emg_labels = tuple(cols.emg_names)
    if na:
        rec.acc_rate_hz = rate
        rec.acc_labels = tuple(cols.acc_names)
    rec.ignored_signals = tuple(cols.ignored)
    rec.skipped_rows = len(rows.bad_lines)
    rec._gap_rows = {EMG_STREAM: gap_rows, ACC_STREAM: list(gap_rows)}
    if any(_split_unit(n)[1] is None for n in cols.emg_names):
        notes.append("EMG columns without a unit are taken as µV")
    if na and any(_split_unit(n)[1] is None for n in cols.acc_names):
        notes.append("accelerometer columns without a unit are taken as mg")
    rec.notes = tuple(notes)
    rec._finish()
    return rec


# ---------------------------------------------------------------- OpenBCI GUI

_OBCI_KV = re.compile(r"^%\s*([^=]+?)\s*=\s*(.*?)\s*$")


def _open_openbci(path: pathlib.Path, lines: list[str], emg_channels: Sequence[int | str] | None) -> RecordingFile:
    where = path.name
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("%")):
        m = _OBCI_KV.match(lines[i].strip())
        if m:
            meta[m.group(1).strip().lower()] = m.group(2)
        i += 1
    if i >= len(lines):
        raise FormatError(f"{where}: OpenBCI header lines but no column header row or samples; "
                          "accepted: OpenBCI GUI v5 files with a 'Sample Index, EXG Channel 0, …' row")
    header = lines[i]
    names = [f.strip() for f in header.split(",")]
    if not names or names[0].lower() != "sample index":
        raise FormatError(f"{where}: OpenBCI file without a 'Sample Index, EXG Channel 0, …' column row "
                          "(the GUI v4 layout); accepted: OpenBCI GUI v5 files")
    m = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)", meta.get("sample rate", ""))
    if not m:
        raise FormatError(f"{where}: no '%Sample Rate = N Hz' header line; accepted: OpenBCI GUI v5 files, "
                          "whose header states the sample rate")
    rate = float(m.group(1))
    exg = [k for k, n in enumerate(names) if n.lower().startswith("exg channel")]
    if not exg:
        raise FormatError(f"{where}: no 'EXG Channel N' columns; accepted: OpenBCI GUI v5 files with EXG "
                          f"channels; this file has: {', '.join(names)}")
    # EXG channels of OpenBCI boards are EMG-capable, in µV; accelerometer in g
    cols = _classify(where, names, {0} | {k for k, n in enumerate(names) if n.lower().startswith("timestamp")},
                     emg_default=1.0, acc_default=1000.0, emg_channels=emg_channels, force_emg=frozenset(exg))
    ts_col = next((k for k, n in enumerate(names) if n.lower() == "timestamp"), None)
    want = [0] + cols.emg + cols.acc + ([ts_col] if ts_col is not None else [])
    want_names = [names[k] for k in want]
    rows = _parse_rows(lines[i + 1:], i + 2, ",", len(names), want, want_names)
    if len(rows.values) == 0:
        why = f" ({rows.first_bad})" if rows.first_bad else ""
        raise FormatError(f"{where}: no numeric sample rows after the column header{why}; accepted: "
                          "OpenBCI GUI v5 rows of comma-separated numbers")
    _check_finite(where, rows, want_names)
    ne, na = len(cols.emg), len(cols.acc)
    v = rows.values
    ts = v[:, 1 + ne + na] if ts_col is not None else None
    gap_rows, mod = _index_gaps(v[:, 0], ts, rate)
    notes = [f"OpenBCI 'Sample Index' counts modulo {mod}; gaps come from its jumps"] if mod else []
    if rows.bad_lines:
        notes.append(f"skipped {len(rows.bad_lines)} malformed row(s), first: {rows.first_bad}")
    emg = v[:, 1:1 + ne] * np.array(cols.emg_factor)
    acc = v[:, 1 + ne:1 + ne + na] * np.array(cols.acc_factor) if na else None
    ignored = list(cols.ignored)
    acc_names = list(cols.acc_names)
    if acc is not None:
        zero = np.all(acc == 0.0, axis=1)
        if zero.all():
            ignored.extend(f"{n} (all zero: accelerometer off)" for n in acc_names)
            acc = None
        elif zero.mean() >= 0.5:
            # Cyton sends accelerometer values on about 1 packet in 10; zero rows between
            # updates are held at the previous reading (a zero would read as free fall).
            idx = np.where(~zero, np.arange(len(acc)), 0)
            np.maximum.accumulate(idx, out=idx)
            first_nz = int(np.argmax(~zero))
            acc = acc[idx]
            acc[:first_nz] = acc[first_nz]
            notes.append(f"accelerometer updated on {100 * (1 - zero.mean()):.0f}% of rows; zero rows between "
                         "updates held at the previous reading")
    rec = ArrayRecording(path, "openbci-csv", emg, acc)
    rec.emg_rate_hz = rate
    rec.emg_labels = tuple(cols.emg_names)
    if acc is not None:
        rec.acc_rate_hz = rate
        rec.acc_labels = tuple(acc_names)
    if ts is not None and np.isfinite(ts[0]) and ts[0] > 1e8:
        rec.start_unix_s = float(ts[0])
    rec.ignored_signals = tuple(ignored)
    rec.skipped_rows = len(rows.bad_lines)
    rec._gap_rows = {EMG_STREAM: gap_rows, ACC_STREAM: list(gap_rows)}
    board_name = meta.get("board", "")
    if board_name:
        notes.append(f"board {board_name.split('$')[-1]}")
    rec.notes = tuple(notes)
    rec._finish()
    return rec


# ---------------------------------------------------------------- BrainFlow

@dataclass(frozen=True)
class Board:
    """A BrainFlow board's row layout (default preset), from BrainFlow's board table."""

    board_id: int
    name: str
    rate_hz: float
    num_rows: int
    package_num: int
    emg: tuple[int, ...]
    accel: tuple[int, ...]
    timestamp: int


BRAINFLOW_BOARDS: tuple[Board, ...] = (
    Board(-1, "synthetic", 250, 32, 0, tuple(range(1, 17)), (17, 18, 19), 30),
    Board(0, "cyton", 250, 24, 0, tuple(range(1, 9)), (9, 10, 11), 22),
    Board(1, "ganglion", 200, 15, 0, (1, 2, 3, 4), (5, 6, 7), 13),
    Board(2, "cyton_daisy", 125, 32, 0, tuple(range(1, 17)), (17, 18, 19), 30),
    Board(4, "ganglion_wifi", 1600, 25, 0, (1, 2, 3, 4), (5, 6, 7), 23),
    Board(5, "cyton_wifi", 1000, 24, 0, tuple(range(1, 9)), (9, 10, 11), 22),
    Board(6, "cyton_daisy_wifi", 1000, 32, 0, tuple(range(1, 17)), (17, 18, 19), 30),
    Board(10, "callibri_emg", 1000, 4, 0, (1,), (), 2),
    Board(16, "gforce_pro", 500, 11, 0, tuple(range(1, 9)), (), 9),
    Board(19, "gforce_dual", 500, 5, 0, (1, 2), (), 3),
    Board(24, "ant_neuro_ee_410", 2000, 12, 0, tuple(range(1, 9)), (), 10),
)
_BOARD_NAMES = ", ".join(f"{b.name} ({b.board_id})" for b in BRAINFLOW_BOARDS)


def _find_board(board: int | str, where: str) -> Board:
    key = str(board).strip().lower().replace("-", "_").replace(" ", "_")
    for b in BRAINFLOW_BOARDS:
        if key in (b.name, str(b.board_id)) or key == b.name.replace("_", "") or key == f"{b.name}_board":
            return b
    raise FormatError(f"{where}: unknown BrainFlow board {board!r}; accepted boards: {_BOARD_NAMES}")


def _sidecar(path: pathlib.Path) -> dict | None:
    side = path.with_name(path.name + ".json")
    if not side.is_file():
        return None
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise FormatError(f"{path.name}: sidecar {side.name} is not readable JSON ({e}); accepted: "
                          '{"board": "cyton"} or {"board": 0}') from None
    if not isinstance(data, dict) or "board" not in data:
        raise FormatError(f"{path.name}: sidecar {side.name} has no 'board' key; accepted: "
                          '{"board": "cyton"} or {"board": 0}')
    return data


def _open_brainflow(path: pathlib.Path, lines: list[str], first: int, board: int | str | None) -> RecordingFile:
    where = path.name
    ncols = len(lines[first].split("\t"))
    side = _sidecar(path) if board is None else None
    if board is None and side is not None:
        board = side["board"]
    chosen: Board | None = None
    how = "given"
    if board is not None:
        chosen = _find_board(board, where)
        if chosen.num_rows != ncols:
            raise FormatError(f"{where}: BrainFlow board {chosen.name} writes {chosen.num_rows} columns but "
                              f"this file has {ncols}; accepted: --board naming the board that recorded the file "
                              f"({_BOARD_NAMES})")
    else:
        cands = [b for b in BRAINFLOW_BOARDS if b.num_rows == ncols]
        if not cands:
            raise FormatError(f"{where}: {ncols} tab-separated columns match no known BrainFlow board; "
                              f"accepted: --board one of {_BOARD_NAMES}")
        how = "from the column count"
        if len(cands) > 1:
            rate = _timestamp_rate(lines, first, cands[0].timestamp, ncols)
            close = [b for b in cands if rate is not None and abs(rate - b.rate_hz) / b.rate_hz < 0.2]
            if len(close) != 1:
                names = ", ".join(f"{b.name} ({b.rate_hz:g} Hz)" for b in cands)
                seen = f"timestamps say {rate:.4g} Hz" if rate is not None else "no usable timestamps"
                raise FormatError(f"{where}: {ncols} columns fit several BrainFlow boards ({names}) and "
                                  f"{seen}; accepted: --board (or a {path.name}.json sidecar with "
                                  '{"board": ...}) naming the board')
            cands = close
            how = "from the column count and timestamps"
        chosen = cands[0]
    b = chosen
    want = [b.package_num] + list(b.emg) + list(b.accel) + [b.timestamp]
    want_names = (["package_num"] + [f"EXG {k}" for k in range(len(b.emg))]
                  + [f"Accel {a}" for a in "XYZ"[:len(b.accel)]] + ["timestamp"])
    rows = _parse_rows(lines[first:], first + 1, "\t", ncols, want, want_names)
    if len(rows.values) == 0:
        raise FormatError(f"{where}: no numeric rows ({rows.first_bad}); accepted: BrainFlow "
                          "DataFilter.write_file output, tab-separated numbers")
    _check_finite(where, rows, want_names)
    v = rows.values
    ne, na = len(b.emg), len(b.accel)
    emg = v[:, 1:1 + ne]
    acc = v[:, 1 + ne:1 + ne + na] * 1000.0 if na == 3 else None  # BrainFlow accel is in g
    ts = v[:, 1 + ne + na]
    gap_rows, mod = _index_gaps(v[:, 0], ts, b.rate_hz)
    notes = [f"BrainFlow board {b.name} ({b.board_id}), {how}: EXG in µV, accelerometer in g"]
    if mod:
        notes.append(f"package number counts modulo {mod}; gaps come from its jumps")
    if rows.bad_lines:
        notes.append(f"skipped {len(rows.bad_lines)} malformed row(s), first: {rows.first_bad}")
    ignored = []
    if acc is not None and np.all(acc == 0.0):
        ignored.extend(["Accel X (all zero)", "Accel Y (all zero)", "Accel Z (all zero)"])
        acc = None
    rec = ArrayRecording(path, "brainflow-csv", emg, acc)
    rec.emg_rate_hz = b.rate_hz
    rec.emg_labels = tuple(f"EXG {k}" for k in range(1, ne + 1))
    if acc is not None:
        rec.acc_rate_hz = b.rate_hz
        rec.acc_labels = ("Accel X", "Accel Y", "Accel Z")
    if np.isfinite(ts[0]) and ts[0] > 1e8:
        rec.start_unix_s = float(ts[0])
    used = set(want)
    ignored.extend(f"row {k}" for k in range(ncols) if k not in used)
    rec.ignored_signals = tuple(ignored)
    rec.skipped_rows = len(rows.bad_lines)
    rec._gap_rows = {EMG_STREAM: gap_rows, ACC_STREAM: list(gap_rows)}
    rec.notes = tuple(notes)
    rec._finish()
    return rec


def _timestamp_rate(lines: list[str], first: int, ts_col: int, ncols: int) -> float | None:
    """Mean sample rate from BrainFlow's host timestamps (bunched, but fine on average)."""
    ts = []
    for ln in lines[first:]:
        parts = ln.split("\t")
        if len(parts) == ncols:
            try:
                ts.append(float(parts[ts_col]))
            except ValueError:
                pass
    if len(ts) < 10 or not ts[-1] > ts[0]:
        return None
    return (len(ts) - 1) / (ts[-1] - ts[0])
