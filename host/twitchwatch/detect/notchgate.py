"""The mains notch cascade with a transient gate (detector 1.8).

Each notch is 1 − its resonator (``scipy.signal.iirpeak`` for the same w0 and Q; the
states of the two forms are negatives of each other). A large brief potential fed to the
resonators makes the notches ring for ~1/(π·BW) (≈ 160 ms at 2 Hz) afterwards; over
samples above a gate level the resonators instead free-run (the hum sinusoid they held,
continued) and the output is the input minus their sum, so the potential passes and
leaves no ringing. :class:`~twitchwatch.detect.mains.MainsCanceller` designs the cascade,
sets the level every mains window and owns one :class:`GatedNotches` per notch set.
Every decision depends only on the samples and the carried state (chunk-size invariant).
"""

from __future__ import annotations

import numpy as np

from .streamfilt import SosState, sosfilt_rows


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
        # per section: the resonator's pole radius and angle (a1 = -2 rho cos theta, a2 = rho^2)
        a1, a2 = self.sos[:, 4], self.sos[:, 5]
        self._a1 = a1.copy()
        self._rho = np.sqrt(a2)
        self._theta = np.arccos(np.clip(-a1 / (2.0 * self._rho), -1.0, 1.0)) if a1.size else a1.copy()
        self._cos_t, self._sin_t = np.cos(self._theta), np.sin(self._theta)
        # cos / sin(theta m) for the gate's samples m = 0 .. gate_max + 1 (sections, m)
        ph = self._theta[:, None] * np.arange(self.gate_max + 2)[None, :]
        self._cos_m, self._sin_m = np.cos(ph), np.sin(ph)
        self.gates = self.fresh_gates()

    def fresh_gates(self) -> list["_Gate"]:
        """One armed gate per channel."""
        return [_Gate() for _ in range(self.n_channels)]

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
              gates: list | None = None) -> np.ndarray:
        """The notch cascade over ``x`` (n_channels, n) µV, gated per channel: returns the
        cleaned signal, updates the filter state and ``gates``.

        Each notch is 1 - its resonator (``iirpeak`` for the same w0 and Q; the states of
        the two forms are negatives of each other). A channel is filtered plainly (one
        cascade call) unless a cleaned sample exceeds its gate level or a gate is open;
        then it is re-filtered from the block's start state, sample positions decided in
        stream order: the gate opens at the first sample above the level; while open, every
        resonator free-runs (its zero-input response with the decay removed: the hum
        sinusoid it held, continued) and is not fed the signal; the output is the input
        minus the resonators' sum. It closes after ``gate_hold`` samples in a row below the
        level, or after ``gate_max`` samples (then no gate until ``gate_max`` quiet
        samples). Every decision depends only on the samples and the carried state.

        ``level_uv``: the gate level per channel (µV; inf: never). ``est`` (a copy of ``x``,
        or None): gated samples there are replaced by the hum the resonators predict (the
        transient left out of the next estimate). ``gates``: the gate states to use and
        update (default: this cascade's own)."""
        gates = self.gates if gates is None else gates
        f = self.filter
        n = x.shape[1]
        if f.sos.shape[0] == 0 or n == 0:
            return f.process(x)
        z0 = f.zi.copy() if f.zi is not None else np.zeros((self.n_channels, f.sos.shape[0], 2))
        y = f.process(x)
        level = level_uv
        any_above = (np.abs(y) > level[:, None]).any(axis=1).tolist()  # inf level: never
        for c in range(self.n_channels):
            g = gates[c]
            if g.mode == _Gate.ARMED and not any_above[c]:
                continue
            if g.mode == _Gate.DISARMED and not any_above[c]:
                g.quiet += n
                if g.quiet >= self.gate_max:
                    g.mode, g.quiet = _Gate.ARMED, 0
                continue
            y[c], f.zi[c] = self._gated_channel(np.ascontiguousarray(x[c], dtype=np.float64), z0[c], g, float(level[c]),
                                                None if est is None else est[c], (y[c].copy(), f.zi[c].copy()))
        return y

    def _gated_channel(self, x: np.ndarray, z: np.ndarray, g: "_Gate", level: float,
                       est: np.ndarray | None = None, plain: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One channel's notch cascade over ``x`` (n,) from notch state ``z`` (sections, 2),
        gate state ``g`` updated in place; returns (cleaned (n,), final state). ``plain``:
        the ungated output and final state from ``z`` over all of ``x``, if known (the
        same kernel, bit for bit: the first search for a gate need not filter again)."""
        sos = self.filter.sos
        n = x.size
        y = np.empty(n)
        z = z.copy()
        pos = 0
        chunk = _SEARCH
        while pos < n:
            if g.mode == _Gate.GATING:
                L = min(n - pos, self.gate_max - g.m)
                r = self._free_run(g, g.m, L)
                yg = x[pos : pos + L] - r
                end, quiet = _quiet_end(np.abs(yg) > level, g.quiet, self.gate_hold)
                take = L if end is None else end
                y[pos : pos + take] = yg[:take]
                if est is not None:
                    est[pos : pos + take] = r[:take]
                g.m += take
                pos += take
                if end is None and g.m < self.gate_max:
                    g.quiet = quiet
                    continue
                z = self._state_after(g, g.m)
                g.mode, g.quiet = (_Gate.ARMED if end is not None else _Gate.DISARMED), 0
                continue
            # the next gate: searched in pieces of 128, 256, 512 ... samples (the state
            # carried, so the same result), so a block with many gates costs ~ its length,
            # not gates x length
            if pos == 0 and plain is not None:
                (yu, zf), seg_len = plain, n
            else:
                seg_len = min(chunk, n - pos)
                yu, zf = _sosfilt(sos, x[pos : pos + seg_len], z)
                chunk *= 2
            above = np.abs(yu) > level
            start = 0
            if g.mode == _Gate.DISARMED:
                end, quiet = _quiet_end(above, g.quiet, self.gate_max)
                if end is None:
                    g.quiet = quiet
                    y[pos : pos + seg_len] = yu
                    z = zf
                    pos += seg_len
                    continue
                g.mode, g.quiet = _Gate.ARMED, 0
                start = end
            idx = np.flatnonzero(above[start:])
            if idx.size == 0:
                y[pos : pos + seg_len] = yu
                z = zf
                pos += seg_len
                continue
            j = start + int(idx[0])
            y[pos : pos + j] = yu[:j]
            if j:
                _, z = _sosfilt(sos, x[pos : pos + j], z)
            pos += j
            chunk = _SEARCH
            self._open_gate(g, z)
        return y, z

    def _open_gate(self, g: "_Gate", z: np.ndarray) -> None:
        """Open the gate with notch state ``z``: each resonator's zero-input response is
        rho^m (A cos(theta m) + B sin(theta m)); the gate continues A cos + B sin."""
        zp = -z  # resonator (peak-form) state
        y0 = zp[:, 0]
        y1 = zp[:, 1] - self._a1 * y0  # its zero-input output one sample later
        g.A = y0.copy()
        g.B = (y1 / self._rho - y0 * self._cos_t) / self._sin_t
        g.mode, g.m, g.quiet = _Gate.GATING, 0, 0

    def _free_run(self, g: "_Gate", m0: int, L: int) -> np.ndarray:
        """Sum of the free-running resonators at gate samples m0 .. m0 + L - 1 (µV)."""
        rows = g.A[:, None] * self._cos_m[:, m0 : m0 + L]
        rows += g.B[:, None] * self._sin_m[:, m0 : m0 + L]
        r = rows[0].copy()
        for k in range(1, rows.shape[0]):
            r += rows[k]
        return r

    def _state_after(self, g: "_Gate", m: int) -> np.ndarray:
        """Notch state resuming at gate sample ``m``: the resonators' decaying zero-input
        response from their free-run values there."""
        y0 = g.A * self._cos_m[:, m] + g.B * self._sin_m[:, m]
        y1 = self._rho * (g.A * self._cos_m[:, m + 1] + g.B * self._sin_m[:, m + 1])
        z = np.empty((y0.size, 2))
        np.negative(y0, out=z[:, 0])
        np.negative(y1 + self._a1 * y0, out=z[:, 1])
        return z


class _Gate:
    """One channel's transient gate: armed, open (gating) or disarmed (after a gate hit
    its longest length, until ``gate_max`` quiet samples)."""

    ARMED, GATING, DISARMED = 0, 1, 2

    def __init__(self) -> None:
        self.mode = _Gate.ARMED
        self.quiet = 0  # samples in a row below the level (towards closing / re-arming)
        self.m = 0  # samples gated so far
        self.A = self.B = None


def _quiet_end(above: np.ndarray, quiet0: int, hold: int) -> tuple[int | None, int]:
    """Where a run of ``hold`` samples not ``above`` completes, counting ``quiet0`` such
    samples before ``above[0]``: (index one past it, 0), or (None, the trailing run)."""
    n = above.size
    idx = np.flatnonzero(above).tolist()
    if not idx:
        return (hold - quiet0, 0) if quiet0 + n >= hold else (None, quiet0 + n)
    if quiet0 + idx[0] >= hold:
        return hold - quiet0, 0
    prev = idx[0]
    for i in idx:  # a gate's samples above the level: few
        if i - prev > hold:
            return prev + 1 + hold, 0
        prev = i
    tail = n - prev - 1
    if tail >= hold:
        return prev + 1 + hold, 0
    return None, tail


_SEARCH = 128  # samples filtered first while looking for the next gate (then x2 each time)


def _sosfilt(sos: np.ndarray, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One signal (n,) through ``sos`` from state ``z`` (sections, 2): (output, final state),
    the same kernel as :class:`SosState` (bit-identical to filtering it as a row there)."""
    out = np.array(x, dtype=np.float64, order="C", copy=True)[None, :]
    zi = np.array(z, dtype=np.float64, order="C", copy=True)[None]
    y, zf = sosfilt_rows(sos, out, zi)
    return y[0], zf[0]
