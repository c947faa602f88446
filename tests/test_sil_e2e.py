"""End to end: the firmware on the real MicroPython VM behind a real pty, read with pyserial."""

from __future__ import annotations

import re

import pytest

from ground.decoder import TelemetryDecoder
from hil.conditions import wait_for
from hil.telemetry import read_until
from hil.tools import Lander
from sil.board import VirtualBoard
from sil.firmware import install_sources

pytestmark = [pytest.mark.vm, pytest.mark.pty]


def _descending(packets) -> bool:
    """About 10 Hz of NAV, every packet kind, and an HK past the 60 s descent orbit."""
    hk = [p for p in packets if p.name == "HK"]
    return (
        sum(p.name == "NAV" for p in packets) > 50
        and {"HK", "NAV", "PROP", "POWER"} <= {p.name for p in packets}
        and hk[-1].values["phase"] in ("BRAKING", "APPROACH")
    )


def test_virtual_board_telemetry_is_crc_good_and_continuous(tmp_path):
    install_sources(tmp_path, {"autostart": True, "time_warp": 25, "seed": 2})
    decoder = TelemetryDecoder()
    with VirtualBoard(tmp_path) as board:
        # the 60 s descent orbit, then PDI: a few seconds at 25x, more on a busy host
        packets = read_until(f"serial://{board.port}", _descending, decoder, timeout=120)
    stats = decoder.stats
    # The first read may start mid-frame: at most that one frame is not a packet.
    assert stats.crc_errors == 0
    assert stats.unknown_apid == 0
    assert stats.undecodable <= 1
    assert stats.gaps == 0, stats.gaps_by_packet
    assert stats.duplicates == stats.out_of_order == 0
    nav = [p for p in packets if p.name == "NAV"]
    assert nav[0].values["altitude"] > nav[-1].values["altitude"]
    assert all(p.seq == (q.seq + 1) % 0x4000 for q, p in zip(nav, nav[1:], strict=False))


def test_monitor_says_one_line_when_the_board_goes_away(tmp_path):
    """... and one when it comes back: a Pico re-enumerates when it resets (here a new
    virtual board's pty behind the same, symlinked, port name)."""
    install_sources(tmp_path, {"autostart": True, "time_warp": 5})
    port = tmp_path / "ttyLANDER"
    board = VirtualBoard(tmp_path).start()
    port.symlink_to(board.port)
    monitor = Lander("monitor", "--link", f"serial://{port}", "--no-archive")
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
