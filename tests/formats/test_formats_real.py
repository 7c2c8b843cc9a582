"""The real recordings in ../shared/data/real open with the expected rates, units and gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twitchwatch.formats import FormatError, open_recording

REAL = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real").resolve()
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real recordings not present at {REAL}")


@pytest.mark.parametrize("name,rate,n,channels,gaps_missing", [
    ("physionet-emgdb/derived_csv/emg_healthy_clean.csv", 4000, 50860, 1, 0),
    ("physionet-emgdb/derived_csv/emg_myopathy_clean.csv", 4000, 110337, 1, 78),
    ("physionet-emgdb/derived_csv/emg_neuropathy_clean.csv", 4000, 147858, 1, 288),
    ("plux-biosignalsnotebooks/derived_csv/emg_1000_hz_16_bits_solo_emg.csv", 1000, 87600, 1, 0),
    ("plux-biosignalsnotebooks/derived_csv/emg_1000_hz_16_bits_emg.csv", 1000, 40500, 1, 0),
    ("plux-biosignalsnotebooks/derived_csv/emg_1000_hz_8_16_bits_emg.csv", 1000, 30600, 2, 0),
    ("plux-biosignalsnotebooks/derived_csv/emg_bursts_emg.csv", 1000, 28519, 1, 0),
])
def test_real_derived_csv(name, rate, n, channels, gaps_missing):
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    with open_recording(path) as rec:
        assert rec.format == "csv"
        assert rec.emg_rate_hz == rate
        assert rec.acc_rate_hz is None
        assert len(rec.emg_labels) == channels and all("mV" in lab for lab in rec.emg_labels)
        assert rec.n_emg_samples == n
        assert sum(m for _, m in rec.gaps) == gaps_missing
        assert rec.duration_s == pytest.approx((n + gaps_missing) / rate)
        emg, acc = rec.read_all()
        assert acc is None and emg.shape == (n, channels)
        # the files are in mV; we deliver µV (needle EMG ~0.05-1 mV RMS, surface bursts ~1 mV)
        assert 10 < float(np.std(emg[:, 0])) < 2000
        assert sum(len(b) for _, _, b in rec.iter_blocks(0.5)) == n


def test_real_plux_values_are_mv_times_1000():
    path = REAL / "plux-biosignalsnotebooks/derived_csv/emg_1000_hz_16_bits_solo_emg.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    raw = np.loadtxt(path, delimiter=",", comments="#", skiprows=2, usecols=2)
    emg, _ = open_recording(path).read_all()
    assert np.allclose(emg[:, 0], raw * 1000.0)


def test_real_force_acc_file_is_refused_clearly():
    path = REAL / "plux-biosignalsnotebooks/derived_csv/loft_time_subject_1_force_acc.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    with pytest.raises(FormatError, match=r"^loft_time_subject_1_force_acc\.csv: no EMG signal found; .*"
                                          r"this file has: time_s, force_channel_1_adc"):
        open_recording(path)
