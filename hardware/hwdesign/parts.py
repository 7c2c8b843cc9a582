"""Part templates for the schematic, defined in Python (SKiDL ``tool=SKIDL``,
``dest=TEMPLATE``) so no KiCad library is needed. Pin numbers follow each
manufacturer's datasheet for the package named in the footprint.

Each template records manufacturer, part number, footprint and datasheet; the
schematic's instances carry them into the netlist's fields and the BOM.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import _skidl  # noqa: F401  (first: skidl's import, its side effects undone)
from skidl import SKIDL, TEMPLATE, Part, Pin
from skidl.pin import pin_types as T

I, O, B, TS, P, PI, PO, OC, NC = T.INPUT, T.OUTPUT, T.BIDIR, T.TRISTATE, T.PASSIVE, T.PWRIN, T.PWROUT, T.OPENCOLL, T.NOCONNECT


@dataclass(frozen=True)
class PartInfo:
    """One orderable part: what the BOM lists."""

    name: str  #: symbol name (the netlist's libsource part)
    prefix: str  #: reference prefix
    manufacturer: str
    mpn: str  #: manufacturer part number
    footprint: str  #: KiCad footprint (library:name)
    pins: tuple  #: (number, name, pin type)
    description: str = ""
    datasheet: str = ""


def _esp32_pins() -> tuple:
    from .esp32 import MODULES

    mod = MODULES["ESP32-WROOM-32E"]
    pins = []
    for gpio, num in mod["pins"].items():
        func = I if gpio in (34, 35, 36, 39) else B
        pins.append((num, f"IO{gpio}", func))
    pins += [(1, "GND", PI), (2, "3V3", PI), (3, "EN", I), (15, "GND", PI), (32, "NC", NC),
             (38, "GND", PI), (39, "GND_PAD", PI)]
    return tuple(sorted(pins))


ESP32 = PartInfo(
    "ESP32-WROOM-32E", "U", "Espressif Systems", "ESP32-WROOM-32E-N4",
    "RF_Module:ESP32-WROOM-32E", _esp32_pins(),
    "ESP32 module, 4 MB flash, PCB antenna (keep copper out of the antenna keep-out)",
    "https://www.espressif.com/sites/default/files/documentation/esp32-wroom-32e_esp32-wroom-32ue_datasheet_en.pdf",
)

ADS1292R = PartInfo(
    "ADS1292R", "U", "Texas Instruments", "ADS1292RIPBSR", "Package_QFP:TQFP-32_5x5mm_P0.5mm",
    ((1, "PGA1N", P), (2, "PGA1P", P), (3, "IN1N", I), (4, "IN1P", I), (5, "IN2N", I), (6, "IN2P", I),
     (7, "PGA2N", P), (8, "PGA2P", P), (9, "VREFP", P), (10, "VREFN", P), (11, "VCAP1", P),
     (12, "AVDD", PI), (13, "AVSS", PI), (14, "CLKSEL", I), (15, "PWDN_RESET", I), (16, "START", I),
     (17, "CLK", B), (18, "CS", I), (19, "DIN", I), (20, "SCLK", I), (21, "DOUT", TS), (22, "DRDY", O),
     (23, "DVDD", PI), (24, "DGND", PI), (25, "GPIO2", B), (26, "GPIO1", B), (27, "VCAP2", P),
     (28, "RLDINV", I), (29, "RLDREF", I), (30, "RLDOUT", O), (31, "RESP_MODP", O), (32, "RESP_MODN", O)),
    "2-channel 24-bit biopotential ADC with PGA, RLD and lead-off detection (TQFP-32, no exposed pad)",
    "https://www.ti.com/lit/ds/symlink/ads1292r.pdf",
)

LSM6DSO = PartInfo(
    "LSM6DSO", "U", "STMicroelectronics", "LSM6DSOTR", "Package_LGA:LGA-14_3x2.5mm_P0.5mm_LayoutBorder3x4y",
    ((1, "SDO_SA0", B), (2, "SDX", B), (3, "SCX", B), (4, "INT1", O), (5, "VDDIO", PI), (6, "GND", PI),
     (7, "GND", PI), (8, "VDD", PI), (9, "INT2", O), (10, "OCS_AUX", O), (11, "SDO_AUX", B), (12, "CS", I),
     (13, "SCL", I), (14, "SDA", B)),
    "6-axis IMU (accelerometer used), I2C address 0x6A with SA0 low",
    "https://www.st.com/resource/en/datasheet/lsm6dso.pdf",
)

MCP73831 = PartInfo(
    "MCP73831", "U", "Microchip Technology", "MCP73831T-2ACI/OT", "Package_TO_SOT_SMD:SOT-23-5",
    ((1, "STAT", OC), (2, "VSS", PI), (3, "VBAT", P), (4, "VDD", PI), (5, "PROG", P)),
    "Li-ion/LiPo linear charger, 4.20 V, charge current 1000 V / R_PROG",
    "https://ww1.microchip.com/downloads/en/DeviceDoc/MCP73831-Family-Data-Sheet-DS20001984H.pdf",
)

DW01A = PartInfo(
    "DW01A", "U", "Fortune Semiconductor", "DW01A", "Package_TO_SOT_SMD:SOT-23-6",
    ((1, "OD", O), (2, "CS", I), (3, "OC", O), (4, "TD", I), (5, "VCC", PI), (6, "GND", PI)),
    "1-cell Li-ion protection: over-charge 4.3 V, over-discharge 2.4 V, over-current",
    "https://www.ic-fortune.com/upload/Download/DW01A-DS-10_EN.pdf",
)

FS8205A = PartInfo(
    "FS8205A", "Q", "Fortune Semiconductor", "FS8205A", "Package_SO:TSSOP-8_4.4x3mm_P0.65mm",
    ((1, "D12", P), (2, "S1", P), (3, "S1", P), (4, "G1", I), (5, "G2", I), (6, "S2", P), (7, "S2", P), (8, "D12", P)),
    "dual N-MOSFET, common drain, 25 mOhm: the protection's discharge/charge switches",
    "https://www.ic-fortune.com/upload/Download/FS8205A-DS-12_EN.pdf",
)

AP2112K = PartInfo(
    "AP2112K-3.3", "U", "Diodes Incorporated", "AP2112K-3.3TRG1", "Package_TO_SOT_SMD:SOT-23-5",
    ((1, "VIN", PI), (2, "GND", PI), (3, "EN", I), (4, "NC", NC), (5, "VOUT", PO)),
    "600 mA LDO, 3.3 V, 55 uA quiescent",
    "https://www.diodes.com/assets/Datasheets/AP2112.pdf",
)

LP5907 = PartInfo(
    "LP5907-3.0", "U", "Texas Instruments", "LP5907MFX-3.0/NOPB", "Package_TO_SOT_SMD:SOT-23-5",
    ((1, "VIN", PI), (2, "GND", PI), (3, "EN", I), (4, "NC", NC), (5, "VOUT", PO)),
    "250 mA ultra-low-noise LDO (6.5 uVrms), 3.0 V: the ADS1292R's AVDD",
    "https://www.ti.com/lit/ds/symlink/lp5907.pdf",
)

CH340C = PartInfo(
    "CH340C", "U", "WCH (Jiangsu Qinheng)", "CH340C", "Package_SO:SOIC-16_3.9x9.9mm_P1.27mm",
    ((1, "GND", PI), (2, "TXD", O), (3, "RXD", I), (4, "V3", P), (5, "UD+", B), (6, "UD-", B), (7, "NC7", NC),
     (8, "NC8", NC), (9, "CTS#", I), (10, "DSR#", I), (11, "RI#", I), (12, "DCD#", I), (13, "DTR#", O),
     (14, "RTS#", O), (15, "R232", I), (16, "VCC", PI)),
    "USB to UART bridge, internal oscillator; VCC = V3 = 3.3 V for 3.3 V I/O",
    "https://www.wch-ic.com/downloads/CH340DS1_PDF.html",
)

USB_C = PartInfo(
    "USB_C_Receptacle_USB2.0", "J", "GCT", "USB4105-GF-A", "Connector_USB:USB_C_Receptacle_GCT_USB4105-xx-A_16P_TopMnt_Horizontal",
    (("A1", "GND", P), ("A4", "VBUS", P), ("A5", "CC1", P), ("A6", "D+", P), ("A7", "D-", P), ("A8", "SBU1", NC),
     ("A9", "VBUS", P), ("A12", "GND", P), ("B1", "GND", P), ("B4", "VBUS", P), ("B5", "CC2", P), ("B6", "D+", P),
     ("B7", "D-", P), ("B8", "SBU2", NC), ("B9", "VBUS", P), ("B12", "GND", P), ("S1", "SHIELD", P)),
    "USB-C receptacle, USB 2.0 only",
    "https://gct.co/files/drawings/usb4105.pdf",
)

USBLC6 = PartInfo(
    "USBLC6-2SC6", "U", "STMicroelectronics", "USBLC6-2SC6", "Package_TO_SOT_SMD:SOT-23-6",
    ((1, "IO1", P), (2, "GND", P), (3, "IO2", P), (4, "IO2", P), (5, "VBUS", P), (6, "IO1", P)),
    "USB data-line ESD protection",
    "https://www.st.com/resource/en/datasheet/usblc6-2.pdf",
)


def _two(name, prefix, mfr, mpn, fp, description, ds="", names=("~", "~")):
    return PartInfo(name, prefix, mfr, mpn, fp, ((1, names[0], P), (2, names[1], P)), description, ds)


TVS = _two("PESD5V0S1BL", "D", "Nexperia", "PESD5V0S1BL,315", "Diode_SMD:D_SOD-882",
           "bidirectional ESD protection diode, 5 V working, low leakage", "https://assets.nexperia.com/documents/data-sheet/PESD5V0S1BL.pdf")
SCHOTTKY = _two("MBR0520L", "D", "onsemi", "MBR0520LT1G", "Diode_SMD:D_SOD-123",
                "Schottky 20 V 0.5 A: VBUS into the system rail", "https://www.onsemi.com/pdf/datasheet/mbr0520lt1-d.pdf", ("K", "A"))
LED_RED = _two("LED_Red", "D", "Wurth Elektronik", "150060RS75000", "LED_SMD:LED_0603_1608Metric",
               "red LED 0603: charging", "https://www.we-online.com/catalog/datasheet/150060RS75000.pdf", ("K", "A"))

PFET = PartInfo("DMG2305UX", "Q", "Diodes Incorporated", "DMG2305UX-7", "Package_TO_SOT_SMD:SOT-23",
                ((1, "G", I), (2, "S", P), (3, "D", P)), "P-MOSFET -20 V: cell to system rail when USB is absent",
                "https://www.diodes.com/assets/Datasheets/DMG2305UX.pdf")
NPN = PartInfo("MMBT3904", "Q", "onsemi", "MMBT3904LT1G", "Package_TO_SOT_SMD:SOT-23",
               ((1, "B", P), (2, "E", P), (3, "C", P)), "NPN: DTR/RTS auto-reset into EN/GPIO0",
               "https://www.onsemi.com/pdf/datasheet/mmbt3904lt1-d.pdf")
SWITCH = PartInfo("SW_SPDT", "SW", "C&K", "JS102011SAQN", "Button_Switch_SMD:SW_SPDT_CK_JS102011SAQN",
                  ((1, "A", P), (2, "COM", P), (3, "B", NC)), "slide switch: cell on/off", "https://www.ckswitches.com/media/1422/js.pdf")
BUTTON = PartInfo("SW_Push", "SW", "C&K", "PTS810SJM250SMTRLFS", "Button_Switch_SMD:SW_SPST_PTS810",
                  ((1, "1", P), (2, "1b", P), (3, "2", P), (4, "2b", P)), "tactile switch", "https://www.ckswitches.com/media/1476/pts810.pdf")
CONN_BAT = PartInfo("Conn_Battery", "J", "JST", "S2B-PH-SM4-TB(LF)(SN)", "Connector_JST:JST_PH_S2B-PH-SM4-TB_1x02-1MP_P2.00mm_Horizontal",
                    ((1, "BAT-", P), (2, "BAT+", P)), "LiPo cell connector (JST PH 2.0 mm)", "https://www.jst-mfg.com/product/pdf/eng/ePH.pdf")
CONN_ELEC = PartInfo("Conn_Electrodes", "J", "JST", "SM05B-SRSS-TB(LF)(SN)", "Connector_JST:JST_SH_SM05B-SRSS-TB_1x05-1MP_P1.00mm_Horizontal",
                     ((1, "IN1P", P), (2, "IN1N", P), (3, "IN2P", P), (4, "IN2N", P), (5, "RLD", P)),
                     "electrode lead connector (JST SH 1.0 mm, 5 way)", "https://www.jst-mfg.com/product/pdf/eng/eSH.pdf")


#: Passive part numbers by value (Yageo RC0402 1 % thick film; Murata GRM 0402/0603).
RESISTORS = {
    "0": "RC0402JR-070RL", "470": "RC0402FR-07470RL", "1k": "RC0402FR-071KL", "2.7k": "RC0402FR-072K7L",
    "4.7k": "RC0402FR-074K7L", "5.1k": "RC0402FR-075K1L", "10k": "RC0402FR-0710KL", "100": "RC0402FR-07100RL",
    "100k": "RC0402FR-07100KL", "120k": "RC0402FR-07120KL", "1M": "RC0402FR-071ML",
}
CAPACITORS = {  # value: (mpn, footprint, dielectric/voltage)
    "100pF": ("GRM1555C1H101JA01D", "Capacitor_SMD:C_0402_1005Metric", "C0G 50 V"),
    "470pF": ("GRM1555C1H471JA01D", "Capacitor_SMD:C_0402_1005Metric", "C0G 50 V"),
    "1.5nF": ("GRM1555C1H152JA01D", "Capacitor_SMD:C_0402_1005Metric", "C0G 50 V"),
    "4.7nF": ("GRM1555C1H472JA01D", "Capacitor_SMD:C_0402_1005Metric", "C0G 50 V"),
    "100nF": ("GRM155R71C104KA88D", "Capacitor_SMD:C_0402_1005Metric", "X7R 16 V"),
    "1uF": ("GRM155R61A105KE15D", "Capacitor_SMD:C_0402_1005Metric", "X5R 10 V"),
    "10uF": ("GRM188R61A106KE69D", "Capacitor_SMD:C_0603_1608Metric", "X5R 10 V"),
}


def resistor(value: str) -> PartInfo:
    return _two("R", "R", "Yageo", RESISTORS[value], "Resistor_SMD:R_0402_1005Metric", f"{value} 1 % 0402")


def capacitor(value: str) -> PartInfo:
    mpn, fp, kind = CAPACITORS[value]
    return _two("C", "C", "Murata", mpn, fp, f"{value} {kind}")


_templates: dict[tuple, Part] = {}


def template(info: PartInfo) -> Part:
    """The SKiDL template of ``info`` (cached per symbol and pin set)."""
    key = (info.name, info.pins)
    if key not in _templates:
        _templates[key] = Part(
            tool=SKIDL, name=info.name, ref_prefix=info.prefix, dest=TEMPLATE, footprint=info.footprint,
            pins=[Pin(num=num, name=name, func=func) for num, name, func in info.pins],
        )
    return _templates[key]
