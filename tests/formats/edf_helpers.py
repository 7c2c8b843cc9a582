"""Write EDF files with arbitrary labels and units straight through pyedflib."""

from __future__ import annotations

import numpy as np
import pyedflib


def raw_edf(path, signals, *, bdf=False, plus=True):
    """signals: list of (label, unit, rate_hz, data); 1-s records, data cut to whole seconds."""
    ftype = {(False, True): pyedflib.FILETYPE_EDFPLUS, (True, True): pyedflib.FILETYPE_BDFPLUS,
             (False, False): pyedflib.FILETYPE_EDF, (True, False): pyedflib.FILETYPE_BDF}[(bdf, plus)]
    dmin, dmax = (-8388608, 8388607) if bdf else (-32768, 32767)
    heads, data = [], []
    for label, unit, rate, x in signals:
        x = np.asarray(x, dtype=float)
        span = float(x.max() - x.min())
        pad = 0.05 * span if span > 0 else 0.1 * max(abs(float(x.max())), 1.0)
        lo, hi = float(f"{x.min() - pad:.4g}"), float(f"{x.max() + pad:.4g}")
        heads.append({"label": label, "dimension": unit, "sample_frequency": rate, "physical_min": lo,
                      "physical_max": hi, "digital_min": dmin, "digital_max": dmax,
                      "transducer": "", "prefilter": ""})
        data.append(np.ascontiguousarray(x))
    w = pyedflib.EdfWriter(str(path), len(heads), file_type=ftype)
    try:
        w.setSignalHeaders(heads)
        w.writeSamples(data)
    finally:
        w.close()
    return [(h["physical_max"] - h["physical_min"]) / (dmax - dmin) for h in heads]
