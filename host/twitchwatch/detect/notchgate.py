"""The mains notch cascade with a transient gate (detector 1.8).

Each notch is 1 − its resonator (``scipy.signal.iirpeak`` for the same w0 and Q; the
states of the two forms are negatives of each other). A large brief potential fed to the
resonators makes the notches ring for ~1/(π·BW) (≈ 160 ms at 2 Hz) afterwards; over
samples above a gate level the resonators instead free-run (the hum sinusoid they held,
continued) and the output is the input minus their sum, so the potential passes and
leaves no ringing. :class:`~twitchwatch.detect.mains.MainsCanceller` designs the cascade,
sets the level every mains window and owns one :class:`GatedNotches` per notch set.
Every decision depends only on the samples and the carried state (chunk-size invariant).

The cascade and its gates run sample by sample in one compiled pass (numba,
:func:`_gated_cascade`): the same direct-form II transposed recursion as scipy's
``sosfilt`` kernel, operation for operation (the outputs are the same bit for bit), and
the gate decisions the previous numpy version took by filtering ahead in pieces and
re-filtering up to each gate.
"""

from __future__ import annotations

import numba
import numpy as np

from .streamfilt import SosState


class GatedNotches:
    """A notch cascade ``sos`` over ``n_channels`` rows (µV), state carried, with one
    transient gate per channel: it closes after ``gate_hold`` samples in a row below the
    level, lasts at most ``gate_max`` samples, and after such a capped gate no gate opens
    until ``gate_max`` samples in a row were below the level."""

    def __init__(self, sos: np.ndarray, n_channels: int, gate_hold: int, gate_max: int) -> None:
        self.n_channels = int(n_channels)
        self.gate_hold = max(1, int(gate_hold))
        self.gate_max = max(1, int(gate_max))
        self.filter = SosState(sos, self.n_channels, steady_start=False)
        self.sos = self.filter.sos
        key = (self.sos.tobytes(), self.gate_max)
        tables = _TABLES.get(key)
        if tables is None:
            if len(_TABLES) >= _TABLES_MAX:
                _TABLES.clear()
            tables = _TABLES[key] = _resonator_tables(self.sos, self.gate_max)
        self._a1, self._rho, self._theta, self._cos_t, self._sin_t, self._cos_m, self._sin_m = tables
        self._no_est = np.zeros((self.n_channels, 0))
        self.gates = self.fresh_gates()

    def fresh_gates(self) -> "Gates":
        """One armed gate per channel."""
        return Gates(self.n_channels, self.sos.shape[0])

    def reset(self) -> None:
        """Filter state from rest and every gate armed (a new segment)."""
        self.filter.reset()
        self.gates = self.fresh_gates()

    def warm(self, buf: np.ndarray, level_uv: np.ndarray) -> None:
        """Settle a new cascade on the window just seen (``buf``, n_channels x n, µV), from
        rest: the first half plain (the resonators build up: the hum itself would open the
        gate), the second half gated like the live stream, so a potential there does not
        leave them ringing."""
        half = buf.shape[1] // 2
        gates = self.fresh_gates()
        self.filter.process(buf[:, :half])
        self.apply(buf[:, half:], level_uv, gates=gates)
        self.gates = gates

    def apply(self, x: np.ndarray, level_uv: np.ndarray, est: np.ndarray | None = None,
              gates: "Gates | None" = None) -> np.ndarray:
        """The notch cascade over ``x`` (n_channels, n) µV, gated per channel: returns the
        cleaned signal, updates the filter state and ``gates``.

        Each notch is 1 - its resonator (``iirpeak`` for the same w0 and Q; the states of
        the two forms are negatives of each other). Sample by sample in stream order: an
        armed gate opens at the first sample whose plainly filtered output exceeds the
        level; while open, every resonator free-runs (its zero-input response with the
        decay removed: the hum sinusoid it held, continued) and is not fed the signal;
        the output is the input minus the resonators' sum. It closes after ``gate_hold``
        samples in a row below the level, or after ``gate_max`` samples (then no gate
        until ``gate_max`` quiet samples). Every decision depends only on the samples and
        the carried state.

        ``level_uv``: the gate level per channel (µV; inf: never). ``est`` (a copy of ``x``,
        or None): gated samples there are replaced by the hum the resonators predict (the
        transient left out of the next estimate). ``gates``: the gate states to use and
        update (default: this cascade's own)."""
        gates = self.gates if gates is None else gates
        f = self.filter
        n = x.shape[1]
        if f.sos.shape[0] == 0 or n == 0:
            return f.process(x)
        if f.zi is None:
            f.zi = np.zeros((self.n_channels, f.sos.shape[0], 2))
        y = np.empty((self.n_channels, n))
        _gated_cascade(f.sos, np.ascontiguousarray(x, dtype=np.float64), f.zi, np.asarray(level_uv, dtype=np.float64),
                       self._no_est if est is None else est, est is not None, y,
                       gates.mode, gates.quiet, gates.m, gates.A, gates.B, self.gate_hold, self.gate_max,
                       self._a1, self._rho, self._cos_t, self._sin_t, self._cos_m, self._sin_m)
        return y


#: the resonator tables of recent cascades, by (sos bytes, gate_max): the mains canceller's
#: drift-extrapolated notch set changes most seconds, but among a few sets (never written to)
_TABLES: dict[tuple[bytes, int], tuple[np.ndarray, ...]] = {}
_TABLES_MAX = 64


def _resonator_tables(sos: np.ndarray, gate_max: int) -> tuple[np.ndarray, ...]:
    """Per section of ``sos``: a1, the resonator's pole radius rho and angle theta (a1 =
    -2 rho cos theta, a2 = rho^2), cos / sin theta, and cos / sin(theta m) for the gate's
    samples m = 0 .. gate_max + 1 (sections, m). Shared: never written to."""
    a1, a2 = sos[:, 4], sos[:, 5]
    a1 = a1.copy()
    rho = np.sqrt(a2)
    theta = np.arccos(np.clip(-a1 / (2.0 * rho), -1.0, 1.0)) if a1.size else a1.copy()
    ph = theta[:, None] * np.arange(gate_max + 2)[None, :]
    return a1, rho, theta, np.cos(theta), np.sin(theta), np.cos(ph), np.sin(ph)


class Gates:
    """The transient gates of ``n_channels`` channels over a cascade of ``n_sections``:
    per channel its mode (armed, open (gating) or disarmed: after a gate hit its longest
    length, until ``gate_max`` quiet samples), the samples in a row below the level
    (towards closing / re-arming), the samples gated so far, and the free-running
    resonators' amplitudes A, B per section (µV)."""

    ARMED, GATING, DISARMED = 0, 1, 2

    def __init__(self, n_channels: int, n_sections: int) -> None:
        self.mode = np.full(n_channels, Gates.ARMED, dtype=np.int64)
        self.quiet = np.zeros(n_channels, dtype=np.int64)
        self.m = np.zeros(n_channels, dtype=np.int64)
        self.A = np.zeros((n_channels, n_sections))
        self.B = np.zeros((n_channels, n_sections))


_ARMED, _GATING, _DISARMED = Gates.ARMED, Gates.GATING, Gates.DISARMED


@numba.njit(cache=True)
def _gated_cascade(sos, x, zi, level, est, use_est, y, mode, quiet, m, A, B, hold, gate_max,
                   a1, rho, cos_t, sin_t, cos_m, sin_m):
    """The gated notch cascade over ``x`` (C, n) into ``y``, state ``zi`` (C, sections, 2)
    and the gates (``mode``, ``quiet``, ``m``, ``A``, ``B`` per channel) updated in place;
    see :meth:`GatedNotches.apply`. Plain samples: scipy's ``sosfilt`` recursion (direct
    form II transposed), operation for operation. An open gate at its sample k: each
    resonator's free run A cos(theta k) + B sin(theta k), summed over the sections in
    order; the gate opens from the state before the sample that crossed the level
    (A = its zero-input output, B from the next one), and on closing after gate sample k
    the state resumes from the resonators' decaying response there."""
    C, n = x.shape
    S = sos.shape[0]
    z0 = np.empty(S)
    z1 = np.empty(S)
    for c in range(C):
        lv = level[c]
        t = 0
        while t < n:
            xv = x[c, t]
            if mode[c] != _GATING:
                # plain: filter the sample into a scratch state, keep it unless a gate opens
                cur = xv
                for s in range(S):
                    new = sos[s, 0] * cur + zi[c, s, 0]
                    z0[s] = sos[s, 1] * cur - sos[s, 4] * new + zi[c, s, 1]
                    z1[s] = sos[s, 2] * cur - sos[s, 5] * new
                    cur = new
                above = abs(cur) > lv
                if not (mode[c] == _ARMED and above):
                    for s in range(S):
                        zi[c, s, 0] = z0[s]
                        zi[c, s, 1] = z1[s]
                    y[c, t] = cur
                    if mode[c] == _DISARMED:
                        quiet[c] = 0 if above else quiet[c] + 1
                        if quiet[c] >= gate_max:
                            mode[c], quiet[c] = _ARMED, 0
                    t += 1
                    continue
                # open the gate from the state before this sample (resonator state = -notch state)
                for s in range(S):
                    y0 = -zi[c, s, 0]
                    y1 = -zi[c, s, 1] - a1[s] * y0
                    A[c, s] = y0
                    B[c, s] = (y1 / rho[s] - y0 * cos_t[s]) / sin_t[s]
                mode[c], m[c], quiet[c] = _GATING, 0, 0
            # gating: this sample is the input minus the free-running resonators
            k = m[c]
            r = 0.0
            for s in range(S):
                v = A[c, s] * cos_m[s, k] + B[c, s] * sin_m[s, k]
                r = v if s == 0 else r + v
            yg = xv - r
            y[c, t] = yg
            if use_est:
                est[c, t] = r
            quiet[c] = 0 if abs(yg) > lv else quiet[c] + 1
            m[c] = k + 1
            t += 1
            if quiet[c] >= hold or m[c] >= gate_max:
                mode[c] = _ARMED if quiet[c] >= hold else _DISARMED
                quiet[c] = 0
                j = m[c]
                for s in range(S):
                    y0 = A[c, s] * cos_m[s, j] + B[c, s] * sin_m[s, j]
                    y1 = rho[s] * (A[c, s] * cos_m[s, j + 1] + B[c, s] * sin_m[s, j + 1])
                    zi[c, s, 0] = -y0
                    zi[c, s, 1] = -(y1 + a1[s] * y0)
