"""The ESP32 board: builds the buses, pins and drivers from ``machine``.

Pin map (ESP32-WROOM-32 / DevKitC; see hardware/README.md):

=============  ======  ==============================================
signal         GPIO    notes
=============  ======  ==============================================
SPI SCK        18      VSPI (SPI id 2), mode 1 (CPOL 0, CPHA 1), 1 MHz
SPI MOSI       23      ADS1292R DIN
SPI MISO       19      ADS1292R DOUT
ADS /CS        5
ADS /DRDY      4       falling edge, hard IRQ counts edges
ADS /PWDN,RST  16      held high (reset by opcode)
ADS START      -       tied to GND; conversions started by opcode
I2C SDA        21      I2C(0), 400 kHz
I2C SCL        22
LSM6DSO INT1   27      wired, unused (the loop polls FIFO_STATUS)
Battery sense  35      ADC1_CH7, 100k/100k divider from the cell
=============  ======  ==============================================

This module is one of the few that import ``machine``; it cannot run on the Unix port.
"""

import machine

import ads1292r
import hw_frontend
import lsm6dso

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


PIN_SCK = const(18)
PIN_MOSI = const(23)
PIN_MISO = const(19)
PIN_ADS_CS = const(5)
PIN_ADS_DRDY = const(4)
PIN_ADS_PWDN = const(16)
PIN_SDA = const(21)
PIN_SCL = const(22)
PIN_BATTERY = const(35)
SPI_HZ = const(1000000)
I2C_HZ = const(400000)
_CELL_FULL_MV = const(4150)
_CELL_EMPTY_MV = const(3300)


class Battery:
    """A Li-ion cell behind a 1:2 divider on an ADC1 pin (ADC2 is unusable with the radio)."""

    def __init__(self, pin_no: int = PIN_BATTERY) -> None:
        self.adc = machine.ADC(machine.Pin(pin_no), atten=machine.ADC.ATTN_11DB)

    def mv(self) -> int:
        return self.adc.read_uv() * 2 // 1000

    def pct(self) -> int:
        mv = self.mv()
        if mv < 2500:
            return 255  # no cell (USB powered): unknown
        p = (mv - _CELL_EMPTY_MV) * 100 // (_CELL_FULL_MV - _CELL_EMPTY_MV)
        return 0 if p < 0 else (100 if p > 100 else p)


def device_id() -> str:
    uid = machine.unique_id()
    return "esp32-" + "".join("%02x" % b for b in uid)


def build(rate_hz: int = 2000, gain: int = 6) -> hw_frontend.HardwareFrontEnd:
    """Power up and configure both chips; return the front end (not yet streaming)."""
    import time

    machine.Pin(PIN_ADS_PWDN, machine.Pin.OUT, value=1)
    cs = machine.Pin(PIN_ADS_CS, machine.Pin.OUT, value=1)
    drdy = machine.Pin(PIN_ADS_DRDY, machine.Pin.IN, machine.Pin.PULL_UP)
    spi = machine.SPI(2, baudrate=SPI_HZ, polarity=0, phase=1, bits=8, firstbit=machine.SPI.MSB,
                      sck=machine.Pin(PIN_SCK), mosi=machine.Pin(PIN_MOSI), miso=machine.Pin(PIN_MISO))
    i2c = machine.I2C(0, scl=machine.Pin(PIN_SCL), sda=machine.Pin(PIN_SDA), freq=I2C_HZ)
    time.sleep_ms(150)  # ADS1292R power-on reset and reference settling
    ads = ads1292r.ADS1292R(spi, cs, drdy, sleep_ms=time.sleep_ms)
    ads.init(rate_hz, gain)
    ads.stop()  # real firmware waits for START
    lsm = lsm6dso.LSM6DSO(i2c, sleep_ms=time.sleep_ms)
    lsm.init()
    lsm.stop()
    fe = hw_frontend.HardwareFrontEnd(ads, lsm, Battery())
    return fe
