"""ADS1292R and LSM6DSO drivers against register-accurate fakes, under MicroPython
(and the same checks under CPython). The checks live in mp_scripts/driver_checks.py."""

import os
import subprocess
import sys

import pytest

from conftest import FAKES, FIRMWARE, MP_SCRIPTS, run_micropython

CHECKS = [
    "ads_bad_sync_counted", "ads_counter_wraps", "ads_late_edge_before_read_counted",
    "ads_torn_read_counted", "hw_check_ids", "hw_loss_keeps_held_samples_and_marks_gap", "hw_scale_from_gain",
    "ads_drdy_counts_missed", "ads_gain_and_rate_codes", "ads_ignores_rreg_in_rdatac",
    "ads_init_registers", "ads_lead_off_bits", "ads_rejects_wrong_id",
    "ads_sign_extension_and_values", "frontend_through_acquisition", "hw_fill_allocates_nothing",
    "lsm_fifo_level_over_255_and_overrun", "lsm_fifo_tags_and_values", "lsm_init_registers",
    "lsm_no_fifo_before_init", "lsm_wrong_who_am_i",
]


def _results(stdout):
    lines = stdout.splitlines()
    assert lines and lines[-1] == "done", stdout
    out = {}
    for line in lines[:-1]:
        status, rest = line.split(" ", 1)
        name = rest.split(":", 1)[0]
        out[name] = line
    return out


@pytest.fixture(scope="module")
def mp_results():
    return _results(run_micropython(MP_SCRIPTS / "driver_checks.py").stdout)


@pytest.fixture(scope="module")
def cp_results():
    env = dict(os.environ, PYTHONPATH=f"{FIRMWARE}{os.pathsep}{FAKES}")
    p = subprocess.run([sys.executable, str(MP_SCRIPTS / "driver_checks.py")], capture_output=True,
                       text=True, timeout=60, env=env, check=True)
    return _results(p.stdout)


def test_all_checks_listed(mp_results):
    assert sorted(mp_results) == sorted(CHECKS)


@pytest.mark.parametrize("name", CHECKS)
def test_driver_check_micropython(mp_results, name):
    assert mp_results[name] == f"ok {name}"


@pytest.mark.parametrize("name", CHECKS)
def test_driver_check_cpython(cp_results, name):
    assert cp_results[name] == f"ok {name}"
