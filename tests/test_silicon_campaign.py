"""`lander hil --target silicon://`: a procedure of the mission campaign run on an emulated
Pico, as on a board: its config.json put on through its port by `lander flash`, its resets
the RUN button, its telemetry and commands through its USB console."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ground.keys import DEFAULT_VEHICLE
from hil.tools import lander

from .silicon_boards import copy_of_image

pytestmark = [pytest.mark.silicon, pytest.mark.slow, pytest.mark.timeout(900)]


def test_lander_hil_runs_a_procedure_on_silicon(tmp_path: Path) -> None:
    # a board kept in a flash file the firmware is on already (the tests' cached image), and
    # the ground's key for it where `lander hil` looks
    flash, key = copy_of_image(tmp_path)
    keys = Path(os.environ["LANDER_KEY_DIR"])
    keys.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(key, keys / f"{DEFAULT_VEHICLE}.key")
    (keys / f"{DEFAULT_VEHICLE}.key").chmod(0o600)
    report = tmp_path / "report"
    target = f"silicon://?flash={flash}"
    # the two procedures that attack the rp2 port's commanding: a replay, a forged MAC
    done = lander(
        "hil", "--target", target, "-k", "replayed or wrong_key", "--report", str(report),
        timeout=850,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    page = (report / "index.html").read_text()
    assert "test_a_replayed_command_is_refused" in page and "REPLAY" in page
    assert "test_a_command_signed_with_the_wrong_key_is_refused" in page and "BAD_MAC" in page


def test_a_silicon_board_kept_in_a_file_takes_one_worker() -> None:
    done = lander("hil", "--target", "silicon://?flash=pico.flash", "--workers", "2")
    assert done.returncode != 0
    assert "one board takes one worker" in done.stderr
