"""Mains hum: find 50 vs 60 Hz, follow its drift and harmonics, notch it out.

Every ``window`` samples (aligned to the segment start, never to block boundaries) the
band-passed signal of the last window is Hann-windowed and its DFT evaluated on a fine
grid over ``50 ± search`` and ``60 ± search`` Hz (demodulated by 50 and 60 Hz, then one
matrix product shared by both bands: the grid is far finer than the 1/window
resolution, which with one dominant tone places the peak to ~0.01 Hz). Power is
pooled over channels (one mains for the whole device); the band with more power
names the fundamental ``f0``. The amplitude at ``h * f0`` for ``h = 1 .. max_harmonic``
(below 0.45 fs) gives each harmonic's RMS per channel.

A harmonic is notched (``scipy.signal.iirnotch``'s design, :func:`.designs.iirnotch`, -3 dB width ``bw_hz``) when its RMS on
some channel exceeds ``max(min_uv, min_snr * noise floor)``. With no hum found, the
signal is left alone (a notch rings after large potentials); a hum burst on a channel
without standing hum is then not seen as hum (it looks like sustained activity).

When the set of notches changes, the new cascade's state is computed by running it
over the window just analysed (from rest): a notch of width 2 Hz settles in ~0.16 s,
so the switch causes no transient in the output. All decisions depend only on the
samples, at fixed sample positions: the stage is chunk-size invariant.

Transient gate (detector 1.8, :mod:`twitchwatch.detect.notchgate`): each notch is 1 - its
resonator; a cleaned sample above max(gate_k x floor, gate_hum_ratio x hum RMS) (µV, both
as of the last window's end) opens a per-channel gate over which the resonators free-run
instead of being fed the signal, so a large brief potential does not make the notches
ring; the gated samples enter the next estimate as the predicted hum. The same notches
(ungated) also clean the engine's low band (:meth:`MainsCanceller.notch_low_band`).
"""

from __future__ import annotations

import numba
import numpy as np

from .designs import iirnotch
from .floor import median_rows
from .notchgate import GatedNotches
from .streamfilt import SosState

MAINS_BASES_HZ = (50.0, 60.0)
#: A harmonic counts as hum only if its amplitude exceeds PEAK_RATIO x the amplitude
#: measured REFERENCE_OFFSET_HZ either side (broadband activity, e.g. twitches, is flat).
PEAK_RATIO = 3.0
REFERENCE_OFFSET_HZ = 3.0

_blas_libs = None  # threadpoolctl's BLAS library controllers, found on first use (~ms)
_blas_held = False  # hold_one_blas_thread() was called: BLAS stays at one thread


def hold_one_blas_thread() -> None:
    """For a process that runs on one core (a fast replay, one per worker with ``--jobs``):
    from the next mains estimate on, every BLAS library stays limited to one thread,
    instead of being limited around each estimate's product and restored after it
    (:class:`_OneBlasThread`). Restoring every window cost ~0.1 ms of the process's CPU
    per window here (OpenBLAS's threads woken for nothing), ~0.3 s per hour of signal.
    The same products, bit for bit."""
    global _blas_held
    _blas_held = True


class _OneBlasThread:
    """Context: every BLAS library loaded (OpenBLAS, MKL ...) limited to one thread,
    each restored to its previous count on exit (the libraries' own get /
    set_num_threads, found once by threadpoolctl), unless :func:`hold_one_blas_thread`
    was called: then they stay at one thread.

    The estimate's grid product ((4C, window) x (window, 41), once per window) is large
    enough for OpenBLAS to split it over threads on some processors, which then
    busy-wait after the product: on 2 cores that doubled the process's CPU time for no
    gain in wall time, and a live user pays it too. The product is the same bit for bit
    (OpenBLAS splits over output blocks, not over the summed axis;
    bench/detect/engine_ab.py compares). The limit is process-wide while it holds
    (~0.5 ms per window): BLAS calls of other threads in that time run on one thread.
    What ``threadpoolctl``'s ``limit(limits=1, user_api="blas")`` does, without building
    its objects every window (~10-20 µs)."""

    __slots__ = ("_prev",)

    def __enter__(self) -> None:
        global _blas_libs
        if _blas_libs is None:
            try:
                from threadpoolctl import ThreadpoolController

                _blas_libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
            except Exception:  # pragma: no cover - a declared dependency; unknown platform: leave BLAS alone
                _blas_libs = []
        self._prev = [lib.num_threads for lib in _blas_libs]
        for lib, n in zip(_blas_libs, self._prev):
            if n != 1:
                lib.set_num_threads(1)

    def __exit__(self, *exc) -> None:
        if _blas_held:
            return
        for lib, n in zip(_blas_libs or (), self._prev):
            if n != 1:
                lib.set_num_threads(n)


def _one_blas_thread() -> _OneBlasThread:
    """See :class:`_OneBlasThread`."""
    return _OneBlasThread()


class MainsCanceller:
    def __init__(
        self,
        n_channels: int,
        rate_hz: float,
        window: int,
        grid_step_hz: float,
        search_hz: float,
        min_uv: float,
        min_snr: float,
        bw_hz: float,
        max_harmonic: int,
        gate_k: float = 4.0,
        gate_hold: int = 16,
        gate_max: int = 200,
        gate_hum_ratio: float = 1.0,
    ) -> None:
        self.n_channels = int(n_channels)
        self.rate_hz = float(rate_hz)
        self.window = int(window)
        self.min_uv = float(min_uv)
        self.min_snr = float(min_snr)
        self.bw_hz = float(bw_hz)
        self.max_harmonic = int(max_harmonic)
        self.grid_step_hz = float(grid_step_hz)
        self.gate_k = float(gate_k)
        self.gate_hold = max(1, int(gate_hold))
        self.gate_max = max(1, int(gate_max))
        self.gate_hum_ratio = float(gate_hum_ratio)
        self._gate_uv = np.full(self.n_channels, np.inf)  # gate level per channel (µV), set per window
        n = np.arange(self.window)
        self._hann = np.hanning(self.window)
        self._gain = 2.0 / self._hann.sum()  # |X| * gain = tone peak amplitude
        grids = [np.arange(b - search_hz, b + search_hz + 1e-9, grid_step_hz) for b in MAINS_BASES_HZ]
        self._grid_hz = np.concatenate(grids)
        self._split = grids[0].size
        # Grid DFT, factored: each band is 2 K + 1 points base + k * step (|k| <= K). The
        # Hann-windowed signal is demodulated by each base (rows: re, im per band), then one
        # real basis cos / sin(2 pi k step n / fs), k = 0 .. K, serves both bands and +-k.
        # (A 2000 x 41 basis, 0.66 MB, instead of the 2000 x 164 one, 2.6 MB, read cold
        # every window; the same sums up to float rounding.)
        self._k_half = int(round(search_hz / grid_step_hz))
        K = self._k_half
        if any(g.size != 2 * K + 1 for g in grids):
            raise ValueError("mains search width must be a whole number of grid steps")
        w = 2 * np.pi * grid_step_hz / self.rate_hz
        self._grid_cs = np.ascontiguousarray(
            np.concatenate((np.cos(np.outer(n, np.arange(K + 1)) * w), np.sin(np.outer(n, np.arange(1, K + 1)) * w)), axis=1)
        )  # (window, 2K + 1)
        demod = []
        for b in MAINS_BASES_HZ:
            theta = 2 * np.pi * b * n / self.rate_hz
            demod += [self._hann * np.cos(theta), -self._hann * np.sin(theta)]
        self._demod = np.array(demod)  # (4, window): band 0 re, im, band 1 re, im
        self._z = np.empty((self.n_channels, 4, self.window))
        self._spec = np.empty((self.n_channels, 2, 2 * K + 1))
        self._pooled = np.empty(2 * (2 * K + 1))
        # Harmonic amplitudes: Hann x cos / sin of h f0, h f0 - 3 Hz, h f0 + 3 Hz against the
        # window, the cos / sin generated by rotation from one pair in the same compiled pass
        # that sums them (:func:`_harmonic_sums`; no basis stored, only cos / sin of f0)
        self._phase_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        ref = 2 * np.pi * REFERENCE_OFFSET_HZ * n / self.rate_hz
        self._ref_cs = (np.cos(ref), np.sin(ref))
        self._n = n
        self._buf = np.zeros((self.n_channels, self.window))
        self._fill = 0
        self._estimate_due = False  # a window ended with the last block: estimate on the next call
        self.mains_hz: float | None = None
        self.harmonic_rms_uv = np.zeros((self.n_channels, self.max_harmonic))
        self.hum_rms_uv = np.zeros(self.n_channels)
        self._recent_hum = np.zeros((self.n_channels, 0))
        self.hum_base_uv = np.zeros(self.n_channels)  # median hum RMS of the last 5 windows
        self._notches: tuple[float, ...] = ()
        self._section_cache: dict[tuple[float, float], np.ndarray] = {}  # (f, bw) -> (1, 6) sos
        self._cascade_cache: dict[tuple[float, ...], np.ndarray] = {}  # notch set -> its sos (never written to)
        self._valid_cache: dict[int, np.ndarray] = {}  # f0 key -> harmonics below 0.45 fs
        self._notch = self._make_filter(self._probe_notches())

    # ------------------------------------------------------------------
    def _probe_notches(self) -> tuple[float, ...]:
        # No notch without hum: a notch rings after every large potential (~5 % of its
        # peak for ~0.2 s), which would give false candidates for nothing.
        return ()

    def _make_filter(self, notches: tuple[float, ...]) -> GatedNotches:
        self._notches = notches
        f = GatedNotches(self._design(notches), self.n_channels, self.gate_hold, self.gate_max)
        # the same notches for the low band (see :meth:`notch_low_band`): state kept while
        # the number of notches stays (a re-tune moves them by ~0.05 Hz), else from rest
        old = getattr(self, "_low", None)
        low = SosState(f.sos, self.n_channels, steady_start=False)
        if old is not None and old.zi is not None and old.sos.shape == f.sos.shape:
            low.zi = old.zi
        self._low = low
        return f

    def _design(self, notches: tuple[float, ...]) -> np.ndarray:
        """The notch cascade for a set of frequencies (shared, never written to), kept per
        set: the drift-extrapolated set changes most seconds, but among a few sets."""
        sos = self._cascade_cache.get(notches)
        if sos is None:
            if len(self._cascade_cache) >= 64:
                self._cascade_cache.clear()
            sos = self._cascade_cache[notches] = self._design_sections(notches)
        return sos

    def _design_sections(self, notches: tuple[float, ...]) -> np.ndarray:
        """The notch cascade for a set of frequencies, from cached sections (designing one
        costs ~10 µs; the drift-extrapolated set changes most seconds, its members far
        less often)."""
        sections = []
        base = notches[0] if notches else 1.0
        for f in notches:
            # harmonic h drifts h times as far: its width grows as sqrt(h)
            bw = self.bw_hz * float(np.sqrt(max(1.0, round(f / base))))
            sos = self._section_cache.get((f, bw))
            if sos is None:
                if len(self._section_cache) > 512:
                    self._section_cache.clear()
                # iirnotch gives one biquad with a[0] = 1: its (b, a) is the section itself
                # (tf2sos would go through its roots and back, ~0.5 ms, to within 1e-15)
                b, a = iirnotch(f, f / bw, self.rate_hz)
                sos = self._section_cache[(f, bw)] = np.concatenate((b, a))[None, :]
            sections.append(sos)
        return np.vstack(sections) if sections else np.zeros((0, 6))

    @property
    def notches_hz(self) -> tuple[float, ...]:
        return self._notches

    def samples_to_window_end(self) -> int:
        """Samples until the current estimation window ends. A caller that ends a block
        there gets each estimate made with the noise floor in force at the window's end
        (passed with the next block), whatever its block split (see :meth:`process`)."""
        return self.window if self._estimate_due else self.window - self._fill

    def reset_segment(self, floor_uv: np.ndarray) -> None:
        """After a gap: make an estimate still due (``floor_uv``: the floor at the gap),
        then restart the window and the notch state; keep the estimate."""
        if self._estimate_due:
            self._run_estimate(floor_uv)
        self._fill = 0
        self._notch.reset()
        self._low.reset()

    # ------------------------------------------------------------------
    def process(self, y_bp: np.ndarray, floor_uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remove the hum from ``y_bp`` (n_channels, n). Returns the cleaned signal and,
        per sample, the hum baseline (µV RMS) in force: the median hum of the last 5
        windows, so a second-long burst stands out against it.

        ``floor_uv`` is the noise floor (µV RMS per channel) in force at the start of
        ``y_bp``; the estimate compares tones with it. A window that ends exactly at the
        end of ``y_bp`` is estimated at the start of the next call, with the floor given
        then (the floor at the window's end): a caller that ends blocks at
        :meth:`samples_to_window_end` gets estimates that do not depend on how the stream
        was split. A window ending inside ``y_bp`` is estimated there, with ``floor_uv``."""
        n = y_bp.shape[1]
        base = np.empty_like(y_bp)
        if n == 0:
            return y_bp.copy(), base
        if self._estimate_due:
            self._run_estimate(floor_uv)
        pieces = []
        pos = 0
        while pos < n:
            take = min(self.window - self._fill, n - pos)
            piece = y_bp[:, pos : pos + take]
            dst = self._buf[:, self._fill : self._fill + take]
            dst[...] = piece
            pieces.append(self._notch.apply(piece, self._gate_uv, dst))
            base[:, pos : pos + take] = self.hum_base_uv[:, None]
            self._fill += take
            pos += take
            if self._fill == self.window:
                if pos == n:
                    self._estimate_due = True  # the buffer is kept until then
                else:
                    self._run_estimate(floor_uv)
        return (pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=1)), base

    def _run_estimate(self, floor_uv: np.ndarray) -> None:
        with _one_blas_thread():
            self._estimate(floor_uv)
        self._fill = 0
        self._estimate_due = False

    def _grid_spectrum(self, buf: np.ndarray) -> np.ndarray:
        """|DFT|^2 of the Hann-windowed ``buf`` on the grid (C, 2 bands x (2K + 1)); its sum
        over channels is left in ``self._pooled`` (:func:`_grid_power`)."""
        K = self._k_half
        z = self._z
        np.multiply(buf[:, None, :], self._demod[None], out=z)
        p = z.reshape(-1, self.window) @ self._grid_cs  # (4C, 2K + 1)
        _grid_power(p, K, self._spec, self._pooled)
        return self._spec.reshape(self._spec.shape[0], -1)

    def _harmonic_dft(self, buf: np.ndarray, f0: float) -> np.ndarray:
        """The window ``buf`` (C, window) against Hann x cos / sin at h f0, h f0 - 3 Hz and
        h f0 + 3 Hz (h = 1 .. H): (6H, C), rows cos of h f0, h f0 - 3, h f0 + 3 (H rows
        each), then the sines. cos / sin(2 pi f0 n / fs) by numpy (up to 64 pairs kept, by
        f0: the estimate quantises it), the harmonics and offsets by rotation and angle
        sums in one compiled pass (:func:`_harmonic_sums`)."""
        cs = self._phase_cache.get(f0)
        if cs is None:
            if len(self._phase_cache) > 64:
                self._phase_cache.clear()
            theta = self._n * (2 * np.pi * f0 / self.rate_hz)
            cs = self._phase_cache[f0] = (np.cos(theta), np.sin(theta))
        out = np.empty((6 * self.max_harmonic, buf.shape[0]))
        _harmonic_sums(buf, cs[0], cs[1], self._ref_cs[0], self._ref_cs[1], self._hann, out)
        return out

    def _estimate(self, floor_uv: np.ndarray) -> None:
        # the window less its mean: np.mean's own sum and division (the same values),
        # without its per-call overhead
        mean = np.add.reduce(self._buf, axis=1, keepdims=True)
        np.true_divide(mean, self.window, out=mean)
        buf = self._buf - mean
        self._grid_spectrum(buf)  # (C, grid)
        pooled = self._pooled  # summed over channels
        peak = _peak_index(pooled, self._split)  # the stronger band's maximum
        f0 = float(self._grid_hz[peak])
        if 0 < peak < pooled.size - 1 and peak != self._split - 1 and peak != self._split:
            lo, mid, hi = float(pooled[peak - 1]), float(pooled[peak]), float(pooled[peak + 1])
            denom = lo - 2 * mid + hi
            if denom < 0:  # then lo, mid, hi are finite: min / max clip as np.clip
                f0 += min(max(0.5 * (lo - hi) / denom, -0.5), 0.5) * self.grid_step_hz
        # harmonic amplitudes at f0 quantised to 1/10 of the grid step
        key = int(round(f0 / (0.1 * self.grid_step_hz)))
        f0 = key * 0.1 * self.grid_step_hz
        H = self.max_harmonic
        # harmonics below 0.45 fs (3 Hz above included)
        valid = self._valid_cache.get(key)
        if valid is None:
            if len(self._valid_cache) >= 256:
                self._valid_cache.clear()
            valid = self._valid_cache[key] = np.array(
                [h * f0 + REFERENCE_OFFSET_HZ < 0.45 * self.rate_hz for h in range(1, H + 1)])
        out = self._harmonic_dft(buf, f0)  # (6H, C)
        floor = np.where(np.isfinite(floor_uv), floor_uv, 0.0)
        # tone RMS per channel and harmonic, zero above 0.45 fs; the tonal harmonics'
        # squares (both (C, H), laid out as the numpy expressions' were: the sum below
        # adds in the same order); present: a tone above max(min_uv, min_snr x floor) and
        # PEAK_RATIO x the spectrum 3 Hz either side on some channel
        rms, tonal_sq = np.empty((H, self.n_channels)).T, np.empty((H, self.n_channels)).T
        present = np.empty(H, dtype=np.bool_)
        _tone_levels(out, float(self._gain / np.sqrt(2.0)), valid, floor, self.min_uv, self.min_snr, PEAK_RATIO,
                     rms, tonal_sq, present)
        self.harmonic_rms_uv = rms
        self.hum_rms_uv = np.sqrt(tonal_sq.sum(axis=1))
        self._recent_hum = np.concatenate((self._recent_hum, self.hum_rms_uv[:, None]), axis=1)[:, -5:]
        self.hum_base_uv = median_rows(self._recent_hum)
        if present[0]:
            # the estimate describes the window's centre; the notch serves the next window,
            # one window later: extrapolate the drift by one step (bounded).
            prev, self.mains_hz = self.mains_hz, f0
            ahead = f0 if prev is None else f0 + min(max(f0 - prev, -0.1), 0.1)
            quant = round(ahead / self.grid_step_hz) * self.grid_step_hz
            notches = tuple(round(h * quant, 4) for h in range(1, self.max_harmonic + 1) if present[h - 1])
        else:
            self.mains_hz = None
            notches = self._probe_notches()
        # the gate level for the next window: the floor at this window's end (block-split free)
        self._gate_uv = np.where(floor > 0, np.maximum(self.gate_k * floor, self.gate_hum_ratio * self.hum_rms_uv), np.inf)
        if notches != self._notches:
            self._notch = self._make_filter(notches)
            self._notch.warm(self._buf, self._gate_uv)  # on the window just seen (GatedNotches.warm)
        elif not notches:
            self._notch.gates = self._notch.fresh_gates()

    def notch_low_band(self, lf: np.ndarray) -> np.ndarray:
        """The current notches (ungated) over the low band ``lf`` (n_channels, n) µV, state
        carried: its 1-20 Hz filter passes ~16 % of a 50-Hz hum, enough to make the low-band
        shapes of small candidates alike (ECG-template rejections). A potential has little
        energy at the hum there, so the notches hardly ring on it. Call after :meth:`process`
        for the same samples (the notch set in force is the one used there)."""
        return self._low.process_inplace(lf)


@numba.njit(cache=True)
def _first_argmax(a, lo, hi):
    """``lo + np.argmax(a[lo:hi])``: the first maximum, or the first NaN if there is one."""
    best, bv = lo, a[lo]
    if bv != bv:
        return lo
    for i in range(lo + 1, hi):
        v = a[i]
        if v != v:
            return i
        if v > bv:
            best, bv = i, v
    return best


@numba.njit(cache=True)
def _peak_index(pooled, split):
    """The grid index of the pooled power's peak: each band's first maximum (``pooled[:
    split]``, ``pooled[split:]``, as np.argmax, NaN first), the first band's if not below
    the second's (a NaN there: the second's)."""
    b0 = _first_argmax(pooled, 0, split)
    b1 = _first_argmax(pooled, split, pooled.size)
    return b0 if pooled[b0] >= pooled[b1] else b1


@numba.njit(cache=True)
def _grid_power(p, K, spec, pooled):
    """The grid power from the factored DFT: ``p`` (4C, 2K + 1), per channel c rows 4c ..
    4c + 3 the demodulated band 0 re, im, band 1 re, im, each against cos(2 pi k step n /
    fs) for k = 0 .. K (columns 0 .. K) and sin for k = 1 .. K (columns K + 1 .. 2K).
    Fills ``spec`` (C, 2, 2K + 1), |X|^2 at base + (j - K) step in column j, and ``pooled``
    (2 (2K + 1),), the sum over channels in channel order. The same operations, in the
    same order, as the numpy expressions (re x cos + im x sin)^2 + (im x cos - re x sin)^2
    at +k and (re x cos - im x sin)^2 + (im x cos + re x sin)^2 at -k (x ** 2 is x * x in
    numpy; no fused multiply-add: numba does not contract without fastmath)."""
    C = spec.shape[0]
    G = 2 * K + 1
    for c in range(C):
        for b in range(2):
            re, im = 4 * c + 2 * b, 4 * c + 2 * b + 1
            spec[c, b, K] = p[re, 0] * p[re, 0] + p[im, 0] * p[im, 0]
            for k in range(1, K + 1):
                rc, rs, ic, is_ = p[re, k], p[re, K + k], p[im, k], p[im, K + k]
                a, d = rc + is_, ic - rs
                spec[c, b, K + k] = a * a + d * d
                a, d = rc - is_, ic + rs
                spec[c, b, K - k] = a * a + d * d
    for b in range(2):
        for j in range(G):
            t = spec[0, b, j]
            for c in range(1, C):
                t += spec[c, b, j]
            pooled[b * G + j] = t


@numba.njit(cache=True)
def _tone_levels(out, k, valid, floor, min_uv, min_snr, peak_ratio, rms, tonal_sq, present):
    """From the harmonic sums ``out`` (6H, C) (rows as :func:`_harmonic_sums`): ``rms``
    (C, H) the tone RMS (µV) at h f0, hypot(cos sum, sin sum) x ``k`` (k = Hann gain /
    sqrt 2), 0 where not ``valid`` (H,); ``tonal_sq`` (C, H) rms^2 where the tone exceeds
    ``peak_ratio`` x the larger of the two 3-Hz neighbours (maximum as np.maximum: NaN
    wins), else 0 x rms^2; ``present`` (H,) valid and, on some channel, the tone above
    max(``min_uv``, ``min_snr`` x ``floor[c]``) (µV, floor finite) and tonal. The same
    operations as the numpy expressions they replace (hypot from the C library, as
    numpy's), value for value."""
    C = out.shape[1]
    H = valid.size
    for h in range(H):
        present[h] = False
    for c in range(C):
        limit = max(min_uv, min_snr * floor[c])
        for h in range(H):
            lo = np.hypot(out[H + h, c], out[4 * H + h, c]) * k
            hi = np.hypot(out[2 * H + h, c], out[5 * H + h, c]) * k
            if lo != lo:
                ref = lo
            elif hi != hi:
                ref = hi
            else:
                ref = lo if lo >= hi else hi
            r = np.hypot(out[h, c], out[3 * H + h, c]) * k if valid[h] else 0.0
            rms[c, h] = r
            tonal = r > peak_ratio * ref
            tonal_sq[c, h] = (r * r) * (1.0 if tonal else 0.0)
            if tonal and r > limit and valid[h]:
                present[h] = True


@numba.njit(cache=True)
def _basis_rows(h, ch, sh, c1, s1, cr, sr, hann, v):
    """Harmonic h + 1's six basis rows into ``v`` (6, n): cos(h+1)a, cos((h+1)a - b),
    cos((h+1)a + b), sin(h+1)a, sin((h+1)a - b), sin((h+1)a + b), each x ``hann``; ``ch``,
    ``sh`` (n,) hold cos / sin of h a (of a for h = 0) and are advanced in place by one
    rotation (c1 = cos a, s1 = sin a, cr = cos b, sr = sin b). The values of the former
    (6H, n) basis, operation for operation."""
    n = ch.size
    for i in range(n):
        if h:
            ch[i], sh[i] = ch[i] * c1[i] - sh[i] * s1[i], sh[i] * c1[i] + ch[i] * s1[i]
        cc, ss = ch[i] * cr[i], sh[i] * sr[i]
        sc, cs = sh[i] * cr[i], ch[i] * sr[i]
        w = hann[i]
        v[0, i] = ch[i] * w
        v[1, i] = (cc + ss) * w
        v[2, i] = (cc - ss) * w
        v[3, i] = sh[i] * w
        v[4, i] = (sc - cs) * w
        v[5, i] = (sc + cs) * w


@numba.njit(cache=True)
def _six_dots(v, x, res):
    """``res`` (6,) = ``v`` (6, n) against ``x`` (n,): the six sums of v[r, i] * x[i]. Each
    in four running sums (i mod 4: independent, so the compiler can keep a row's four in
    one vector register without reordering any addition), combined as (s0 + s1) + (s2 +
    s3), the last n mod 4 products added after. A fixed order, not BLAS's: the same value
    up to the last bits."""
    n = x.size
    m = n - n % 4
    a00 = a01 = a02 = a03 = 0.0
    a10 = a11 = a12 = a13 = 0.0
    a20 = a21 = a22 = a23 = 0.0
    a30 = a31 = a32 = a33 = 0.0
    a40 = a41 = a42 = a43 = 0.0
    a50 = a51 = a52 = a53 = 0.0
    for i in range(0, m, 4):
        x0, x1, x2, x3 = x[i], x[i + 1], x[i + 2], x[i + 3]
        a00 += v[0, i] * x0
        a01 += v[0, i + 1] * x1
        a02 += v[0, i + 2] * x2
        a03 += v[0, i + 3] * x3
        a10 += v[1, i] * x0
        a11 += v[1, i + 1] * x1
        a12 += v[1, i + 2] * x2
        a13 += v[1, i + 3] * x3
        a20 += v[2, i] * x0
        a21 += v[2, i + 1] * x1
        a22 += v[2, i + 2] * x2
        a23 += v[2, i + 3] * x3
        a30 += v[3, i] * x0
        a31 += v[3, i + 1] * x1
        a32 += v[3, i + 2] * x2
        a33 += v[3, i + 3] * x3
        a40 += v[4, i] * x0
        a41 += v[4, i + 1] * x1
        a42 += v[4, i + 2] * x2
        a43 += v[4, i + 3] * x3
        a50 += v[5, i] * x0
        a51 += v[5, i + 1] * x1
        a52 += v[5, i + 2] * x2
        a53 += v[5, i + 3] * x3
    res[0] = (a00 + a01) + (a02 + a03)
    res[1] = (a10 + a11) + (a12 + a13)
    res[2] = (a20 + a21) + (a22 + a23)
    res[3] = (a30 + a31) + (a32 + a33)
    res[4] = (a40 + a41) + (a42 + a43)
    res[5] = (a50 + a51) + (a52 + a53)
    for i in range(m, n):
        for r in range(6):
            res[r] += v[r, i] * x[i]


@numba.njit(cache=True)
def _harmonic_sums(x, c1, s1, cr, sr, hann, out):
    """Fill ``out`` (6H, C) with the sums over n of x[c, n] times, for h = 0 .. H-1 (rows
    r H + h, r = 0 .. 5): cos(h+1)a, cos((h+1)a - b), cos((h+1)a + b), sin(h+1)a,
    sin((h+1)a - b), sin((h+1)a + b), each x ``hann``; ``x`` (C, n) the window (µV, mean
    removed), c1 = cos a, s1 = sin a (a = 2 pi f0 n / fs), cr = cos b, sr = sin b (b = 2 pi
    3 Hz n / fs), ``hann`` (each (n,)); all C-contiguous float64.

    The harmonics by the rotation recurrence cos(h+1)a = cos ha cos a - sin ha sin a,
    sin(h+1)a = sin ha cos a + cos ha sin a; every basis value from the same products and
    sums, in the same order, as numpy's element-wise expressions would give (no fused
    multiply-add: numba does not contract without fastmath). One harmonic's six rows at a
    time (a 6 x n scratch, not the 6H x n basis), then summed against every channel by
    :func:`_six_dots`: the same products as ``basis @ x.T``, added in another order."""
    C, n = x.shape
    H = out.shape[0] // 6
    ch, sh = c1.copy(), s1.copy()
    v = np.empty((6, n))
    res = np.empty(6)
    for h in range(H):
        _basis_rows(h, ch, sh, c1, s1, cr, sr, hann, v)
        for c in range(C):
            _six_dots(v, x[c], res)
            for r in range(6):
                out[r * H + h, c] = res[r]
