"""The schematic: ERC clean, the committed netlist is what the code generates, and the
netlist wires what the design says (supplies, series resistors, bus)."""

import pathlib
import sys

import pytest

from hwdesign import outputs, schematic
from hwdesign.netlist import Netlist

HARDWARE = pathlib.Path(__file__).resolve().parents[2] / "hardware"


def test_erc_reports_no_error_and_no_warning(circuit):
    res = outputs.run_erc(circuit)
    assert (res.errors, res.warnings) == (0, 0), res.messages


def test_erc_catches_a_deliberate_conflict(pinmap):
    """Two regulator outputs on one net: the harness must see the error."""
    from hwdesign import parts as pt

    bad = schematic.build(pinmap)
    with bad:
        b = schematic._Builder(bad)
        b.nets = {n.name: n for n in bad.nets}  # connect to the circuit's own nets
        b.count["U"] = 100  # a fresh reference
        b.add(pt.AP2112K, VIN="VSYS", GND="GND", EN="VSYS", NC=None, VOUT="AVDD_3V0")
    res = outputs.run_erc(bad)
    assert res.errors >= 1, res.messages


def test_the_committed_netlist_is_what_the_code_generates(netlist_text):
    committed = outputs.NETLIST.read_text(encoding="utf-8")
    assert committed == netlist_text, "hardware/twitchwatch.net is stale: run python hardware/build.py"


def test_a_changed_design_changes_the_netlist(pm, netlist_text):
    """The regeneration check can fail: a pin moved in the map gives different text."""
    next(p for p in pm["pins"] if p["net"] == "ACC_INT1")["gpio"] = 26
    assert outputs.netlist_text(schematic.build(pm)) != netlist_text


def test_build_check_passes_on_the_committed_files(capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("hardware_build", HARDWARE / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert build.main(["--check"]) == 0, capsys.readouterr().err


def test_every_part_has_a_manufacturer_part_number(netlist_text):
    net = Netlist.parse(netlist_text)
    assert len(net.components) > 60
    for ref, comp in net.components.items():
        assert comp["fields"].get("Manufacturer"), ref
        assert comp["fields"].get("MPN"), ref
        assert comp["fields"].get("Footprint"), ref


def _by_part(net, name):
    return [ref for ref, c in net.components.items() if c["part"] == name]


def test_supplies_go_where_the_design_says(netlist_text):
    net = Netlist.parse(netlist_text)
    (ads,) = _by_part(net, "ADS1292R")
    (lsm,) = _by_part(net, "LSM6DSO")
    (esp,) = _by_part(net, "ESP32-WROOM-32E")
    assert net.net_of(ads, "12") == "AVDD_3V0"  # AVDD from the low-noise LDO
    assert net.net_of(ads, "13") == "AGND" and net.net_of(ads, "10") == "AGND"  # AVSS, VREFN
    assert net.net_of(ads, "23") == "+3V3"  # DVDD
    assert net.net_of(ads, "14") == "+3V3" and net.net_of(ads, "16") == "GND"  # CLKSEL high, START low
    assert net.net_of(lsm, "8") == net.net_of(lsm, "5") == "+3V3"
    assert net.net_of(lsm, "1") == "GND"  # SA0 low: 0x6A, as firmware/lsm6dso.ADDR
    assert net.net_of(esp, "2") == "+3V3"
    ldo_out = {net.net_of(r, "5") for r in _by_part(net, "AP2112K-3.3") + _by_part(net, "LP5907-3.0")}
    assert ldo_out == {"+3V3", "VUSB_3V3", "AVDD_3V0"}


def test_every_electrode_lead_has_a_series_resistor_and_esd_diode(netlist_text):
    net = Netlist.parse(netlist_text)
    (conn,) = _by_part(net, "Conn_Electrodes")
    for pin in "12345":
        e_net = net.net_of(conn, pin)
        others = [(r, p) for r, p in net.nets[e_net] if r != conn]
        resistors = [r for r, _ in others if r.startswith("R")]
        tvs = [r for r, _ in others if net.components[r]["part"] == "PESD5V0S1BL"]
        assert len(others) == 2 and len(resistors) == 1 and len(tvs) == 1, (e_net, others)
        assert net.components[resistors[0]]["value"] == schematic.SERIES_R


def test_the_ads_spi_pins_meet_the_esp32_pins_of_the_map(pinmap, netlist_text):
    net = Netlist.parse(netlist_text)
    (ads,) = _by_part(net, "ADS1292R")
    ads_pins = {"SPI_SCK": "20", "SPI_MOSI": "19", "SPI_MISO": "21", "ADS_CS": "18", "ADS_DRDY": "22", "ADS_PWDN": "15"}
    for net_name, pin in ads_pins.items():
        assert net.net_of(ads, pin) == net_name
        assert any(p["net"] == net_name for p in pinmap["pins"])


def test_netlist_reader_rejects_garbage():
    with pytest.raises(ValueError, match="unbalanced"):
        Netlist.parse('(export (version "D")')
    with pytest.raises(ValueError, match="not a KiCad netlist"):
        Netlist.parse("(kicad_pcb)")


def test_the_usb_bridge_is_one_the_host_finds(netlist_text):
    """`twitchwatch ports` / autodetect mark the board's bridge (CH340: USB 1A86:7523)."""
    from twitchwatch.transports.serial import ESP32_USB_IDS

    net = Netlist.parse(netlist_text)
    bridges = {c["part"] for c in net.components.values() if c["part"].startswith("CH34")}
    assert bridges == {"CH340C"}
    assert any(vid == 0x1A86 and pid == 0x7523 for vid, pid, _ in ESP32_USB_IDS)


def test_the_uart_series_resistors_pass_921600_baud(netlist_text):
    """firmware/main.py runs UART0 at 921 600 Bd: the series R with ~10 pF of pin and
    trace capacitance must give edges (2.2 RC, 10-90 %) under 15 % of a bit."""
    from twitchwatch.transports.serial import DEFAULT_BAUDRATE

    rise_s = 2.2 * schematic.UART_SERIES_OHM * 10e-12
    assert rise_s < 0.15 / DEFAULT_BAUDRATE


def test_importing_the_schematic_leaves_other_libraries_loggers_alone(tmp_path):
    """skidl's import makes every logger created afterwards a SkidlLogger, which breaks
    numba's compiler (it logs lazy objects): in a fresh process, importing the schematic
    first and then compiling a numba kernel with an empty cache must work."""
    import os
    import subprocess

    code = (
        "import sys, logging; sys.path.insert(0, sys.argv[1])\n"
        "from hwdesign import schematic\n"
        "assert logging.getLoggerClass() is logging.Logger, logging.getLoggerClass()\n"
        "import numba\n"
        "@numba.njit\n"
        "def twice(x):\n"
        "    return 2 * x\n"
        "assert twice(21) == 42\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code, str(HARDWARE)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
