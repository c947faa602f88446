"""Put the firmware on a virtual board's flash, as sources.

A real board gets `.mpy` files through `lander flash`; a virtual board started by
`lander sil` or a `sil://` link runs the sources as installed (ground/firmware.py finds
them; in a checkout, firmware/ itself), so a change to them is on the board at the next
start with no build step. The vehicle's telecommand key goes to `tc.key` (raw octets, mode
0600), where firmware/auth.py reads it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ground.firmware import CONFIG_FILE, FLASH_MANIFEST, KEY_FILE, firmware_files

__all__ = ["boards_dir", "install_sources", "was_flashed"]


def install_sources(
    flash_dir: Path, config: dict[str, object] | None = None, key: bytes | None = None
) -> None:
    """Copy the firmware into ``flash_dir``, write its config.json and, given one, its key
    (config's ``key_id`` names it in telecommands)."""
    flash_dir.mkdir(parents=True, exist_ok=True)
    for path in firmware_files():
        shutil.copyfile(path, flash_dir / path.name)
    (flash_dir / CONFIG_FILE).write_text(json.dumps(config or {}) + "\n")
    if key is not None:
        key_path = flash_dir / KEY_FILE
        key_path.unlink(missing_ok=True)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)


def boards_dir() -> Path:
    """Where virtual boards keep their flash, a folder per vehicle: $LANDER_BOARDS, else
    $XDG_DATA_HOME/lander/boards (~/.local/share/...). A board's flash holds its vehicle's
    key, so it belongs with the user's data, never in the working directory."""
    if env := os.environ.get("LANDER_BOARDS"):
        return Path(env)
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "lander" / "boards"


def was_flashed(flash_dir: Path) -> bool:
    """Whether `lander flash` put the firmware on this flash (it leaves its manifest there):
    such a board restarts as it was flashed, never with the sources put back."""
    return (flash_dir / FLASH_MANIFEST).is_file()
