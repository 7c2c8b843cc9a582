"""Pure helpers for the live view: ring-buffer windows decimated to screen columns,
and twitch rates. Arrays in, plain lists and dicts out; no I/O, no locks.
"""

from __future__ import annotations

import heapq
from collections import Counter
from typing import Any, Iterable, Sequence

import numpy as np

from twitchwatch.units import ACC_UNITS, EMG_UNITS, unit_key



def display_factor(unit: str, kind: str) -> float:
    """Factor from a channel's physical ``unit`` to µV (``kind="emg"``) or mg
    (``kind="acc"``); 1.0 for a unit not known (shown as sent)."""
    table = EMG_UNITS if kind == "emg" else ACC_UNITS
    return table.get(unit_key(unit), 1.0)


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


#: motor-unit rows kept by :class:`RateCounter`. The detector recycles its least recently
#: seen templates under new ids (``detect.config.max_units`` per channel), so ids keep
#: coming over a long recording; beyond this many, the quietest unit with nothing in the
#: last minute is folded into ``units_not_listed`` (its twitches stay in the channel counts).
MAX_UNITS_KEPT = 256
#: twitches the last-minute window holds at most. The window is pruned by time when a
#: status is taken (about once a second); a broadcaster that stopped taking, or a detector
#: firing without pause, would otherwise grow it without bound. 20,000 a minute is far
#: above any fasciculation rate (a few to a few hundred a minute); past it the oldest leave
#: the window early, counted in ``recent_not_counted`` (``last_min`` is then a lower bound;
#: the session counts stay exact).
MAX_RECENT_KEPT = 20_000


class RateCounter:
    """Running twitch rates per channel and per motor unit, updated per event.

    :meth:`add` costs O(log n) per event and :meth:`snapshot` O(channels + units) plus
    the events that left the last minute, so the once-a-second status costs the same in
    the first minute and the tenth hour. Events may arrive slightly out of time order
    (channels are decided separately); the last-minute window is exact regardless.
    Memory is bounded: the last minute's events, at most ``max_recent`` of them
    (:data:`MAX_RECENT_KEPT`), and at most ``max_units`` unit rows
    (:data:`MAX_UNITS_KEPT`; channel counts still count every event).
    """

    def __init__(self, max_units: int = MAX_UNITS_KEPT, max_recent: int = MAX_RECENT_KEPT) -> None:
        self.max_units = max(1, int(max_units))
        self.max_recent = max(1, int(max_recent))
        self.units_not_listed = 0  # units whose row was folded away (never more than a count)
        self.recent_not_counted = 0  # twitches that left the last-minute window early (its count cap)
        self._total: Counter[str] = Counter()
        self._recent: Counter[str] = Counter()
        self._units: dict[int, dict[str, Any]] = {}
        self._window: list[tuple[float, int, str, int | None]] = []  # heap of (t_s, seq, label, unit)
        self._seq = 0
        self._since = -np.inf

    def add(self, event: dict[str, Any]) -> None:
        """Count one event (a dict with ``t_s`` s, ``channel_label``, ``unit_id``)."""
        t_s, label, uid = float(event["t_s"]), event["channel_label"], event.get("unit_id")
        self._total[label] += 1
        if uid is not None:
            row = self._units.get(uid)
            if row is None:
                self._make_room_for_a_unit()
                row = self._units[uid] = {"unit_id": uid, "channel_label": label, "count": 0, "last_min": 0}
            row["count"] += 1
        if t_s >= self._since:
            if len(self._window) >= self.max_recent:  # the count cap: the oldest leaves early
                self._leave_window()
                self.recent_not_counted += 1
            self._seq += 1
            heapq.heappush(self._window, (t_s, self._seq, label, uid))
            self._recent[label] += 1
            if uid is not None:
                self._units[uid]["last_min"] += 1

    def _leave_window(self) -> None:
        """The oldest twitch of the last-minute window leaves it."""
        _, _, label, uid = heapq.heappop(self._window)
        self._recent[label] -= 1
        if uid is not None and uid in self._units:
            self._units[uid]["last_min"] -= 1

    def snapshot(self, labels: Sequence[str], now_s: float, elapsed_s: float) -> dict[str, Any]:
        """Rates as of ``now_s``, the device time (s, same base as ``t_s``) of the newest
        sample (it never goes back): ``last_min`` counts twitches in the minute before it;
        ``session_per_min`` is the count over ``elapsed_s`` of signal (None before 10 s,
        too short to mean much)."""
        self._since = max(self._since, now_s - 60.0)
        while self._window and self._window[0][0] < self._since:
            self._leave_window()
        names: list[str] = list(labels) + sorted(set(self._total) - set(labels))
        per_channel = [{
            "label": label,
            "count": self._total[label],
            "last_min": self._recent[label],
            "session_per_min": None if elapsed_s < 10.0 else round(self._total[label] / (elapsed_s / 60.0), 2),
        } for label in names]
        per_unit = sorted((dict(row) for row in self._units.values()), key=lambda r: (-r["count"], r["unit_id"]))
        return {"per_channel": per_channel, "per_unit": per_unit, "units_not_listed": self.units_not_listed,
                "recent_not_counted": self.recent_not_counted}

    def _make_room_for_a_unit(self) -> None:
        """At ``max_units`` rows, fold away the quietest unit with no twitch in the last
        minute (fewest twitches, then the oldest id). A unit that twitched within the
        minute is never folded (its last-minute count stays exact), so the rows are at
        most ``max_units`` or the units of the last minute, whichever is more."""
        if len(self._units) < self.max_units:
            return
        idle = [r for r in self._units.values() if r["last_min"] == 0]
        if not idle:
            return
        victim = min(idle, key=lambda r: (r["count"], r["unit_id"]))
        del self._units[victim["unit_id"]]
        self.units_not_listed += 1


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
