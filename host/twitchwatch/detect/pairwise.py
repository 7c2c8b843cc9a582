"""Float sums in numpy's order, compiled (numba): a compiled kernel that sums must give
the same bits as the numpy expression it replaces.

``np.add.reduce`` of a contiguous float64 array (and ``.sum()``, ``.mean()``) adds
pairwise: fewer than 8 values one after the other; up to 128 in 8 interleaved partial
sums combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), the remainder added
after; longer arrays split in two halves (the first a multiple of 8 long), each summed
so. :func:`pairwise_sum` does the same additions in the same order (checked against
numpy for every length 1..600 and some longer, tests/detect/test_pairwise.py).
"""

from __future__ import annotations

import numba
import numpy as np

_BLOCK = 128  # numpy's PW_BLOCKSIZE


@numba.njit(cache=True)
def _block(a, lo, n):
    """numpy's sum of a[lo : lo + n] for n <= 128 (no split)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True)
def pairwise_sum(a):
    """``np.add.reduce(a)`` of a 1-d float64 array, bit for bit (0 for an empty one).

    numpy recurses (sum(first part) + sum(second part)); here the same tree is walked
    with an explicit stack (numba's on-disk cache mishandles recursive functions)."""
    n = a.size
    if n <= _BLOCK:
        return 0.0 + _block(a, 0, n)
    depth = 64  # ample: each level halves the length
    los = np.empty(depth, np.int64)
    lens = np.empty(depth, np.int64)
    stage = np.empty(depth, np.int64)  # 0: first part next, 1: second part next, 2: both summed
    vals = np.empty(depth)
    top, n_vals = 0, 0
    los[0], lens[0], stage[0] = 0, n, 0
    while top >= 0:
        lo, m = los[top], lens[top]
        if m <= _BLOCK:
            vals[n_vals] = _block(a, lo, m)
            n_vals += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if stage[top] == 0:
            stage[top] = 1
            top += 1
            los[top], lens[top], stage[top] = lo, half, 0
        elif stage[top] == 1:
            stage[top] = 2
            top += 1
            los[top], lens[top], stage[top] = lo + half, m - half, 0
        else:
            vals[n_vals - 2] = vals[n_vals - 2] + vals[n_vals - 1]
            n_vals -= 1
            top -= 1
    return 0.0 + vals[0]


@numba.njit(cache=True)
def correlation(a, b):
    """Pearson correlation of two equal-length 1-d float64 arrays (0 when either is
    constant), with numpy's sums: the same value as
    ``(a - a.mean()) . (b - b.mean()) / sqrt(|a - a.mean()|^2 |b - b.mean()|^2)``."""
    am = a - pairwise_sum(a) / a.size
    bm = b - pairwise_sum(b) / b.size
    d = np.sqrt(pairwise_sum(am * am) * pairwise_sum(bm * bm))
    return 0.0 if d == 0 else pairwise_sum(am * bm) / d
