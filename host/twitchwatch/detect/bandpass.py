"""Causal streaming Butterworth band-pass with explicit state (scipy ``sosfilt`` + ``zi``).

The output of one pass over a signal equals, bit for bit, the output of any split of
that signal into consecutive blocks: ``sosfilt`` carries its whole state in ``zi``.
"""

from __future__ import annotations

import numpy as np

from .designs import butter_sos, sosfilt_zi

#: Upper band edge is clamped to this fraction of the sample rate (Nyquist is 0.5).
MAX_HIGH_EDGE_FRACTION = 0.45


def clamp_band_hz(band_hz: tuple[float, float], sample_rate_hz: float) -> tuple[float, float]:
    """Return ``(low_hz, high_hz)`` with ``high_hz <= 0.45 * sample_rate_hz``.

    Raises:
        ValueError: if the rate is not positive, or if after clamping the band is
            empty (``low_hz >= high_hz``) or ``low_hz <= 0``.
    """
    if not np.isfinite(sample_rate_hz) or sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be positive and finite, got {sample_rate_hz!r}")
    low_hz, high_hz = float(band_hz[0]), float(band_hz[1])
    high_hz = min(high_hz, MAX_HIGH_EDGE_FRACTION * sample_rate_hz)
    if not 0.0 < low_hz < high_hz:
        raise ValueError(
            f"band {band_hz!r} Hz is empty at {sample_rate_hz} Hz "
            f"(after clamping the high edge to {high_hz:.1f} Hz)"
        )
    return low_hz, high_hz


def design_bandpass_sos(
    sample_rate_hz: float, band_hz: tuple[float, float], order: int = 4
) -> np.ndarray:
    """Butterworth band-pass as second-order sections, shape ``(order, 6)``, float64.

    ``order`` is the prototype order: the band-pass has ``2 * order`` poles.
    The band is clamped with :func:`clamp_band_hz` first.
    """
    low_hz, high_hz = clamp_band_hz(band_hz, sample_rate_hz)
    return butter_sos(order, (low_hz, high_hz), "bandpass", sample_rate_hz)  # scipy.signal.butter, cached


class StreamingBandpass:
    """Band-pass filter over blocks ``(n_samples, n_channels)`` with state carried between them.

    State: ``zi`` of shape ``(n_sections, 2, n_channels)`` float64, or ``None`` before the
    first sample of a segment. On the first sample of a segment the state is set to
    ``sosfilt_zi(sos) * x[0]`` (steady state for a constant input equal to the first
    sample), so a DC electrode offset does not make the filter ring.
    """

    def __init__(self, sos: np.ndarray, n_channels: int) -> None:
        self.sos = np.asarray(sos, dtype=np.float64)
        self.n_channels = int(n_channels)
        self._zi_unit = sosfilt_zi(self.sos)  # (n_sections, 2)
        self._zi: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the state: the next sample starts a new segment."""
        self._zi = None

    def process(self, block: np.ndarray) -> np.ndarray:
        """Filter one block ``(n_samples, n_channels)`` float64; returns the same shape."""
        if block.shape[0] == 0:
            return np.empty_like(block)
        if self._zi is None:
            self._zi = self._zi_unit[:, :, None] * block[0][None, None, :]
        from scipy import signal  # imported on first use (~0.9 s of CPU)

        out, self._zi = signal.sosfilt(self.sos, block, axis=0, zi=self._zi)
        return out
