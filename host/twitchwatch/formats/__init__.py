"""Recording files in and out: EDF/EDF+/BDF/BDF+, OpenBCI GUI and BrainFlow CSV,
and a simple generic CSV, all presented as a :class:`RecordingFile` whose blocks
are float64 µV (EMG) and mg (accelerometer).  See ``docs/formats.md``."""

from twitchwatch.formats.base import (
    ACC_STREAM,
    EMG_STREAM,
    FormatError,
    RecordingFile,
    acc_axis,
    emg_label,
    synth_hello,
)
from twitchwatch.formats.edf import write_edf
from twitchwatch.formats.open import open_recording

__all__ = ["open_recording", "RecordingFile", "FormatError", "write_edf", "EMG_STREAM", "ACC_STREAM",
           "emg_label", "acc_axis", "synth_hello"]
