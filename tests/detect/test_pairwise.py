"""The compiled sums give numpy's bits: kernels that sum may replace numpy expressions
only if the events stay the same (bench/detect/engine_ab.py equiv)."""

import numpy as np

from twitchwatch.detect.pairwise import correlation, pairwise_sum


def test_pairwise_sum_is_numpys_sum_bit_for_bit():
    rng = np.random.default_rng(7)
    for n in list(range(0, 600)) + [1000, 2047, 4097]:
        a = rng.standard_normal(n) * 10 ** rng.uniform(-3, 3, n)
        assert pairwise_sum(a) == np.add.reduce(a), n


def test_correlation_is_the_numpy_expression_bit_for_bit():
    rng = np.random.default_rng(8)
    for n in (3, 7, 8, 9, 100, 128, 129, 281, 400):
        a, b = rng.standard_normal(n), rng.standard_normal(n) + 0.5
        am, bm = a - a.mean(), b - b.mean()
        expected = float((am * bm).sum() / np.sqrt((am * am).sum() * (bm * bm).sum()))
        assert correlation(a, b) == expected
    assert correlation(np.ones(5), np.arange(5.0)) == 0.0
