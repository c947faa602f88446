"""The firmware's sources, wherever `lander` is installed: the one place that finds them.

The MicroPython modules in firmware/ ship as package data of the `firmware` package, found
through importlib.resources, so an installed `lander` (not only a checkout) can build them
for a board (ground/flash/) and run them on a virtual board (sil/). A vehicle's flash also
holds `config.json` and its telecommand key, under the names firmware/app.py and
firmware/auth.py read, and, once `lander flash` wrote it, the manifest of what it wrote.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["CONFIG_FILE", "FLASH_MANIFEST", "KEY_FILE", "firmware_files", "source_dir"]

PACKAGE = "firmware"
CONFIG_FILE = "config.json"  # must equal the name firmware/app.py load_config() reads
KEY_FILE = "tc.key"  # must equal KEY_FILE in firmware/auth.py
FLASH_MANIFEST = "firmware.json"  # what `lander flash` put on a board, with SHA-256 hashes
NOT_FIRMWARE = ("__init__.py", "manifest.py")  # in the folder, never on a board


def source_dir() -> Path:
    """The folder holding the firmware's sources as this installation ships them."""
    root = resources.files(PACKAGE)
    if not isinstance(root, Path):  # a zipped installation: nothing to copy or compile from
        raise RuntimeError(f"the firmware is not a folder in this installation ({root})")
    return root


def firmware_files(folder: Path | None = None) -> list[Path]:
    """The firmware's MicroPython modules (main.py included) in ``folder`` (default: the
    installed firmware)."""
    folder = source_dir() if folder is None else folder
    return sorted(p for p in folder.glob("*.py") if p.name not in NOT_FIRMWARE)
