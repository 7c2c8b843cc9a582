"""The board's hot path (CRC, COBS, t_first_us, frame queue, UART pacer, refused frames,
allocation) under MicroPython and CPython. The checks live in mp_scripts/hot_path_checks.py."""

import pytest

from conftest import check_results

CHECKS = [
    "a_late_pass_loses_nothing_the_source_holds", "cobs_matches_reference", "crc_matches_binascii", "data_pack_matches_reference", "pacer_follows_baud", "pack_t_us_exact",
    "queue_bounded_with_reserve", "queue_drains_in_order", "refused_data_is_a_counted_gap",
    "selftest_on_the_simulator", "send_path_allocates_nothing",
]


@pytest.fixture(scope="module")
def mp_results():
    return check_results("hot_path_checks.py", "micropython")


@pytest.fixture(scope="module")
def cp_results():
    return check_results("hot_path_checks.py", "cpython")


def test_all_checks_listed(mp_results):
    assert sorted(mp_results) == sorted(CHECKS)


@pytest.mark.parametrize("name", CHECKS)
def test_hot_path_micropython(mp_results, name):
    assert mp_results[name] == f"ok {name}"


@pytest.mark.parametrize("name", CHECKS)
def test_hot_path_cpython(cp_results, name):
    assert cp_results[name] == f"ok {name}"
