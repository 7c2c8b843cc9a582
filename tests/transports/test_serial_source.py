"""SerialSource over real pseudo-terminals (pyserial on the slave side)."""

import os
import time
import tty

import pytest

from twitchwatch import TwitchwatchError
from twitchwatch.protocol import Command, FrameDecoder, Hello, encode_command
from twitchwatch.protocol.synthetic import synthetic_stream
from twitchwatch.transports import (
    PortInfo,
    PortNotFoundError,
    SerialSource,
    TransportClosed,
    TransportError,
    autodetect_port,
    list_ports,
)


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    tty.setraw(slave)
    fds = {"master": master, "slave": slave}
    yield fds
    for fd in fds.values():
        try:
            os.close(fd)
        except OSError:
            pass


def read_until(source, n_bytes, deadline_s=5.0):
    data = b""
    end = time.monotonic() + deadline_s
    while len(data) < n_bytes and time.monotonic() < end:
        _, chunk = source.read(0.2)
        data += chunk
    return data


def test_stream_over_a_pty_decodes(pty_pair):
    stream = synthetic_stream(duration_s=0.3)
    with SerialSource(os.ttyname(pty_pair["slave"])) as src:
        os.write(pty_pair["master"], stream.wire)
        t_before = time.monotonic()
        data = read_until(src, len(stream.wire))
        assert data == stream.wire
        dec = FrameDecoder()
        msgs = dec.feed(data, t_before)
        assert isinstance(msgs[0], Hello)
        assert dec.stats.frames_ok == stream.n_frames


def test_read_times_out_with_empty_chunk(pty_pair):
    with SerialSource(os.ttyname(pty_pair["slave"])) as src:
        t0 = time.monotonic()
        t, chunk = src.read(0.2)
        elapsed = time.monotonic() - t0
        assert chunk == b""
        assert 0.15 < elapsed < 1.0
        assert t >= t0


def test_write_reaches_the_other_end(pty_pair):
    with SerialSource(os.ttyname(pty_pair["slave"])) as src:
        cmd = encode_command(Command.PING, 0x1234, seq=9)
        src.write(cmd)
        got = b""
        end = time.monotonic() + 2
        while len(got) < len(cmd) and time.monotonic() < end:
            got += os.read(pty_pair["master"], 100)
        assert got == cmd


def test_master_closing_raises_transport_closed(pty_pair):
    with SerialSource(os.ttyname(pty_pair["slave"])) as src:
        os.write(pty_pair["master"], b"\x00abc")
        os.close(pty_pair.pop("master"))
        t0 = time.monotonic()
        got = b""
        with pytest.raises(TransportClosed, match="went away"):
            for _ in range(20):
                got += src.read(0.5)[1]
        assert time.monotonic() - t0 < 3.0
        assert src.closed
        with pytest.raises(TransportClosed):
            src.read(0.1)
        with pytest.raises(TransportClosed):
            src.write(b"x")


def test_read_after_close_raises(pty_pair):
    src = SerialSource(os.ttyname(pty_pair["slave"]))
    src.close()
    src.close()
    with pytest.raises(TransportClosed, match="closed"):
        src.read(0.1)


def test_alive_check_ends_the_link(pty_pair):
    state = {"dead": None}
    with SerialSource(os.ttyname(pty_pair["slave"]), alive=lambda: state["dead"]) as src:
        os.write(pty_pair["master"], b"last words")
        state["dead"] = "board exited with code 3"
        assert read_until(src, 10) == b"last words"
        with pytest.raises(TransportClosed, match="code 3"):
            src.read(0.1)


def test_open_missing_port_is_a_clear_error():
    with pytest.raises(TransportError, match="/dev/does-not-exist"):
        SerialSource("/dev/does-not-exist")
    assert issubclass(TransportClosed, TwitchwatchError)


def port(device, vid, pid, bridge=""):
    return PortInfo(device, "desc", vid, pid, None, bridge)


def test_autodetect_matches_known_bridges():
    from twitchwatch.transports.serial import _bridge_name

    assert _bridge_name(0x10C4, 0xEA60) == "Silicon Labs CP210x"
    assert _bridge_name(0x303A, 0x1001) == "Espressif native USB"
    assert _bridge_name(0x1A86, 0x55D4) == "WCH CH9102"
    assert _bridge_name(0x0403, 0x6015) == ""
    ports = [port("/dev/ttyS0", None, None), port("/dev/ttyUSB0", 0x10C4, 0xEA60, "Silicon Labs CP210x")]
    assert autodetect_port(ports) == "/dev/ttyUSB0"


def test_autodetect_none_lists_what_is_there():
    with pytest.raises(PortNotFoundError, match=r"no ESP32.*10C4:EA60.*ports present: /dev/ttyS0"):
        autodetect_port([port("/dev/ttyS0", None, None)])


def test_autodetect_many_lists_candidates():
    ports = [port("/dev/ttyUSB0", 0x10C4, 0xEA60, "CP210x"), port("/dev/ttyACM0", 0x303A, 0x1001, "Espressif")]
    with pytest.raises(PortNotFoundError, match=r"several.*/dev/ttyACM0.*/dev/ttyUSB0|several.*/dev/ttyUSB0.*/dev/ttyACM0"):
        autodetect_port(ports)


def test_list_ports_runs():
    assert all(isinstance(p, PortInfo) for p in list_ports())


# --- reading ahead (issue 17: the board waited in its write while the host worked) ---

def _write_without_blocking(master, data, for_s, give_up_s=5.0):
    """Write ``data`` to the pty master in 146-byte pieces (one EMG frame) over about
    ``for_s`` s, never blocking; returns how many times the pty could not take a piece
    at once (its buffer was full: a board would have waited). Gives up after
    ``give_up_s`` s of a full pty."""
    import fcntl

    fcntl.fcntl(master, fcntl.F_SETFL, fcntl.fcntl(master, fcntl.F_GETFL) | os.O_NONBLOCK)
    refused = 0
    end = time.monotonic() + give_up_s
    pieces = [data[i:i + 146] for i in range(0, len(data), 146)]
    for piece in pieces:
        while piece:
            try:
                piece = piece[os.write(master, piece):]
            except BlockingIOError:
                refused += 1
                if time.monotonic() > end:
                    return refused
                time.sleep(0.005)
        time.sleep(for_s / len(pieces))
    return refused


@pytest.mark.parametrize("ahead", [True, False])
def test_a_busy_reader_does_not_make_the_writer_wait_once_it_reads_ahead(pty_pair, ahead):
    """64 kB (four times what the pty holds) written at the full stream's rate (~22 kB/s)
    for 3 s while the run does not call read at all: reading ahead, the pty never fills
    (the thread would have to be kept from running for the 0.75 s of the stream the pty
    holds), and every byte comes out in order, stamped when it arrived; without, the
    writer waits."""
    data = bytes(range(256)) * 256
    with SerialSource(os.ttyname(pty_pair["slave"])) as src:
        if ahead:
            src.start_read_ahead()
            src.start_read_ahead()  # idempotent
        t0 = time.monotonic()
        refused = _write_without_blocking(pty_pair["master"], data, 3.0, give_up_s=1.0)
        if not ahead:
            assert refused > 0  # the situation the soak was in: the pty full, the writer waiting
            return
        assert refused == 0
        time.sleep(0.5)
        taken_s = time.monotonic()
        got, stamps = b"", []
        while len(got) < len(data):
            host_s, chunk = src.read(0.2)
            assert 0 < len(chunk) <= 20_000  # the backlog in pieces, as the pty gave them before
            got += chunk
            stamps.append(host_s)
        assert got == data
        assert len(stamps) >= 4 and stamps == sorted(stamps)
        assert stamps[0] < t0 + 1.2 and t0 + 2.5 < stamps[-1] < taken_s  # when the bytes came, not when taken
        assert src.read(0.05)[1] == b""
        assert src.read_ahead is not None and src.read_ahead.peak_bytes == len(data)


def test_read_ahead_is_bounded_and_then_waits(pty_pair):
    """At most max_bytes wait in the thread; then it stops reading (the pty applies
    back-pressure again) and nothing is lost or reordered."""
    import threading

    from twitchwatch.transports.readahead import ReadAhead

    data = bytes(range(256)) * 200
    result = {}
    with SerialSource(os.ttyname(pty_pair["slave"])) as src:
        src._ahead = ReadAhead(src._read_port, "test", max_bytes=4096)
        writer = threading.Thread(target=lambda: result.update(refused=_write_without_blocking(
            pty_pair["master"], data, 0.2, give_up_s=30.0)))
        writer.start()
        time.sleep(1.0)  # the run is busy: 4 kB here and the pty's own buffer fill up
        assert src.read_ahead is not None and 4096 <= src.read_ahead.peak_bytes < 4096 + 4096
        got = read_until(src, len(data))
        writer.join(10)
        assert result["refused"] > 0  # the writer had to wait
        assert got == data


def test_read_ahead_hands_over_what_came_then_the_end(pty_pair):
    state = {"dead": None}
    with SerialSource(os.ttyname(pty_pair["slave"]), alive=lambda: state["dead"]) as src:
        src.start_read_ahead()
        os.write(pty_pair["master"], b"last words")
        time.sleep(0.2)
        state["dead"] = "board exited with code 3"
        time.sleep(0.2)
        assert read_until(src, 10) == b"last words"
        with pytest.raises(TransportClosed, match="code 3"):
            src.read(0.1)
    src.close()
    with pytest.raises(TransportClosed, match="code 3"):  # still why it ended
        src.read(0.1)


def test_read_after_close_with_read_ahead_raises(pty_pair):
    src = SerialSource(os.ttyname(pty_pair["slave"]))
    src.start_read_ahead()
    os.write(pty_pair["master"], b"unread")
    time.sleep(0.1)
    src.close()
    assert src.read_ahead is not None and not src.read_ahead._thread.is_alive()
    with pytest.raises(TransportClosed, match="closed"):
        src.read(0.1)
