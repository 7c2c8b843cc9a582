"""Real recordings of ``<repo>/../shared/data/real`` for the benchmark.

Read as each folder's SOURCE.md describes (no labels exist in any of them):

- ``plux-biosignalsnotebooks/derived_csv/*_emg.csv``: column ``emg_mV`` (PLUX transfer
  function applied by the curator) x 1000 -> µV, 1000 Hz. The 8/16-bit file gives two
  recordings (16-bit and 8-bit device).
- ``biosppy-examples/emg*.txt``: raw 12-bit ADC counts, 1000 Hz; converted with PLUX's
  EMG transfer function ``(ADC/4096 - 0.5) x 3 mV`` = 0.732 µV per count (SOURCE.md calls
  this a rough guess: the device is not stated). The median is removed.
- ``physionet-emgdb/derived_csv/emg_*_clean.csv``: needle EMG in mV x 1000 -> µV; 4000 Hz
  nominal (the time column jumps in two files; we use the sample index, so times drift by
  <= 23 ms, irrelevant to events per minute).
- ``openhdemg-sample/otb_testfile.mat``: 64-channel HD-sEMG in µV at 2048 Hz during a
  voluntary trapezoid; we take two grid channels (columns 0 and 32) as a 2-channel
  recording.

Voluntary activity in the rest recordings (for excluding it when twitches are injected)
is found by :func:`activity_segments`: 20-450 Hz zero-phase band-pass, 50 ms moving RMS,
runs above 8 x its median, widened by 0.5 s on each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfiltfilt

PLUX_UV_PER_COUNT_12BIT = 3000.0 / 4096.0


@dataclass
class RealRecording:
    name: str  # folder/file[:column]
    emg_uv: np.ndarray  # (n, ch)
    rate_hz: float
    note: str = ""

    @property
    def minutes(self) -> float:
        return self.emg_uv.shape[0] / self.rate_hz / 60.0


def default_root(repo_root: Path) -> Path:
    return (repo_root / ".." / "shared" / "data" / "real").resolve()


def _csv_column(path: Path, column: str) -> np.ndarray:
    with open(path) as fh:
        lines = fh.readlines(4096)
    header_row = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    names = lines[header_row].strip().split(",")
    col = names.index(column)
    return np.loadtxt(path, delimiter=",", skiprows=header_row + 1, usecols=[col])


def load_plux(root: Path) -> list[RealRecording]:
    d = root / "plux-biosignalsnotebooks" / "derived_csv"
    out = []
    for fname, col, note in [
        ("emg_1000_hz_16_bits_solo_emg.csv", "emg_mV", "adductor pollicis, 21 brief voluntary bursts on a ~2.5 µV baseline"),
        ("emg_1000_hz_16_bits_emg.csv", "emg_mV", "adductor pollicis, intermittent contractions"),
        ("emg_1000_hz_8_16_bits_emg.csv", "emg_mV_16bit", "same muscle, 16-bit device"),
        ("emg_1000_hz_8_16_bits_emg.csv", "emg_mV_8bit", "same muscle, 8-bit device"),
        ("emg_bursts_emg.csv", "emg_mV", "biceps on/off cycles"),
    ]:
        p = d / fname
        if p.exists():
            x = _csv_column(p, col) * 1000.0
            out.append(RealRecording(f"plux/{fname.replace('_emg.csv', '')}:{col}", x[:, None], 1000.0, note))
    return out


def load_biosppy(root: Path) -> list[RealRecording]:
    d = root / "biosppy-examples"
    out = []
    for fname, note in [("emg.txt", "rest, faint activity 36-58 s"), ("emg_1.txt", "rest with a few voluntary bursts")]:
        p = d / fname
        if p.exists():
            x = np.loadtxt(p, comments="#")
            x = (x - np.median(x)) * PLUX_UV_PER_COUNT_12BIT
            out.append(RealRecording(f"biosppy/{fname}", x[:, None], 1000.0, note + " (0.732 µV/count assumed)"))
    return out


def load_emgdb(root: Path) -> list[RealRecording]:
    d = root / "physionet-emgdb" / "derived_csv"
    out = []
    for kind in ("healthy", "myopathy", "neuropathy"):
        p = d / f"emg_{kind}_clean.csv"
        if p.exists():
            x = _csv_column(p, "emg_mV") * 1000.0
            out.append(RealRecording(f"emgdb/{kind}", x[:, None], 4000.0, "needle EMG, weak voluntary contraction"))
    return out


def load_openhdemg(root: Path) -> list[RealRecording]:
    p = root / "openhdemg-sample" / "otb_testfile.mat"
    if not p.exists():
        return []
    from scipy.io import loadmat

    mat = loadmat(p)
    data = np.asarray(mat["Data"][0, 0], dtype=np.float64)
    rate = float(np.ravel(mat["SamplingFrequency"])[0])
    emg = data[:, [0, 32]]
    n_mu = int(sum(int(data[:, c].sum()) for c in range(64, 69)))
    return [RealRecording("openhdemg/otb_testfile:ch0,ch32", emg, rate,
                          f"HD-sEMG, voluntary trapezoid; 5 decomposed MUs fire {n_mu} times in all")]


def load_all(root: Path) -> list[RealRecording]:
    return load_plux(root) + load_biosppy(root) + load_emgdb(root) + load_openhdemg(root)


def activity_segments(
    x_uv: np.ndarray, rate_hz: float, *, factor: float = 8.0, window_ms: float = 50.0, margin_s: float = 0.5
) -> list[tuple[int, int, None]]:
    """Stretches of voluntary activity in a rest recording (module docstring), merged."""
    x = np.asarray(x_uv, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, 0]
    sos = butter(4, [20.0, min(450.0, 0.45 * rate_hz)], btype="bandpass", fs=rate_hz, output="sos")
    y = sosfiltfilt(sos, x - np.median(x))
    w = max(1, int(window_ms * 1e-3 * rate_hz))
    rms = np.sqrt(np.convolve(y * y, np.ones(w) / w, mode="same"))
    act = rms > factor * np.median(rms)
    d = np.diff(np.concatenate([[0], act.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    margin = int(margin_s * rate_hz)
    segs: list[tuple[int, int, None]] = []
    for s, e in zip(starts, ends):
        s, e = max(0, s - margin), min(len(x), e + margin)
        if segs and s <= segs[-1][1]:
            segs[-1] = (segs[-1][0], max(e, segs[-1][1]), None)
        else:
            segs.append((int(s), int(e), None))
    return segs


#: rest backgrounds for injected twitches: (recording name, why)
INJECTION_BACKGROUNDS = (
    "plux/emg_1000_hz_16_bits_solo:emg_mV",
    "biosppy/emg.txt",
    "biosppy/emg_1.txt",
)
