"""ADS1292R and LSM6DSO drivers against register-accurate fakes, under MicroPython
(and the same checks under CPython). The checks live in mp_scripts/driver_checks.py."""

import pytest

from conftest import check_results

CHECKS = [
    "ads_bad_sync_counted", "ads_counter_wraps", "ads_late_edge_before_read_counted",
    "ads_torn_read_counted", "hw_check_ids", "hw_loss_keeps_held_samples_and_marks_gap", "hw_scale_from_gain",
    "ads_drdy_counts_missed", "ads_gain_and_rate_codes", "ads_ignores_rreg_in_rdatac",
    "ads_init_registers", "ads_lead_off_bits", "ads_rejects_wrong_id",
    "ads_sign_extension_and_values", "frontend_through_acquisition", "hw_fill_allocates_nothing",
    "lsm_fifo_level_over_255_and_overrun", "lsm_fifo_tags_and_values", "lsm_init_registers",
    "lsm_no_fifo_before_init", "lsm_wrong_who_am_i",
]


@pytest.fixture(scope="module")
def mp_results():
    return check_results("driver_checks.py", "micropython")


@pytest.fixture(scope="module")
def cp_results():
    return check_results("driver_checks.py", "cpython")


def test_all_checks_listed(mp_results):
    assert sorted(mp_results) == sorted(CHECKS)


@pytest.mark.parametrize("name", CHECKS)
def test_driver_check_micropython(mp_results, name):
    assert mp_results[name] == f"ok {name}"


@pytest.mark.parametrize("name", CHECKS)
def test_driver_check_cpython(cp_results, name):
    assert cp_results[name] == f"ok {name}"
