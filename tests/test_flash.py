"""`lander flash` as a user runs it, against the virtual board through a real pty: the real
mpy-cross builds, the real mpremote copies, the firmware runs in the real MicroPython VM.

Every failure a user can meet ends in one line on stderr and exit status 1, and leaves a
board that boots its previous firmware.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from ground.firmware import KEY_FILE, firmware_files, source_dir
from ground.flash import board as board_module
from ground.flash.build import build_firmware
from ground.flash.command import default_out
from ground.flash.errors import BoardLost
from ground.flash.progress import Progress
from ground.flash.uf2 import DRIVES
from ground.keys import load_key
from hil.telemetry import first_packets
from hil.tools import lander, mpremote
from sil.bare import BareBoard
from sil.board import VirtualBoard
from sil.firmware import install_sources

pytestmark = [pytest.mark.vm, pytest.mark.pty]

PREVIOUS = {"autostart": True, "time_warp": 20}  # firmware already on a board: it floods


def lander_flash(*args: str) -> subprocess.CompletedProcess[str]:
    return lander("flash", *args)


def copied(result: subprocess.CompletedProcess[str]) -> list[str]:
    return re.findall(r"^copy (\S+) \(", result.stdout, re.M)


def fails_in_one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    err = result.stderr
    assert result.returncode == 1, (result.returncode, result.stdout, err)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, err
    return err


def files(flash: Path) -> dict[str, bytes]:
    """The flash's files, but for the count of boots the firmware keeps there itself."""
    return {
        p.name: p.read_bytes() for p in flash.iterdir() if p.is_file() and p.name != "boot.count"
    }


@pytest.fixture
def firmware(tmp_path: Path) -> Path:
    """A copy of the firmware's sources that a test may change."""
    folder = tmp_path / "src" / "firmware"
    shutil.copytree(source_dir(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture
def flash(tmp_path: Path) -> Path:
    return tmp_path / "flash"


@pytest.fixture
def previous(flash: Path) -> Iterator[dict[str, bytes]]:
    """A flash holding the previous firmware (as sources, as `lander sil` leaves it)."""
    install_sources(flash, PREVIOUS)
    before = files(flash)
    yield before


# -- build ---------------------------------------------------------------------------------


def test_the_build_is_reproducible_and_its_manifest_hashes_every_file(firmware: Path):
    first, second = build_firmware(), build_firmware()
    assert first.files == second.files  # byte for byte
    names = {p.stem for p in firmware_files()}
    assert set(first.files) == {"main.py"} | {f"{n}.mpy" for n in names - {"main"}}
    assert all(data.startswith(b"M\x06") for n, data in first.files.items() if n != "main.py")

    result = lander_flash("--build-only", "--firmware", str(firmware))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((default_out() / "manifest.json").read_text())
    assert manifest == json.loads(json.dumps(first.manifest()))
    assert manifest["march"] == "armv6m"
    assert "mpy-cross" in result.stdout and "manifest" in result.stdout


# -- flashing ------------------------------------------------------------------------------


def test_flash_from_empty_then_again_with_one_changed_module(firmware: Path, flash: Path):
    with VirtualBoard(flash) as board:
        result = lander_flash("--port", board.port, "--firmware", str(firmware))
        assert result.returncode == 0, result.stderr
        built = json.loads((default_out() / "manifest.json").read_text())
        image = [*built["files"], "config.json", KEY_FILE, "firmware.json"]
        assert sorted(copied(result)) == sorted(image)
        assert re.search(r"telemetry flows \(IDENT, EVENT, ", result.stdout), result.stdout

        # the real mpremote, on its own, finds the same files with the same hashes
        listing = mpremote(board.port, "ls").stdout
        on_board = set(re.findall(r"^\s*\d+ (\S+)$", listing, re.M)) - {"boot.count"}
        assert sorted(on_board) == sorted(image)
        sums = mpremote(board.port, "sha256sum", *[f":{name}" for name in built["files"]])
        found = dict(re.findall(r"^sha256sum :(\S+)\n([0-9a-f]{64})$", sums.stdout, re.M))
        assert found == {name: entry["sha256"] for name, entry in built["files"].items()}
        run = mpremote(board.port, "exec", "import flight; print(flight.__file__)")
        assert run.stdout.strip() == "flight.mpy"

        with open(firmware / "flight.py", "a") as f:
            f.write("\nFLASHED_BY_THE_TEST = 1\n")
        result = lander_flash("--port", board.port, "--firmware", str(firmware), "--dry-run")
        assert result.returncode == 0, result.stderr
        assert re.findall(r"^would copy (\S+) \(.*, changed\)$", result.stdout, re.M) == [
            "flight.mpy",
            "firmware.json",
        ]
        result = lander_flash("--port", board.port, "--firmware", str(firmware))
        assert result.returncode == 0, result.stderr
        assert copied(result) == ["flight.mpy", "firmware.json"]
        assert "telemetry flows" in result.stdout
        run = mpremote(board.port, "exec", "import flight; print(flight.FLASHED_BY_THE_TEST)")
        assert run.stdout.strip() == "1"


def test_flash_writes_the_vehicles_config_and_key(flash: Path):
    with VirtualBoard(flash) as board:
        result = lander_flash(
            "--port", board.port, "--vehicle", "LANDER-7", "--rate", "nav=20",
            "--set", "time_warp=5", "--set", "autostart=true",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    key = load_key("LANDER-7", create=False)  # made on first use, in the test's key folder
    config = json.loads((flash / "config.json").read_text())
    assert config == {
        "vehicle": "LANDER-7",
        "rates": {"NAV": 20.0},
        "key_id": key.key_id,
        "time_warp": 5,
        "autostart": True,
    }
    assert (flash / KEY_FILE).read_bytes() == key.secret


def test_flash_over_firmware_that_floods_the_port(flash: Path, previous: dict[str, bytes]):
    with VirtualBoard(flash) as board:
        assert len(first_packets(board.port)) >= 3  # the previous firmware runs and sends
        result = lander_flash("--port", board.port)
        assert result.returncode == 0, result.stderr
        # its modules' sources would shadow the new .mpy files: they go
        assert "remove flight.py (it would shadow flight.mpy)" in result.stdout
        assert "flight.py" not in files(flash) and "flight.mpy" in files(flash)
        assert "telemetry flows" in result.stdout


def test_a_board_that_resets_when_the_port_opens(flash: Path, previous: dict[str, bytes]):
    with VirtualBoard(flash, reset_on_open=True) as board:
        result = lander_flash("--port", board.port)
        assert result.returncode == 0, result.stderr
        assert "telemetry flows" in result.stdout


def test_dry_run_changes_nothing_and_the_firmware_runs_again(
    flash: Path, previous: dict[str, bytes]
):
    with VirtualBoard(flash) as board:
        result = lander_flash("--port", board.port, "--dry-run")
        assert result.returncode == 0, result.stderr
        assert "would copy flight.mpy (" in result.stdout
        assert "would remove flight.py (it would shadow flight.mpy)" in result.stdout
        assert files(flash) == previous
        assert len(first_packets(board.port)) >= 3


# -- bad cases -----------------------------------------------------------------------------


def no_key_made() -> bool:
    return not list(Path(os.environ["LANDER_KEY_DIR"]).glob("*.key"))


def test_no_board_found():
    fails_in_one_line(lander_flash(), "no board found", "--port")
    assert no_key_made()


def test_no_such_port():
    fails_in_one_line(lander_flash("--port", "/dev/ttyNOPE7"), "no serial port /dev/ttyNOPE7")
    assert no_key_made()


def test_a_busy_port(flash: Path):
    with VirtualBoard(flash) as board, serial.Serial(board.port, exclusive=True):
        fails_in_one_line(lander_flash("--port", board.port), "is busy", "close it")
    assert no_key_made()


def test_a_board_without_micropython():
    with BareBoard() as board:
        fails_in_one_line(
            lander_flash("--port", board.port),
            "no MicroPython",
            "BOOTSEL",
            "micropython.org/download/RPI_PICO",
        )
    assert no_key_made()  # the key is made once a MicroPython board answers


@pytest.mark.parametrize(
    ("reset_after", "doing"),
    [(50, "while asking what it runs"), (20_000, "while copying")],
)
def test_a_board_that_resets_mid_command_is_one_line_and_the_next_flash_works(
    flash: Path, previous: dict[str, bytes], reset_after: int, doing: str
):
    # A brown-out or a watchdog: the board reboots into its previous firmware, which floods
    # the port with telemetry where the answer to a raw-REPL command was awaited (mpremote
    # alone waits for ever while bytes keep coming).
    with VirtualBoard(flash, reset_after=reset_after) as board:
        fails_in_one_line(
            lander_flash("--port", board.port),
            "(a reset?)",
            doing,
            "previous firmware is intact",
        )
        assert {n: d for n, d in files(flash).items() if not n.endswith(".flashing")} == previous
        again = lander_flash("--port", board.port)  # it resets once
        assert again.returncode == 0, again.stderr
        assert "telemetry flows" in again.stdout


def test_unplugged_mid_copy_the_board_boots_its_previous_firmware(
    flash: Path, previous: dict[str, bytes]
):
    with VirtualBoard(flash, unplug_after=12_000) as board:
        fails_in_one_line(
            lander_flash("--port", board.port),
            "lost the board",
            "while copying",
            "previous firmware is intact",
        )
    staged = [name for name in files(flash) if name.endswith(".flashing")]
    assert staged  # it was cut off mid-copy
    assert {n: d for n, d in files(flash).items() if n not in staged} == previous
    with VirtualBoard(flash) as board:
        assert len(first_packets(board.port)) >= 3  # the previous firmware runs
        result = lander_flash("--port", board.port)  # and a new flash finishes the job
        assert result.returncode == 0, result.stderr
        assert f"remove {staged[0]} (left by an interrupted flash)" in result.stdout
    assert not [name for name in files(flash) if name.endswith(".flashing")]


def test_a_full_filesystem(flash: Path, previous: dict[str, bytes]):
    room = sum(map(len, previous.values())) + 4000  # the new files do not fit beside the old
    with VirtualBoard(flash, flash_size=room) as board:
        fails_in_one_line(
            lander_flash("--port", board.port), "filesystem is full", "previous firmware is intact"
        )
        assert files(flash) == previous  # the staged part is gone again
        assert len(first_packets(board.port)) >= 3


def test_a_hash_mismatch_after_copy(flash: Path, previous: dict[str, bytes]):
    with VirtualBoard(flash, bad_flash=True) as board:
        fails_in_one_line(
            lander_flash("--port", board.port), "hash mismatch", "previous firmware is intact"
        )
        assert files(flash) == previous


def test_user_mistakes_in_options():
    fails_in_one_line(lander_flash("--rate", "WARP=5"), "--rate WARP: no such packet")
    fails_in_one_line(lander_flash("--rate", "NAV=500"), "--rate NAV=500")
    fails_in_one_line(lander_flash("--rate", "HK=0"), "HK never stops")
    fails_in_one_line(lander_flash("--set", "vehicle=X"), "use --vehicle")


# -- MicroPython itself: UF2 onto a board in BOOTSEL mode -------------------------------------


def uf2(blocks: int, family: int = 0xE48BFF56) -> bytes:
    out = b""
    for n in range(blocks):
        head = struct.pack(
            "<8I", 0x0A324655, 0x9E5D5157, 0x2000, 0x10000000 + 256 * n, 256, n, blocks, family
        )
        out += head + bytes(range(256)) + bytes(476 - 256) + struct.pack("<I", 0x0AB16F30)
    return out


@pytest.fixture
def bootsel(tmp_path: Path) -> Path:
    drive = tmp_path / "RPI-RP2"
    drive.mkdir()
    (drive / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\n")
    return drive


def test_uf2_goes_onto_the_bootsel_drive(tmp_path: Path, bootsel: Path):
    image = tmp_path / "RPI_PICO-v1.29.0.uf2"
    image.write_bytes(uf2(8))
    result = lander_flash("--uf2", str(image), "--uf2-drive", str(bootsel))
    assert result.returncode == 0, result.stderr
    assert (bootsel / image.name).read_bytes() == image.read_bytes()
    assert "restarts into MicroPython" in result.stdout


def test_uf2_mistakes(tmp_path: Path, bootsel: Path):
    image, other = tmp_path / "pico.uf2", tmp_path / "pico2.uf2"
    image.write_bytes(uf2(2))
    other.write_bytes(uf2(2, family=0xE48BFF59))  # an RP2350's
    (tmp_path / "notes.txt").write_text("not a uf2")
    drive = ("--uf2-drive", str(bootsel))
    fails_in_one_line(lander_flash("--uf2", str(tmp_path / "notes.txt"), *drive), "not a UF2")
    fails_in_one_line(lander_flash("--uf2", str(other), *drive), "another chip")
    fails_in_one_line(lander_flash("--uf2", str(image), "--uf2-drive", str(tmp_path)), "BOOTSEL")
    if not any(glob.glob(pattern) for pattern in DRIVES):  # no real Pico in BOOTSEL mode here
        fails_in_one_line(lander_flash("--uf2", str(image)), "no Pico in BOOTSEL mode")
    assert os.listdir(bootsel) == ["INFO_UF2.TXT"]


# -- progress --------------------------------------------------------------------------------


def test_a_terminal_gets_a_progress_bar_and_a_pipe_plain_lines():
    for tty in (True, False):
        out = io.StringIO()
        progress = Progress(out, tty=tty)
        progress.start(4000)
        progress.say("copy app.mpy (2.0 kB)")
        progress.advance(2000, "app.mpy")
        progress.say("copy flight.mpy (2.0 kB)")
        progress.advance(4000, "flight.mpy")
        progress.finish()
        text = out.getvalue()
        assert ("[############------------]  50%" in text) is tty
        assert ("100%" in text) is tty
        lines = [line.split("\r")[-1].replace("\x1b[K", "") for line in text.splitlines()]
        assert [ln for ln in lines if ln.startswith("copy")] == [
            "copy app.mpy (2.0 kB)",
            "copy flight.mpy (2.0 kB)",
        ]


def test_a_board_that_streams_instead_of_answering_ends_mpremotes_read(flash: Path):
    # mpremote's reads wait until 10 s pass without a byte: a board streaming telemetry
    # where an answer was awaited would keep them waiting for ever
    install_sources(flash, PREVIOUS)  # firmware that floods the port
    with VirtualBoard(flash) as board:
        port = board_module.Board(board.port)
        try:
            with pytest.raises(BoardLost, match="sent a stream, not an answer"):
                with port._talking("waiting for an answer"):
                    port._t.read_until(1, b"an answer that never comes", timeout=None)
        finally:
            port.close()
