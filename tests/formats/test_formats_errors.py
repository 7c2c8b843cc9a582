"""Malformed files: one clear FormatError naming the file and what is accepted; never a crash."""

from __future__ import annotations

import os

import numpy as np
import pytest
from edf_helpers import raw_edf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twitchwatch import TwitchwatchError
from twitchwatch.formats import FormatError, open_recording, write_edf


def _err(path, **kw) -> str:
    with pytest.raises(FormatError) as ei:
        rec = open_recording(path, **kw)
        rec.read_all()
    msg = str(ei.value)
    assert msg.startswith(os.path.basename(str(path)) + ": "), msg
    assert "accepted" in msg or "recognised by label" in msg, msg  # says what is accepted
    assert "\n" not in msg
    assert isinstance(ei.value, TwitchwatchError)
    return msg


def test_empty_file(tmp_path):
    (tmp_path / "empty.edf").write_bytes(b"")
    assert "empty" in _err(tmp_path / "empty.edf")


def test_missing_file_and_directory(tmp_path):
    assert "no such file" in _err(tmp_path / "nope.edf")
    assert "directory" in _err(tmp_path)


@pytest.mark.parametrize("bdf", [False, True])
def test_truncated_edf_without_a_whole_record(tmp_path, bdf):
    p = tmp_path / ("cut.bdf" if bdf else "cut.edf")
    write_edf(p, np.random.default_rng(0).normal(size=5000), 1000, bdf=bdf)
    data = p.read_bytes()
    header = int(data[184:192])
    p.write_bytes(data[: header + 100])  # the header and part of the first record
    msg = _err(p)
    assert ("BDF" if bdf else "EDF") in msg
    assert "truncated" in msg and "(0 whole records)" in msg


def test_truncated_edf_header(tmp_path):
    p = tmp_path / "head.edf"
    write_edf(p, np.zeros(100), 100)
    p.write_bytes(p.read_bytes()[:200])
    assert "truncated EDF header" in _err(p)


def test_random_bytes(tmp_path):
    p = tmp_path / "noise.edf"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 10_000, dtype=np.uint8).tobytes())
    assert "binary data" in _err(p)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=600))
def test_arbitrary_bytes_never_crash(tmp_path, blob):
    p = tmp_path / "fuzz.bin"
    p.write_bytes(blob)
    try:
        rec = open_recording(p, rate_hz=100)
        rec.read_all()
        list(rec.iter_blocks(0.1))
        rec.close()
    except FormatError as e:
        assert str(e).startswith("fuzz.bin: ")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 3000))
def test_edf_cut_anywhere_never_crashes(tmp_path, cut):
    p = tmp_path / "c.edf"
    write_edf(p, np.arange(1500.0), 500, acc_mg=np.zeros((150, 3)), acc_rate_hz=50)
    data = p.read_bytes()
    p.write_bytes(data[: min(cut, len(data) - 1)] if cut else b"0       ")
    # a clear error, or (once a whole data record is there) the whole records with a note
    # saying the file is truncated; never a crash
    try:
        rec = open_recording(p)
    except FormatError as e:
        assert str(e).startswith("c.edf: ")
        return
    with rec:
        assert any("truncated" in n for n in rec.notes)
        e, a = rec.read_all()
        assert 0 < e.shape[0] < 1500 and np.allclose(e[:, 0], np.arange(float(e.shape[0])), atol=0.05)


def test_edf_without_emg_lists_labels(tmp_path):
    p = tmp_path / "x.edf"
    raw_edf(p, [("ECG", "mV", 250, np.zeros(500)), ("Resp", "mV", 25, np.zeros(50))])
    msg = _err(p)
    assert "no EMG signal found" in msg and "this file has: ECG, Resp" in msg
    assert "'EMG…' in uV/mV/V" in msg and "'ACC X'/'ACC Y'/'ACC Z'" in msg


def test_unknown_units(tmp_path):
    p = tmp_path / "u.edf"
    raw_edf(p, [("EMG", "mmHg", 250, np.zeros(500))])
    msg = _err(p)
    assert "'mmHg'" in msg and "uV (µV), mV, V" in msg
    q = tmp_path / "acc.edf"
    raw_edf(q, [("EMG", "uV", 250, np.zeros(500))] + [(f"ACC {a}", "deg", 250, np.zeros(500)) for a in "XYZ"])
    msg = _err(q)
    assert "'deg'" in msg and "g, mg, m/s^2" in msg
    c = tmp_path / "u.csv"
    c.write_text("time_s,EMG [kPa]\n0,1\n0.001,2\n")
    assert "'kPa'" in _err(c)
    d = tmp_path / "adc.csv"
    d.write_text("time_s,emg_adc\n0,1\n0.001,2\n")
    assert "raw converter counts" in _err(d)


def test_csv_text_in_numeric_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("EMG 1,EMG 2\n1,2\n3,4\n5,abc\n7,8\n")
    msg = _err(p, rate_hz=1000)
    assert "line 4: 'abc' in column 'EMG 2' is not a number" in msg


def test_csv_with_no_numeric_rows(tmp_path):
    p = tmp_path / "n.csv"
    p.write_text("EMG 1,EMG 2\nfoo,bar\nbaz,qux\n")
    assert "no numeric sample rows" in _err(p, rate_hz=1000)
    q = tmp_path / "h.csv"
    q.write_text("EMG 1,EMG 2\n")
    assert "no numeric sample rows" in _err(q, rate_hz=1000)


def test_nan_values(tmp_path):
    p = tmp_path / "nan.csv"
    p.write_text("time_s,EMG\n0,1\n0.001,nan\n0.002,3\n")
    msg = _err(p)
    assert "line 3" in msg and "nan" in msg and "finite" in msg


def test_csv_without_emg_column(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("time_s,ECG,force\n0,1,2\n")
    assert "this file has: time_s, ECG, force" in _err(p)


def test_headerless_numbers(tmp_path):
    p = tmp_path / "plain.txt"
    p.write_text("1.0\n2.0\n3.0\n")
    assert "no header row" in _err(p)


def test_time_going_backwards(tmp_path):
    p = tmp_path / "back.csv"
    p.write_text("time_s,EMG\n0,1\n0.002,1\n0.001,1\n")
    assert "does not increase at line 4" in _err(p)


def test_blank_and_comment_only(tmp_path):
    (tmp_path / "blank.csv").write_text("\n\n  \n")
    assert "blank" in _err(tmp_path / "blank.csv")
    (tmp_path / "comm.csv").write_text("# only a comment\n")
    assert "only comment lines" in _err(tmp_path / "comm.csv")


def test_unknown_brainflow_board(tmp_path):
    p = tmp_path / "bf.csv"
    p.write_text("1\t2\t3\n")
    assert "unknown BrainFlow board 'nope'" in _err(p, board="nope")
    assert "match no known BrainFlow board" in _err(p)
