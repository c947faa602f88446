"""`lander sil` as a user runs it: where the board's flash lives, a flashed board restarted as
it was flashed, and one line for a wrong --flash."""

from __future__ import annotations

import hashlib
import json
import os
import termios
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import serial

from ground.cli import main
from ground.firmware import FLASH_MANIFEST, KEY_FILE
from hil.telemetry import first_packets
from hil.tools import Lander, lander
from sil.firmware import boards_dir


@contextmanager
def lander_sil(*args: str, cwd: Path) -> Iterator[str]:
    """`lander sil ARGS` running in ``cwd``: its port, until the block ends (then Ctrl-C)."""
    board = Lander("sil", *args, cwd=cwd)
    try:
        board.wait_for_output(r"/dev/pts/\d+\n")
        yield board.out.split()[0]
    finally:
        code = board.stop()
    assert code == 0, board.err
    assert "Traceback" not in board.err


def test_a_flash_that_is_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    assert main(["sil", "--flash", str(file)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"lander sil: --flash {file}: not a folder; give the folder that holds the flash"
    ]
    assert file.read_text() == "mine\n"


@pytest.mark.vm
@pytest.mark.pty
def test_the_boards_flash_is_kept_by_vehicle_in_the_users_data_not_the_working_folder(
    tmp_path: Path,
):
    work = tmp_path / "work"
    work.mkdir()
    with lander_sil("--vehicle", "LANDER-3", "--idle", cwd=work) as port:
        assert port
    assert list(work.iterdir()) == []
    flash = Path(os.environ["XDG_DATA_HOME"]) / "lander" / "boards" / "LANDER-3"
    assert boards_dir() / "LANDER-3" == flash
    assert (flash / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert json.loads((flash / "config.json").read_text())["vehicle"] == "LANDER-3"


@pytest.mark.vm
@pytest.mark.pty
def test_a_flashed_board_restarts_as_it_was_flashed(tmp_path: Path):
    flash = boards_dir() / "LANDER-4"
    with lander_sil("--vehicle", "LANDER-4", "--idle", cwd=tmp_path) as port:
        result = lander(
            "flash",            "--port", port, "--vehicle", "LANDER-4",
            "--set", "time_warp=20", "--set", "autostart=true",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    manifest = json.loads((flash / FLASH_MANIFEST).read_text())["files"]

    with lander_sil("--vehicle", "LANDER-4", cwd=tmp_path) as port:
        assert len(first_packets(port)) >= 3  # autostart, as flashed
    on_flash = {n: hashlib.sha256((flash / n).read_bytes()).hexdigest() for n in manifest}
    assert on_flash == manifest  # nothing put back: the .mpy build, its config, its key
    assert sorted(p.name for p in flash.glob("*.py")) == ["main.py"]

    again = lander("sil", "--vehicle", "LANDER-4", "--time-warp", "3")
    assert again.returncode == 2
    assert len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert "was flashed by `lander flash`" in again.stderr and "--time-warp" in again.stderr
    assert json.loads((flash / "config.json").read_text())["time_warp"] == 20

    # The same board through a sil:// link: started as flashed, never re-provisioned.
    link = lander("capture", "--link", f"sil://?flash={flash}", "--out", str(tmp_path / "c.bin"),
                  "--duration", "3")  # fmt: skip
    assert link.returncode == 0, link.stderr
    assert (tmp_path / "c.bin").stat().st_size > 0
    assert {n: hashlib.sha256((flash / n).read_bytes()).hexdigest() for n in manifest} == manifest
    refused = lander("capture", "--link", f"sil://?flash={flash}&time_warp=3", "--out", "x.bin")
    assert refused.returncode == 3 and "was flashed by `lander flash`" in refused.stderr


@pytest.mark.vm
@pytest.mark.pty
def test_lander_sil_prints_the_port_and_stops_cleanly_on_ctrl_c(tmp_path: Path):
    with lander_sil("--flash", str(tmp_path / "flash"), "--time-warp", "5", cwd=tmp_path) as port:
        held = serial.Serial(port, timeout=0.2)
        assert len(first_packets(port, count=10)) >= 10
    # Ctrl-C hung up the port. (Held open all along: once closed, its path may already be
    # another board's pty, as test workers start boards at once.)
    with held:
        assert not _still_talking(held)


def _still_talking(port: serial.Serial) -> bool:
    try:
        port.reset_input_buffer()  # what came before the stop
        return bool(port.read(100))
    except (serial.SerialException, OSError, termios.error):
        return False  # hung up
