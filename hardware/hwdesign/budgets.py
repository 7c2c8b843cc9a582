"""The board's budgets, calculated from datasheet figures: battery life, front-end
noise against the smallest twitch, input range against electrode offset, and the
current that can reach the body under a single fault.

Every figure is a :class:`Figure` with its source. ``kind`` says how sure it is:
"datasheet" (read from the cited document), "derived" (calculated here from other
figures, the formula in the note) or "assumption" (ours, with the reason).
Units are in the names (_ma, _uv, _v, _hz, _ohm, _s).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import schematic

BOLTZMANN = 1.380649e-23


@dataclass(frozen=True)
class Figure:
    value: float
    unit: str
    source: str
    kind: str = "datasheet"


# ------------------------------------------------------------------- datasheet figures
ESP32_DS = "ESP32 Series Datasheet v3.5 (Espressif), "
F = {
    "esp32_ble_tx_ma": Figure(130.0, "mA", ESP32_DS + "RF current consumption: BT/BLE Tx at 0 dBm, 130 mA (measured at 50 % duty, 3.3 V, 25 C)"),
    "esp32_ble_rx_ma": Figure(100.0, "mA", ESP32_DS + "RF current consumption: BT/BLE Rx 95-100 mA (upper value)"),
    "esp32_cpu_typ_ma": Figure(49.0, "mA", ESP32_DS + "Table 6, modem-sleep, 240 MHz, dual-core chip: 30-68 mA (midpoint)", "derived"),
    "esp32_cpu_max_ma": Figure(68.0, "mA", ESP32_DS + "Table 6, modem-sleep, 240 MHz, dual-core chip: 30-68 mA (upper end)"),
    "ads1292r_ma": Figure(0.5, "mA", "ADS1292R (SBAS502C) front page: 335 uW per channel at 3 V = 0.22 mA for two; "
                          "RLD amplifier, reference buffer and lead-off comparators add: taken as 0.5 mA", "assumption"),
    "lsm6dso_ma": Figure(0.55, "mA", "LSM6DSO datasheet (DS12140): 0.55 mA in combo (accelerometer + gyroscope) "
                         "high-performance mode; the firmware runs the accelerometer alone, which draws less: an upper bound"),
    "ap2112_iq_ma": Figure(0.055, "mA", "AP2112 datasheet: quiescent current 55 uA typical"),
    "lp5907_iq_ma": Figure(0.012, "mA", "LP5907 datasheet (SNVS798): quiescent current 12 uA typical"),
    "dw01a_ma": Figure(0.003, "mA", "DW01A datasheet: operating current 3.0 uA typical"),
    "mcp73831_leak_ma": Figure(0.002, "mA", "MCP73831 datasheet: battery discharge current with VDD absent, 2 uA maximum"),
    "ch340c_ma": Figure(15.0, "mA", "CH340 datasheet gives no operating current for the C; taken as 15 mA (USB full-speed "
                        "bridges of its class: 10-20 mA)", "assumption"),
    "cell_mah": Figure(2500.0, "mAh", "Adafruit 328: LiPo 3.7 V 2500 mAh (off-board item in the BOM)"),
    "cell_usable": Figure(0.85, "", "share of the rated capacity used between 4.2 V and the 3.3 V the firmware calls "
                          "empty (board's regulators need ~3.35 V), for an aged cell at room temperature", "assumption"),
    "charge_ma": Figure(370.0, "mA", "MCP73831: I_REG = 1000 V / R_PROG = 1000 / 2.7 kOhm", "derived"),
    "usb_limit_ma": Figure(500.0, "mA", "USB 2.0 default power for a device with Rd pull-downs on CC (USB Type-C spec 'Default USB Power')"),
    # front end
    "ads_noise_g1_uv": Figure(10.1, "uVrms", "ADS1292R (SBAS502) Table 1: input-referred noise at 2 kSPS, gain 1 (524 Hz bandwidth)"),
    "ads_noise_g2_uv": Figure(5.3, "uVrms", "ADS1292R (SBAS502) Table 1: input-referred noise at 2 kSPS, gain 2 (524 Hz bandwidth)"),
    "ads_bw_hz": Figure(524.0, "Hz", "ADS1292R (SBAS502) Table 1: -3 dB bandwidth at 2 kSPS"),
    "vref_v": Figure(2.42, "V", "ADS1292R internal reference (firmware ads1292r.VREF_UV)"),
    "avdd_v": Figure(3.0, "V", "LP5907MFX-3.0 output (the schematic's AVDD)"),
    "pga_swing_v": Figure(0.2, "V", "ADS1292R (SBAS502C) 8.3.4.1: PGA outputs stay 200 mV inside the supplies"),
    "lead_off_na": Figure(6.0, "nA", "firmware ads1292r._LOFF: DC lead-off current 6 nA per input"),
    "electrode_offset_v": Figure(0.300, "V", "wet Ag/AgCl electrodes: +-300 mV DC offset (the figure AAMI EC11 / IEC 60601-2-25 make ECG inputs tolerate)"),
    "tissue_noise_uv": Figure(3.0, "uVrms", "good surface-EMG rest noise is 1-5 uVrms (shared/docs/design-notes.md); the simulator uses 3", "assumption"),
    "tissue_noise_max_uv": Figure(5.0, "uVrms", "upper end of 1-5 uVrms rest noise", "assumption"),
    "temp_k": Figure(310.0, "K", "resistors at body temperature (board on the skin)", "assumption"),
    # safety
    "vbus_max_v": Figure(5.25, "V", "USB 2.0: VBUS at most 5.25 V"),
    "vcell_max_v": Figure(4.23, "V", "MCP73831-2: 4.20 V +0.75 % regulation"),
    "r_tol": Figure(0.01, "", "Yageo RC0402 F: 1 % tolerance"),
    "tvs_leak_ua": Figure(1.0, "uA", "PESD5V0S1BL: reverse leakage, taken as 1 uA per diode at 5 V (upper bound used "
                          "at the 1.5 V the body sits at)", "assumption"),
}

#: IEC 60601-1 (3rd ed.) Table 3, patient leakage current limits in uA: (normal, single fault).
IEC_LIMITS_UA = {
    "CF (a.c., as in the issue)": (10.0, 50.0),
    "BF (a.c., as in the issue)": (100.0, 500.0),
    "d.c., every applied-part type": (10.0, 50.0),
}
#: The limit that applies to this board: a battery fault drives d.c., and Table 3's d.c.
#: row is 10 / 50 uA for B, BF and CF alike.
APPLICABLE_LIMIT = "d.c., every applied-part type"


def _v(name: str) -> float:
    return F[name].value


# ------------------------------------------------------------------ stream and BLE
def stream_frames_per_s() -> tuple[float, int]:
    """DATA frames per second (+1 STATUS) and bytes per frame of the firmware's hardware
    stream: HardwareFrontEnd's streams (rates in millihertz; EMG at the ADS1292R's 2 kSPS, ACC at the
    LSM6DSO's 833 Hz, each ``samples_per_frame`` to a frame). 144 B per DATA frame
    (docs/firmware.md: 20 samples of 2 x int24 or 3 x int16 plus the frame header)."""
    import inspect

    fw = str(Path(__file__).resolve().parents[2] / "firmware")
    sys.path.insert(0, fw)
    try:
        import hw_frontend
        import lsm6dso
        import stream_desc

        defaults = inspect.signature(hw_frontend.HardwareFrontEnd.__init__).parameters
        emg = stream_desc.emg_stream(2000 * 1000, defaults["emg_spf"].default)
        acc = stream_desc.acc_stream(lsm6dso.ODR_MHZ, defaults["acc_spf"].default)
    finally:
        sys.path.remove(fw)
    frames = sum(s.sample_rate_mhz / 1e3 / s.samples_per_frame for s in (emg, acc))
    return frames + 1.0, 144


def ble_airtime_per_notification_s(payload_bytes: int) -> tuple[float, float]:
    """(transmit, receive) radio-on time of one notification on the 1M PHY with data
    length extension: preamble 1 + access address 4 + LL header 2 + L2CAP 4 + ATT 3 +
    payload + CRC 3 bytes at 1 us/bit; the central's empty acknowledgement (10 bytes)
    and the two 150 us inter-frame spaces count as receive time."""
    tx_s = (1 + 4 + 2 + 4 + 3 + payload_bytes + 3) * 8e-6
    rx_s = 10 * 8e-6 + 2 * 150e-6
    return tx_s, rx_s


@dataclass
class BatteryResult:
    mode: str
    board_ma: float
    life_h: float | None
    rows: list[tuple[str, float, str]] = field(default_factory=list)
    note: str = ""


def _always_on_rows() -> list[tuple[str, float, str]]:
    divider_ma = _v("vcell_max_v") / 200e3 * 1e3
    return [
        ("ADS1292R", _v("ads1292r_ma"), F["ads1292r_ma"].source),
        ("LSM6DSO", _v("lsm6dso_ma"), F["lsm6dso_ma"].source),
        ("AP2112K 3.3 V quiescent", _v("ap2112_iq_ma"), F["ap2112_iq_ma"].source),
        ("LP5907 3.0 V quiescent", _v("lp5907_iq_ma"), F["lp5907_iq_ma"].source),
        ("DW01A", _v("dw01a_ma"), F["dw01a_ma"].source),
        ("MCP73831 leakage", _v("mcp73831_leak_ma"), F["mcp73831_leak_ma"].source),
        ("battery divider 2 x 100 kOhm", divider_ma, "4.23 V / 200 kOhm"),
    ]


def battery_ble(worst: bool = False) -> BatteryResult:
    """Streaming over BLE on the cell: the ESP32's radio-on share from the stream's
    notification rate, the rest of the time modem-sleep at 240 MHz; worst case: the
    CPU at the datasheet's upper current and every packet sent twice (retries)."""
    frames, nbytes = stream_frames_per_s()
    tx_s, rx_s = ble_airtime_per_notification_s(nbytes)
    retries = 2.0 if worst else 1.0
    d_tx = frames * tx_s * retries
    d_rx = frames * rx_s * retries
    cpu = _v("esp32_cpu_max_ma") if worst else _v("esp32_cpu_typ_ma")
    esp_ma = d_tx * _v("esp32_ble_tx_ma") + d_rx * _v("esp32_ble_rx_ma") + (1 - d_tx - d_rx) * cpu
    back_feed_ma = (3.3 - 0.6) / schematic.UART_SERIES_OHM * 1e3
    rows = [("ESP32 (BLE streaming)", esp_ma,
             f"{frames:.1f} notifications/s of {nbytes} B: radio Tx {100 * d_tx:.1f} %, Rx {100 * d_rx:.1f} % of the time"
             f"{' (each sent twice)' if worst else ''}; otherwise modem-sleep at {cpu:g} mA")]
    rows += _always_on_rows()
    rows.append(("UART back-feed into the unpowered CH340C", back_feed_ma, f"(3.3 V - 0.6 V) / {schematic.UART_SERIES_R} (ESP32 TXD idles high into the bridge's input diode), upper bound"))
    total = sum(r[1] for r in rows)
    life = _v("cell_mah") * _v("cell_usable") / total
    return BatteryResult("BLE, worst case" if worst else "BLE, typical", total, life, rows)


def battery_usb() -> BatteryResult:
    """Streaming over USB: the board runs from VBUS (Schottky into VSYS; the load-sharing
    PFET cuts the cell off) and the cell charges, so the cell's life is not the limit;
    the budget is the USB port's 500 mA."""
    rows = [("ESP32 (radio off, 240 MHz)", _v("esp32_cpu_max_ma"), F["esp32_cpu_max_ma"].source),
            ("CH340C", _v("ch340c_ma"), F["ch340c_ma"].source),
            ("AP2112K for the CH340C, quiescent", _v("ap2112_iq_ma"), F["ap2112_iq_ma"].source)]
    rows += [r for r in _always_on_rows() if not r[0].startswith(("DW01A", "MCP73831", "battery"))]
    board = sum(r[1] for r in rows)
    rows.append(("MCP73831 charging the cell (at most)", _v("charge_ma"), F["charge_ma"].source))
    total = sum(r[1] for r in rows)
    return BatteryResult("USB", total, None, rows,
                         f"VBUS current {total:.0f} mA (board {board:.0f} mA + charging {_v('charge_ma'):.0f} mA) "
                         f"against USB's {_v('usb_limit_ma'):.0f} mA; the cell is charged, not drained")


# ----------------------------------------------------------------------- noise
@dataclass
class NoiseResult:
    ads_uv: float
    resistors_uv: float
    front_end_uv: float
    threshold_uv: float
    smallest_twitch_uv: float
    margin: float  #: smallest twitch / (k x front-end noise)
    margin_with_tissue: float  #: smallest twitch / (k x sqrt(front end^2 + tissue^2))
    k: float
    tissue_uv: float
    case: str


def detector_k_and_smallest_twitch() -> tuple[float, float]:
    """The detector's threshold in robust sigmas (DetectorConfig.k) and the smallest
    twitch the simulator makes for it (sim_frontend SimOptions amp_min_uv, peak)."""
    from twitchwatch.detect.config import DetectorConfig

    fw = Path(__file__).resolve().parents[2] / "firmware"
    sys.path.insert(0, str(fw))
    try:
        import sim_frontend

        amp = float(sim_frontend.SimOptions().amp_min_uv)
    finally:
        sys.path.remove(str(fw))
    return float(DetectorConfig().k), amp


def noise(worst: bool = False, band_hz: tuple[float, float] = (20.0, 450.0), gain: int = 6) -> NoiseResult:
    """Input-referred noise over the detector's band. The ADS1292R table gives gains 1
    and 2 at 2 kSPS; at that rate the noise is the modulator's, which referred to the
    input falls as 1/gain (10.1 -> 5.3 uV from gain 1 to 2), so gain 6 is estimated as
    5.3 x 2/6; the worst case keeps the gain-2 figure (input-referred noise does not
    grow with gain). White noise: scaled by sqrt(band / 524 Hz). The two series
    resistors of a pair add sqrt(4 k T R B)."""
    lo, hi = band_hz
    band = hi - lo
    ads_524 = _v("ads_noise_g2_uv") if worst else _v("ads_noise_g2_uv") * 2.0 / gain
    ads = ads_524 * math.sqrt(band / _v("ads_bw_hz"))
    r_pair = 2 * schematic.SERIES_R_OHM
    res = math.sqrt(4 * BOLTZMANN * _v("temp_k") * r_pair * band) * 1e6
    fe = math.hypot(ads, res)
    k, smallest = detector_k_and_smallest_twitch()
    tissue = _v("tissue_noise_max_uv") if worst else _v("tissue_noise_uv")
    return NoiseResult(ads, res, fe, k * fe, smallest, smallest / (k * fe), smallest / (k * math.hypot(fe, tissue)),
                       k, tissue, "worst" if worst else "typical")


def input_filter_corners_hz() -> tuple[float, float]:
    """(differential, common-mode) -3 dB corners of the input RC filter."""
    r = schematic.SERIES_R_OHM
    diff = 1 / (2 * math.pi * 2 * r * (schematic.C_DIFF_F + schematic.C_CM_F / 2))
    cm = 1 / (2 * math.pi * r * schematic.C_CM_F)
    return diff, cm


# ----------------------------------------------------------------------- input range
@dataclass
class RangeResult:
    gain: int
    full_scale_v: float
    offset_v: float
    headroom_v: float
    cm_low_v: float
    cm_high_v: float
    cm_v: float
    ok: bool


def input_range(gain: int = 6) -> RangeResult:
    """Differential full scale +-VREF/gain against the electrode offset (plus the
    lead-off currents through both series resistors), and the ADS1292R's common-mode
    window for that differential input: AVSS + 0.2 V + gain x Vdiff / 2 < Vcm <
    AVDD - 0.2 V - gain x Vdiff / 2 (SBAS502C 8.3.4.1), with the RLD holding the body at
    (AVDD + AVSS) / 2 (firmware: RLDREF internal)."""
    fs = _v("vref_v") / gain
    offset = _v("electrode_offset_v") + 2 * _v("lead_off_na") * 1e-9 * schematic.SERIES_R_OHM
    half = gain * offset / 2
    lo = _v("pga_swing_v") + half
    hi = _v("avdd_v") - _v("pga_swing_v") - half
    cm = _v("avdd_v") / 2
    ok = fs > offset and lo < cm < hi
    return RangeResult(gain, fs, offset, fs - offset, lo, hi, cm, ok)


# ----------------------------------------------------------------------- fault current
@dataclass
class FaultResult:
    normal_ua: float
    worst_single_fault_ua: float
    worst_fault: str
    faults: list[tuple[str, float]]
    usb_fault_ua: float


def fault_current() -> FaultResult:
    """Current into the body. Normal: the DC lead-off currents of the four inputs plus
    the five TVS diodes' leakage (body at AVDD/2 against AGND). Single faults (one at a
    time, the return path's own resistance ignored, resistors at -1 %): an ADS input
    shorted to the highest voltage on the board drives it through its lead's series
    resistor; a shorted TVS grounds an electrode, and the RLD then drives up to AVDD
    through its series resistor; a shorted series resistor leaves the chip's own
    nanoamp input current. The battery-only case is the design case (electrodes never
    on a person while USB is connected, hardware/README.md); the USB case is reported."""
    r_min = schematic.SERIES_R_OHM * (1 - _v("r_tol"))
    normal = 4 * _v("lead_off_na") * 1e-3 + 5 * _v("tvs_leak_ua")
    faults = [
        ("ADS input shorted to the cell (4.23 V) through its 120 kOhm", _v("vcell_max_v") / r_min * 1e6),
        ("TVS shorted: RLD drives AVDD (3.0 V) through its 120 kOhm", _v("avdd_v") / r_min * 1e6),
        ("series resistor shorted: the input's own lead-off current", _v("lead_off_na") * 1e-3),
    ]
    worst = max(faults, key=lambda f: f[1])
    usb = _v("vbus_max_v") / r_min * 1e6
    return FaultResult(normal, worst[1], worst[0], faults, usb)


# ----------------------------------------------------------------------- summary
def summary_rows() -> list[tuple[str, str, str]]:
    """(budget, result, verdict) rows for hardware/README.md."""
    typ, worst = battery_ble(), battery_ble(worst=True)
    usb = battery_usb()
    n_typ, n_worst = noise(), noise(worst=True)
    rng6, rng12 = input_range(6), input_range(12)
    fc = fault_current()
    nc_lim, sf_lim = IEC_LIMITS_UA[APPLICABLE_LIMIT]
    diff_hz, cm_hz = input_filter_corners_hz()
    return [
        ("battery, BLE streaming", f"{typ.board_ma:.0f} mA -> {typ.life_h:.1f} h typical; {worst.board_ma:.0f} mA -> "
         f"{worst.life_h:.1f} h worst (2500 mAh cell)", "a day (24 h) typical" if typ.life_h >= 24 else "less than a day"),
        ("battery, USB streaming", usb.note, "within USB's 500 mA" if usb.board_ma <= _v("usb_limit_ma") else "over USB's 500 mA"),
        ("front-end noise, 20-450 Hz", f"{n_typ.front_end_uv:.2f} uVrms typical (ADS {n_typ.ads_uv:.2f}, resistors "
         f"{n_typ.resistors_uv:.2f}); {n_worst.front_end_uv:.2f} uVrms worst",
         f"a {n_typ.smallest_twitch_uv:.0f} uV twitch is {n_typ.margin:.1f}x ({n_worst.margin:.1f}x worst) the "
         f"detector's {n_typ.k:g}-sigma threshold; with {n_typ.tissue_uv:g}-{n_worst.tissue_uv:g} uV tissue noise "
         f"{n_typ.margin_with_tissue:.1f}x ({n_worst.margin_with_tissue:.1f}x)"),
        ("input filter", f"differential {diff_hz:.0f} Hz, common mode {cm_hz / 1000:.1f} kHz",
         f"{20 * math.log10(1 / math.hypot(1, 450 / diff_hz)):.1f} dB at 450 Hz"),
        ("input range, gain 6", f"+-{rng6.full_scale_v * 1000:.0f} mV vs +-{rng6.offset_v * 1000:.0f} mV offset "
         f"({rng6.headroom_v * 1000:.0f} mV left); common mode {rng6.cm_v:.2f} V in {rng6.cm_low_v:.2f}-{rng6.cm_high_v:.2f} V",
         "fits" if rng6.ok else "does not fit"),
        ("input range, gain 12", f"+-{rng12.full_scale_v * 1000:.0f} mV vs +-{rng12.offset_v * 1000:.0f} mV offset",
         "fits" if rng12.ok else "does not fit: keep gain 6"),
        ("current into the body", f"normal {fc.normal_ua:.1f} uA; single fault {fc.worst_single_fault_ua:.1f} uA "
         f"({fc.worst_fault}); with USB connected {fc.usb_fault_ua:.1f} uA",
         f"within IEC 60601-1's d.c. patient leakage limits ({nc_lim:g} / {sf_lim:g} uA) on the battery"
         if fc.normal_ua < nc_lim and fc.worst_single_fault_ua < sf_lim else "over the d.c. limits"),
    ]


def render_markdown() -> str:
    lines = ["| budget | result | verdict |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in summary_rows()]
    return "\n".join(lines) + "\n"


def render_details() -> str:
    """Every figure with its source, and each battery row (hardware/budgets.md)."""
    out = ["# Budgets (generated by `python hardware/build.py`; do not edit)", "", render_markdown(), "",
           "## Battery rows", ""]
    for res in (battery_ble(), battery_ble(worst=True), battery_usb()):
        out += [f"### {res.mode}: {res.board_ma:.1f} mA" + (f", {res.life_h:.1f} h" if res.life_h else ""), "",
                "| part | mA | from |", "|---|---|---|"]
        out += [f"| {name} | {ma:.3f} | {src} |" for name, ma, src in res.rows]
        if res.note:
            out += ["", res.note]
        out.append("")
    out += ["## Figures", "", "| name | value | kind | source |", "|---|---|---|---|"]
    out += [f"| {k} | {f.value:g} {f.unit} | {f.kind} | {f.source} |" for k, f in F.items()]
    out += ["", "IEC 60601-1 Table 3 patient leakage limits used (normal / single fault, uA): "
            + "; ".join(f"{k}: {a:g} / {b:g}" for k, (a, b) in IEC_LIMITS_UA.items())
            + f". Applicable here: {APPLICABLE_LIMIT} (a battery fault drives d.c.).", ""]
    return "\n".join(out)
