"""Everything of the person out of the store (JSON, CSV, EDF+), and everything deleted.

All files are written next to their destination and renamed into place, so an
interrupted export never leaves half a file under the final name.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import pathlib
import time
from typing import TYPE_CHECKING, Any

from .errors import StoreError
from .logbook import PERSON_TABLES

if TYPE_CHECKING:
    from .store import Store

EXPORT_FORMAT = "twitchwatch-export"
_JSON_COLUMNS = {"stats_json": "stats", "quality_json": "quality", "detail_json": "detail",
                 "reasons_for_json": "reasons_for", "reasons_against_json": "reasons_against"}


def _replace_into(tmp: pathlib.Path, final: pathlib.Path) -> None:
    os.replace(tmp, final)


def _discard(tmp: pathlib.Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()


def _row_for_json(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in row.keys():
        value = row[key]
        if key in _JSON_COLUMNS:
            out[_JSON_COLUMNS[key]] = None if value is None else json.loads(value)
        else:
            out[key] = value
    return out


def export_json(store: Store, path: str | os.PathLike[str]) -> dict[str, int]:
    """Write every table of the person's data as one indented JSON file; return the row
    count per table. Layout: ``{"format": "twitchwatch-export", "schema_version": N,
    "migrations": [[version, name], ...], "exported_at_unix_s": t, "tables": {name:
    [row, ...]}}``; JSON columns are decoded (``stats``, ``quality``, ``detail``,
    ``reasons_for``, ``reasons_against``).

    Raises:
        StoreError: the file cannot be written (message names it).
    """
    path = pathlib.Path(path)
    tables: dict[str, list[dict[str, Any]]] = {}
    with store.read_snapshot():  # one snapshot: a live writer does not tear the export
        for table in PERSON_TABLES:
            tables[table] = [_row_for_json(r) for r in store.iter_table(table)]
        version = store.schema_version()
        applied = store.applied_migrations()
    doc = {"format": EXPORT_FORMAT, "schema_version": version, "migrations": [list(m) for m in applied],
           "exported_at_unix_s": time.time(), "tables": tables}
    tmp = path.with_name(path.name + ".partial")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, ensure_ascii=False, allow_nan=False)
            fh.write("\n")
        _replace_into(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise StoreError(f"{path}: cannot write the export: {exc.strerror or exc}") from exc
    return {t: len(rows) for t, rows in tables.items()}


def export_csv(store: Store, folder: str | os.PathLike[str]) -> dict[str, pathlib.Path]:
    """Write one CSV per table (``<table>.csv``, a header row of the column names, JSON
    columns left as JSON text, NULL as an empty field) into ``folder`` (created if
    missing); return the path per table.

    Raises:
        StoreError: the folder or a file cannot be written.
    """
    folder = pathlib.Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{folder}: cannot create the export folder: {exc.strerror or exc}") from exc
    written: dict[str, pathlib.Path] = {}
    with store.read_snapshot():
        for table in PERSON_TABLES:
            final = folder / f"{table}.csv"
            tmp = folder / f".{table}.csv.partial"
            columns = store.columns(table)
            try:
                with open(tmp, "w", encoding="utf-8", newline="") as fh:
                    w = csv.writer(fh)
                    w.writerow(columns)
                    for row in store.iter_table(table):
                        w.writerow(["" if row[c] is None else row[c] for c in columns])
                _replace_into(tmp, final)
            except OSError as exc:
                _discard(tmp)
                raise StoreError(f"{final}: cannot write the export: {exc.strerror or exc}") from exc
            written[table] = final
    return written


def _channel_labels(events: list[dict[str, Any]]) -> dict[int, str]:
    """Each channel index's name as the device or file gave it (``channel_label``, e.g.
    "EMG 1"; the newest one if a channel index was named differently over time)."""
    labels: dict[int, str] = {}
    for e in events:
        labels[int(e["channel"])] = str(e.get("channel_label") or f"EMG {int(e['channel']) + 1}")
    return labels


def _edf_signal_labels(labels: list[str]) -> list[str]:
    """EDF signal labels (16 ASCII characters at most): each channel's own label, cut
    to fit; a label cut into another one's gets its position added."""
    out: list[str] = []
    for k, label in enumerate(labels):
        text = label.encode("ascii", "replace").decode("ascii")[:16]
        if text in out:
            tag = f" #{k + 1}"
            text = text[:16 - len(tag)] + tag
        out.append(text)
    return out


def export_edf(store: Store, path: str | os.PathLike[str], since_unix_s: float | None = None,
               until_unix_s: float | None = None, tz: Any = None) -> dict[str, Any]:
    """Write the events as an EDF+ file: one 1 Hz signal per channel, the twitch rate
    (twitches per minute over the trailing 60 s, labelled with the channel's own label
    as the device or file gave it, e.g. ``EMG 1``, transducer ``twitch rate``, dimension
    ``/min``), over the span from the first to the last event (or ``since``/``until``),
    and one annotation per twitch at its wall time: ``twitch EMG 1 120uV unit 3`` (``unit
    3`` only when the motor-unit id is known). The file starts at the whole second
    before the first event (EDF start times are whole seconds of local time: in ``tz``,
    a ``datetime.tzinfo``, or this machine's zone; ``replay`` reads them back the same way).

    Returns ``{"events": n, "channels": [index, ...], "labels": [label, ...],
    "start_unix_s": t0, "duration_s": d}`` (``channels``: 0-based channel indexes).

    Raises:
        StoreError: no events with a wall time in the span, or the file cannot be
            written.
    """
    import numpy as np

    from twitchwatch.formats import write_edf

    path = pathlib.Path(path)
    events = store.events_between(since_unix_s, until_unix_s)
    if not events:
        raise StoreError("no twitch events with a wall time to export"
                         + (" in the chosen span" if since_unix_s is not None or until_unix_s is not None else ""))
    first = since_unix_s if since_unix_s is not None else events[0]["wall_time_s"]
    last = until_unix_s if until_unix_s is not None else events[-1]["wall_time_s"]
    t0 = math.floor(first)
    before = store.events_between(t0 - 60.0, t0)  # the trailing 60 s of the first minute reach back before t0
    n_s = max(1, int(math.floor(last - t0)) + 1)
    channels = sorted({int(e["channel"]) for e in events})
    names = _channel_labels([*before, *events])
    col = {ch: j for j, ch in enumerate(channels)}
    per_s = np.zeros((n_s, len(channels)))
    annotations = []
    for e in events:
        onset = e["wall_time_s"] - t0
        per_s[min(int(onset), n_s - 1), col[int(e["channel"])]] += 1
        text = f"twitch {names[int(e['channel'])]} {e['amplitude_uv']:.0f}uV"
        if e.get("unit_id") is not None:
            text += f" unit {int(e['unit_id'])}"
        annotations.append((onset, 0.0, text))
    # twitches per minute = the count in the trailing 60 s (the 60 s before the file's
    # start included), as documented; not a count over elapsed time
    lead = np.zeros((60, len(channels)))
    for e in before:
        if int(e["channel"]) in col:
            lead[min(59, max(0, int(e["wall_time_s"] - (t0 - 60)))), col[int(e["channel"])]] += 1
    padded = np.concatenate([lead, per_s])
    window = np.ones(60)
    rate = np.stack([np.convolve(padded[:, j], window)[60:60 + n_s] for j in range(len(channels))], axis=1)
    tmp = path.with_name(path.name + ".partial")
    labels = [f"EMG {j + 1}" for j in range(len(channels))]  # write_edf wants EMG labels; relabelled below
    try:
        write_edf(tmp, rate, 1.0, emg_labels=labels, start_unix_s=float(t0), annotations=annotations, tz=tz)
        _relabel_edf_signals(tmp, _edf_signal_labels([names[ch] for ch in channels]), "/min", "twitch rate")
        _replace_into(tmp, path)
    except (OSError, ValueError) as exc:
        _discard(tmp)
        raise StoreError(f"{path}: cannot write the EDF+ export: {exc}") from exc
    return {"events": len(events), "channels": channels, "labels": [names[ch] for ch in channels],
            "start_unix_s": float(t0), "duration_s": float(n_s)}


def _relabel_edf_signals(path: pathlib.Path, labels: list[str], dimension: str, transducer: str) -> None:
    """Rewrite the label, transducer and physical dimension of the first
    ``len(labels)`` signals in an EDF header, in place (fixed-width ASCII fields).

    ``write_edf`` only writes EMG (µV) and ACC (mg) signals; the export's signals are
    twitch rates, so their header fields are corrected after writing.
    """
    with open(path, "r+b") as fh:
        head = fh.read(256)
        ns = int(head[252:256].decode("ascii").strip())
        if len(labels) > ns:
            raise ValueError(f"{len(labels)} labels for {ns} signals")

        def put(offset_of_field: int, width: int, values: list[str]) -> None:
            for i, v in enumerate(values):
                raw = v.encode("ascii")[:width].ljust(width)
                fh.seek(256 + offset_of_field * ns + width * i)
                fh.write(raw)

        # per-signal field widths in order: label 16, transducer 80, dimension 8, ...
        put(0, 16, labels)
        put(16, 80, [transducer] * len(labels))
        put(16 + 80, 8, [dimension] * len(labels))


def delete_all(store: Store) -> dict[str, int]:
    """Delete every row of the person's data, then VACUUM and truncate the WAL so no
    deleted bytes remain in free pages or the journal; return the rows deleted per
    table. The schema and migration records stay.

    Raises:
        StoreError: the delete failed (nothing deleted), or another program kept the
            journal open so it could not be wiped (the rows are deleted; run again
            after closing it).
    """
    counts = store.delete_rows(reversed(PERSON_TABLES))
    try:
        busy = store.wipe_free_space()
    except Exception as exc:  # sqlite3.Error
        raise StoreError(f"{store.path}: rows deleted, but could not wipe the free space: {exc}") from exc
    if busy:
        raise StoreError(f"{store.path}: rows deleted, but another program is reading the file, so its journal "
                         "could not be wiped; close it and run delete-all again")
    return counts
