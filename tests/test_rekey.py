"""Keys and counters over a vehicle's life, as an operator meets them through `lander cmd` and
`lander flash` on a virtual board: the advice printed when every counter of a key is spent
restores commanding as written; re-flashing keeps a working pair of counters."""

from __future__ import annotations

import os
import re
import shlex
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.keys import load_key
from schemas import wire
from sil.board import VirtualBoard
from sil.firmware import install_sources

pytestmark = [pytest.mark.vm, pytest.mark.pty, pytest.mark.slow]

LANDER = [sys.executable, "-m", "ground.cli"]


def lander(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LANDER, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def counter_record(value: int, key_id: int) -> bytes:
    """A slot of the vehicle's counter store (firmware/auth.py)."""
    body = struct.pack(">IH", value, key_id)
    return body + wire.crc16(body).to_bytes(2, "big")


@pytest.fixture
def board(tmp_path: Path) -> Iterator[VirtualBoard]:
    """An idle vehicle with the ground's key that has accepted all but its last counter."""
    key = load_key("LANDER-1")
    flash = tmp_path / "flash"
    install_sources(flash, {"key_id": key.key_id}, key=key.secret)
    (flash / "tc_counter.0").write_bytes(counter_record(wire.MAX_COUNTER - 1, key.key_id))
    with VirtualBoard(flash) as board:
        yield board


def test_the_advice_when_the_counters_are_spent_restores_commanding(board: VirtualBoard):
    link = f"serial://{board.port}"
    last = lander("cmd", "--link", link, "NOOP")  # learns MAX - 1 from HK: signs the last one
    assert last.returncode == 0, last.stderr
    assert f"(counter {wire.MAX_COUNTER})" in last.stdout
    spent = lander("cmd", "--link", link, "NOOP")
    assert spent.returncode == 2 and "Traceback" not in spent.stderr
    [line] = spent.stderr.strip().splitlines()
    assert line.startswith("lander cmd: every anti-replay counter of LANDER-1's key")
    [advice] = re.findall(r"`(lander flash [^`]*)`", line)
    flashed = lander(*shlex.split(advice)[1:])  # as printed
    assert flashed.returncode == 0, flashed.stderr
    assert "new key for LANDER-1" in flashed.stdout
    again = lander("cmd", "--link", link, "NOOP")
    assert again.returncode == 0, again.stderr
    assert "(counter 1)" in again.stdout
    # Re-flashing with the same key, even from a ground that lost its counter, keeps a pair
    # that works: the vehicle keeps its counter, the ground learns it from HK.
    os.remove(Path(os.environ["LANDER_KEY_DIR"]) / "LANDER-1.counter")
    reflashed = lander("flash", "--port", board.port)
    assert reflashed.returncode == 0, reflashed.stderr
    after = lander("cmd", "--link", link, "NOOP")
    assert after.returncode == 0, after.stderr
    assert "(counter 2)" in after.stdout
