"""EDF+/BDF+: write_edf -> open_recording round trips, units, rates, blocks."""

from __future__ import annotations

import numpy as np
import pyedflib
import pytest
from edf_helpers import raw_edf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twitchwatch.formats import ACC_STREAM, EMG_STREAM, FormatError, open_recording, write_edf
from twitchwatch.protocol.messages import ChannelKind


def _resolution(path, chan):
    with pyedflib.EdfReader(str(path)) as f:
        return ((f.getPhysicalMaximum(chan) - f.getPhysicalMinimum(chan))
                / (f.getDigitalMaximum(chan) - f.getDigitalMinimum(chan)))


@pytest.mark.parametrize("bdf", [False, True])
def test_round_trip_emg_acc_annotations(tmp_path, bdf):
    rng = np.random.default_rng(1)
    emg = rng.normal(0, 30, (5123, 2))
    emg[100, 0] = 900.0  # a twitch-sized spike
    acc = rng.normal(0, 3, (1024, 3)) + [0, 0, 1000]
    path = tmp_path / ("r.bdf" if bdf else "r.edf")
    notes = [(0.5, 0.0, "start"), (2.25, 0.1, "twitch 1"), (4.0, 1.0, "moved")]
    write_edf(path, emg, 1000, emg_labels=["EMG L", "EMG R"], acc_mg=acc, acc_rate_hz=200,
              start_unix_s=1_700_000_000, annotations=notes, bdf=bdf)

    res = [_resolution(path, j) for j in range(5)]
    with open_recording(path) as rec:
        assert rec.format == ("bdf" if bdf else "edf")
        assert rec.emg_rate_hz == 1000 and rec.acc_rate_hz == 200
        assert rec.emg_labels == ("EMG L", "EMG R")
        assert rec.start_unix_s == 1_700_000_000
        assert rec.duration_s == pytest.approx(5.123)
        assert rec.ignored_signals == ()
        e, a = rec.read_all()
        assert e.shape == emg.shape and a is not None and a.shape == acc.shape
        for j in range(2):
            assert np.max(np.abs(e[:, j] - emg[:, j])) <= res[j] * 0.51 + 1e-9
        for j in range(3):
            assert np.max(np.abs(a[:, j] - acc[:, j])) <= res[2 + j] * 0.51 + 1e-9
        assert [(o, d, t) for o, d, t in rec.annotations] == [
            (pytest.approx(o), pytest.approx(d), t) for o, d, t in notes]
        h = rec.hello
        assert h.device_id == "file:" + path.name and h.boot_id == 0
        s0, s1 = h.stream(EMG_STREAM), h.stream(ACC_STREAM)
        assert [c.kind for c in s0.channels] == [ChannelKind.EMG] * 2
        assert all(c.unit == "uV" and c.scale == 1.0 for c in s0.channels)
        assert [c.kind for c in s1.channels] == [ChannelKind.ACC_X, ChannelKind.ACC_Y, ChannelKind.ACC_Z]
        assert all(c.unit == "mg" and c.scale == 1.0 for c in s1.channels)
        assert s0.sample_rate_hz == 1000 and s1.sample_rate_hz == 200

    # readable by pyedflib itself (what EDF viewers see)
    with pyedflib.EdfReader(str(path)) as f:
        assert f.getSignalLabels() == ["EMG L", "EMG R", "ACC X", "ACC Y", "ACC Z"]
        assert [f.getPhysicalDimension(i) for i in range(5)] == ["uV", "uV", "mg", "mg", "mg"]
        onsets, durations, texts = f.readAnnotations()
        assert list(texts) == [t for _, _, t in notes]
        assert np.allclose(onsets, [o for o, _, _ in notes])


def test_bdf_resolution_finer_than_edf(tmp_path):
    x = np.sin(np.arange(3000) / 7.0) * 500.0
    write_edf(tmp_path / "a.edf", x, 1000)
    write_edf(tmp_path / "a.bdf", x, 1000, bdf=True)
    err_edf = np.abs(open_recording(tmp_path / "a.edf").read_all()[0][:, 0] - x).max()
    err_bdf = np.abs(open_recording(tmp_path / "a.bdf").read_all()[0][:, 0] - x).max()
    assert err_bdf < err_edf / 100


def test_mv_edf_reads_as_uv_and_acc_units(tmp_path):
    n = 2000
    t = np.arange(n) / 1000.0
    emg_mv = 0.5 * np.sin(2 * np.pi * 50 * t)
    acc_ms2 = np.column_stack([np.full(n // 10, 9.80665), np.zeros(n // 10), np.full(n // 10, -4.903325)])
    res = raw_edf(tmp_path / "mv.edf", [
        ("EMG1", "mV", 1000, emg_mv),
        ("ACC X", "m/s^2", 100, acc_ms2[:, 0]), ("ACC Y", "m/s2", 100, acc_ms2[:, 1]),
        ("ACC Z", "m/s^2", 100, acc_ms2[:, 2]),
    ])
    rec = open_recording(tmp_path / "mv.edf")
    e, a = rec.read_all()
    assert np.max(np.abs(e[:, 0] - emg_mv * 1000)) <= res[0] * 1000 * 1.01  # edflib truncates when writing: 1 LSB
    assert rec.acc_rate_hz == 100
    assert a is not None
    assert a[:, 0] == pytest.approx(1000.0, abs=res[1] * 102)
    assert a[:, 2] == pytest.approx(-500.0, abs=res[3] * 102)

    res = raw_edf(tmp_path / "g.edf", [("EMG", "V", 1000, emg_mv / 1000), ("AccX", "g", 1000, np.full(n, 0.25)),
                                       ("Accel Y", "G", 1000, np.zeros(n)), ("accel z", "mg", 1000, np.full(n, 7.0))])
    rec = open_recording(tmp_path / "g.edf")
    e, a = rec.read_all()
    assert np.max(np.abs(e[:, 0] - emg_mv * 1000)) <= res[0] * 1e6 * 1.01
    assert a is not None
    assert np.max(np.abs(a[:, 0] - 250.0)) <= res[1] * 1000 * 1.01
    assert np.max(np.abs(a[:, 2] - 7.0)) <= res[3] * 1.01
    assert rec.acc_labels == ("AccX", "Accel Y", "accel z")


def test_two_acc_axes_are_ignored_with_reason_and_other_signals_listed(tmp_path):
    n = 1000
    raw_edf(tmp_path / "p.edf", [("EMG", "uV", 500, np.zeros(n)), ("ACC X", "g", 500, np.zeros(n)),
                                 ("ACC Y", "g", 500, np.zeros(n)), ("ECG", "mV", 500, np.zeros(n))])
    rec = open_recording(tmp_path / "p.edf")
    assert rec.acc_rate_hz is None and rec.read_all()[1] is None
    assert len(rec.hello.streams) == 1
    assert "ECG" in rec.ignored_signals
    assert any(s.startswith("ACC X") and "Z missing" in s for s in rec.ignored_signals)


def test_emg_rates_must_agree(tmp_path):
    raw_edf(tmp_path / "r.edf", [("EMG 1", "uV", 1000, np.zeros(2000)), ("EMG 2", "uV", 500, np.zeros(1000))])
    with pytest.raises(FormatError, match=r"r\.edf: EMG signals have different sample rates .*1000 Hz.*500 Hz"):
        open_recording(tmp_path / "r.edf")


def test_acc_axes_rates_must_agree(tmp_path):
    raw_edf(tmp_path / "r.edf", [("EMG", "uV", 1000, np.zeros(2000)), ("ACC X", "g", 100, np.zeros(200)),
                                 ("ACC Y", "g", 100, np.zeros(200)), ("ACC Z", "g", 50, np.zeros(100))])
    with pytest.raises(FormatError, match=r"r\.edf: accelerometer axes have different sample rates"):
        open_recording(tmp_path / "r.edf")


def test_plain_edf_without_plus(tmp_path):
    raw_edf(tmp_path / "plain.edf", [("EMG", "uV", 256, np.arange(512.0) % 50)], plus=False)
    rec = open_recording(tmp_path / "plain.edf")
    assert rec.emg_rate_hz == 256 and rec.read_all()[0].shape == (512, 1)


def test_odd_lengths_are_trimmed_back(tmp_path):
    write_edf(tmp_path / "o.edf", np.ones(1001), 250, acc_mg=np.ones((3, 3)), acc_rate_hz=10)
    rec = open_recording(tmp_path / "o.edf")
    e, a = rec.read_all()
    assert e.shape == (1001, 1) and a is not None and a.shape == (3, 3)


def test_a_long_files_sample_counts_survive_the_header(tmp_path):
    # an hour of 2 kHz EMG + 1 kHz accelerometer has counts of 7 digits each; edflib cut the
    # recording field to 28 characters while the equipment field was set, and the reader
    # then dropped nine tenths of the accelerometer ("3600000" read as "360000")
    emg, acc = np.zeros(1_000_003), np.zeros((1_000_001, 3))
    write_edf(tmp_path / "long.edf", emg, 1000, acc_mg=acc, acc_rate_hz=1000)
    rec = open_recording(tmp_path / "long.edf")
    assert rec._n_stored == {EMG_STREAM: 1_000_003, ACC_STREAM: 1_000_001}
    assert not any("sample count" in n for n in rec.notes)


def _old_style_edf(path, n_emg, acc):
    """EMG (1 kHz, ``n_emg`` samples) + ACC X/Y/Z (``acc``, 1 kHz) as write_edf wrote them
    before 2026-12-07: padded to whole records, the equipment field set, then the count."""
    k = 1000
    n_rec = -(-max(n_emg, len(acc)) // k)
    emg = np.resize(np.arange(50.0), n_emg)
    sig = [np.concatenate((emg, np.full(n_rec * k - n_emg, emg[-1])))]
    sig += [np.concatenate((acc[:, j], np.full(n_rec * k - len(acc), acc[-1, j]))) for j in range(3)]
    w = pyedflib.EdfWriter(str(path), 4, file_type=pyedflib.FILETYPE_EDFPLUS)
    heads = [{"label": "EMG", "dimension": "uV", "sample_frequency": float(k), "physical_min": -100.0,
              "physical_max": 100.0, "digital_min": -32768, "digital_max": 32767, "transducer": "", "prefilter": ""}]
    heads += [dict(heads[0], label=f"ACC {a}", dimension="mg") for a in "XYZ"]
    w.setSignalHeaders(heads)
    w.setRecordingAdditional(f"twitchwatch_n={n_emg}_{len(acc)}")
    w.setEquipment("twitchwatch")
    w.writeSamples(sig)
    w.close()


def test_a_sample_count_an_older_writer_cut_short_is_recovered(tmp_path):
    rng = np.random.default_rng(2)
    acc = rng.normal(0, 20, (1_000_000, 3))
    _old_style_edf(tmp_path / "cut.edf", 1_000_000, acc)  # header: twitchwatch_n=1000000_100000 (cut)
    rec = open_recording(tmp_path / "cut.edf")
    assert rec._n_stored == {EMG_STREAM: 1_000_000, ACC_STREAM: 1_000_000}
    assert any("cut short by an older writer; read as 1000000 " in n for n in rec.notes)
    # an accelerometer that really stopped at 100000 (the header was not cut): the
    # samples after it are the padding, so the count stands
    _old_style_edf(tmp_path / "short.edf", 1_000_000, acc[:100_000])
    rec = open_recording(tmp_path / "short.edf")
    assert rec._n_stored[ACC_STREAM] == 100_000
    assert not any("cut short" in n for n in rec.notes)


def test_write_edf_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        write_edf(tmp_path / "n.edf", np.array([1.0, np.nan]), 1000)
    with pytest.raises(ValueError, match="acc_mg"):
        write_edf(tmp_path / "n.edf", np.zeros(10), 1000, acc_mg=np.zeros((10, 2)))
    with pytest.raises(ValueError, match="label"):
        write_edf(tmp_path / "n.edf", np.zeros(10), 1000, emg_labels=["ECG"])


def _check_blocks(rec, block_s):
    e, a = rec.read_all()
    got = {EMG_STREAM: [], ACC_STREAM: []}
    last_t = -1.0
    for sid, first, block in rec.iter_blocks(block_s):
        rate = rec.emg_rate_hz if sid == EMG_STREAM else rec.acc_rate_hz
        t = first / rate
        assert t >= last_t - 1e-12, "blocks out of time order"
        last_t = t
        assert block.dtype == np.float64 and block.ndim == 2 and len(block) >= 1
        got[sid].append((first, block))
    for sid, ref in ((EMG_STREAM, e), (ACC_STREAM, a)):
        if ref is None:
            assert not got[sid]
            continue
        expect = 0
        for first, block in got[sid]:
            assert first == expect  # contiguous: every sample once (no gaps in EDF)
            expect += len(block)
        assert expect == len(ref)
        assert np.array_equal(np.concatenate([b for _, b in got[sid]]), ref)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_emg=st.integers(1, 3000), acc_div=st.sampled_from([None, 1, 2, 5, 10]),
       block_s=st.floats(0.001, 3.0))
def test_iter_blocks_every_sample_once_in_time_order(tmp_path, n_emg, acc_div, block_s):
    emg = np.arange(n_emg, dtype=float)
    acc = acc_rate = None
    if acc_div is not None:
        acc_rate = 1000 / acc_div
        acc = np.tile(np.arange(max(1, n_emg // acc_div), dtype=float)[:, None], (1, 3))
    path = tmp_path / "h.edf"
    write_edf(path, emg, 1000, acc_mg=acc, acc_rate_hz=acc_rate)
    with open_recording(path) as rec:
        _check_blocks(rec, block_s)


def test_long_file_is_read_lazily(tmp_path, monkeypatch):
    # bounded reads ahead (READ_CHUNK rows, not the whole file), few of them (not one
    # pyedflib call per block and signal), and the blocks the same as one whole read
    from twitchwatch.formats.edf import READ_CHUNK

    x = np.random.default_rng(3).normal(0, 50, (100_000, 1))
    write_edf(tmp_path / "long.edf", x, 1000)
    rec = open_recording(tmp_path / "long.edf")
    whole = rec.read_all()[0]
    sizes = []
    orig = rec._reader.readSignal

    def spy(ch, start=0, n=None, digital=False):
        sizes.append(n)
        return orig(ch, start, n, digital)

    monkeypatch.setattr(rec._reader, "readSignal", spy)
    blocks = [(first, b) for _, first, b in rec.iter_blocks(0.5)]
    assert len(blocks) == 200 and max(sizes) == READ_CHUNK < 100_000 and len(sizes) == 4
    assert np.array_equal(np.concatenate([b for _, b in blocks]), whole)
    assert [first for first, _ in blocks] == list(range(0, 100_000, 500))
    rec.close()


@pytest.mark.parametrize("bdf", [False, True])
def test_a_cut_off_file_gives_its_whole_records_and_says_what_it_left_out(tmp_path, bdf, capfd):
    # a recording cut off mid-write: every whole data record is read, bit for bit as
    # from the complete file, and the notes say what was left out; pyedflib's C library
    # (which refuses such a file and prints a complaint) never sees the cut file
    rng = np.random.default_rng(2)
    emg = rng.normal(0, 30, (5000, 2))
    acc = rng.normal(0, 3, (1000, 3)) + [0, 0, 1000]
    full = tmp_path / ("full.bdf" if bdf else "full.edf")
    write_edf(full, emg, 1000, acc_mg=acc, acc_rate_hz=200, bdf=bdf)
    data = full.read_bytes()
    header = int(data[184:192])
    n_records, record_s = int(data[236:244]), float(data[244:252])
    record_bytes = (len(data) - header) // n_records
    assert n_records >= 3
    cut = tmp_path / ("cut.bdf" if bdf else "cut.edf")
    keep = 2
    cut.write_bytes(data[: header + keep * record_bytes + record_bytes // 2])
    with open_recording(full) as rec:
        e_full, a_full = rec.read_all()
    before = set(p.name for p in __import__("pathlib").Path(__import__("tempfile").gettempdir()).glob("twitchwatch-*"))
    with open_recording(cut) as rec:
        assert rec.duration_s == pytest.approx(keep * record_s)
        e, a = rec.read_all()
        note = next(n for n in rec.notes if "truncated" in n)
        assert f"{keep} of the {n_records} data records" in note
        assert f"the {record_bytes // 2} bytes after them" in note
        assert note in rec.describe()
    n_e = int(keep * record_s * 1000)
    assert np.array_equal(e, e_full[:n_e]) and a is not None and np.array_equal(a, a_full[: int(keep * record_s * 200)])
    after = set(p.name for p in __import__("pathlib").Path(__import__("tempfile").gettempdir()).glob("twitchwatch-*"))
    assert after <= before  # the temporary copy is gone once the recording is closed
    # bytes after the declared records: the records are read, the extra bytes named
    cut.write_bytes(data + b"\x00" * 10)
    with open_recording(cut) as rec:
        assert rec.duration_s == pytest.approx(5.0)
        assert any("10 bytes after the file's" in n for n in rec.notes)
        e2, _ = rec.read_all()
    assert np.array_equal(e2, e_full)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
