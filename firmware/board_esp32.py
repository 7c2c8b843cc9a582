"""The ESP32 board: builds the buses, pins and drivers from ``machine``.

Pin map (ESP32-WROOM-32 / DevKitC; see hardware/README.md):

=============  ======  ==============================================
signal         GPIO    notes
=============  ======  ==============================================
SPI SCK        18      VSPI (SPI id 2), mode 1 (CPOL 0, CPHA 1), 1 MHz
SPI MOSI       23      ADS1292R DIN
SPI MISO       19      ADS1292R DOUT
ADS /CS        5
ADS /DRDY      4       falling edges counted by PCNT unit 0 (no IRQ)
ADS /PWDN,RST  16      held high (reset by opcode)
ADS START      -       tied to GND; conversions started by opcode
I2C SDA        21      I2C(0), 400 kHz
I2C SCL        22
LSM6DSO INT1   27      wired, unused (the loop polls FIFO_STATUS)
Battery sense  35      ADC1_CH7, 100k/100k divider from the cell
=============  ======  ==============================================

DRDY is counted by the ESP32's pulse counter (``esp32.PCNT``, MicroPython >= 1.26), in
hardware, so no conversion goes uncounted: a ``Pin.irq`` on the ESP32 port is always a
soft IRQ (``machine_pin_isr_handler`` -> ``mp_sched_schedule``), whose queue
(``MICROPY_SCHEDULER_DEPTH`` = 8 in ports/esp32/mpconfigport.h) drops edges silently
when full, e.g. during a garbage collection.

This module is one of the few that import ``machine``; it cannot run on the Unix port.
"""

import esp32
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
PCNT_UNIT_DRDY = const(0)
_PCNT_FILTER = const(80)  # ignore pulses < 1 us (80 MHz APB ticks); DRDY's high pulse is ~8 us
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


class DrdyCounter:
    """DRDY falling edges counted by a PCNT unit; ``value()`` is the count modulo
    ``ads1292r.COUNT_WRAP`` (the unit resets to 0 on reaching ``max``), a small int,
    read without an interrupt."""

    def __init__(self, drdy_pin, unit: int = PCNT_UNIT_DRDY) -> None:
        self.pcnt = esp32.PCNT(unit, pin=drdy_pin, falling=esp32.PCNT.INCREMENT,
                               rising=esp32.PCNT.IGNORE, max=ads1292r.COUNT_WRAP,
                               filter=_PCNT_FILTER)
        self.pcnt.start()
        self.wrap = ads1292r.COUNT_WRAP
        self.value = self.pcnt.value  # the bound method itself: no extra call per read


# machine.reset_cause() -> protocol STATUS reset_cause (docs/protocol.md)
RESET_CAUSES = {machine.PWRON_RESET: 1, machine.HARD_RESET: 2, machine.WDT_RESET: 3,
                machine.DEEPSLEEP_RESET: 4, machine.SOFT_RESET: 5}


def reset_cause() -> int:
    """Why the board last reset, as the protocol's STATUS ``reset_cause`` (0: unknown)."""
    return RESET_CAUSES.get(machine.reset_cause(), 0)


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
    time.sleep_ms(150)  # ADS1292R power-on reset; init() then gives the reference 100 ms
    ads = ads1292r.ADS1292R(spi, cs, drdy, DrdyCounter(drdy), sleep_ms=time.sleep_ms)
    ads.init(rate_hz, gain)
    ads.stop()  # real firmware waits for START
    lsm = lsm6dso.LSM6DSO(i2c, sleep_ms=time.sleep_ms)
    lsm.init()
    lsm.stop()
    fe = hw_frontend.HardwareFrontEnd(ads, lsm, Battery())
    return fe
