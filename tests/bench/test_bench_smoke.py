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


def test_false_detections_are_classified_by_cause():
    import bench.detect_bench as db
    from bench.detect.scoring import match_events

    rate = 2000.0
    truth = [(10_000, 0)]
    dets = [(10_001, 0), (10_002, 1), (20_000, 0), (30_000, 1), (100, 0), (50_000, 0)]
    xtalk = [(10_000, 1)]
    segs = [(19_000, 21_000, None, "voluntary"), (29_000, 31_000, 0, "pop"), (29_000, 31_000, 1, "ecg")]
    m = match_events(truth, dets, rate)
    c = db.classify_false(dets, m, xtalk, segs, rate)
    assert c["crosstalk"] == 1 and c["voluntary"] == 1 and c["ecg"] == 1 and c["pop"] == 0
    assert c["warm-up"] == 1 and c["none"] == 1
    assert sum(c.values()) == m.fp
