"""Pure helpers for the live view: ring-buffer windows decimated to screen columns,
and twitch rates. Arrays in, plain lists and dicts out; no I/O, no locks.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

import numpy as np

# physical unit → factor to the display unit (µV for EMG, mg for acceleration)
_TO_UV = {"uv": 1.0, "µv": 1.0, "mv": 1e3, "v": 1e6}
_TO_MG = {"mg": 1.0, "g": 1e3, "m/s^2": 1e3 / 9.80665, "m/s2": 1e3 / 9.80665}


def display_factor(unit: str, kind: str) -> float:
    """Factor from a channel's physical ``unit`` to µV (``kind="emg"``) or mg
    (``kind="acc"``); 1.0 for a unit not known (shown as sent)."""
    table = _TO_UV if kind == "emg" else _TO_MG
    return table.get(unit.strip().lower(), 1.0)


def minmax_columns(values: np.ndarray, valid: np.ndarray, columns: int) -> tuple[list, list]:
    """Min and max of each of ``columns`` equal slices of a window.

    Args:
        values: 1-D float array, the window oldest first; its length must be a
            multiple of ``columns``.
        valid: bool array of the same length, False where no sample was received
            (not yet, or a gap). Never filled in.
        columns: screen columns (pixels) to reduce to.

    Returns:
        ``(mins, maxs)``: lists of ``columns`` floats rounded to 0.1, ``None`` for a
        column without one valid sample.
    """
    n = values.shape[0]
    if n % columns:
        raise ValueError(f"window of {n} samples does not split into {columns} columns")
    per = n // columns
    v = values.reshape(columns, per)
    ok = valid.reshape(columns, per)
    lo = np.where(ok, v, np.inf).min(axis=1)
    hi = np.where(ok, v, -np.inf).max(axis=1)
    has = ok.any(axis=1)
    lo_r = np.round(lo.astype(np.float64), 1)  # float64 first: a rounded float32 prints as 12.300000190734863
    hi_r = np.round(hi.astype(np.float64), 1)
    has_data = [bool(h) for h in np.asarray(has, dtype=bool).ravel()]
    mins = [float(x) if h else None for x, h in zip(lo_r.tolist(), has_data)]
    maxs = [float(x) if h else None for x, h in zip(hi_r.tolist(), has_data)]
    return mins, maxs


def rates(events: Sequence[dict[str, Any]], labels: Sequence[str], now_s: float,
          elapsed_s: float) -> dict[str, list[dict[str, Any]]]:
    """Twitch rates from events (dicts with ``t_s``, ``channel_label``, ``unit_id``).

    ``now_s`` is the device time (s, same base as ``t_s``) of the newest sample;
    ``last_min`` counts twitches in the minute before it; ``session_per_min`` is the
    count over ``elapsed_s`` of signal (None before 10 s, too short to mean much).
    """
    since = now_s - 60.0
    per_channel = []
    names: list[str] = list(labels) + sorted({e["channel_label"] for e in events} - set(labels))
    total = Counter(e["channel_label"] for e in events)
    recent = Counter(e["channel_label"] for e in events if e["t_s"] >= since)
    for label in names:
        per_channel.append({
            "label": label,
            "count": total[label],
            "last_min": recent[label],
            "session_per_min": None if elapsed_s < 10.0 else round(total[label] / (elapsed_s / 60.0), 2),
        })
    units: dict[int, dict[str, Any]] = {}
    for e in events:
        uid = e.get("unit_id")
        if uid is None:
            continue
        row = units.setdefault(uid, {"unit_id": uid, "channel_label": e["channel_label"], "count": 0, "last_min": 0})
        row["count"] += 1
        if e["t_s"] >= since:
            row["last_min"] += 1
    per_unit = sorted(units.values(), key=lambda r: (-r["count"], r["unit_id"]))
    return {"per_channel": per_channel, "per_unit": per_unit}


def rate_bins(events: Iterable[dict[str, Any]], start_unix_s: float, end_unix_s: float,
              bin_s: float = 60.0) -> dict[str, list[int]]:
    """Twitch counts per ``bin_s`` bin from ``start_unix_s`` to ``end_unix_s``, per
    channel label (events with ``wall_time_s``; others are left out)."""
    n_bins = max(1, int(np.ceil((end_unix_s - start_unix_s) / bin_s)))
    out: dict[str, list[int]] = {}
    for e in events:
        t = e.get("wall_time_s")
        if t is None:
            continue
        i = int((t - start_unix_s) // bin_s)
        if 0 <= i < n_bins:
            out.setdefault(e["channel_label"], [0] * n_bins)[i] += 1
    return out
