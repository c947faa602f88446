"""Ctrl-C and telecommand bytes on one port: a signed telecommand is data however slowly
it arrives, so the vehicle keeps flying (through the virtual board: the firmware in the real
MicroPython VM behind a real pty; and byte by byte in the VM with a second between bytes);
mpremote and `lander flash` still take over a board in flight, a half-written frame on the
line included."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cobs import cobs
from hypothesis import given, settings
from hypothesis import strategies as st

from ground.decoder import Packet
from ground.links import Link, open_link
from hil import onboard
from hil.telemetry import read_until
from sil.board import VirtualBoard

from . import tcgen

pytestmark = [pytest.mark.vm, pytest.mark.pty]

FLYING = {"autostart": True, "time_warp": 10, "seed": 3}  # in descent: the watchdog runs


@pytest.fixture
def board(tmp_path: Path) -> Iterator[VirtualBoard]:
    with VirtualBoard(onboard.flash(tmp_path / "flash", FLYING)) as board:
        yield board


@pytest.fixture
def flying(board: VirtualBoard) -> Iterator[Link]:
    link = open_link(f"serial://{board.port}")
    try:
        read_until(link, lambda ps: any(p.name == "HK" and p.values["phase"] != "IDLE" for p in ps))
        yield link
    finally:
        link.close()


def answered(counter: int):
    """The read is done once the command with ``counter`` has an outcome, or on a break-in."""

    def done(packets: list[Packet]) -> bool:
        return any(
            (p.name == "TC_VERIFY" and p.raw_values["counter"] == counter
             and p.values["stage"] in ("COMPLETED", "FAILED"))
            or (p.name == "EVENT" and p.values["event_id"] == "BREAK_IN")
            for p in packets
        )  # fmt: skip

    return done


def stages(packets: list[Packet], counter: int) -> list[str]:
    return [
        p.values["stage"]
        for p in packets
        if p.name == "TC_VERIFY" and p.raw_values["counter"] == counter
    ]


def test_a_slow_signed_telecommand_is_data_and_the_vehicle_keeps_flying(flying: Link):
    frame = cobs.encode(tcgen.signed("PING", 5, token=0x03030303).packet)
    cut = frame.index(b"\x03\x03") + 1  # the pause comes after a data byte 0x03 ...
    flying.write(b"\x00" + frame[:cut])
    time.sleep(0.9)  # ... and lasts most of a second: the stimulus, not a wait
    flying.write(frame[cut:] + b"\x00")  # the rest holds 0x03 too
    packets = read_until(flying, answered(5))
    assert "BREAK_IN" not in [p.values["event_id"] for p in packets if p.name == "EVENT"]
    assert stages(packets, 5) == ["ACCEPTED", "STARTED", "COMPLETED"]
    assert [p.raw_values["token"] for p in packets if p.name == "PONG"] == [0x03030303]
    # Still flying: the next command is answered too.
    flying.write(tcgen.signed("NOOP", 6).frame)
    packets = read_until(flying, answered(6))
    assert stages(packets, 6) == ["ACCEPTED", "STARTED", "COMPLETED"]


# The uplink's clock, made to jump a second at every look: each byte comes after a pause.
SLOW_LINE = """
import uplink
class _SlowClock:
    t = 0
    def ticks_ms(self):
        _SlowClock.t += 1000
        return _SlowClock.t
    def ticks_diff(self, a, b):
        return a - b
uplink.time = _SlowClock()
"""


@settings(max_examples=5, deadline=None)
@given(st.data())
def test_signed_telecommands_a_second_apart_byte_by_byte_never_break_in(tmp_path_factory, data):
    flash = onboard.flash(tmp_path_factory.mktemp("vm"))
    names = ["PING", "SET_TM_RATE", "SET_TIME", "SET_MODE", "NOOP"]
    commands = []
    for counter in range(1, 13):
        command = tcgen.DICTIONARY[data.draw(st.sampled_from(names))]
        commands.append(tcgen.signed(command.name, counter, **data.draw(tcgen.raw_args(command))))
    commands.append(tcgen.signed("PING", 13, token=0x03030303))
    result = onboard.run(flash, b"".join(tc.frame for tc in commands), prelude=SLOW_LINE)
    assert result.breaks == 0
    outcomes = [(c, s) for _, c, s, _ in result.verifications() if s in ("COMPLETED", "FAILED")]
    assert [c for c, _ in outcomes] == list(range(1, 14))
    assert outcomes[-1] == (13, "COMPLETED")


def mpremote(port: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mpremote", "connect", port, *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_mpremote_takes_over_the_firmware_in_flight(board: VirtualBoard, flying: Link):
    flying.close()
    result = mpremote(board.port, "exec", "print('took over')")
    assert (result.returncode, result.stdout) == (0, "took over\n"), result.stderr


def test_lander_flash_takes_over_a_board_with_a_half_written_frame(
    board: VirtualBoard, flying: Link
):
    frame = tcgen.signed("PING", 9, token=1).frame
    flying.write(frame[: len(frame) // 2])  # a ground killed mid-write: the frame waits
    flying.close()
    result = subprocess.run(
        [sys.executable, "-m", "ground.cli", "flash", "--port", board.port, "--dry-run"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "would copy" in result.stdout
