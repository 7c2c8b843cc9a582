"""The pin map against the ESP32's rules, the firmware's constants and the netlist:
the real map passes, and each rule rejects a deliberately bad map."""

import pathlib

import pytest

from hwdesign import outputs, pincheck
from hwdesign.netlist import Netlist

ROOT = pathlib.Path(__file__).resolve().parents[2]

FIRMWARE_SRC = (ROOT / "firmware" / "board_esp32.py").read_text(encoding="utf-8")


def _entry(pm, net):
    return next(p for p in pm["pins"] if p["net"] == net)


def _only(problems, *words):
    """Exactly one problem, and it names every word (case-insensitive)."""
    assert len(problems) == 1, problems
    assert all(w.lower() in problems[0].lower() for w in words), problems
    assert "\n" not in problems[0]
    return problems[0]


def test_the_pin_map_meets_every_rule(pinmap):
    assert pincheck.check_pinmap(pinmap) == []


def test_the_firmware_uses_the_pin_map(pinmap):
    assert pincheck.check_firmware(pinmap, FIRMWARE_SRC) == []
    # and the check is not vacuous: every firmware pin constant is named in the map
    fw = pincheck.firmware_pins(FIRMWARE_SRC)
    assert len(fw) >= 9
    assert set(fw) <= {p["firmware_const"] for p in pinmap["pins"]}


def test_the_committed_netlist_matches_the_pin_map(pinmap):
    net = Netlist.parse(outputs.NETLIST.read_text(encoding="utf-8"))
    assert pincheck.check_netlist(pinmap, net) == []


def test_flash_pins_are_rejected(pm):
    _entry(pm, "ADS_DRDY")["gpio"] = 7
    _only(pincheck.check_pinmap(pm), "GPIO7", "flash")


def test_psram_pins_are_rejected_on_a_wrover(pm):
    pm["module"] = "ESP32-WROVER-E"
    _only(pincheck.check_pinmap(pm), "GPIO16", "PSRAM")


@pytest.mark.parametrize("gpio,level,words", [
    (12, "high", ("strapping", "1.8 V flash")),
    (2, "high", ("strapping", "download")),
    (15, "low", ("strapping", "boot log")),
    (0, "low", ("strapping", "bootloader")),
    (5, "low", ("strapping",)),
])
def test_strapping_pins_against_their_boot_level(pm, gpio, level, words):
    if gpio == 0:
        _entry(pm, "BOOT")["boot_level"] = level
    elif gpio == 5:
        _entry(pm, "ADS_CS")["boot_level"] = level
    else:
        pm["pins"].append({"gpio": gpio, "use": "gpio_out", "net": "LED", "firmware_const": None,
                           "boot_level": level, "pull": "none", "to": "a LED"})
    _only(pincheck.check_pinmap(pm), f"GPIO{gpio}", *words)


def test_strapping_pins_at_a_compatible_level_pass(pm):
    pm["pins"].append({"gpio": 12, "use": "gpio_out", "net": "LED", "firmware_const": None,
                       "boot_level": "low", "pull": "none", "to": "a LED with a pull-down"})
    assert pincheck.check_pinmap(pm) == []


@pytest.mark.parametrize("net", ["SPI_SCK", "SPI_MOSI", "ADS_CS", "ADS_PWDN", "I2C_SDA", "I2C_SCL"])
def test_input_only_pins_cannot_be_driven(pm, net):
    _entry(pm, net)["gpio"] = 34
    _only(pincheck.check_pinmap(pm), "GPIO34", "input-only")


def test_input_only_pins_can_take_an_input(pm):
    _entry(pm, "SPI_MISO")["gpio"] = 34
    _entry(pm, "ACC_INT1")["gpio"] = 39
    assert pincheck.check_pinmap(pm) == []


def test_input_only_pins_have_no_internal_pull_up(pm):
    _entry(pm, "ADS_DRDY")["gpio"] = 36  # the firmware asks for Pin.PULL_UP on DRDY
    _only(pincheck.check_pinmap(pm), "GPIO36", "pull-up")


def test_adc2_is_rejected_while_the_radio_is_on(pm):
    _entry(pm, "VBAT_SENSE")["gpio"] = 25
    _only(pincheck.check_pinmap(pm), "GPIO25", "ADC2")
    pm["radio_on"] = False
    assert pincheck.check_pinmap(pm) == []


def test_adc_needs_an_adc_pad(pm):
    _entry(pm, "VBAT_SENSE")["gpio"] = 17
    _only(pincheck.check_pinmap(pm), "GPIO17", "no ADC")


def test_a_pin_used_twice_is_rejected(pm):
    _entry(pm, "ACC_INT1")["gpio"] = 18
    _only(pincheck.check_pinmap(pm), "GPIO18", "used twice")


def test_a_net_on_two_pins_is_rejected(pm):
    _entry(pm, "ACC_INT1")["net"] = "ADS_DRDY"
    _only(pincheck.check_pinmap(pm), "ADS_DRDY", "two pins")


@pytest.mark.parametrize("net,gpio,words", [
    ("I2C_SDA", 39, ("input-only",)),  # I2C needs an open-drain output
    ("SPI_SCK", 24, ("does not exist",)),  # no GPIO24 on the ESP32
    ("SPI_MOSI", 1, ("UART0",)),  # the console's TX
    ("I2C_SCL", 20, ("does not exist",)),
])
def test_bus_signals_on_pins_that_cannot_carry_them(pm, net, gpio, words):
    # without the console's own entry, so the pad's rule is the only problem (not "used twice")
    pm["pins"] = [p for p in pm["pins"] if p["gpio"] != gpio]
    _entry(pm, net)["gpio"] = gpio
    _only(pincheck.check_pinmap(pm), f"GPIO{gpio}", *words)


def test_a_pulse_counter_needs_an_existing_input_pad(pm):
    pm["pins"].append({"gpio": 28, "use": "pcnt", "net": "DRDY_COUNT", "firmware_const": None,
                       "boot_level": "float", "pull": "none", "to": "PCNT"})
    _only(pincheck.check_pinmap(pm), "GPIO28", "does not exist")
    pm["pins"][-1]["gpio"] = 34  # input-only pads can count pulses
    assert pincheck.check_pinmap(pm) == []


def test_bad_entries_give_one_line_errors_not_exceptions(pm):
    pm["pins"][0]["gpio"] = "18"
    del pm["pins"][1]["pull"]
    pm["pins"][2]["use"] = "spi_clock"
    problems = pincheck.check_pinmap(pm)
    assert len(problems) == 3 and all("\n" not in p for p in problems), problems
    assert pincheck.check_pinmap({"module": "ESP32-C3", "pins": []})[0].startswith("module 'ESP32-C3' unknown")


def test_firmware_disagreeing_with_the_map_is_reported(pinmap):
    moved = FIRMWARE_SRC.replace("PIN_SCK = const(18)", "PIN_SCK = const(14)")
    assert moved != FIRMWARE_SRC
    _only(pincheck.check_firmware(pinmap, moved), "PIN_SCK", "GPIO18", "GPIO14")
    extra = FIRMWARE_SRC + "\nPIN_LED = const(2)\n"
    _only(pincheck.check_firmware(pinmap, extra), "PIN_LED", "not in the pin map")
    gone = FIRMWARE_SRC.replace("PIN_BATTERY = const(35)", "")
    _only(pincheck.check_firmware(pinmap, gone), "PIN_BATTERY", "not defined")


def test_a_netlist_disagreeing_with_the_map_is_reported(pinmap, pm, netlist_text):
    net = Netlist.parse(netlist_text)
    a, b = _entry(pm, "ADS_CS"), _entry(pm, "ADS_DRDY")
    a["gpio"], b["gpio"] = b["gpio"], a["gpio"]  # a map edited without regenerating
    problems = pincheck.check_netlist(pm, net)
    assert len(problems) == 2 and all("netlist" in p for p in problems), problems
    pm2 = {"module": pinmap["module"], "pins": [p for p in pinmap["pins"] if p["net"] != "ACC_INT1"]}
    _only(pincheck.check_netlist(pm2, net), "GPIO27", "ACC_INT1", "does not list")


def test_the_readme_pin_table_copies_the_map(pinmap):
    """hardware/README.md's pin table (a copy for reading) lists the map's GPIOs."""
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Pin map"):readme.index("\n## ", readme.index("## Pin map") + 1)]
    gpios = set()
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[1] not in ("GPIO", "---", "—"):
            gpios |= {int(g) for g in cells[1].split("/")}
    assert gpios == {p["gpio"] for p in pinmap["pins"]}


def test_one_pad_may_serve_several_peripherals_if_it_can_carry_all(pm):
    """DRDY as an edge interrupt and a pulse counter: fine on GPIO4, and on an
    input-only pad too; a pad that also has to drive must be able to."""
    drdy = _entry(pm, "ADS_DRDY")
    drdy["use"] = ["gpio_in", "pcnt"]
    assert pincheck.check_pinmap(pm) == []
    drdy.update(gpio=39, pull="up_external")
    assert pincheck.check_pinmap(pm) == []
    drdy["use"] = ["pcnt", "gpio_out"]
    _only(pincheck.check_pinmap(pm), "GPIO39", "input-only")
    drdy["use"] = []
    _only(pincheck.check_pinmap(pm), "GPIO39", "unknown")
