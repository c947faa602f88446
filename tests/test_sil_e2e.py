"""End to end: the firmware on the real MicroPython VM behind a real pty, read with pyserial."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import serial

from ground.decoder import TelemetryDecoder
from hil.conditions import wait_for
from hil.tools import Lander
from sil.board import VirtualBoard
from sil.firmware import install_sources

pytestmark = [pytest.mark.vm, pytest.mark.pty]


def _read(port: str, seconds: float) -> bytes:
    data = bytearray()
    with serial.Serial(port, 115200, timeout=0.1) as s:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            data += s.read(4096)
    return bytes(data)


def test_virtual_board_telemetry_is_crc_good_and_continuous(tmp_path):
    install_sources(tmp_path, {"autostart": True, "time_warp": 25, "seed": 2})
    with VirtualBoard(tmp_path) as board:
        data = _read(board.port, 4.0)
    decoder = TelemetryDecoder()
    packets = decoder.feed(data)
    stats = decoder.stats
    # The first read may start mid-frame: at most that one frame is not a packet.
    assert stats.crc_errors == 0
    assert stats.unknown_apid == 0
    assert stats.undecodable <= 1
    assert stats.gaps == 0, stats.gaps_by_packet
    names = {p.name for p in packets}
    assert {"HK", "NAV", "PROP", "POWER"} <= names
    nav = [p for p in packets if p.name == "NAV"]
    hk = [p for p in packets if p.name == "HK"]
    # About 10 Hz of NAV for 4 s at 25x warp (the 60 s descent orbit, then PDI), at least
    # a few HK, values moving.
    assert len(nav) > 50
    assert hk[-1].values["phase"] in ("BRAKING", "APPROACH")
    assert nav[0].values["altitude"] > nav[-1].values["altitude"]
    assert all(p.seq == (q.seq + 1) % 0x4000 for q, p in zip(nav, nav[1:], strict=False))


def test_lander_sil_prints_the_port_and_stops_cleanly_on_ctrl_c(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "sil",
            "--flash",
            str(tmp_path / "flash"),
            "--time-warp",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        port = proc.stdout.readline().decode().strip()
        assert port.startswith("/dev/pts/"), port
        data = _read(port, 2.0)
        assert len(TelemetryDecoder().feed(data)) > 10
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert not os.path.exists(port) or not _port_alive(port)


def _port_alive(port: str) -> bool:
    try:
        with serial.Serial(port, timeout=0.2) as s:
            return bool(s.read(100))
    except (serial.SerialException, OSError):
        return False


def test_monitor_says_one_line_when_the_board_goes_away(tmp_path):
    """... and one when it comes back: a Pico re-enumerates when it resets (here a new
    virtual board's pty behind the same, symlinked, port name)."""
    install_sources(tmp_path, {"autostart": True, "time_warp": 5})
    port = tmp_path / "ttyLANDER"
    board = VirtualBoard(tmp_path).start()
    port.symlink_to(board.port)
    monitor = Lander("monitor", "--link", f"serial://{port}")
    try:
        try:
            monitor.wait_for_output(r"packets [1-9]")
        finally:
            board.stop()
        monitor.wait_for_output(r"link lost", stream="err")
        (line,) = monitor.err.strip().splitlines()
        assert line.startswith(f"link lost: lost {port}: ") and line.endswith(
            "waiting for it to come back"
        )
        board = VirtualBoard(tmp_path).start()
        port.unlink()
        port.symlink_to(board.port)
        monitor.wait_for_output(r"link back", stream="err")
        before = _packets_shown(monitor.out)
        wait_for(lambda: _packets_shown(monitor.out) > before, what="packets after the return")
    finally:
        assert monitor.stop() == 0, monitor.err
        board.stop()
    assert monitor.err.strip().splitlines()[1:] == ["link back"]


def _packets_shown(out: str) -> int:
    """The packet count of the monitor's last table."""
    return int(re.findall(r"packets (\d+)", out)[-1])
