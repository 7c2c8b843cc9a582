"""Budgets calculated from datasheet figures: each verdict, and that each check can fail."""

import math
import pathlib

import pytest

from hwdesign import budgets, schematic

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_figure_names_its_source():
    for name, fig in budgets.F.items():
        assert fig.source and fig.kind in ("datasheet", "derived", "assumption"), name


def test_notification_rate_follows_the_firmware_stream():
    frames, nbytes = budgets.stream_frames_per_s()
    assert frames == pytest.approx(2000 / 20 + 833 / 20 + 1)
    assert nbytes == 144


def test_ble_battery_life_is_a_day_typical_and_reported_worst():
    typ, worst = budgets.battery_ble(), budgets.battery_ble(worst=True)
    assert typ.board_ma == pytest.approx(sum(r[1] for r in typ.rows))
    assert typ.life_h == pytest.approx(2500 * 0.85 / typ.board_ma)
    assert typ.life_h >= 24
    assert worst.board_ma > typ.board_ma and worst.life_h < typ.life_h
    assert 20 < worst.life_h < typ.life_h  # the worst case misses a day: README says so


def test_battery_life_scales_with_the_cell(monkeypatch):
    small = budgets.Figure(500.0, "mAh", "a small cell")
    monkeypatch.setitem(budgets.F, "cell_mah", small)
    assert budgets.battery_ble().life_h < 24  # a 500 mAh cell would not last a day


def test_ble_airtime_of_one_notification():
    tx, rx = budgets.ble_airtime_per_notification_s(144)
    assert tx == pytest.approx((1 + 4 + 2 + 4 + 3 + 144 + 3) * 8e-6)
    assert rx == pytest.approx(80e-6 + 300e-6)


def test_usb_streaming_stays_within_usb_power():
    usb = budgets.battery_usb()
    assert usb.life_h is None
    assert usb.board_ma <= 500
    assert "charged, not drained" in usb.note


def test_front_end_noise_lets_the_smallest_twitch_through():
    typ, worst = budgets.noise(), budgets.noise(worst=True)
    assert typ.smallest_twitch_uv == 50 and typ.k == 5
    assert typ.front_end_uv == pytest.approx(math.hypot(typ.ads_uv, typ.resistors_uv))
    assert typ.margin > 4 and worst.margin > 1.5
    assert worst.margin_with_tissue > 1  # even 5 uV tissue noise + worst ADS stays under 50 uV / 5
    # over 430 Hz a 240 kOhm pair of resistors at 310 K gives 1.33 uV
    assert typ.resistors_uv == pytest.approx(1.33, abs=0.01)


def test_noise_check_can_fail(monkeypatch):
    monkeypatch.setattr(schematic, "SERIES_R_OHM", 10e6)  # 10 MOhm per lead: 12 uV of resistor noise
    assert budgets.noise().margin < 1


def test_input_filter_keeps_the_band():
    diff_hz, cm_hz = budgets.input_filter_corners_hz()
    assert diff_hz > 2 * 450 and cm_hz > 10 * diff_hz  # < 1 dB at 450 Hz; CM corner far above


def test_input_range_gain_6_fits_the_electrode_offset_and_12_does_not():
    g6, g12 = budgets.input_range(6), budgets.input_range(12)
    assert g6.ok and g6.full_scale_v == pytest.approx(2.42 / 6)
    assert g6.headroom_v > 0.09
    assert g6.cm_low_v < g6.cm_v < g6.cm_high_v
    assert not g12.ok and g12.full_scale_v < g12.offset_v


def test_fault_current_is_within_the_dc_limits_on_the_battery():
    fc = budgets.fault_current()
    normal_lim, fault_lim = budgets.IEC_LIMITS_UA[budgets.APPLICABLE_LIMIT]
    assert fc.normal_ua < normal_lim
    assert fc.worst_single_fault_ua < fault_lim
    assert fc.worst_single_fault_ua == pytest.approx(4.23 / (120e3 * 0.99) * 1e6)
    assert fc.usb_fault_ua < fault_lim


def test_fault_check_can_fail(monkeypatch):
    monkeypatch.setattr(schematic, "SERIES_R_OHM", 49.9e3)  # a common but too small series resistor
    fc = budgets.fault_current()
    assert fc.worst_single_fault_ua > budgets.IEC_LIMITS_UA[budgets.APPLICABLE_LIMIT][1]
    assert "over the d.c. limits" in budgets.summary_rows()[-1][2]


def test_readme_leads_with_the_picture_and_the_current_budgets():
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    head = readme[: readme.index("\n## ", readme.index("## Budgets") + 1)]
    assert head.index("schematic.svg") < head.index("## Budgets")
    assert budgets.render_markdown() in readme, "hardware/README.md's budget table is stale: paste render_markdown()"
