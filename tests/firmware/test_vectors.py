"""The firmware encoder reproduces every good golden vector, under MicroPython and CPython."""

import json
import subprocess
import sys

import pytest

from conftest import FIRMWARE, MP_SCRIPTS, VECTORS, run_micropython

GOOD = sorted(p for p in VECTORS.glob("*.json") if not p.name.startswith("bad_"))


def _expected():
    out = {}
    for p in GOOD:
        v = json.loads(p.read_text())
        out[v["name"]] = (v["frame_hex"], v["wire_hex"])
    return out


def _parse(stdout):
    got = {}
    for line in stdout.splitlines():
        name, frame_hex, wire_hex = line.split()
        got[name] = (frame_hex, wire_hex)
    return got


@pytest.fixture(scope="module")
def mp_output():
    proc = run_micropython(MP_SCRIPTS / "encode_vectors.py", FIRMWARE, VECTORS)
    return _parse(proc.stdout)


@pytest.fixture(scope="module")
def cpython_output():
    proc = subprocess.run([sys.executable, str(MP_SCRIPTS / "encode_vectors.py"), str(FIRMWARE), str(VECTORS)],
                          capture_output=True, text=True, timeout=60, check=True)
    return _parse(proc.stdout)


def test_every_good_vector_is_covered(mp_output):
    assert len(GOOD) >= 13
    assert set(mp_output) == set(_expected())


@pytest.mark.parametrize("name", sorted(_expected()))
def test_micropython_encoder_matches_vector(mp_output, name):
    assert mp_output[name] == _expected()[name]


@pytest.mark.parametrize("name", sorted(_expected()))
def test_cpython_encoder_matches_vector(cpython_output, name):
    assert cpython_output[name] == _expected()[name]


@pytest.mark.parametrize("name", sorted(n for n in _expected() if n.startswith("data_")))
def test_vector_timestamp_follows_spec_formula(name):
    """protocol.md: t_first_us = first_sample_index * 10**9 // sample_rate_mhz."""
    v = json.loads((VECTORS / f"{name}.json").read_text())
    f = v["fields"]
    rate_mhz = 2_000_000 if f["stream_id"] == 0 else 1_000_000
    assert f["t_first_us"] == f["first_sample_index"] * 10**9 // rate_mhz


def test_reference_descriptor_matches_hello_vector():
    import stream_desc

    v = json.loads((VECTORS / "hello_reference.json").read_text())["fields"]["streams"]
    for s, d in zip(stream_desc.reference_streams(), v):
        assert (s.stream_id, s.sample_rate_mhz, s.sample_format, s.samples_per_frame) == (
            d["stream_id"], d["sample_rate_mhz"], d["sample_format"], d["samples_per_frame"])
        for c, dc in zip(s.channels, d["channels"]):
            assert (c.kind, c.label, c.unit, c.scale()) == (dc["kind"], dc["label"], dc["unit"], dc["scale"])
    assert stream_desc.scale_bits_of(2.42 / 6 / 8388607 * 1e6) == stream_desc.EMG_SCALE_BITS
    assert stream_desc.scale_bits_of(0.061) == stream_desc.ACC_SCALE_BITS
