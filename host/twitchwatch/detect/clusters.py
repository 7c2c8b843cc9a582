"""Candidates from one channel's supra-threshold samples: clusters and their tails, one
compiled pass over a block (numba).

For the engine's ``_scan`` (see its docstring for the rule): a cluster's *significant*
samples are those at or above ``tail_fraction`` x its running peak |y|; it closes
``gap`` samples after its last significant sample (the candidate's end). The
supra-threshold samples that follow, within ``gap`` of each other and below that level,
are its tail (absorbed, never a candidate); a sample at or above the level, or after a
longer pause, starts a new cluster. Stream indices are samples, levels µV.

The state carried between blocks is two small arrays (:data:`STATE_I`, :data:`STATE_F`);
what happened in the block comes back as a list of actions in stream order, for the
engine to replay: a cluster closed (a candidate, whose tail opens), or a tail closed.
Sample by sample, the same decisions as the engine's earlier numpy version, which took
them per stretch of samples (engine_ab equiv compares).
"""

from __future__ import annotations

import numba
import numpy as np

#: integer state: open cluster?, its start, last, peak, last significant sample, overlong?;
#: open tail?, its last sample
STATE_I = ("has_cluster", "start", "last", "peak", "sig_last", "overlong", "has_tail", "tail_last")
#: float state: the cluster's peak |y| and peak |y| / sigma; the tail's level
STATE_F = ("peak_abs", "peak_ratio", "tail_level")
#: action kinds (column 0 of the integer actions)
CLOSE_CLUSTER, CLOSE_TAIL = 0, 1
_HAS_CL, _START, _LAST, _PEAK, _SIG, _OVER, _HAS_TAIL, _TAIL_LAST = range(len(STATE_I))
_PEAK_ABS, _PEAK_RATIO, _TAIL_LEVEL = range(len(STATE_F))


@numba.njit(cache=True)
def _close_cluster(si, sf, acts_i, acts_f, n_acts, tail_fraction):
    acts_i[n_acts, 0] = CLOSE_CLUSTER
    acts_i[n_acts, 1] = si[_START]
    acts_i[n_acts, 2] = si[_LAST]
    acts_i[n_acts, 3] = si[_PEAK]
    acts_i[n_acts, 4] = si[_SIG]
    acts_i[n_acts, 5] = si[_OVER]
    acts_f[n_acts, 0] = sf[_PEAK_ABS]
    acts_f[n_acts, 1] = sf[_PEAK_RATIO]
    si[_HAS_CL] = 0
    si[_HAS_TAIL] = 1
    si[_TAIL_LAST] = si[_LAST]
    sf[_TAIL_LEVEL] = tail_fraction * sf[_PEAK_ABS]
    return n_acts + 1


@numba.njit(cache=True)
def _close_tail(si, sf, acts_i, acts_f, n_acts):
    acts_i[n_acts, 0] = CLOSE_TAIL
    acts_i[n_acts, 1] = si[_TAIL_LAST]
    acts_f[n_acts, 0] = sf[_TAIL_LEVEL]
    si[_HAS_TAIL] = 0
    return n_acts + 1


@numba.njit(cache=True)
def scan_block(supra, ay, ratio, base, gap, max_cluster, tail_fraction, si, sf, acts_i, acts_f):
    """Cluster the samples ``supra`` (n,) bool of one block whose first sample has stream
    index ``base`` (|y| ``ay``, |y| / sigma ``ratio``); ``si``/``sf`` (as
    :data:`STATE_I`/:data:`STATE_F`) updated in place. Actions go to ``acts_i`` (rows:
    kind, then for CLOSE_CLUSTER start, last, peak, last significant, overlong; for
    CLOSE_TAIL the tail's last sample) and ``acts_f`` (peak |y|, peak ratio; the tail's
    level); each needs rows for 2 n + 2 actions. Returns the number of actions."""
    n = supra.shape[0]
    n_acts = 0
    for k in range(n):
        if not supra[k]:
            continue
        pos = base + k
        a = ay[k]
        while True:
            if si[_HAS_TAIL]:
                if pos - si[_TAIL_LAST] > gap or a >= sf[_TAIL_LEVEL]:
                    n_acts = _close_tail(si, sf, acts_i, acts_f, n_acts)
                    continue  # this sample again, without the tail
                si[_TAIL_LAST] = pos  # absorbed
                break
            if si[_HAS_CL] and pos - si[_SIG] > gap:
                n_acts = _close_cluster(si, sf, acts_i, acts_f, n_acts, tail_fraction)
                continue  # this sample again, now against the tail
            if not si[_HAS_CL]:
                si[_HAS_CL], si[_START], si[_LAST], si[_PEAK], si[_SIG], si[_OVER] = 1, pos, pos, pos, pos, 0
                sf[_PEAK_ABS], sf[_PEAK_RATIO] = a, ratio[k]
                break
            # extend the open cluster (the running peak includes this sample)
            if a > sf[_PEAK_ABS]:
                si[_PEAK], sf[_PEAK_ABS], sf[_PEAK_RATIO] = pos, a, ratio[k]
            if a >= tail_fraction * sf[_PEAK_ABS]:
                si[_SIG] = pos
            si[_LAST] = pos
            if pos - si[_START] + 1 > max_cluster:
                si[_OVER] = 1
            break
    end = base + n - 1
    if si[_HAS_CL] and end - si[_SIG] >= gap:
        n_acts = _close_cluster(si, sf, acts_i, acts_f, n_acts, tail_fraction)
    if si[_HAS_TAIL] and end - si[_TAIL_LAST] >= gap:
        n_acts = _close_tail(si, sf, acts_i, acts_f, n_acts)
    return n_acts
