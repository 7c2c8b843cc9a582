"""warm_up() loads every compiled kernel a live run calls, before the source is opened."""

from __future__ import annotations

import subprocess
import sys

_PROBE = r"""
import importlib, pkgutil
import numba
import twitchwatch.detect as D
from twitchwatch.detect.warmup import warm_up

def loaded():
    out = {}
    for m in pkgutil.iter_modules(D.__path__):
        mod = importlib.import_module("twitchwatch.detect." + m.name)
        for name, obj in vars(mod).items():
            if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.__module__ == mod.__name__:
                out[m.name + "." + name] = len(obj.signatures)
    return out

n = warm_up()
before = loaded()
from twitchwatch.detect import TwitchDetector
from twitchwatch.sim import simulate
for scenario in ("mixed", "ecg_contaminated", "als_like"):
    rec = simulate(scenario, 30.0, 4)
    det = TwitchDetector(float(rec.emg_rate_hz), tuple(rec.emg_labels), acc_rate_hz=float(rec.acc_rate_hz))
    for k in range(0, rec.emg_uv.shape[0], 200):
        det.process_emg(rec.emg_uv[k:k + 200], k)
        det.process_acc(rec.acc_mg[k // 2:k // 2 + 100], k // 2)
    det.flush()
after = loaded()
print(n)
print(sorted(k for k in after if after[k] > before[k]))
print(sum(1 for v in before.values() if v))
"""


def test_warm_up_loads_every_kernel_a_real_run_calls():
    # a fresh process: what warm_up() loads, then 90 s of three scenarios; no kernel may be
    # compiled or loaded for the first time during the real run (that is the stall it prevents)
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=300, check=True)
    n_events, new, n_loaded = out.stdout.strip().splitlines()
    assert int(n_events) >= 3  # its synthetic potentials are found, so the candidate path ran
    assert new == "[]", f"kernels first called after warm_up(): {new}"
    assert int(n_loaded) >= 8
