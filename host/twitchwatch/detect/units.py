"""Online motor-unit identity by shape clustering (per channel, ids unique across channels).

A candidate's shape is the cleaned signal from ``shape_pre_ms`` before to
``shape_post_ms`` after its peak, taken with a margin of 2 samples each side so it can be
re-aligned by up to ±2 samples. Distance to a template = min over shifts of the L2
distance between unit-norm shapes (0 = identical, sqrt(2) = orthogonal; 0.35 ~
correlation 0.94). The candidate joins the nearest template if the distance is below
a limit and the amplitude ratio is within ``max_amp_ratio``; the template then
moves ``learn_rate`` of the way towards the candidate (re-normalised) so it follows slow
changes without drifting to a neighbour. Otherwise it founds a new unit. Unit ids are
``local_index * n_channels + channel``: unique across channels and independent of the
other channels' order of decisions.

The distance limit allows for the noise: two noisy copies of one shape differ even
when the unit is the same. For a shape s = a·u + n (u unit-norm, white noise of σ per
sample over L samples), the squared distance of its unit-norm version to the clean
shape is ≈ ρ = L·σ² / a² (the noise-to-signal energy ratio), and ≈ 2ρ between two
single noisy copies (a unit's first template is one). The limit is
sqrt(max_distance² + noise_factor·ρ), at most ``max_noisy_distance``: with
noise_factor = 3 (2ρ plus half again for the spread of the noise energy: its 95th
percentile is ~1.35× its mean for L ≈ 50), a potential near the detection threshold is
not split off its unit by the noise alone, while a clean one keeps the strict 0.35. The
amplitude ratio bound still separates units of different size; units of the same size
whose shapes correlate above ~0.75 can merge under heavy noise (the cap). Without a
noise level (``noise_uv`` None or not finite) the limit is ``max_distance``.
"""

from __future__ import annotations

import numpy as np


class UnitBook:
    def __init__(self, n_channels: int, max_distance: float, max_amp_ratio: float, learn_rate: float, max_units: int,
                 noise_factor: float = 0.0, max_noisy_distance: float | None = None) -> None:
        self.n_channels = n_channels
        self.max_distance = float(max_distance)
        self.noise_factor = float(noise_factor)
        self.max_noisy_distance = self.max_distance if max_noisy_distance is None else float(max_noisy_distance)
        self.max_amp_ratio = float(max_amp_ratio)
        self.learn_rate = float(learn_rate)
        self.max_units = int(max_units)
        self._templates: list[list[dict]] = [[] for _ in range(n_channels)]
        self._next_local = [0] * n_channels
        self._clock = [0] * n_channels
        # per channel, parallel to the template list: shapes (max_units, width) and
        # amplitudes, so a match needs no re-stacking; None until the first template,
        # and for good once a channel holds templates of different widths (then the lists)
        self._rows: list[np.ndarray | None] = [None] * n_channels
        self._amps: list[np.ndarray | None] = [None] * n_channels
        self._mixed = [False] * n_channels

    def assign(self, channel: int, shape: np.ndarray, amp_pp: float, margin: int = 2,
               noise_uv: float | None = None) -> tuple[int, float | None]:
        """Return ``(unit_id, match)``: ``match`` is the distance to the joined template
        over the distance limit used (0 identical .. <1), None for a new unit.
        ``noise_uv``: the noise σ per sample of ``shape`` (µV), which widens the limit."""
        s = 2
        self._clock[channel] += 1
        width = shape.size - 2 * s
        if width < 4:
            return self._new(channel, None, amp_pp), None
        shifts = np.stack([shape[k : k + width] for k in range(2 * s + 1)])
        norms = np.linalg.norm(shifts, axis=1)
        limit = self.max_distance
        if self.noise_factor > 0 and noise_uv is not None and np.isfinite(noise_uv) and noise_uv > 0:
            energy = float(norms[s]) ** 2
            e_noise = width * float(noise_uv) ** 2
            e_signal = max(energy - e_noise, 0.25 * energy)  # noise-dominated shapes: rho <= 4 L sigma^2 / energy
            limit = min(self.max_noisy_distance, float(np.sqrt(self.max_distance**2 + self.noise_factor * e_noise / e_signal)))
        norms[norms == 0] = 1.0
        shifts = shifts / norms[:, None]
        centre = shifts[s]
        best, best_d = None, np.inf
        lo, hi = 1.0 / self.max_amp_ratio, self.max_amp_ratio
        book = self._templates[channel]
        arr = self._rows[channel]
        amps_all = self._amps[channel]
        fast = not self._mixed[channel] and arr is not None
        if fast:
            assert arr is not None and amps_all is not None  # a channel's rows and amps exist together
            K = len(book)
            amps = amps_all[:K]
            if arr.shape[1] == width:
                with np.errstate(divide="ignore"):
                    ratio = np.where(amps > 0, amp_pp / np.where(amps > 0, amps, 1.0), np.inf)
                idx = np.flatnonzero((lo <= ratio) & (ratio <= hi))
            else:
                idx = np.zeros(0, dtype=int)
            eligible = [book[i] for i in idx.tolist()]
            stacked = arr[idx] if eligible else None
        else:
            eligible = [t for t in book if t["shape"].size == width
                        and lo <= (amp_pp / t["amp"] if t["amp"] > 0 else np.inf) <= hi]
            stacked = np.stack([t["shape"] for t in eligible]) if eligible else None
        if eligible:
            assert stacked is not None
            # all templates x all shifts at once; same sums as a per-template norm
            diff = shifts[None, :, :] - stacked[:, None, :]
            d = np.sqrt((diff * diff).sum(axis=2))  # (templates, shifts)
            i = int(np.argmin(d.min(axis=1)))  # first of equals, as a strict-< loop
            best_k = int(np.argmin(d[i]))
            best, best_d = eligible[i], float(d[i, best_k])
            best_row = int(idx[i]) if fast else -1
        if best is not None and best_d < limit:
            new = (1 - self.learn_rate) * best["shape"] + self.learn_rate * shifts[best_k]
            best["shape"] = new / (np.linalg.norm(new) or 1.0)
            best["amp"] = (1 - self.learn_rate) * best["amp"] + self.learn_rate * amp_pp
            if fast:
                assert arr is not None and amps_all is not None  # the channel's own arrays (no _new since)
                arr[best_row] = best["shape"]
                amps_all[best_row] = best["amp"]
            best["seen"] = self._clock[channel]
            best["n"] += 1
            return best["id"], best_d / limit
        return self._new(channel, centre, amp_pp), None

    def mark_clear(self, channel: int, unit_id: int) -> None:
        """Note that ``unit_id`` (a template of ``channel``) fired clearly (counting policy:
        its later, weaker firings count). No effect for a unit without a template."""
        for t in self._templates[channel]:
            if t["id"] == unit_id:
                t["clear"] = True
                return

    def is_clear(self, channel: int, unit_id: int) -> bool:
        """Whether ``unit_id`` has fired clearly before (:meth:`mark_clear`)."""
        return any(t["id"] == unit_id and t.get("clear", False) for t in self._templates[channel])

    def clear_templates(self, channel: int, width: int, min_firings: int = 1) -> tuple[np.ndarray, list[int], np.ndarray]:
        """The templates of ``channel``'s units that fired clearly (:meth:`mark_clear`), have
        joined at least ``min_firings`` firings and are ``width`` samples wide: ``(shapes
        (K, width) unit-norm, unit ids, amplitudes µV p-p)``; K may be 0."""
        book = [t for t in self._templates[channel]
                if t.get("clear", False) and t["n"] >= min_firings and t["shape"].size == width]
        if not book:
            return np.zeros((0, width)), [], np.zeros(0)
        return np.stack([t["shape"] for t in book]), [t["id"] for t in book], np.array([t["amp"] for t in book])

    def _new(self, channel: int, shape: np.ndarray | None, amp_pp: float) -> int:
        uid = self._next_local[channel] * self.n_channels + channel
        self._next_local[channel] += 1
        if shape is None:
            return uid
        book = self._templates[channel]
        if len(book) >= self.max_units:
            victim = min(book, key=lambda t: (t["n"] > 3, t["seen"]))
            j = next(i for i, t in enumerate(book) if t is victim)
            del book[j]
            rows, amps = self._rows[channel], self._amps[channel]
            if rows is not None:
                assert amps is not None  # a channel's rows and amps exist together
                K = len(book)
                rows[j:K] = rows[j + 1 : K + 1].copy()
                amps[j:K] = amps[j + 1 : K + 1].copy()
        book.append({"id": uid, "shape": shape.copy(), "amp": float(amp_pp), "seen": self._clock[channel], "n": 1})
        if not self._mixed[channel]:
            rows, amps = self._rows[channel], self._amps[channel]
            if rows is None:
                rows = self._rows[channel] = np.zeros((max(self.max_units, 1), shape.size))
                amps = self._amps[channel] = np.zeros(max(self.max_units, 1))
            if rows.shape[1] != shape.size:
                self._mixed[channel] = True
                self._rows[channel] = self._amps[channel] = None
            else:
                assert amps is not None  # a channel's rows and amps exist together
                rows[len(book) - 1] = book[-1]["shape"]
                amps[len(book) - 1] = book[-1]["amp"]
        return uid

