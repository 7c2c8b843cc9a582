"""--lsl: the demo's EMG, accelerometer and twitch marker streams reach a real pylsl
inlet, with labels, units, types and timestamps on one timeline. LSL is confined to
this machine by its config file (LSLAPICFG), set before liblsl is first used."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

from twitchwatch.demo import load_simulator
from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR

CFG = pathlib.Path(__file__).with_name("lsl_loopback.cfg")
os.environ["LSLAPICFG"] = str(CFG)  # before liblsl reads its configuration (on first use)
pylsl = pytest.importorskip("pylsl")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
RATE_EMG_HZ = 2000.0


def _channels(info) -> list[tuple[str, str, str]]:
    ch = info.desc().child("channels").child("channel")
    out = []
    while not ch.empty():
        out.append((ch.child_value("label"), ch.child_value("unit"), ch.child_value("type")))
        ch = ch.next_sibling()
    return out


def _resolve(source_id: str):
    found = pylsl.resolve_byprop("source_id", source_id, minimum=1, timeout=60)
    assert found, f"no LSL stream {source_id}"
    return pylsl.StreamInlet(found[0], max_buflen=60)


def test_demo_publishes_emg_acc_and_twitch_markers(tmp_path):
    env = dict(os.environ, LSLAPICFG=str(CFG))
    # a seed of this process's own: the device id (sim-<seed>), and so the source ids, differ from
    # those of another test run on this machine at the same time; the first from there whose
    # simulator fires at least 3 twitches between 3 and 11 s (after the inlet is open)
    sim = load_simulator(DEFAULT_FIRMWARE_DIR)
    seed = 0x1000 + os.getpid() % 0xE000
    while sum(3 * RATE_EMG_HZ < tw["peak_index"] < 11 * RATE_EMG_HZ
              for tw in sim.twitch_schedule(seed, int(12 * RATE_EMG_HZ))) < 3:
        seed += 1
    device = f"sim-{seed:04x}"
    events_file = tmp_path / "events.jsonl"
    demo = subprocess.Popen([sys.executable, "-m", "twitchwatch.cli", "demo", "--duration", "12", "--seed", str(seed),
                             "--no-dashboard", "--quiet", "--lsl", "--db", str(tmp_path / "t.sqlite3"),
                             "--events-out", str(events_file)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        emg = _resolve(f"twitchwatch:{device}:0")
        acc = _resolve(f"twitchwatch:{device}:1")
        markers = _resolve(f"twitchwatch:{device}:twitches")
        for inlet in (emg, acc, markers):
            inlet.open_stream(timeout=30)
        got = {"emg": ([], []), "acc": ([], []), "markers": ([], [])}
        while demo.poll() is None:
            for name, inlet in (("emg", emg), ("acc", acc), ("markers", markers)):
                samples, stamps = inlet.pull_chunk(timeout=0.05, max_samples=4096)
                got[name][0].extend(samples)
                got[name][1].extend(stamps)
        time.sleep(0.5)
        for name, inlet in (("emg", emg), ("acc", acc), ("markers", markers)):
            samples, stamps = inlet.pull_chunk(timeout=0.5, max_samples=100000)
            got[name][0].extend(samples)
            got[name][1].extend(stamps)
        info_emg, info_acc = emg.info(), acc.info()
    finally:
        if demo.poll() is None:
            demo.kill()
        out, err = demo.communicate()
    assert demo.returncode == 0, err[-2000:]

    assert info_emg.type() == "EMG" and info_emg.nominal_srate() == RATE_EMG_HZ
    assert _channels(info_emg) == [("EMG 1", "microvolts", "EMG"), ("EMG 2", "microvolts", "EMG")]
    assert info_acc.type() == "Accelerometer"
    assert _channels(info_acc) == [("ACC X", "g", "AccX"), ("ACC Y", "g", "AccY"), ("ACC Z", "g", "AccZ")]

    emg_x, emg_t = np.array(got["emg"][0]), np.array(got["emg"][1])
    acc_x = np.array(got["acc"][0])
    assert emg_x.shape[1] == 2 and len(emg_x) > 5 * RATE_EMG_HZ  # most of the 12 s arrived
    # microvolts: the simulated background is a few uV RMS, twitches tens to hundreds
    assert 0.5 < float(np.median(np.abs(emg_x - np.median(emg_x, axis=0)))) < 50
    # g: the simulated patch lies still, so the magnitude is about one g
    assert 0.8 < float(np.median(np.linalg.norm(acc_x, axis=1))) < 1.2
    # one timeline: sample stamps increase at the device's rate (the clock fit's slope)
    steps = np.diff(emg_t)
    assert np.all(steps > 0)
    assert abs(float(np.median(steps)) * RATE_EMG_HZ - 1) < 0.01

    marks = [json.loads(m[0]) for m in got["markers"][0]]
    mark_t = np.array(got["markers"][1])
    logged = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert marks, "no twitch markers arrived"
    assert {round(m["t_s"], 4) for m in marks} <= {round(e["t"], 4) for e in logged}
    # a marker carries exactly the stamp its peak sample got in the EMG stream: it falls on a
    # received sample's stamp, and that sample sits as far into the (contiguous) received run
    # as the twitch's index says
    index = np.array([m["sample_index"] for m in marks])
    keep = mark_t >= emg_t[0]  # a twitch before the inlet's first sample has no sample to meet
    assert keep.sum() >= len(marks) - 1
    pos = np.clip(np.searchsorted(emg_t, mark_t[keep]), 1, len(emg_t) - 1)
    pos = np.where(np.abs(emg_t[pos - 1] - mark_t[keep]) < np.abs(emg_t[pos] - mark_t[keep]), pos - 1, pos)
    assert np.max(np.abs(emg_t[pos] - mark_t[keep])) < 1e-4
    assert np.array_equal(pos - pos[0], index[keep] - index[keep][0])
