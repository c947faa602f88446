"""Silicon boards for the tests: where the binaries are, a skip when they or node are
missing, and the flash image after `lander flash`, cached per firmware so that a test
session pays for flashing from empty once.

The binaries come from ``$LANDER_RP2_DIR``, else from ``../shared/rp2`` beside the checkout
(where CI has them); they are never part of the project.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ground.keys import DEFAULT_VEHICLE, VehicleKey, free_key_id, write_key
from sil.silicon import SiliconBoard, SiliconError, find_node, flashed
from sil.silicon.images import BOOTROM, MICROPYTHON, RP2_DIR_ENV, ImageError, locate

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


@contextmanager
def _locked() -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".key-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers make the key once
        yield


#: config.json of the cached image: the descent starts at boot, in real time
CONFIG = {"autostart": True, "seed": 5, "time_warp": 1}


def flashed_image() -> tuple[Path, Path]:
    """A flash image with the firmware put on an empty board by `lander flash` (with
    :data:`CONFIG`), cached per firmware, and the ground's key file for it."""
    rp2 = require_silicon()
    key = CACHE / f"{DEFAULT_VEHICLE}.key"
    with _locked():
        if not key.is_file():
            write_key(VehicleKey.generate(DEFAULT_VEHICLE, free_key_id(key.parent)), key)
    return flashed.flashed_image(key, CONFIG, cache=CACHE, rp2_dir=rp2), key


def copy_of_image(folder: Path, name: str = "pico") -> tuple[Path, Path]:
    """A board's own flash file made from the cached image, and a copy of its key (with
    a counter file of its own beside it)."""
    image, key = flashed_image()
    flash, own_key = folder / f"{name}.flash", folder / f"{name}-{DEFAULT_VEHICLE}.key"
    shutil.copyfile(image, flash)
    shutil.copyfile(key, own_key)
    own_key.chmod(0o600)
    return flash, own_key
