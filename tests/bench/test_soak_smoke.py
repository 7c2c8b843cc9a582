"""bench/soak.py in a few seconds: the real firmware in real time with the dashboard and
a client answering ``drawn``; the result splits the board's own drops from losses on
the way, and records the load and what each process was given (no numbers checked)."""

from __future__ import annotations

import pytest

from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR, ENTRY_POINT

pytestmark = pytest.mark.skipif(not (DEFAULT_FIRMWARE_DIR / ENTRY_POINT).exists(), reason="no firmware")


def test_losses_are_split_by_where_they_happened():
    from bench.soak import split_losses

    assert split_losses({"samples_lost": 50, "samples_dropped_at_source": 40, "crc_errors": 2}) == {
        "samples_dropped_at_source": 40, "samples_lost_on_host": 10, "other_problems": 2}
    assert split_losses({}) == {"samples_dropped_at_source": 0, "samples_lost_on_host": 0, "other_problems": 0}


@pytest.mark.slow
def test_a_short_soak_reports_memory_losses_and_load():
    pytest.importorskip("websockets")
    from bench.soak import soak

    result = soak(0.15, every_s=3.0, trim_each_row=True, trim_every_s=1.0)
    assert result["device_s"] > 3 and result["rows"]
    assert result["ws_error"] is None and result["latency_frames_drawn"] > 0  # the page's replies arrived
    assert set(result["losses"]) == {"samples_dropped_at_source", "samples_lost_on_host", "other_problems"}
    row = result["rows"][-1]
    for key in ("host_rss_mb", "trimmed_rss_mb", "malloc", "pymalloc", "sqlite_mb", "loadavg_1min",
                "samples_dropped_at_source", "firmware_sched_ms", "board_stalls", "host_read_gaps"):
        assert key in row
    assert result["trims"]["calls"] >= 1
    assert {"n", "max_gap_ms", "n_ge_70ms_mostly_write"} <= set(result["board_stalls"])
    assert {"n", "max_gap_ms", "gc", "stalls"} <= set(result["host_read_gaps"])
    assert result["priority_note"] is not None or result["firmware_nice"] < result["host_nice"] or result["host_nice"] == -20


def test_the_boards_stall_lines_are_read_and_summed():
    from bench.soak import parse_stalls, stall_summary

    stalls = parse_stalls(b"stall: t_ms=1200 gap_ms=310 write_ms=300\nnoise\nstall: t_ms=5000 gap_ms=80 write_ms=0\n"
                          b"stall: t_ms=6000 gap_ms=45 write_ms=1\nstall: t_ms=x\n")
    assert stalls == [{"t_ms": 1200, "gap_ms": 310, "write_ms": 300}, {"t_ms": 5000, "gap_ms": 80, "write_ms": 0},
                      {"t_ms": 6000, "gap_ms": 45, "write_ms": 1}]
    assert stall_summary(stalls, 70) == {"n": 3, "max_gap_ms": 310, "max_write_ms": 300, "n_ge_70ms": 2,
                                         "n_ge_70ms_mostly_write": 1}


@pytest.mark.slow
def test_heap_attribution_names_the_allocation_sites_that_grew():
    """bench/heap_attribution.py in seconds: the pipeline on a fast virtual board, traced
    from a baseline; each later sample lists the sites that grew, with their tracebacks."""
    from bench.heap_attribution import attribute

    result = attribute(0.4, every_min=0.1, baseline_min=0.1, frames=3, top=5)
    assert result["signal_s"] > 20 and not result["problems"]
    later = [r for r in result["rows"][1:] if "heap" in r]
    assert later and all("grown" in r["heap"] and "types_grown" in r["heap"] for r in later)
    assert all(g["where"] for r in later for g in r["heap"]["grown"])
    assert {"rss", "glibc_in_use", "pymalloc_arenas", "pymalloc_live"} == set(result["slopes_mb_per_signal_min"])


def test_native_heap_tells_a_growing_site_from_a_bounded_one(tmp_path):
    """bench/native_heap.py on a memray recording made here: one function keeps a new
    64 kB array every interval (grows without end), another keeps the newest four in a
    ring (fills, then stays level). The grower leads the list with a slope near 64 kB an
    interval; the ring's last-half slope is about nothing."""
    memray = pytest.importorskip("memray")  # the 'memprofile' extra
    import time

    import numpy as np

    from bench.native_heap import attribute

    kept, ring = [], []

    def grow():
        kept.append(np.ones(8192))  # 64 kB, kept for ever

    def cycle():
        ring.append(np.ones(8192))
        del ring[:-4]

    path = tmp_path / "heap.bin"
    with memray.Tracker(path, native_traces=True, memory_interval_ms=60):
        for _ in range(12):
            grow()
            cycle()
            time.sleep(0.06)
    result = attribute(path, top=10)
    assert result["snapshots"] >= 6
    sites = result["sites"]
    grower = next(s for s in sites if "grow" in s["site"])
    assert sites[0] is grower
    per_interval_kb = grower["last_half_kb_per_min"] * 0.06 / 60  # the snapshots are 60 ms apart
    assert 30 < per_interval_kb < 130
    cycler = [s for s in sites if "cycle" in s["site"]]
    assert all(abs(s["last_half_kb_per_min"]) < grower["last_half_kb_per_min"] / 4 for s in cycler)
    harness = [a for a in result["areas_malloc"] if a["area"] == "the bench harness (test_soak_smoke.py)"]
    assert harness and harness[0]["grew_kb"] > 300  # by area too: the 64 kB arrays kept since the first snapshot
