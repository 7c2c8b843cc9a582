"""OpenBCI GUI v5 CSV, BrainFlow CSV and generic CSV readers."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.formats import ACC_STREAM, EMG_STREAM, FormatError, open_recording

OPENBCI_HEADER = """%OpenBCI Raw EXG Data
%Number of channels = 8
%Sample Rate = 250 Hz
%Board = OpenBCI_GUI$BoardCytonSerial
Sample Index, EXG Channel 0, EXG Channel 1, EXG Channel 2, EXG Channel 3, EXG Channel 4, EXG Channel 5, \
EXG Channel 6, EXG Channel 7, Accel Channel 0, Accel Channel 1, Accel Channel 2, Other, Other, Other, Other, \
Other, Other, Other, Analog Channel 0, Analog Channel 1, Analog Channel 2, Timestamp, Other, Timestamp (Formatted)
"""


def _openbci_rows(n, start_index=0, drop=(), garble=(), t0=1622825245.0):
    """Rows as OpenBCI GUI v5 writes them for a Cyton: index wraps 0..255; accelerometer
    values on every 10th row, zeros between (older firmware/GUI behaviour)."""
    lines = []
    emg = []
    for k in range(n):
        idx = (start_index + k) % 256
        exg = [round(100.0 * np.sin(k / 5.0 + c), 2) for c in range(8)]
        acc = [0.012, -0.031, 0.998] if k % 10 == 0 else [0.0, 0.0, 0.0]
        ts = t0 + k / 250.0
        fields = [f"{idx:.1f}"] + [f"{x:.2f}" for x in exg] + [f"{a:.3f}" for a in acc] + ["0.0"] * 7 \
            + ["0.0"] * 3 + [f"{ts:.3f}", "0.0", "2021-06-04 12:47:25.158"]
        if k in drop:
            continue
        line = ", ".join(fields)
        if k in garble:
            line = line[: len(line) // 3] + "\x00\x07garbage"
        else:
            emg.append(exg)
        lines.append(line)
    return "\n".join(lines) + "\n", np.array(emg)


def test_openbci_gui_csv_with_wrap_gap_and_garbled_line(tmp_path):
    # 600 rows: index wraps twice; rows 300..304 were lost in transmission; row 450 is garbled
    body, emg = _openbci_rows(600, start_index=200, drop=range(300, 305), garble={450})
    path = tmp_path / "OpenBCI-RAW-2021-06-04_12-47-25.txt"
    path.write_text(OPENBCI_HEADER + body)
    rec = open_recording(path)
    assert rec.format == "openbci-csv"
    assert rec.emg_rate_hz == 250 and rec.acc_rate_hz == 250
    assert rec.emg_labels == tuple(f"EXG Channel {c}" for c in range(8))
    assert rec.skipped_rows == 1
    # lost rows and the garbled row are gaps at their true sample positions: no shift
    assert rec.gaps == ((300, 5), (450, 1))
    assert rec.start_unix_s == pytest.approx(1622825245.0)
    assert rec.duration_s == pytest.approx(600 / 250)
    e, a = rec.read_all()
    assert np.allclose(e, emg)
    assert a is not None and np.allclose(a[0], [12.0, -31.0, 998.0])
    assert np.allclose(a[:, 2], 998.0)  # zero rows between accelerometer updates are held
    assert any("Analog Channel 0" == s for s in rec.ignored_signals)
    # blocks: sample clock indices skip the gaps, every stored row once
    seen = []
    for sid, first, block in rec.iter_blocks(0.1):
        if sid == EMG_STREAM:
            seen.extend(range(first, first + len(block)))
    expected = [k for k in range(600) if not (300 <= k < 305 or k == 450)]
    assert seen == expected


def test_openbci_emg_channel_selection(tmp_path):
    body, emg = _openbci_rows(50)
    path = tmp_path / "o.txt"
    path.write_text(OPENBCI_HEADER + body)
    rec = open_recording(path, emg_channels=[0, "EXG Channel 3"])
    assert rec.emg_labels == ("EXG Channel 0", "EXG Channel 3")
    assert np.allclose(rec.read_all()[0], emg[:, [0, 3]])
    assert "EXG Channel 1 (EMG channel not selected)" in rec.ignored_signals
    with pytest.raises(FormatError, match=r"o\.txt: EMG channel 9 not found; EMG channels in this file: 0 = "):
        open_recording(path, emg_channels=[9])


def test_openbci_without_rate_line(tmp_path):
    body, _ = _openbci_rows(20)
    path = tmp_path / "norate.txt"
    path.write_text(OPENBCI_HEADER.replace("%Sample Rate = 250 Hz\n", "") + body)
    with pytest.raises(FormatError, match=r"norate\.txt: no '%Sample Rate = N Hz' header line; accepted"):
        open_recording(path)


def _brainflow_text(n, ncols, emg_rows, acc_rows, ts_row, rate, t0=1.7e9, drop=()):
    rng = np.random.default_rng(3)
    data = np.zeros((ncols, n))
    data[0] = np.arange(n) % 256
    for r in emg_rows:
        data[r] = rng.normal(0, 10, n)
    for r in acc_rows:
        data[r] = rng.normal(0, 0.01, n)
    data[ts_row] = t0 + np.arange(n) / rate
    keep = [k for k in range(n) if k not in drop]
    data = data[:, keep]
    # DataFilter.write_file: transposed, tab-separated, no header
    text = "\n".join("\t".join(f"{v:.6f}" for v in data[:, k]) for k in range(data.shape[1])) + "\n"
    return text, data


def test_brainflow_cyton_by_column_count(tmp_path):
    text, data = _brainflow_text(1000, 24, range(1, 9), (9, 10, 11), 22, 250, drop=range(500, 510))
    path = tmp_path / "brainflow.csv"
    path.write_text(text)
    rec = open_recording(path)
    assert rec.format == "brainflow-csv"
    assert rec.emg_rate_hz == 250 and rec.acc_rate_hz == 250
    assert rec.emg_labels == tuple(f"EXG {k}" for k in range(1, 9))
    assert rec.gaps == ((500, 10),)
    assert rec.start_unix_s == pytest.approx(1.7e9)
    e, a = rec.read_all()
    assert np.allclose(e, data[1:9].T, atol=1e-6)
    assert a is not None and np.allclose(a, data[9:12].T * 1000, atol=1e-3)


def test_brainflow_32_columns_needs_board_or_timestamps(tmp_path):
    # 32 columns: synthetic (250 Hz), cyton_daisy (125 Hz) and cyton_daisy_wifi (1000 Hz)
    text, _ = _brainflow_text(400, 32, range(1, 17), (17, 18, 19), 30, 125)
    path = tmp_path / "daisy.csv"
    path.write_text(text)
    rec = open_recording(path)
    assert rec.emg_rate_hz == 125 and len(rec.emg_labels) == 16
    # without usable timestamps the board must be named
    text2 = "\n".join("\t".join(["0.0"] * 32) for _ in range(50)) + "\n"
    (tmp_path / "zero.csv").write_text(text2)
    with pytest.raises(FormatError, match=r"zero\.csv: 32 columns fit several BrainFlow boards .*accepted: --board"):
        open_recording(tmp_path / "zero.csv")
    rec = open_recording(tmp_path / "zero.csv", board="cyton_daisy")
    assert rec.emg_rate_hz == 125 and rec.acc_rate_hz is None  # all-zero accelerometer ignored
    (tmp_path / "zero.csv.json").write_text('{"board": 6}')
    assert open_recording(tmp_path / "zero.csv").emg_rate_hz == 1000
    with pytest.raises(FormatError, match=r"zero\.csv: BrainFlow board cyton writes 24 columns but this file has 32"):
        open_recording(tmp_path / "zero.csv", board=0)


def test_generic_csv_header_units_time_and_acc(tmp_path):
    n = 500
    t = np.arange(n) / 500.0
    rows = ["time_s,EMG 1,EMG 2 [mV],ACC X (g),ACC Y (g),ACC Z (g),note"]
    for k in range(n):
        rows.append(f"{t[k]:.4f},{k * 0.5:.2f},{k * 0.001:.4f},0.1,0,1,ok")
    p = tmp_path / "g.csv"
    p.write_text("\n".join(rows) + "\n")
    rec = open_recording(p)
    assert rec.format == "csv" and rec.emg_rate_hz == 500 and rec.acc_rate_hz == 500
    assert rec.emg_labels == ("EMG 1", "EMG 2 [mV]")
    assert rec.ignored_signals == ("note",)
    e, a = rec.read_all()
    assert np.allclose(e[:, 0], np.arange(n) * 0.5) and np.allclose(e[:, 1], np.arange(n) * 1.0)
    assert a is not None and np.allclose(a[:, 0], 100.0) and np.allclose(a[:, 2], 1000.0)
    assert rec.start_unix_s is None and rec.gaps == ()


def test_generic_csv_rate_from_comment_or_argument(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("# recorded by hand; sample_rate_hz = 2000\nEMG\n" + "\n".join(str(k) for k in range(100)) + "\n")
    assert open_recording(p).emg_rate_hz == 2000
    q = tmp_path / "d.csv"
    q.write_text("EMG;ACC X;ACC Y;ACC Z\n" + "\n".join(f"{k};1;2;3" for k in range(100)) + "\n")
    rec = open_recording(q, rate_hz=100)
    assert rec.emg_rate_hz == 100 and np.allclose(rec.read_all()[1], [1, 2, 3])
    with pytest.raises(FormatError, match=r"d\.csv: no sample rate .*accepted: a time_s column"):
        open_recording(q)


def test_generic_csv_bad_row_with_time_is_skipped_as_gap(tmp_path):
    lines = ["time_s,EMG_uV"] + [f"{k / 1000:.3f},{k}" for k in range(100)]
    lines[51] = "0.050,oops"
    p = tmp_path / "t.csv"
    p.write_text("\n".join(lines) + "\n")
    rec = open_recording(p, rate_hz=1000)
    assert rec.skipped_rows == 1 and rec.gaps == ((50, 1),)
    assert len(rec.read_all()[0]) == 99


def test_iter_blocks_time_order_across_streams(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("time_s,EMG,ACC X,ACC Y,ACC Z\n" + "\n".join(f"{k / 100},{k},0,0,1" for k in range(1234)) + "\n")
    rec = open_recording(p)
    starts = [(first / rec.emg_rate_hz, sid) for sid, first, _ in rec.iter_blocks(0.37)]
    assert starts == sorted(starts)
    assert sum(len(b) for s, _, b in rec.iter_blocks(0.37) if s == ACC_STREAM) == 1234
