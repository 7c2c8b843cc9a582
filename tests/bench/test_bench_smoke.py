"""A --quick-style run of bench/detect_bench.py on 20 s streams: the table has every
detector and scenario (no numbers are checked here)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("neurokit2", reason="neurokit2 not installed (pip install -e .[bench])")
pytest.importorskip("biosppy", reason="biosppy not installed (pip install -e .[bench])")
pytest.importorskip("tqdm", reason="tqdm not installed")


def test_smoke_table_has_every_detector_and_scenario(tmp_path):
    sim = pytest.importorskip("twitchwatch.sim", reason="twitchwatch.sim not available")
    import bench.detect_bench as db

    scenarios = ["benign_clean", "voluntary_bursts", "control_clean"]
    rc = db.main(["--minutes", str(20 / 60), "--seeds", "1", "--scenarios", ",".join(scenarios),
                  "--no-real", "--no-plots", "--raster", "benign_clean", "--out", str(tmp_path)])
    assert rc == 0
    md = (tmp_path / "detect_bench.md").read_text()
    data = json.loads((tmp_path / "detect_bench.json").read_text())
    for det in db.DETECTORS:
        assert det in md
        assert det in data["overall"]
        for sc in scenarios:
            assert det in data["scenarios"][sc]
    for sc in scenarios:
        assert f"| {sc} |" in md
        assert sc in sim.SCENARIOS
    assert "PASS" in md or "MISS" in md
    assert {t["target"].split()[0] for t in data["targets"]} >= {"overall", "false", "≥", "latency"}
