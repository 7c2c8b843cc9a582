"""A small run of the fuzz harness (bench/fuzz.py; the full counts are in
docs/reliability.md): every target runs, nothing escapes, no wrong sample."""

from __future__ import annotations

import pytest

import bench.fuzz as fuzz


@pytest.mark.parametrize("target,n", [("decoder", 400), ("capture", 150), ("edf", 60), ("csv", 120),
                                      ("dashboard", 120)])
def test_a_small_fuzz_run_finds_nothing(target, n):
    result = fuzz.run_target(target, n, seed=5, quiet=True)
    assert result["inputs"] == n
    assert result["escaped"] == 0, result["first_failure"]
    assert result.get("wrong_samples", 0) == 0 and result.get("foreign_records", 0) == 0
    assert result.get("times_back", 0) == 0
    if target == "dashboard":
        assert set(result["status"]) <= {"200", "400", "413"} and "400" in result["status"]
    if target == "decoder":
        assert result["blocks"] > 0  # the mutated streams still carry good frames


def test_mutations_are_reproducible():
    import random

    a = [fuzz.mutate(b"\x01\x02\x03" * 50, random.Random(3)) for _ in range(3)]
    b = [fuzz.mutate(b"\x01\x02\x03" * 50, random.Random(3)) for _ in range(3)]
    assert a == b
