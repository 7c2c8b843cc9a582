"""The twitchwatch patch's schematic as SKiDL code.

``build(pinmap)`` returns a SKiDL ``Circuit``; the ESP32's GPIOs are wired from the pin
map (hardware/pinmap.json), everything else is written out here. Blocks:

- power: LiPo cell (off board, JST PH) -> DW01A + FS8205A protection -> slide switch ->
  P-MOSFET load sharing with USB (VBUS through a Schottky) -> AP2112K 3.3 V (digital);
  LP5907 3.0 V from 3.3 V (ADS1292R AVDD, analogue ground joined to ground by a 0 ohm
  net tie under the ADC); MCP73831 charger from VBUS.
- USB: USB-C (5.1 kOhm CC pull-downs, USB 2.0 only), USBLC6 ESD, CH340C bridge powered
  from VBUS by its own AP2112K (so it is off, and draws nothing from the cell, without
  USB), 4.7 kOhm in the UART lines (limits back-feed into the unpowered bridge),
  DTR/RTS auto-reset transistors into EN/GPIO0.
- EMG front end: 5-way electrode connector -> per lead a bidirectional TVS to AGND and
  a 120 kOhm series resistor (fault current, see budgets.py) -> RC filter (100 pF per
  line to AGND, 470 pF across each pair) -> ADS1292R; RLD output -> 120 kOhm -> RLD
  electrode; 1 MOhm || 1.5 nF RLD feedback; 4.7 nF PGA filter caps.
- accelerometer: LSM6DSO on I2C (4.7 kOhm pull-ups), INT1 wired.
- battery sense: 100 kOhm / 100 kOhm divider from the switched cell + 100 nF.
"""

from __future__ import annotations

from collections import Counter

from . import _skidl  # noqa: F401  (first: skidl's import, its side effects undone)
from skidl import POWER, Circuit, Net

from . import esp32
from . import parts as pt

#: Off-board items the BOM lists too (not in the netlist): (qty, value, manufacturer, mpn, notes).
OFF_BOARD = [
    (1, "LiPo 3.7 V 2500 mAh", "Adafruit", "328",
     "cell with JST PH lead; 2500 mAh for a day of BLE streaming (hardware/README.md, budgets); check the lead's polarity against J_BAT before plugging"),
    (5, "Ag/AgCl gel electrode 24 mm, snap", "Cardinal Health (Kendall)", "H124SG",
     "disposable, one per lead; smaller ones (10-15 mm) for the hand's muscles"),
    (5, "electrode lead, snap to JST SH", "(cable assembly)", "JST SHR-05V-S-B + SSH-003T-P0.2",
     "shielded or twisted per pair, <= 30 cm; crimp housing and contacts listed"),
]

#: Series resistor in every electrode lead and the RLD lead (budgets.py uses the same value).
SERIES_R = "120k"
SERIES_R_OHM = 120e3
#: Series resistor in each UART line between the ESP32 and the CH340C.
UART_SERIES_R = "4.7k"
UART_SERIES_OHM = 4.7e3
#: Input filter capacitors (budgets.py checks the corners against the 20-450 Hz band).
C_CM_F = 100e-12
C_DIFF_F = 470e-12

POWER_NETS = ("GND", "AGND", "DW_VCC", "VBUS", "VCELL", "CELL_N", "BAT_SW", "VSYS", "+3V3", "AVDD_3V0", "VUSB_3V3")


class _Builder:
    def __init__(self, circuit: Circuit) -> None:
        self.c = circuit
        self.nets: dict[str, Net] = {}
        self.count: Counter = Counter()

    def net(self, name: str) -> Net:
        if name not in self.nets:
            n = Net(name)
            if name in POWER_NETS:
                n.drive = POWER
            self.nets[name] = n
        return self.nets[name]

    def add(self, info: pt.PartInfo, value: str | None = None, notes: str = "", **pins):
        """Instantiate ``info`` and connect pins given by number (``p1="NET"``) or by
        name (``VDD="NET"``; every pin of that name). ``None`` marks a no-connect."""
        self.count[info.prefix] += 1
        ref = f"{info.prefix}{self.count[info.prefix]}"
        part = pt.template(info)(value=value or info.mpn, ref=ref, tag=ref)
        part.fields["Manufacturer"] = info.manufacturer
        part.fields["MPN"] = info.mpn
        part.fields["Notes"] = notes
        part.description = info.description
        part.datasheet = info.datasheet
        handled = set()
        for key, net_name in pins.items():
            if key.startswith("p") and key[1:].isdigit():
                targets = [p for p in part.pins if str(p.num) == key[1:]]
            else:
                name = key.replace("_plus", "+").replace("_minus", "-").replace("_hash", "#")
                targets = [p for p in part.pins if p.name == name or str(p.num) == name]
            if not targets:
                raise KeyError(f"{ref} ({info.name}) has no pin {key}")
            for p in targets:
                handled.add(id(p))
                if net_name is None:
                    self.c.NC += p
                else:
                    self.net(net_name).__iadd__(p)
        unconnected = [p for p in part.pins if id(p) not in handled]
        if unconnected:
            raise ValueError(f"{ref} ({info.name}): pins left open: {', '.join(f'{p.num}/{p.name}' for p in unconnected)}")
        return part

    def r(self, value: str, a: str, b: str, notes: str = ""):
        return self.add(pt.resistor(value), value, notes, p1=a, p2=b)

    def cap(self, value: str, a: str, b: str, notes: str = ""):
        return self.add(pt.capacitor(value), value, notes, p1=a, p2=b)


def build(pinmap: dict) -> Circuit:
    """The whole board as a SKiDL circuit (its own ``Circuit``, no files written)."""
    circuit = Circuit()
    circuit.no_files = True
    with circuit:
        b = _Builder(circuit)
        _power(b)
        _usb(b)
        _esp32(b, pinmap)
        _front_end(b)
        _accelerometer(b)
    return circuit


def _power(b: _Builder) -> None:
    # Cell and its protection (DW01A senses across the FS8205A; P- is the board's GND).
    b.add(pt.CONN_BAT, notes="cell: pin 2 = +, pin 1 = -", p1="CELL_N", p2="VCELL")
    b.r("100", "VCELL", "DW_VCC", "DW01A supply filter (datasheet typical)")
    b.cap("100nF", "DW_VCC", "CELL_N", "DW01A supply filter")
    b.add(pt.DW01A, OD="DW_OD", CS="DW_CS", OC="DW_OC", TD="CELL_N", VCC="DW_VCC", GND="CELL_N")
    b.r("1k", "DW_CS", "GND", "DW01A current-sense input")
    b.add(pt.FS8205A, D12="FET_MID", p2="CELL_N", p3="CELL_N", G1="DW_OD", G2="DW_OC", p6="GND", p7="GND")
    # Charger from VBUS (R_PROG 2.7 kOhm: 370 mA, leaving USB's 500 mA for the running board).
    b.add(pt.MCP73831, STAT="CHG_LED", VSS="GND", VBAT="VCELL", VDD="VBUS", PROG="CHG_PROG")
    b.r("2.7k", "CHG_PROG", "GND", "charge current 1000 V / 2.7 kOhm = 370 mA")
    b.cap("10uF", "VBUS", "GND", "charger input")
    b.cap("10uF", "VCELL", "GND", "charger output")
    b.r("1k", "VBUS", "CHG_LED_A", "charge LED")
    b.add(pt.LED_RED, "red", "on while charging", K="CHG_LED", A="CHG_LED_A")
    # Switch, load sharing: USB present -> VSYS from VBUS via Schottky, PFET off.
    b.add(pt.SWITCH, A="BAT_SW", COM="VCELL", B=None)
    b.add(pt.PFET, G="VBUS", S="VSYS", D="BAT_SW", notes="load sharing: on while VBUS is absent")
    b.r("100k", "VBUS", "GND", "holds the PFET's gate low without USB")
    b.add(pt.SCHOTTKY, A="VBUS", K="VSYS")
    b.cap("10uF", "VSYS", "GND", "LDO input")
    # 3.3 V digital rail.
    b.add(pt.AP2112K, VIN="VSYS", GND="GND", EN="VSYS", NC=None, VOUT="+3V3", notes="ESP32, LSM6DSO, ADS1292R DVDD")
    b.cap("10uF", "+3V3", "GND", "LDO output")
    # 3.0 V analogue rail for AVDD, fed from 3.3 V (two regulators' PSRR against the radio's bursts).
    b.add(pt.LP5907, VIN="+3V3", GND="AGND", EN="+3V3", NC=None, VOUT="AVDD_3V0", notes="ADS1292R AVDD only")
    b.cap("1uF", "+3V3", "AGND", "LP5907 input")
    b.cap("1uF", "AVDD_3V0", "AGND", "LP5907 output")
    b.r("0", "AGND", "GND", "net tie: analogue ground meets ground once, under the ADS1292R")
    # Battery sense: the switched cell, so nothing flows while the patch is off.
    b.r("100k", "BAT_SW", "VBAT_SENSE", "battery divider, top")
    b.r("100k", "VBAT_SENSE", "GND", "battery divider, bottom")
    b.cap("100nF", "VBAT_SENSE", "GND", "ADC sample-and-hold reservoir")


def _usb(b: _Builder) -> None:
    b.add(pt.USB_C, GND="GND", VBUS="VBUS", CC1="USB_CC1", CC2="USB_CC2", D_plus="USB_DP", D_minus="USB_DN",
          SBU1=None, SBU2=None, SHIELD="GND")
    b.r("5.1k", "USB_CC1", "GND", "UFP pull-down (default USB power)")
    b.r("5.1k", "USB_CC2", "GND", "UFP pull-down")
    b.add(pt.USBLC6, IO1="USB_DP", IO2="USB_DN", GND="GND", VBUS="VBUS")
    b.add(pt.AP2112K, VIN="VBUS", GND="GND", EN="VBUS", NC=None, VOUT="VUSB_3V3", notes="CH340C only: off without USB")
    b.cap("1uF", "VUSB_3V3", "GND", "LDO output")
    b.add(pt.CH340C, GND="GND", TXD="CH_TXD", RXD="CH_RXD", V3="VUSB_3V3", UD_plus="USB_DP", UD_minus="USB_DN",
          NC7=None, NC8=None, CTS_hash=None, DSR_hash=None, RI_hash=None, DCD_hash=None,
          DTR_hash="CH_DTR", RTS_hash="CH_RTS", R232=None, VCC="VUSB_3V3")
    b.cap("100nF", "VUSB_3V3", "GND", "CH340C decoupling")
    b.r(UART_SERIES_R, "ESP_TXD0", "CH_RXD", "limits back-feed into the unpowered bridge (< 0.6 mA); 10-90 % edge ~0.1 us at 921 600 Bd")
    b.r(UART_SERIES_R, "CH_TXD", "ESP_RXD0", "limits back-feed")
    # Auto-reset (esptool's DTR/RTS sequence), as on Espressif's DevKitC.
    b.r("10k", "CH_DTR", "Q_RST_B", "")
    b.add(pt.NPN, B="Q_RST_B", E="CH_RTS", C="ESP_EN")
    b.r("10k", "CH_RTS", "Q_BOOT_B", "")
    b.add(pt.NPN, B="Q_BOOT_B", E="CH_DTR", C="BOOT")


def _esp32(b: _Builder, pinmap: dict) -> None:
    module = pinmap["module"]
    info = pt.ESP32
    if module != info.name:
        raise ValueError(f"the schematic has a {info.name}; the pin map names {module}")
    wiring = {f"p{pin_no}": None for pin_no in esp32.MODULES[module]["pins"].values()}
    for entry in pinmap["pins"]:
        wiring[f"p{esp32.MODULES[module]['pins'][entry['gpio']]}"] = entry["net"]
    b.add(info, GND="GND", GND_PAD="GND", p2="+3V3", EN="ESP_EN", NC=None, **wiring)
    b.cap("10uF", "+3V3", "GND", "module bulk (radio bursts)")
    b.cap("100nF", "+3V3", "GND", "module decoupling")
    b.r("10k", "+3V3", "ESP_EN", "EN pull-up")
    b.cap("1uF", "ESP_EN", "GND", "EN RC delay (power-on reset)")
    b.add(pt.BUTTON, p1="ESP_EN", p2="ESP_EN", p3="GND", p4="GND", notes="RESET")
    b.r("10k", "+3V3", "BOOT", "GPIO0 high at reset: normal boot")
    b.add(pt.BUTTON, p1="BOOT", p2="BOOT", p3="GND", p4="GND", notes="BOOT: held at reset -> serial bootloader / firmware safe mode")


def _front_end(b: _Builder) -> None:
    b.add(pt.CONN_ELEC, IN1P="E_IN1P", IN1N="E_IN1N", IN2P="E_IN2P", IN2N="E_IN2N", RLD="E_RLD")
    for lead in ("IN1P", "IN1N", "IN2P", "IN2N"):
        b.add(pt.TVS, p1=f"E_{lead}", p2="AGND", notes="ESD at the connector")
        b.r(SERIES_R, f"E_{lead}", f"ADC_{lead}", "patient series resistor: limits fault current (budgets.fault_current)")
        b.cap("100pF", f"ADC_{lead}", "AGND", "common-mode RF filter (13 kHz)")
    b.cap("470pF", "ADC_IN1P", "ADC_IN1N", "differential filter (1.27 kHz with 2 x 120 kOhm)")
    b.cap("470pF", "ADC_IN2P", "ADC_IN2N", "differential filter")
    b.add(pt.TVS, p1="E_RLD", p2="AGND", notes="ESD at the connector")
    b.r(SERIES_R, "RLD_OUT", "E_RLD", "patient series resistor on the right-leg drive")
    b.add(pt.ADS1292R,
          PGA1N="PGA1N", PGA1P="PGA1P", IN1N="ADC_IN1N", IN1P="ADC_IN1P", IN2N="ADC_IN2N", IN2P="ADC_IN2P",
          PGA2N="PGA2N", PGA2P="PGA2P", VREFP="ADS_VREFP", VREFN="AGND", VCAP1="ADS_VCAP1",
          AVDD="AVDD_3V0", AVSS="AGND", CLKSEL="+3V3", PWDN_RESET="ADS_PWDN", START="GND",
          CLK=None, CS="ADS_CS", DIN="SPI_MOSI", SCLK="SPI_SCK", DOUT="SPI_MISO", DRDY="ADS_DRDY",
          DVDD="+3V3", DGND="GND", GPIO1="ADS_GPIO1", GPIO2="ADS_GPIO2", VCAP2="ADS_VCAP2",
          RLDINV="RLD_INV", RLDREF=None, RLDOUT="RLD_OUT", RESP_MODP=None, RESP_MODN=None,
          notes="CLKSEL high: internal 512 kHz clock; START low: conversions by opcode; RLDREF internal (firmware RESP2)")
    b.cap("4.7nF", "PGA1P", "PGA1N", "PGA output filter (datasheet: C_FILTER 4.7 nF, C0G)")
    b.cap("4.7nF", "PGA2P", "PGA2N", "PGA output filter")
    b.cap("10uF", "ADS_VREFP", "AGND", "reference")
    b.cap("100nF", "ADS_VREFP", "AGND", "reference")
    b.cap("1uF", "ADS_VCAP1", "AGND", "VCAP1 (check the value against SBAS502 before ordering)")
    b.cap("1uF", "ADS_VCAP2", "AGND", "VCAP2")
    b.cap("1uF", "AVDD_3V0", "AGND", "AVDD")
    b.cap("100nF", "AVDD_3V0", "AGND", "AVDD")
    b.cap("1uF", "+3V3", "GND", "DVDD")
    b.cap("100nF", "+3V3", "GND", "DVDD")
    b.r("1M", "RLD_OUT", "RLD_INV", "RLD integrator (datasheet RLD example)")
    b.cap("1.5nF", "RLD_OUT", "RLD_INV", "RLD integrator")
    b.r("10k", "+3V3", "ADS_CS", "/CS deselected during boot (GPIO5 strapping high)")
    b.r("10k", "+3V3", "ADS_PWDN", "ADS1292R running from power-up; GPIO16 floats during boot")
    b.r("10k", "ADS_GPIO1", "GND", "unused ADS GPIO: not floating")
    b.r("10k", "ADS_GPIO2", "GND", "unused ADS GPIO: not floating")


def _accelerometer(b: _Builder) -> None:
    b.add(pt.LSM6DSO, SDO_SA0="GND", SDX="GND", SCX="GND", INT1="ACC_INT1", VDDIO="+3V3", GND="GND",
          VDD="+3V3", INT2=None, OCS_AUX=None, SDO_AUX=None, CS="+3V3", SCL="I2C_SCL", SDA="I2C_SDA",
          notes="SA0 low: address 0x6A; CS high: I2C; SDx/SCx grounded (aux bus unused)")
    b.cap("100nF", "+3V3", "GND", "LSM6DSO VDD")
    b.cap("100nF", "+3V3", "GND", "LSM6DSO VDDIO")
    b.r("4.7k", "+3V3", "I2C_SDA", "I2C pull-up (400 kHz)")
    b.r("4.7k", "+3V3", "I2C_SCL", "I2C pull-up")
