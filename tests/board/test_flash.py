"""`twitchwatch flash` against a fake board: real mpremote over a real pty to the
MicroPython Unix port speaking the raw REPL (tests/board/mp_fake_board.py)."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from twitchwatch.board.files import board_files, firmware_dir
from twitchwatch.board.flash import BoardInfo, FlashError, Flasher
from twitchwatch.cli import main as cli_main
from twitchwatch.transports.virtual import find_micropython

from .fake_board import FakeBoard

pytestmark = pytest.mark.slow

SIMULATOR_ONLY = {"sim_frontend.py", "unix_main.py"}


def test_the_board_gets_main_and_what_it_imports_not_the_simulator():
    names = [p.name for p in board_files()]
    assert names[0] == "main.py"
    assert not SIMULATOR_ONLY & set(names)
    assert {"acquire.py", "board_esp32.py", "wire_link.py"} <= set(names)
    assert len(names) == len(set(names))


def test_the_ble_build_goes_to_the_board_as_main(tmp_path):
    """flash --ble: ble_main.py is copied as main.py with the BLE link and what it imports;
    neither the simulator nor the Unix port's stand-in bluetooth module goes along."""
    names = [p.name for p in board_files(entry="ble_main.py")]
    assert names[0] == "ble_main.py"
    assert {"ble_link.py", "frame_ring.py", "acquire.py", "board_esp32.py", "wire_cobs.py"} <= set(names)
    assert not (SIMULATOR_ONLY | {"unix_ble_main.py", "bluetooth.py", "main.py"}) & set(names)
    flasher = Flasher("/dev/null", compile_mpy=False, entry="ble_main.py", say=lambda line: None)
    files = flasher.files_for(BoardInfo(6, 3, "xtensawin", "1.24.0"), tmp_path)
    assert files[0].name == "main.py"
    assert files[0].read_text() == (firmware_dir() / "ble_main.py").read_text()
    assert [f.name for f in files[1:]] == names[1:]


def test_imports_are_followed_through_modules_and_functions(tmp_path):
    (tmp_path / "main.py").write_text("import a\nimport machine\n")
    (tmp_path / "a.py").write_text("def f():\n    from b import x\n    return x\n")
    (tmp_path / "b.py").write_text("x = 1\n")
    (tmp_path / "c.py").write_text("import a\n")  # imports main's modules, but nobody imports it
    assert [p.name for p in board_files(tmp_path)] == ["main.py", "a.py", "b.py"]


def test_esp32_mpy_value_is_read_as_xtensawin():
    esp32 = 6 | 3 << 8 | 10 << 10  # what sys.implementation._mpy is on MicroPython 1.2x for ESP32
    info = BoardInfo.parse(f"{esp32} 1.29.0")
    assert (info.mpy_version, info.mpy_sub_version, info.arch) == (6, 3, "xtensawin")


def test_modules_are_compiled_for_the_esp32(tmp_path):
    lines: list[str] = []
    files = Flasher("unused", say=lines.append).files_for(BoardInfo(6, 3, "xtensawin", "1.29.0"), tmp_path)
    assert files[0].name == "main.py"  # the board boots main.py: it stays source
    for f in files[1:]:
        head = f.read_bytes()[:4]
        assert f.suffix == ".mpy" and head[0:1] == b"M" and head[1] == 6
        # the arch field is set only when a module holds native code (@micropython.native/viper)
        assert head[2] >> 2 in (0, 10), f"{f.name}: arch {head[2] >> 2}, not xtensawin"


def test_a_board_with_an_older_mpy_gets_sources(tmp_path):
    lines: list[str] = []
    files = Flasher("unused", say=lines.append).files_for(BoardInfo(5, 0, "xtensawin", "1.18.0"), tmp_path)
    assert all(f.suffix == ".py" for f in files)
    assert "copying the sources" in lines[-1]


def test_flash_stops_the_firmware_copies_resets_and_hears_hello(tmp_path):
    root = tmp_path / "flash"
    root.mkdir()
    (root / "acquire.py").write_text("raise ImportError('stale source shadowing acquire.mpy')\n")
    (root / "notes.txt").write_text("the person's own file\n")
    lines: list[str] = []
    board = FakeBoard(root)
    with board as port:
        hello = Flasher(port, say=lines.append).flash()
        again = Flasher(port, say=lines.append).flash()  # the freshly booted firmware is stopped again
        boots = board.boots
    assert hello.device_id.startswith("sim-") and again.firmware_version == hello.firmware_version
    expected = {"main.py"} | {p.stem + ".mpy" for p in board_files()[1:]}
    assert {p.name for p in root.iterdir()} == expected | {"notes.txt"}
    for name in expected:  # byte for byte what this mpy-cross made / the source
        if name == "main.py":
            assert (root / name).read_bytes() == (firmware_dir() / "main.py").read_bytes()
    assert any("twitchwatch firmware stopped" in line for line in lines)
    assert any("compiling" in line for line in lines)  # the fake runs the Unix port: its arch, compiled
    # what was copied loads in MicroPython (the fake board is the Unix port, so x64 .mpy run here)
    out = subprocess.run([find_micropython(), "-c", "import wire_frames, acquire, wire_link; print('ok')"],
                         cwd=root, env=dict(os.environ, MICROPYPATH=str(root)), capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
    assert boots == 3  # two hard resets, one per flash


def test_a_port_with_nothing_behind_it_is_one_clear_error():
    master, slave = os.openpty()
    try:
        with pytest.raises(FlashError, match="could not reach the board's REPL: no answer within 3 s"):
            Flasher(os.ttyname(slave), say=lambda line: None, repl_wait_s=3).flash()
    finally:
        os.close(master)
        os.close(slave)


def test_a_missing_port_is_one_clear_error(capsys):
    rc = cli_main(["flash", "--port", "/dev/no-such-port-twitchwatch"])
    assert rc == 2
    assert capsys.readouterr().err.startswith("twitchwatch: error: cannot open /dev/no-such-port-twitchwatch")


def test_flash_error_is_a_twitchwatch_error():
    with pytest.raises(FlashError):
        raise FlashError("x")
