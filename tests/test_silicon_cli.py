"""The silicon board as a user starts it: `lander sil --silicon` and `silicon://` links."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import serial

from ground.cli import main

from .silicon_boards import LANDER, copy_of_image, run
from .test_silicon_firmware import packets_until

pytestmark = [pytest.mark.silicon, pytest.mark.timeout(900)]
WAIT = ("--timeout", "60")  # s per verification stage: a busy machine slows the emulated Pico


def test_lander_sil_silicon_starts_a_pico_the_ground_commands(tmp_path: Path) -> None:
    flash, key = copy_of_image(tmp_path)
    proc = subprocess.Popen(
        [*LANDER, "sil", "--silicon", "--flash", str(flash)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().decode().strip()
        assert port.startswith("/dev/pts/"), proc.communicate(timeout=60)[1].decode()
        with serial.Serial(port, timeout=0.1) as console:  # the firmware is up when it speaks
            packets_until(console, lambda packets: packets, timeout=120)
        result = run(
            *LANDER,
            "cmd",
            "--link",
            f"serial://{port}",
            "--key-file",
            str(key),
            *WAIT,
            "PING",
            "token=3",
        )
        assert result.returncode == 0, result.stderr
        assert "COMPLETED" in result.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert b"rp2 MicroPython on an emulated RP2040" in err


def test_a_silicon_link_starts_a_flashed_board(tmp_path: Path) -> None:
    flash, key = copy_of_image(tmp_path)
    keys = Path(os.environ["LANDER_KEY_DIR"])
    keys.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(key, keys / "LANDER-1.key")
    (keys / "LANDER-1.key").chmod(0o600)
    result = run(*LANDER, "cmd", "--link", f"silicon://?flash={flash}", *WAIT, "PING", "token=9")
    assert result.returncode == 0, result.stderr
    assert "COMPLETED" in result.stdout


def test_settings_for_a_silicon_board_are_flashed_not_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sil", "--silicon", "--time-warp", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "drop --time-warp" in err[0] and "lander flash" in err[0]
