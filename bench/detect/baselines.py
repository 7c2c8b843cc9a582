"""Baseline detectors, run offline on a whole recording, one channel at a time.

Each baseline is ``fn(x_uv: 1-D array, rate_hz) -> np.ndarray of event sample indices``;
:func:`run_per_channel` applies it to every column. How each is run (these are what the
benchmark's report quotes):

- **NeuroKit2** (0.2.13): ``signals, info = neurokit2.emg_process(x, sampling_rate=rate)``,
  all defaults, which is ``emg_clean(method="biosppy")`` (4th-order 100 Hz Butterworth
  high-pass, zero-phase, constant detrend) -> ``emg_amplitude`` (TKEO, then a 10-400 Hz
  band-pass and an 8 Hz low-pass envelope; note it ignores the sample rate and assumes
  1000 Hz, so at 2000 Hz those corners are really 20-800 Hz and 16 Hz) ->
  ``emg_activation(method="threshold")`` (threshold = std(amplitude)/10, activity and rest
  periods of at least ``duration_min`` = 50 ms). Each activation ``[EMG_Onsets[i],
  EMG_Offsets[i])`` becomes **one event at the sample of max |EMG_Clean|** inside it.
  ``emg_activation`` ends with a per-sample pandas ``.loc`` loop that only formats the
  per-sample output columns (~1.4 s per minute at 2 kHz); :func:`neurokit2_events_fast`
  calls the same steps but stops at ``info`` (identical onsets/offsets, checked by the
  tests and by the benchmark on seed 0), so the benchmark can afford all seeds. Throughput
  is reported for the public ``emg_process`` call.
- **BioSPPy** (2.1.2): ``biosppy.signals.emg.emg(signal=x, sampling_rate=rate,
  show=False)``, the function its README and examples use: 4th-order 100 Hz Butterworth
  high-pass (zero-phase) -> ``find_onsets`` (|x| smoothed by a 50 ms boxzen window,
  threshold ``1.2*mean + 2*std`` of the envelope). Its ``onsets`` array holds **both**
  edges of each supra-threshold run (the sample before it rises and the sample after it
  falls); each run gives **one event at the sample of max |filtered|** (runs recovered as
  :func:`biosppy_events` explains).
- **MAD threshold** (Quiroga 2004 style): 4th-order Butterworth band-pass 20-450 Hz
  (high edge clamped to 0.45 x rate), zero-phase (``sosfiltfilt``); sigma =
  ``median(|y|)/0.6745`` over the whole channel; supra-threshold samples ``|y| > 5 sigma``
  closer than 20 ms form one cluster (20 ms refractory); the **peak of |y|** of each
  cluster is the event.
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Callable

import numpy as np
from scipy.signal import butter, sosfiltfilt

Baseline = Callable[[np.ndarray, float], np.ndarray]


def _peak_in_intervals(y: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sample of max |y| in each ``[start, end)`` (empty intervals skipped)."""
    out = []
    ay = np.abs(y)
    for s, e in zip(starts, ends):
        s, e = int(max(s, 0)), int(min(e, len(y)))
        if e > s:
            out.append(s + int(np.argmax(ay[s:e])))
    return np.asarray(out, dtype=np.int64)


# ---------------------------------------------------------------- NeuroKit2
def neurokit2_events(x_uv: np.ndarray, rate_hz: float) -> np.ndarray:
    """NeuroKit2's public ``emg_process`` (module docstring); one event per activation."""
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signals, info = nk.emg_process(np.asarray(x_uv, dtype=np.float64), sampling_rate=rate_hz)
    clean = signals["EMG_Clean"].to_numpy()
    return _peak_in_intervals(clean, np.asarray(info["EMG_Onsets"]), np.asarray(info["EMG_Offsets"]))


def neurokit2_events_fast(x_uv: np.ndarray, rate_hz: float) -> np.ndarray:
    """Same onsets/offsets as :func:`neurokit2_events`, without the per-sample formatting.

    The same calls ``emg_process`` makes (``emg_clean``, ``emg_amplitude``, the threshold
    binarisation and ``_emg_activation_activations`` that builds ``info``); only the
    DataFrame construction at the end of ``emg_activation`` is skipped.
    """
    import neurokit2 as nk

    act = sys.modules["neurokit2.emg.emg_activation"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = nk.emg_clean(np.asarray(x_uv, dtype=np.float64), sampling_rate=rate_hz)
        amplitude = nk.emg_amplitude(clean, sampling_rate=rate_hz)  # emg_process passes the rate (default 1000)
        activity = act._emg_activation_threshold(amplitude, threshold="default")
        info = act._emg_activation_activations(activity, duration_min=int(0.05 * rate_hz))
    return _peak_in_intervals(clean, np.asarray(info["EMG_Onsets"]), np.asarray(info["EMG_Offsets"]))


# ---------------------------------------------------------------- BioSPPy
def runs_of(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[start, end)`` of each run of True in a boolean array."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def biosppy_events(x_uv: np.ndarray, rate_hz: float) -> np.ndarray:
    """BioSPPy's ``emg.emg(..., show=False)`` (module docstring); one event per run.

    ``emg.emg`` returns the edges of the supra-threshold runs of its envelope, rises and
    falls mixed in one sorted, de-duplicated array (ambiguous when a run starts at sample 0
    or two runs are one sample apart). To get the runs themselves we recompute that
    envelope and threshold exactly as ``find_onsets`` does (same ``smoother`` call, same
    default threshold) and check that its edges are the ones ``emg.emg`` returned.
    """
    from biosppy.signals import emg as bemg
    from biosppy.signals import tools as st

    x = np.asarray(x_uv, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = bemg.emg(signal=x, sampling_rate=float(rate_hz), show=False)
        filtered = np.asarray(out["filtered"])
        mvgav, _ = st.smoother(signal=np.abs(filtered), kernel="boxzen", size=int(rate_hz * 0.05), mirror=True)
    aux = np.abs(mvgav)
    threshold = 1.2 * np.mean(aux) + 2.0 * np.std(aux, ddof=1)
    starts, ends = runs_of(mvgav > threshold)
    edges = np.union1d(starts[starts > 0] - 1, np.minimum(ends[ends < len(x)], len(x) - 1))
    if not np.array_equal(edges, np.asarray(out["onsets"])):
        raise RuntimeError("BioSPPy onsets differ from the recomputed envelope runs")
    return _peak_in_intervals(filtered, starts, ends)


# ---------------------------------------------------------------- MAD threshold
def mad_events(
    x_uv: np.ndarray,
    rate_hz: float,
    *,
    k: float = 5.0,
    band_hz: tuple[float, float] = (20.0, 450.0),
    refractory_ms: float = 20.0,
    order: int = 4,
) -> np.ndarray:
    """Zero-phase band-pass, robust k-sigma threshold, 20 ms refractory (module docstring)."""
    x = np.asarray(x_uv, dtype=np.float64)
    high = min(band_hz[1], 0.45 * rate_hz)
    sos = butter(order, [band_hz[0], high], btype="bandpass", fs=rate_hz, output="sos")
    y = sosfiltfilt(sos, x)
    ay = np.abs(y)
    sigma = np.median(ay) / 0.6745
    hits = np.flatnonzero(ay > k * sigma)
    if len(hits) == 0:
        return np.zeros(0, dtype=np.int64)
    gap = max(1, int(round(refractory_ms * 1e-3 * rate_hz)))
    cuts = np.flatnonzero(np.diff(hits) >= gap) + 1
    starts = hits[np.r_[0, cuts]]
    ends = hits[np.r_[cuts - 1, len(hits) - 1]] + 1
    return _peak_in_intervals(y, starts, ends)


BASELINES: dict[str, Baseline] = {
    "NeuroKit2 emg_process": neurokit2_events_fast,
    "BioSPPy emg.emg": biosppy_events,
    "MAD 5σ threshold": mad_events,
}


def run_per_channel(
    fn: Baseline, emg_uv: np.ndarray, rate_hz: float
) -> tuple[list[tuple[int, int]], float, str | None]:
    """Run a baseline on each column; ``(events, cpu seconds, error or None)``.

    An exception on a channel is caught: that channel gives no events and the error text
    is returned (the benchmark shows it in the detector's cell and carries on).
    """
    emg = np.asarray(emg_uv, dtype=np.float64)
    if emg.ndim == 1:
        emg = emg[:, None]
    events: list[tuple[int, int]] = []
    error = None
    t0 = time.perf_counter()
    for ch in range(emg.shape[1]):
        try:
            idx = fn(emg[:, ch], rate_hz)
        except Exception as exc:  # noqa: BLE001 - a baseline failing is a result
            error = f"error: {type(exc).__name__}: {str(exc)[:120]}"
            continue
        events.extend((int(i), ch) for i in idx)
    return sorted(events), time.perf_counter() - t0, error
