"""The virtual board's flash size and faults, as a serial-port user (pyserial, mpremote) meets
them: the cases `lander flash` must survive, reproduced on demand."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest
import serial

from hil.conditions import wait_for
from hil.tools import mpremote
from sil.bare import BareBoard
from sil.board import VirtualBoard
from sil.faults import PICO_FLASH_BYTES

from .test_vboard import boots

pytestmark = [pytest.mark.vm, pytest.mark.pty]

COUNT_BOOTS = 'with open("boots.txt", "a") as f:\n    f.write("boot\\n")\n'


def test_the_flash_is_a_picos_size_and_fills_up(tmp_path: Path):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(bytes(6000))
    with VirtualBoard(tmp_path / "flash") as board:
        df = mpremote(board.port, "df").stdout
        assert re.search(rf"\s{PICO_FLASH_BYTES}\s+0\s+{PICO_FLASH_BYTES}\s", df), df
    with VirtualBoard(tmp_path / "small", flash_size=8192) as board:
        assert mpremote(board.port, "cp", str(payload), ":a.bin").returncode == 0
        result = mpremote(board.port, "cp", str(payload), ":b.bin")
        assert result.returncode == 1
        assert "No space left on device" in result.stderr


def test_a_bad_flash_stores_other_bytes(tmp_path: Path):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"firmware" * 100)
    with VirtualBoard(tmp_path / "flash", bad_flash=True) as board:
        assert mpremote(board.port, "cp", str(payload), ":p.bin").returncode == 0
        sums = mpremote(board.port, "sha256sum", ":p.bin").stdout
    assert hashlib.sha256(payload.read_bytes()).hexdigest() not in sums


def test_an_unplugged_board_is_gone_from_under_its_reader(tmp_path: Path):
    with VirtualBoard(tmp_path / "flash", unplug_after=100) as board:
        with serial.Serial(board.port, timeout=0.1) as port:
            port.write(b"\x02" + b"1\r" * 60)  # more than 100 bytes: the cable is pulled
            with pytest.raises(serial.SerialException):
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    port.read(100)


def test_a_board_that_resets_when_the_port_opens_loses_what_comes_first(tmp_path: Path):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text(COUNT_BOOTS)
    with VirtualBoard(flash, reset_on_open=True):
        wait_for(lambda: boots(flash) == 1)  # nobody opened the port: no reset
    with VirtualBoard(flash, reset_on_open=True) as board:
        with serial.Serial(board.port, timeout=0.1) as port:
            port.write(b"\r\x03\r\x01")  # mpremote's take-over, lost while it boots
            time.sleep(1)
            assert b"raw REPL" not in port.read(4096)
            port.write(b"\r\x03\r\x01")  # once it is up, the board answers
            deadline, data = time.monotonic() + 5, b""
            while b"raw REPL; CTRL-B to exit\r\n>" not in data and time.monotonic() < deadline:
                data += port.read(100)
            assert b"raw REPL; CTRL-B to exit\r\n>" in data
    wait_for(lambda: boots(flash) == 3)  # it booted, and again when the port opened


def test_a_board_without_micropython_answers_but_never_with_a_prompt():
    with BareBoard() as board, serial.Serial(board.port, timeout=0.1) as port:
        port.write(b"\r\x03\r\x01\r\x02")
        data, deadline = b"", time.monotonic() + 1
        while time.monotonic() < deadline:
            data += port.read(100)
    assert re.search(rb"temp=21\.5 count=\d+\r\n", data)
    assert b">>> " not in data and b"raw REPL" not in data
