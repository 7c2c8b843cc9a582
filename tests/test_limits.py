"""Issue 17, item 4: every rate, scale and size from a device or file is checked against
what the pipeline supports, with one clear line (before: a traceback 'band (20.0, 450.0)
Hz is empty' for a rate below ~40 Hz or a NaN scale, a CSV time column in 1e7 steps read
as a rate, ~3 GB of memory for a 4.3 MHz rate and a MemoryError for 50 MHz)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from twitchwatch.formats import FormatError, open_recording
from twitchwatch.limits import MAX_RATE_HZ, MIN_EMG_RATE_HZ, UnsupportedSource
from twitchwatch.pipeline import Pipeline
from twitchwatch.protocol import build_data_payload, build_hello_payload, encode_frame
from twitchwatch.protocol.frame import FrameType
from twitchwatch.protocol.messages import ChannelInfo
from twitchwatch.protocol.synthetic import reference_hello
from twitchwatch.store import Store
from twitchwatch.transports import CaptureWriter, ReplaySource


def hello_with(rate_mhz: int | None = None, scale: float | None = None):
    hello = reference_hello()
    emg = hello.streams[0]
    if rate_mhz is not None:
        emg = dataclasses.replace(emg, sample_rate_mhz=rate_mhz, sample_rate_hz=rate_mhz / 1000.0)
    if scale is not None:
        emg = dataclasses.replace(emg, channels=tuple(ChannelInfo(c.kind, c.label, c.unit, scale) for c in emg.channels))
    return dataclasses.replace(hello, streams=(emg,) + hello.streams[1:])


def capture_of(path, hello) -> None:
    info = hello.streams[0]
    wire = encode_frame(FrameType.HELLO, 0, build_hello_payload(hello))
    for k in range(20):
        samples = np.zeros((20, info.n_channels), dtype=np.int32)
        wire += encode_frame(FrameType.DATA, k + 1, build_data_payload(0, 20 * k, 0, samples, info.sample_format))
    with CaptureWriter(path) as w:
        w.write(100.0, wire)


@pytest.mark.parametrize("hello,message", [
    (hello_with(rate_mhz=30_000), "EMG) sample rate 30.0 Hz is not supported; accepted: 100 to 25000 Hz"),
    (hello_with(rate_mhz=4_294_967_295), "sample rate 4294967.295 Hz is not supported"),
    (hello_with(scale=math.nan), "scale nan per count is not supported"),
    (hello_with(scale=0.0), "scale 0.0 per count is not supported"),
])
def test_a_device_declaring_what_is_not_supported_gets_one_line(tmp_path, hello, message):
    capture_of(tmp_path / "c.twcap", hello)
    with ReplaySource(tmp_path / "c.twcap") as source, Store(tmp_path / "s.sqlite3") as store:
        with pytest.raises(UnsupportedSource) as info:
            Pipeline(source, source_name="t", store=store).run()
        assert store.sessions() == []  # refused before a session was started
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith("device sim-")


def test_a_supported_device_streams(tmp_path):
    capture_of(tmp_path / "c.twcap", hello_with(rate_mhz=1_000_000))
    with ReplaySource(tmp_path / "c.twcap") as source:
        summary = Pipeline(source, source_name="t").run()
    assert summary.samples[0] == 400


def csv(path, header: str, rows: list[str]) -> None:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("text,message", [
    ("time_s,EMG 1\n" + "\n".join(f"{i * 10**7},{i % 7}" for i in range(50)),
     "EMG sample rate 1e-07 Hz is not supported; accepted: 100 to 25000 Hz"),
    ("# sample_rate_hz = 30\nEMG 1\n" + "\n".join(str(i % 7) for i in range(50)), "EMG sample rate 30.0 Hz"),
    ("# sample_rate_hz = 4300000\nEMG 1\n" + "\n".join(str(i % 7) for i in range(50)), "4300000.0 Hz"),
    ("# sample_rate_hz = 50000000\nEMG 1\n" + "\n".join(str(i % 7) for i in range(50)), "50000000.0 Hz"),
])
def test_a_file_declaring_an_unsupported_rate_gets_one_line(tmp_path, text, message):
    path = tmp_path / "x.csv"
    path.write_text(text + "\n")
    with pytest.raises(FormatError) as info:
        open_recording(path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith("x.csv: ")


def test_the_limits_hold_the_reference_recordings():
    assert MIN_EMG_RATE_HZ <= 200 and 4000 <= MAX_RATE_HZ  # OpenBCI Ganglion 200 Hz ... physionet 4 kHz


def test_a_one_column_csv_labelled_with_a_space_is_read(tmp_path):
    """Issue 17, item 10: a one-column CSV labelled 'EMG 1' was refused (its header split
    on the space into two columns)."""
    path = tmp_path / "one.csv"
    path.write_text("# sample_rate_hz = 1000\nEMG 1\n" + "\n".join(str(i % 7) for i in range(3000)) + "\n")
    with open_recording(path) as rec:
        assert rec.emg_labels == ("EMG 1",) and rec.emg_rate_hz == 1000 and rec.n_emg_samples == 3000
