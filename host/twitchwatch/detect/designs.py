"""Filter designs for the detector without importing ``scipy.signal`` at run time.

Importing ``scipy.signal`` costs ~0.9 s of CPU (it pulls in ``scipy.stats``, ``optimize``,
``interpolate`` and ``linalg``): more than the detector spends on five minutes of signal,
paid by every ``twitchwatch replay`` process (issue #19, item 6). The detector designs
few filters, and always the same ones for a given sample rate and configuration:

- :func:`butter_sos` (``scipy.signal.butter(..., output="sos")``), :func:`sosfilt_zi`
  (``scipy.signal.sosfilt_zi``) and :func:`firwin_kaiser` (``scipy.signal.firwin`` with a
  Kaiser window) are designed **by scipy.signal itself**, imported on the first design
  that is not in the on-disk design cache, and kept there keyed on the call's arguments
  (each value stored as ``float.hex``, so it comes back bit for bit). A process whose
  designs are all cached never imports ``scipy.signal``. The cache is one JSON file beside
  numba's cache of the compiled kernels (this package's ``__pycache__``), or, where that
  is not writable (an installed package in a read-only place), in the user's cache
  folder (``platformdirs.user_cache_path("twitchwatch")``: on Linux
  ``$XDG_CACHE_HOME/twitchwatch``, ``~/.cache/twitchwatch``);
  ``TWITCHWATCH_CACHE_DIR`` overrides both. It is tagged with scipy's version: another
  version designs again. Anything wrong with the file (missing, unreadable, damaged, not
  writable) only means designing again; the values are scipy's either way.
  :func:`ndtri` (``scipy.special.ndtri``, the matched filter's threshold) is cached the
  same way.
- :func:`iirnotch` is scipy's two-line notch formula with the same operations in the
  same order (the same bits; ``tests/detect/test_designs.py`` compares it with
  ``scipy.signal.iirnotch`` over many frequencies): the mains canceller designs notches
  as the hum drifts, at frequencies no cache would hold.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

_FILE = "twitchwatch-filter-designs.json"
_memo: dict[str, np.ndarray] = {}
_disk: dict[str, list] | None = None  # the file's designs, read once per process


def _scipy_version() -> str:
    try:
        return metadata.version("scipy")
    except metadata.PackageNotFoundError:  # pragma: no cover - scipy is a dependency
        return "unknown"


def cache_dirs() -> list[Path]:
    """Where the design cache may live, in the order tried (see the module's docstring)."""
    override = os.environ.get("TWITCHWATCH_CACHE_DIR")
    if override:
        return [Path(override)]
    import platformdirs  # a declared dependency (as for the store's and the TLS paths)

    return [Path(__file__).resolve().parent / "__pycache__", platformdirs.user_cache_path("twitchwatch")]


def _load() -> dict[str, list]:
    global _disk
    if _disk is None:
        _disk = {}
        version = _scipy_version()
        for d in cache_dirs():
            try:
                doc = json.loads((d / _FILE).read_text())
            except (OSError, ValueError):
                continue
            if isinstance(doc, dict) and doc.get("scipy") == version and isinstance(doc.get("designs"), dict):
                _disk.update(doc["designs"])
    return _disk


def _store(key: str, value: list) -> None:
    """Add one design to the first writable cache file (merged with what is there,
    replaced atomically: concurrent processes lose at most a design, never the file)."""
    version = _scipy_version()
    for d in cache_dirs():
        path = d / _FILE
        try:
            d.mkdir(parents=True, exist_ok=True)
            try:
                doc = json.loads(path.read_text())
                if not (isinstance(doc, dict) and doc.get("scipy") == version and isinstance(doc.get("designs"), dict)):
                    doc = None
            except (OSError, ValueError):
                doc = None
            doc = doc or {"scipy": version, "designs": {}}
            doc["designs"][key] = value
            fd, tmp = tempfile.mkstemp(prefix=".designs-", dir=d)
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f)
            os.replace(tmp, path)
            return
        except OSError:
            continue


def _encode(a: np.ndarray) -> list:
    return [list(a.shape), [float(v).hex() for v in a.ravel().tolist()]]


def _decode(value: list) -> np.ndarray | None:
    try:
        shape, flat = value
        a = np.array([float.fromhex(v) for v in flat], dtype=np.float64)
        return a.reshape(tuple(int(s) for s in shape))
    except (TypeError, ValueError):
        return None


def _cached(key: str, design: Callable[[], np.ndarray]) -> np.ndarray:
    """The design ``key`` from this process's memo, else the disk cache, else ``design()``
    (which imports scipy.signal), stored in both. A copy: callers may modify it."""
    a = _memo.get(key)
    if a is None:
        found = _load().get(key)
        a = None if found is None else _decode(found)
        if a is None:
            a = np.array(design(), dtype=np.float64)
            _load()[key] = value = _encode(a)
            _store(key, value)
        _memo[key] = a
    return a.copy()


def butter_sos(order: int, wn: float | tuple[float, ...], btype: str, fs: float) -> np.ndarray:
    """``scipy.signal.butter(order, wn, btype, fs=fs, output="sos")``, cached (see the
    module's docstring). ``wn`` in Hz."""
    wn = tuple(float(w) for w in wn) if isinstance(wn, (tuple, list)) else float(wn)
    key = f"butter|{int(order)}|{wn!r}|{btype}|{float(fs)!r}"

    def design() -> np.ndarray:
        from scipy import signal

        return signal.butter(int(order), wn, btype, fs=float(fs), output="sos")

    return _cached(key, design)


def sosfilt_zi(sos: np.ndarray) -> np.ndarray:
    """``scipy.signal.sosfilt_zi(sos)`` (the steady state for a unit step), cached."""
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    key = "sosfilt_zi|" + ",".join(float(v).hex() for v in sos.ravel().tolist()) + f"|{sos.shape[0]}"

    def design() -> np.ndarray:
        from scipy import signal

        return signal.sosfilt_zi(sos)

    return _cached(key, design)


def firwin_kaiser(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    """``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))`` (cutoff relative
    to Nyquist), cached."""
    key = f"firwin|{int(numtaps)}|{float(cutoff)!r}|kaiser|{float(beta)!r}"

    def design() -> np.ndarray:
        from scipy import signal

        return signal.firwin(int(numtaps), float(cutoff), window=("kaiser", float(beta)))

    return _cached(key, design)


def ndtri(p: float) -> float:
    """``scipy.special.ndtri(p)`` (the standard normal quantile), cached like a design: the
    matched filter's threshold needs it for a few probabilities per configuration, and
    importing scipy.special costs ~0.05-0.1 s."""
    p = float(p)

    def design() -> np.ndarray:
        from scipy.special import ndtri as _ndtri

        return np.array([_ndtri(p)])

    return float(_cached(f"ndtri|{p.hex()}", design)[0])


def iirnotch(w0: float, q: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.iirnotch(w0, q, fs=fs)``: ``(b, a)`` of the second-order notch at
    ``w0`` Hz with quality factor ``q``, computed as scipy computes it (the same float
    operations in the same order, hence the same bits)."""
    w = 2 * float(w0) / float(fs)
    if w > 1.0 or w < 0.0:
        raise ValueError("w0 should be such that 0 < w0 < 1")
    bw = w / q
    bw = bw * np.pi
    w = w * np.pi
    beta = math.tan(bw / 2.0)
    gain = 1.0 / (1.0 + beta)
    b = gain * np.array([1.0, -2.0 * math.cos(w), 1.0])
    a = np.array([1.0, -2.0 * gain * math.cos(w), (2.0 * gain - 1.0)])
    return b, a
