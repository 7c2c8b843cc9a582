"""The dashboard's kept twitches in preallocated numpy columns: no Python object per twitch.

A live run keeps the newest twitches for hours (markers on the trace, a page that
connects, the live cause ranking). Kept as one dict per twitch (17 keys, a dozen float
and int objects each, ~0.75 kB), they were long-lived small objects allocated one at a
time among the millions of short-lived ones a run makes: each pinned the pools of
Python's small-object allocator it landed in, and the allocator's arenas grew faster
than the twitches did (docs/reliability.md, "Where the memory goes"). Here each field is
a column of a fixed-size numpy array made (and written, so resident) once: a kept twitch
costs ~130 bytes whatever the run's length, and adding one allocates nothing that stays.

The columns follow :class:`~twitchwatch.detect.TwitchEvent`'s fields (new ones included):
``int`` → int64, ``float`` → float64, ``bool`` → bool, ``str`` → an index into a table of
the distinct strings (channel labels, detector names), ``X | None`` → the column and a
"present" flag; a field of any other type is kept in an object column. :meth:`EventRing.newest`
gives back exactly the dicts :meth:`TwitchEvent.to_json_dict` gave, plus the hub's ``_run``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from twitchwatch.detect import TwitchEvent

_DTYPES = {"int": np.int64, "float": np.float64, "bool": np.bool_}


def _columns() -> list[tuple[str, str, bool]]:
    """(field name, kind: ``int``/``float``/``bool``/``str``/``object``, optional) per
    :class:`TwitchEvent` field, from its type annotation."""
    out = []
    for f in dataclasses.fields(TwitchEvent):
        parts = [p.strip() for p in str(f.type).split("|")]
        base = [p for p in parts if p != "None"]
        kind = base[0] if len(base) == 1 and base[0] in ("int", "float", "bool", "str") else "object"
        out.append((f.name, kind, "None" in parts))
    return out


class EventRing:
    """The newest ``capacity`` twitches (and the hub's run number of each), oldest
    overwritten first.

    Memory is fixed when made (``capacity`` rows, :attr:`nbytes`), apart from the table
    of distinct strings, which holds at most ``2 * capacity + 16`` entries: past that it
    is rebuilt from the strings the kept twitches still name (in a live run: a few
    channel labels and one detector name).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self._spec = _columns()
        self._cols: dict[str, np.ndarray] = {}
        self._set: dict[str, np.ndarray] = {}  # "present" flags of the optional fields
        for name, kind, optional in self._spec:
            dtype = np.int32 if kind == "str" else _DTYPES.get(kind, object)
            self._cols[name] = np.zeros(self.capacity, dtype=dtype)
            if optional:
                self._set[name] = np.zeros(self.capacity, dtype=np.bool_)
        self._run = np.zeros(self.capacity, dtype=np.int64)
        for col in (*self._cols.values(), *self._set.values(), self._run):
            if col.dtype != object:
                col.fill(0)  # written now: its pages are resident from the start, RSS does not creep as it fills
        self._strings: list[str] = []
        self._string_ids: dict[str, int] = {}
        self._n = 0  # twitches ever added

    @property
    def max_strings(self) -> int:
        """Most entries the string table holds (then it is rebuilt)."""
        return 2 * self.capacity + 16

    @property
    def nbytes(self) -> int:
        """Bytes of the columns (fixed when made)."""
        return sum(c.nbytes for c in (*self._cols.values(), *self._set.values(), self._run))

    def __len__(self) -> int:
        return min(self._n, self.capacity)

    @property
    def strings_kept(self) -> int:
        """Entries in the string table now."""
        return len(self._strings)

    def _string_id(self, text: str) -> int:
        sid = self._string_ids.get(text)
        if sid is None:
            if len(self._strings) >= self.max_strings:
                self._compact_strings()
            sid = self._string_ids[text] = len(self._strings)
            self._strings.append(text)
        return sid

    def _compact_strings(self) -> None:
        """Keep only the strings the kept twitches name (their ids renumbered)."""
        n = len(self)
        used: dict[int, int] = {}
        for name, kind, _ in self._spec:
            if kind != "str":
                continue
            col = self._cols[name]
            live = col[:n]
            for old in np.unique(live).tolist():
                used.setdefault(old, len(used))
            remap = np.zeros(len(self._strings), dtype=np.int32)
            for old, new in used.items():
                remap[old] = new
            col[:n] = remap[live]
        strings = [""] * len(used)
        for old, new in used.items():
            strings[new] = self._strings[old]
        self._strings = strings
        self._string_ids = {s: i for i, s in enumerate(strings)}

    def append(self, event: TwitchEvent, run: int) -> None:
        """Keep ``event`` (of the hub's run ``run``), over the oldest when full."""
        i = self._n % self.capacity
        for name, kind, optional in self._spec:
            value = getattr(event, name)
            if optional:
                self._set[name][i] = value is not None
                if value is None:
                    continue
            self._cols[name][i] = self._string_id(value) if kind == "str" else value
        self._run[i] = run
        self._n += 1

    def _order(self, n: int) -> np.ndarray:
        """Positions of the newest ``n`` kept twitches, oldest first."""
        n = max(0, min(int(n), len(self)))
        return (np.arange(self._n - n, self._n) % self.capacity).astype(np.intp)

    def newest(self, n: int) -> list[dict[str, Any]]:
        """The newest ``n`` twitches, oldest first, as :meth:`TwitchEvent.to_json_dict`
        dicts with ``_run`` (made now: the caller's to keep or drop)."""
        return self.copy(n).dicts()

    def copy(self, n: int) -> "EventColumns":
        """The newest ``n`` twitches' columns, copied (cheap: a few numpy copies), to be
        made into dicts later, outside whatever lock guards this ring."""
        pos = self._order(n)
        cols = {name: self._cols[name][pos] for name, _, _ in self._spec}
        present = {name: flags[pos] for name, flags in self._set.items()}
        return EventColumns(self._spec, cols, present, self._run[pos], self._strings)

    def last(self, name: str) -> Any:
        """Field ``name`` of the newest twitch (None when none is kept, or it is not set)."""
        if not self._n or name not in self._cols:
            return None
        i = (self._n - 1) % self.capacity
        if name in self._set and not self._set[name][i]:
            return None
        value = self._cols[name][i].item()
        kind = next(k for n, k, _ in self._spec if n == name)
        return self._strings[int(value)] if kind == "str" else value

    def markers(self, run: int, start_index: int, slack: float) -> list[dict[str, Any]]:
        """The twitches of run ``run`` at or after sample ``start_index``, oldest first, as
        trace markers (``sample_index``, ``channel``, ``amplitude_uv``, ``unit_id``).

        Read from the newest back, up to the first twitch of another run or more than
        ``slack`` samples before ``start_index`` (channels are decided separately, so the
        newest twitches are in sample order only within that slack)."""
        n = len(self)
        look = 16
        while True:
            look = min(look, n)
            pos = self._order(look)[::-1]  # newest first
            stop = (self._run[pos] != run) | (self._cols["sample_index"][pos] < start_index - slack)
            ends = np.flatnonzero(stop)
            if len(ends) or look == n:
                pos = pos[:ends[0]] if len(ends) else pos
                break
            look *= 4
        pos = pos[self._cols["sample_index"][pos] >= start_index][::-1]
        unit = self._cols["unit_id"][pos].tolist()
        has_unit = self._set["unit_id"][pos].tolist() if "unit_id" in self._set else [True] * len(unit)
        return [{"sample_index": si, "channel": ch, "amplitude_uv": amp, "unit_id": u if ok else None}
                for si, ch, amp, u, ok in zip(self._cols["sample_index"][pos].tolist(),
                                              self._cols["channel"][pos].tolist(),
                                              self._cols["amplitude_uv"][pos].tolist(), unit, has_unit)]


class EventColumns:
    """A copy of some of an :class:`EventRing`'s rows (see :meth:`EventRing.copy`)."""

    def __init__(self, spec: list[tuple[str, str, bool]], cols: dict[str, np.ndarray],
                 present: dict[str, np.ndarray], run: np.ndarray, strings: list[str]) -> None:
        # ``strings``: the ring's table as it was; the ring only appends to it, or replaces it
        # by a new list when it rebuilds it, so the ids copied here keep naming the same strings
        self._spec, self._cols, self._present, self._run, self._strings = spec, cols, present, run, strings

    def __len__(self) -> int:
        return len(self._run)

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as :meth:`TwitchEvent.to_json_dict` dicts with ``_run``, oldest first."""
        if not len(self._run):
            return []
        columns: list[tuple[str, list[Any]]] = []
        for name, kind, optional in self._spec:
            values = self._cols[name].tolist()
            if kind == "str":
                values = [self._strings[v] for v in values]
            if optional:
                values = [v if present else None for v, present in zip(values, self._present[name].tolist())]
            columns.append((name, values))
        t_s = dict(columns)["t_s"]
        columns += [("t", t_s), ("_run", self._run.tolist())]
        names = [name for name, _ in columns]
        return [dict(zip(names, row)) for row in zip(*(values for _, values in columns))]
