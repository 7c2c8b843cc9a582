"""What the threshold detector should do on pure Gaussian noise (Rice's formula).

For a zero-mean stationary Gaussian process with power spectrum S(f), the rate of
up-crossings of the level ``u = k * sigma`` is ``nu0 * exp(-k**2 / 2)`` with
``nu0 = sqrt(m2 / m0)`` and ``m_n = integral f**n S(f) df`` (Rice 1944). The
rectified signal ``|y|`` crosses ``k * sigma`` upward at twice that rate (both
polarities). White noise through the band-pass has ``S(f) = |H(f)|**2``.

Every detector event on noise starts with such a crossing, and crossings closer than
the merge gap merge into one event, so this rate is an upper estimate of the
false-positive rate on Gaussian noise when the noise floor is estimated exactly.
"""

from __future__ import annotations

import numpy as np

from .bandpass import design_bandpass_sos


def gaussian_crossing_rate_hz(
    sample_rate_hz: float, band_hz: tuple[float, float], k: float, order: int = 2
) -> float:
    """Expected rate (Hz, per channel) at which ``|y|`` of band-passed white Gaussian
    noise crosses ``k`` times its own RMS upward."""
    from scipy import integrate, signal  # imported on first use (scipy.signal: ~0.9 s of CPU)

    sos = design_bandpass_sos(sample_rate_hz, band_hz, order)
    freqs_hz, response = signal.sosfreqz(sos, worN=1 << 15, fs=sample_rate_hz)
    power = np.abs(response) ** 2
    m0 = integrate.trapezoid(power, freqs_hz)
    m2 = integrate.trapezoid(freqs_hz**2 * power, freqs_hz)
    nu0_hz = float(np.sqrt(m2 / m0))
    return 2.0 * nu0_hz * float(np.exp(-(k**2) / 2.0))
