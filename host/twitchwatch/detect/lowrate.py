"""What a sample rate below 1 kHz does to detection, said in one line.

The detector band-passes EMG at 20-450 Hz; the upper edge is clamped to 0.45 x the
sample rate (:func:`.bandpass.clamp_band_hz`), so at 250 Hz (OpenBCI Cyton's usual
rate) it uses 20-112 Hz and at 500 Hz 20-225 Hz. A twitch's energy reaches several
hundred hertz, so its peak-to-peak reads smaller than it is and short twitches may be
missed. This is not corrected: how much is lost depends on each twitch's shape (the
spread is wide), so a single factor would be wrong for most twitches. It is stated
instead, with what was measured on the simulator.

Measured with ``python bench/detect/lowrate_bench.py`` (120 s of the ``benign_clean``
scenario at 2 kHz, seeds 1-3, resampled with an anti-alias filter, detected, matched
to the ground truth within 10 ms; amplitude relative to the true peak-to-peak).
"""

from __future__ import annotations

from .bandpass import clamp_band_hz
from .config import DetectorConfig

#: rate (Hz) -> (median detected / true amplitude, share of twitches found), from the bench above
MEASURED: dict[int, tuple[float, float]] = {250: (0.50, 0.65), 500: (0.86, 0.99)}  # engine 1.17 (250 Hz: 0.66 before)


def band_note(sample_rate_hz: float, band_hz: tuple[float, float] | None = None) -> str | None:
    """One line on the band the detector can use at ``sample_rate_hz`` and what that
    does to amplitudes; None when the whole band fits (1 kHz and above)."""
    band = band_hz or DetectorConfig().band_hz
    low, high = clamp_band_hz(band, sample_rate_hz)
    if high >= band[1]:
        return None
    below = [rate for rate in MEASURED if rate <= sample_rate_hz]
    measured = ""
    if below:
        rate = max(below)
        amp, found = MEASURED[rate]
        measured = (f"; on the simulator at {rate} Hz, twitches read at a median {amp:.0%} of their true size and "
                    f"{found:.0%} of them were found")
    return (f"EMG at {sample_rate_hz:g} Hz: the detector can use only {low:g}-{high:.0f} Hz of its "
            f"{band[0]:g}-{band[1]:g} Hz band, so twitch amplitudes read smaller than they are (how much depends on "
            f"the twitch's shape; not corrected) and short twitches may be missed{measured}. Record at 1000 Hz or "
            "more for full amplitudes")
