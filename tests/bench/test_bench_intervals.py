"""95 % intervals of the detection benchmark: the Poisson interval against published values,
the Wilson interval against scipy, the F1 bootstrap, and the interval text in the report."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats

from bench.detect.intervals import (
    f1_bootstrap_ci,
    f1_of,
    poisson_rate_ci,
    target_phrase,
    wilson_ci,
)
from bench.detect.scoring import Tally, score_stream


@pytest.mark.parametrize(
    "count, lo, hi",
    [
        (0, 0.0, 3.689),  # exact (Garwood) Poisson limits, as tabulated
        (1, 0.0253, 5.572),
        (6, 2.202, 13.06),
        (10, 4.795, 18.39),
    ],
)
def test_poisson_interval_known_values(count, lo, hi):
    got = poisson_rate_ci(count, 1.0)
    assert got[0] == pytest.approx(lo, abs=5e-4)
    assert got[1] == pytest.approx(hi, rel=5e-4)


def test_poisson_interval_scales_with_exposure():
    lo, hi = poisson_rate_ci(6, 20.4)
    assert (lo, hi) == pytest.approx((2.2019 / 20.4, 13.0595 / 20.4), rel=1e-4)
    assert lo < 6 / 20.4 < hi
    assert poisson_rate_ci(3, 0.0) == pytest.approx((math.nan, math.nan), nan_ok=True)


@pytest.mark.parametrize("k, n", [(4166, 4461), (0, 12), (7, 9)])
def test_wilson_interval_is_scipys(k, n):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_ci(k, n) == pytest.approx((ref.low, ref.high), abs=1e-12)
    # and not the default (Clopper-Pearson) interval
    cp = stats.binomtest(k, n).proportion_ci(confidence_level=0.95)
    assert wilson_ci(k, n) != pytest.approx((cp.low, cp.high), abs=1e-6)


def test_wilson_interval_without_trials_is_nan():
    assert all(math.isnan(x) for x in wilson_ci(0, 0))


STREAMS = [(120, 2, 8), (95, 0, 11), (0, 3, 0), (60, 1, 1), (140, 4, 20), (0, 0, 0), (80, 2, 3), (30, 1, 9)]


def test_f1_bootstrap_contains_pooled_f1_and_is_deterministic():
    tp, fp, fn = (sum(s[i] for s in STREAMS) for i in range(3))
    pooled = float(f1_of(tp, fp, fn))
    lo, hi = f1_bootstrap_ci(STREAMS)
    assert lo < pooled < hi
    assert 0.0 < hi - lo < 0.2
    assert f1_bootstrap_ci(STREAMS) == (lo, hi)
    assert f1_bootstrap_ci(STREAMS, seed=1) != (lo, hi)  # the seed is what fixes it
    # more resamples of the same streams: about the same interval
    lo2, hi2 = f1_bootstrap_ci(STREAMS, n_boot=4000, seed=7)
    assert lo2 == pytest.approx(lo, abs=0.02) and hi2 == pytest.approx(hi, abs=0.02)


def test_f1_bootstrap_edge_cases():
    assert f1_bootstrap_ci([(10, 0, 0)] * 5) == (1.0, 1.0)  # every resample perfect
    assert all(math.isnan(x) for x in f1_bootstrap_ci([]))
    assert all(math.isnan(x) for x in f1_bootstrap_ci([(0, 0, 0)]))


def test_tally_keeps_each_stream_for_the_bootstrap():
    a, _ = score_stream([(1000, 0), (5000, 0)], [(1001, 0), (9000, 0)], 2000.0, 120_000, is_control=False)
    b, _ = score_stream([], [(3000, 1)], 2000.0, 120_000, is_control=True)
    assert a.streams == [(1, 1, 1)] and b.streams == [(0, 1, 0)]
    c = Tally().add(a).add(b)
    assert c.streams == [(1, 1, 1), (0, 1, 0)]
    assert sum(s[0] for s in c.streams) == c.tp and sum(s[1] for s in c.streams) == c.fp


def test_target_phrase():
    assert target_phrase(0.11, 0.64, 0.2, "minutes") == (
        "the target is inside the interval, more minutes are needed to tell")
    assert target_phrase(0.955, 0.97, 0.95, "streams") == "the whole interval is above the target"
    assert target_phrase(0.01, 0.15, 0.2, "minutes") == "the whole interval is below the target"


def _only_scoring(monkeypatch, db, detectors) -> None:
    """Run only ``detectors`` on the simulated streams; latency, throughput and
    NeuroKit2's public-call check are stubbed out."""
    real_run_all, real_run_sim = db.run_all_detectors, db.run_simulated
    monkeypatch.setattr(db, "run_all_detectors", lambda *a, **k: {d: v for d, v in real_run_all(*a, **k).items()
                                                                  if d in detectors})
    monkeypatch.setattr(db, "run_simulated", lambda *a, **k: real_run_sim(*a, **{**k, "nk_check_s": 0.0}))
    monkeypatch.setattr(db, "measure_latency", lambda *a, **k: None)
    monkeypatch.setattr(db, "measure_engine_throughput",
                        lambda scenario, *a, **k: {"scenario": scenario, "seconds": 10.0, "repeat": 1,
                                                   "x_realtime": 1.0, "x_realtime_wall": 1.0, "best_cpu_s": 1.0,
                                                   "best_wall_s": 1.0})


def test_report_shows_the_intervals(tmp_path, monkeypatch):
    pytest.importorskip("tqdm", reason="tqdm not installed")
    pytest.importorskip("twitchwatch.sim", reason="twitchwatch.sim not available")
    import bench.detect_bench as db

    # only the simulated scoring runs (engine and MAD on two 10 s streams)
    _only_scoring(monkeypatch, db, (db.ENGINE, db.MAD))
    rc = db.main(["--minutes", str(10 / 60), "--seeds", "1", "--scenarios", "benign_clean,control_clean",
                  "--no-real", "--no-plots", "--raster", "benign_clean", "--rate-seeds", "0", "--out", str(tmp_path)])
    assert rc == 0
    md = (tmp_path / "detect_bench.md").read_text()
    data = json.loads((tmp_path / "detect_bench.json").read_text())
    assert "In parentheses: the 95 % interval" in md
    targets = [line for line in md.splitlines() if line.startswith("- **PASS**") or line.startswith("- **MISS**")]
    f1_line = next(line for line in targets if "overall F1" in line)
    ctrl_line = next(line for line in targets if "in controls" in line)
    assert "95 % CI " in f1_line and "95 % CI " in ctrl_line
    assert any(p in ctrl_line for p in ("the target is inside the interval", "the whole interval is"))
    eng = data["overall"][db.ENGINE]
    lo, hi = eng["ci95"]["control_fp_per_min"]
    assert lo <= eng["control_fp_per_min"] <= hi
    assert f"{lo:.2f}–{hi:.2f}" in ctrl_line
    assert f"{eng['control_fp']} in " in ctrl_line
    t = next(x for x in data["targets"] if "in controls" in x["target"])
    assert t["ci95"] == [lo, hi] and t["target_inside_ci95"] == (lo <= 0.2 <= hi)
    # the overall table's engine row carries the sensitivity interval
    s_lo, s_hi = eng["ci95"]["sensitivity"]
    row = next(line for line in md.splitlines() if line.startswith(f"| {db.ENGINE} |"))
    assert f"({s_lo:.3f}–{s_hi:.3f})" in row


def test_false_twitch_targets_are_judged_on_the_longer_engine_run(tmp_path, monkeypatch):
    pytest.importorskip("tqdm", reason="tqdm not installed")
    pytest.importorskip("twitchwatch.sim", reason="twitchwatch.sim not available")
    import bench.detect_bench as db

    _only_scoring(monkeypatch, db, (db.ENGINE,))
    calls = []
    real_rates = db.measure_engine_rates

    def rates(scenarios, seeds, duration_s, jobs=2):
        calls.append((list(scenarios), list(seeds)))
        out = real_rates(scenarios, seeds, duration_s, jobs)
        # pretend 30 false twitches in its segment minutes
        return {**out, "segment_fp": 30, "segment_ci95": [1.0, 2.0]}

    monkeypatch.setattr(db, "measure_engine_rates", rates)
    rc = db.main(["--minutes", "1", "--seeds", "1", "--scenarios", "benign_clean,control_walking",
                  "--no-real", "--no-plots", "--raster", "benign_clean", "--rate-seeds", "2", "--out", str(tmp_path)])
    assert rc == 0
    assert calls == [(["benign_clean", "control_walking"], [db.BASE_SEED, db.BASE_SEED + 1])]
    md = (tmp_path / "detect_bench.md").read_text()
    data = json.loads((tmp_path / "detect_bench.json").read_text())
    r = data["engine_rates"]
    # benign_clean has neither control time nor voluntary/motion segments: not run
    assert r["scenarios"] == ["control_walking"] and r["segment_minutes"] > 0
    assert "## Engine false-twitch rates over more seeds" in md
    seg = next(line for line in md.splitlines() if "during voluntary/motion" in line and line.startswith("- **"))
    assert seg.startswith("- **MISS**") and f"30 in {r['segment_minutes']:.1f} min over seeds" in seg
    assert "main run:" in seg
    # the walking scenario runs again with the cable spikes of the simulator before
    # 2026-12-04 (independent of movement); both rates are reported, the target is judged
    # on the default one
    ind = r["cable_independent"]
    assert ind["scenarios"] == ["control_walking"] and ind["segment_minutes"] == pytest.approx(r["segment_minutes"])
    assert f"{ind['segment_fp']} in {ind['segment_minutes']:.1f} min" in seg.split("independent of movement")[1]
    assert "| voluntary/motion segments — cable spikes independent of movement |" in md
