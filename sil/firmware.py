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

from ground.firmware import CONFIG_FILE, KEY_FILE, firmware_files

__all__ = ["install_sources"]


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
