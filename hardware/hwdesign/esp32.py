"""What an ESP32 (classic, ESP32-D0WD-V3 in an ESP32-WROOM-32E/-WROVER-E module) lets
each GPIO do. Data only; :mod:`hwdesign.pincheck` applies it to a pin map.

Sources: ESP32 Series Datasheet (Espressif, v4.x) §2 "Pin definitions" (strapping pins,
input-only GPIO34-39, ADC1/ADC2 channels, "ADC2 cannot be used while Wi-Fi/Bluetooth is
on" in the ADC section of the ESP-IDF programming guide); ESP32-WROOM-32E datasheet
§3 "Pin definitions" (module pin numbers; GPIO6-11 wired to the in-module SPI flash);
ESP32-WROVER-E datasheet (GPIO16/17 wired to the in-module PSRAM).
"""

#: GPIOs that exist on the ESP32 die (20, 24 and 28-31 do not exist on the D0WD).
GPIOS = frozenset(list(range(0, 20)) + [21, 22, 23, 25, 26, 27] + list(range(32, 40)))

#: Input-only pads: no output driver and no internal pull-up/pull-down.
INPUT_ONLY = frozenset({34, 35, 36, 37, 38, 39})

#: ADC1 channel of each pad (usable with the radio on).
ADC1 = {36: 0, 37: 1, 38: 2, 39: 3, 32: 4, 33: 5, 34: 6, 35: 7}
#: ADC2 channel of each pad (the Wi-Fi/Bluetooth driver owns ADC2 while the radio is on).
ADC2 = {4: 0, 0: 1, 2: 2, 15: 3, 13: 4, 12: 5, 14: 6, 27: 7, 25: 8, 26: 9}

#: UART0 (the ROM bootloader, boot log and MicroPython REPL): reserved for the USB bridge.
CONSOLE = {1: "uart0_tx", 3: "uart0_rx"}

#: Strapping pins: the level each must see while EN rises, for a normal SPI-flash boot
#: with 3.3 V flash. Values: the acceptable board-side levels during reset ("float"
#: means the pad's own internal pull decides, which is the boot default).
STRAPPING = {
    0: ({"high", "float"}, "GPIO0 low at reset enters the serial bootloader (download mode)"),
    2: ({"low", "float"}, "GPIO2 must be low or floating for download mode; high breaks flashing"),
    5: ({"high", "float"}, "GPIO5 (MTDI timing of SDIO slave) boots high by default"),
    12: ({"low", "float"}, "GPIO12 (MTDI) high at reset selects 1.8 V flash: a 3.3 V-flash module fails to boot"),
    15: ({"high", "float"}, "GPIO15 (MTDO) low at reset silences the boot log and changes SDIO timing"),
}

#: Modules: their pin number for each GPIO, and the GPIOs taken by flash/PSRAM inside.
MODULES = {
    "ESP32-WROOM-32E": {
        "flash_psram": {6: "flash CLK", 7: "flash D0", 8: "flash D1", 9: "flash D2", 10: "flash D3", 11: "flash CMD"},
        "pins": {
            36: 4, 39: 5, 34: 6, 35: 7, 32: 8, 33: 9, 25: 10, 26: 11, 27: 12, 14: 13, 12: 14,
            13: 16, 9: 17, 10: 18, 11: 19, 6: 20, 7: 21, 8: 22, 15: 23, 2: 24, 0: 25, 4: 26,
            16: 27, 17: 28, 5: 29, 18: 30, 19: 31, 21: 33, 3: 34, 1: 35, 22: 36, 23: 37,
        },
        "power_pins": {1: "GND", 2: "3V3", 3: "EN", 15: "GND", 32: "NC", 38: "GND", 39: "GND"},
    },
    "ESP32-WROVER-E": {
        # Same footprint family; GPIO16/17 drive the PSRAM's clock and chip select.
        "flash_psram": {6: "flash CLK", 7: "flash D0", 8: "flash D1", 9: "flash D2", 10: "flash D3",
                        11: "flash CMD", 16: "PSRAM CS", 17: "PSRAM CLK"},
        "pins": {
            36: 4, 39: 5, 34: 6, 35: 7, 32: 8, 33: 9, 25: 10, 26: 11, 27: 12, 14: 13, 12: 14,
            13: 16, 9: 17, 10: 18, 11: 19, 6: 20, 7: 21, 8: 22, 15: 23, 2: 24, 0: 25, 4: 26,
            16: 27, 17: 28, 5: 29, 18: 30, 19: 31, 21: 33, 3: 34, 1: 35, 22: 36, 23: 37,
        },
        "power_pins": {1: "GND", 2: "3V3", 3: "EN", 15: "GND", 32: "NC", 38: "GND", 39: "GND"},
    },
}

#: What each pin-map "use" needs from its pad. Peripherals on the classic ESP32 reach any
#: pad through the GPIO matrix, so the limits are the pad's direction and existence
#: (SPI through the matrix is limited to 40 MHz, far above the ADS1292R's 1 MHz here).
USES = {
    "spi_sck": {"output": True},
    "spi_mosi": {"output": True},
    "spi_miso": {"output": False},
    "spi_cs": {"output": True},
    "i2c_sda": {"output": True},  # open drain: the pad must drive low
    "i2c_scl": {"output": True},
    "gpio_out": {"output": True},
    "gpio_in": {"output": False},
    "pcnt": {"output": False},  # pulse counter input
    "adc": {"output": False, "adc": True},
    "boot_button": {"output": False},
    "uart0_tx": {"output": True, "console": True},
    "uart0_rx": {"output": False, "console": True},
}
