"""Put the project's firmware on a virtual board's flash, as sources.

A real board gets `.mpy` files through `lander flash`; a virtual board started by
`lander sil` or a `sil://` link runs the sources straight from firmware/, so a change to
them is on the board at the next start with no build step.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = ["FIRMWARE_DIR", "firmware_files", "install_sources"]

FIRMWARE_DIR = Path(__file__).resolve().parent.parent / "firmware"


def firmware_files(folder: Path = FIRMWARE_DIR) -> list[Path]:
    """The firmware's MicroPython modules (main.py included) in ``folder``."""
    return sorted(p for p in folder.glob("*.py") if p.name != "manifest.py")


def install_sources(flash_dir: Path, config: dict[str, object] | None = None) -> None:
    """Copy the firmware into ``flash_dir`` and write its config.json."""
    flash_dir.mkdir(parents=True, exist_ok=True)
    for path in firmware_files():
        shutil.copyfile(path, flash_dir / path.name)
    (flash_dir / "config.json").write_text(json.dumps(config or {}) + "\n")
