"""Silicon boards for the tests: where the binaries are, a skip when they or node are
missing, and the flash image after `lander flash`, cached per firmware so that a test
session pays for flashing from empty once.

The binaries come from ``$LANDER_RP2_DIR``, else from ``../shared/rp2`` beside the checkout
(where CI has them); they are never part of the project.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ground.flash.build import build_firmware
from ground.keys import DEFAULT_VEHICLE, VehicleKey, write_key
from sil.firmware import firmware_files
from sil.silicon import SiliconBoard, SiliconError, find_node
from sil.silicon.board import RUNNER
from sil.silicon.images import BOOTROM, MICROPYTHON, RP2_DIR_ENV, ImageError, locate, sha256_of

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "silicon"
LANDER = [sys.executable, "-m", "ground.cli"]
MPREMOTE = [sys.executable, "-m", "mpremote"]


def rp2_dir() -> Path:
    configured = os.environ.get(RP2_DIR_ENV)
    return Path(configured) if configured else ROOT.parent / "shared" / "rp2"


def require_silicon() -> Path:
    """The binaries' folder, or a skip that says what is missing."""
    try:
        find_node()
        folder = rp2_dir()
        locate(BOOTROM, folder)
        locate(MICROPYTHON, folder)
    except (SiliconError, ImageError) as exc:
        pytest.skip(f"no silicon board here: {exc}")
    return folder


def board(flash: Path, **options: object) -> SiliconBoard:
    return SiliconBoard(flash, rp2_dir=require_silicon(), **options)  # type: ignore[arg-type]


def run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def mpremote(port: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run(*MPREMOTE, "connect", port, *args, timeout=timeout)


def firmware_id() -> str:
    """What the cached image depends on: the firmware's build, MicroPython, the chip model."""
    h = hashlib.sha256()
    build = build_firmware(firmware_files())
    for name in sorted(build.files):
        h.update(name.encode() + b"\0" + build.files[name])
    h.update(sha256_of(locate(MICROPYTHON, rp2_dir())).encode())
    for part in sorted(RUNNER.parent.glob("*.mjs")):
        h.update(part.read_bytes())
    return h.hexdigest()[:16]


@contextmanager
def _locked() -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers build it once between them
        yield


#: config.json of the cached image: the descent starts at boot, in real time
CONFIG = {"autostart": True, "seed": 5, "time_warp": 1}


def flashed_image() -> tuple[Path, Path]:
    """A flash image with the firmware put on an empty board by `lander flash` (with
    :data:`CONFIG`), and the ground's key file for it."""
    require_silicon()
    image = CACHE / f"firmware-{firmware_id()}.flash"
    key = image.with_suffix(".key")
    with _locked():
        if image.is_file() and key.is_file():
            return image, key
        key.unlink(missing_ok=True)
        write_key(VehicleKey.generate(DEFAULT_VEHICLE), key)
        with tempfile.TemporaryDirectory(prefix="lander-silicon-") as scratch:
            flash = Path(scratch) / "pico.flash"
            with board(flash) as pico:
                flash_with(pico, key, *(f"{k}={json.dumps(v)}" for k, v in CONFIG.items()))
            shutil.copyfile(flash, image.with_suffix(".part"))
            os.replace(image.with_suffix(".part"), image)
    return image, key


def copy_of_image(folder: Path, name: str = "pico") -> tuple[Path, Path]:
    """A board's own flash file made from the cached image, and a copy of its key (with
    a counter file of its own beside it)."""
    image, key = flashed_image()
    flash, own_key = folder / f"{name}.flash", folder / f"{name}-{DEFAULT_VEHICLE}.key"
    shutil.copyfile(image, flash)
    shutil.copyfile(key, own_key)
    own_key.chmod(0o600)
    return flash, own_key


def new_key_file(folder: Path, vehicle: str = DEFAULT_VEHICLE) -> Path:
    """A new telecommand key for ``vehicle`` in ``folder`` (the ground's; `--key-file`)."""
    path = folder / f"{vehicle}.key"
    write_key(VehicleKey.generate(vehicle), path)
    return path


def flash_with(
    pico: SiliconBoard, key_file: Path, *settings: str
) -> subprocess.CompletedProcess[str]:
    """`lander flash` onto ``pico`` with the ground's key in ``key_file`` and ``settings``
    (KEY=VALUE for config.json)."""
    args = ["flash", "--port", pico.port, "--key-file", str(key_file)]
    for setting in settings:
        args += ["--set", setting]
    result = run(*LANDER, *args, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "telemetry flows" in result.stdout, result.stdout
    return result
