"""Stream descriptors: the device describes itself as data (sent in HELLO).

A ``Stream`` is what docs/protocol.md's HELLO carries for one stream; its channels are
``Channel`` records. Scales are kept as the raw IEEE-754 binary32 bit pattern
(``scale_bits``) so every port (double-float Unix, single-float ESP32, CPython) sends
the same four bytes; ``scale_bits_of`` derives the bits of any other float.

Runs under MicroPython and CPython 3.10+.
"""

import struct

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


FORMAT_INT16 = const(2)
FORMAT_INT24 = const(3)

KIND_OTHER = const(0)
KIND_EMG = const(1)
KIND_ACC_X = const(2)
KIND_ACC_Y = const(3)
KIND_ACC_Z = const(4)

# ADS1292R: Vref 2.42 V, PGA gain 6, full scale 2^23 - 1 -> 2.42 / 6 / 8388607 * 1e6 uV/LSB.
EMG_SCALE_BITS = const(0x3D44F0AC)  # f32 of 0.0480810850858688 uV/LSB
# LSM6DSO at +-2 g: 0.061 mg/LSB.
ACC_SCALE_BITS = const(0x3D79DB23)  # f32 of 0.061 mg/LSB
# Integer forms of the same scales, for integer arithmetic in the simulator:
# one uV is EMG_LSB_PER_UV_X1000 / 1000 LSB; one mg is ACC_LSB_PER_MG_X1000 / 1000 LSB.
EMG_LSB_PER_UV_X1000 = const(20798)  # 1 / 0.0480810850858688 = 20.7984
ACC_LSB_PER_MG_X1000 = const(16393)  # 1 / 0.061 = 16.393


def scale_bits_of(scale: float) -> int:
    """The binary32 bit pattern of ``scale`` (round to nearest, as ``struct`` does)."""
    return struct.unpack("<I", struct.pack("<f", scale))[0]


def bytes_per_sample(sample_format: int) -> int:
    return 3 if sample_format == FORMAT_INT24 else 2


class Channel:
    """One channel: ``kind`` (KIND_*), ``label``, physical ``unit``, scale (units per LSB)."""

    def __init__(self, kind: int, label: str, unit: str, scale_bits: int) -> None:
        self.kind = kind
        self.label = label
        self.unit = unit
        self.scale_bits = scale_bits

    def scale(self) -> float:
        return struct.unpack("<f", struct.pack("<I", self.scale_bits))[0]


class Stream:
    """One stream: id, rate in millihertz, sample format, samples per full frame, channels."""

    def __init__(self, stream_id: int, sample_rate_mhz: int, sample_format: int,
                 samples_per_frame: int, channels: tuple) -> None:
        self.stream_id = stream_id
        self.sample_rate_mhz = sample_rate_mhz
        self.sample_format = sample_format
        self.samples_per_frame = samples_per_frame
        self.channels = channels
        self.n_channels = len(channels)
        self.bytes_per_sample = bytes_per_sample(sample_format)

    def t_us(self, sample_index: int) -> int:
        """Device time of sample ``sample_index`` in us (integer, exact floor)."""
        return sample_index * 1000000000 // self.sample_rate_mhz

    def data_payload_len(self, n_samples: int) -> int:
        return 14 + n_samples * self.n_channels * self.bytes_per_sample


EMG_STREAM_ID = const(0)
ACC_STREAM_ID = const(1)


def emg_stream(sample_rate_mhz: int = 2000000, samples_per_frame: int = 20,
               scale_bits: int = EMG_SCALE_BITS) -> Stream:
    """The reference EMG stream: ADS1292R, 2 channels, int24, uV (``scale_bits``: uV per
    LSB as f32 bits; the default is PGA gain 6, the hardware passes its configured gain's)."""
    return Stream(EMG_STREAM_ID, sample_rate_mhz, FORMAT_INT24, samples_per_frame, (
        Channel(KIND_EMG, "EMG 1", "uV", scale_bits),
        Channel(KIND_EMG, "EMG 2", "uV", scale_bits),
    ))


def acc_stream(sample_rate_mhz: int = 1000000, samples_per_frame: int = 20) -> Stream:
    """The reference accelerometer stream: LSM6DSO at +-2 g, 3 axes, int16, mg."""
    return Stream(ACC_STREAM_ID, sample_rate_mhz, FORMAT_INT16, samples_per_frame, (
        Channel(KIND_ACC_X, "ACC X", "mg", ACC_SCALE_BITS),
        Channel(KIND_ACC_Y, "ACC Y", "mg", ACC_SCALE_BITS),
        Channel(KIND_ACC_Z, "ACC Z", "mg", ACC_SCALE_BITS),
    ))


def reference_streams() -> tuple:
    """Streams of the simulator (tests/vectors/hello_reference.json): EMG 2 kHz, ACC 1 kHz."""
    return (emg_stream(), acc_stream())
