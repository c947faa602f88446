"""UF2: install MicroPython itself on a Pico in BOOTSEL mode.

Held in BOOTSEL while plugged in, a Pico is a USB drive named RPI-RP2 that identifies itself
with an INFO_UF2.TXT file; copying a UF2 file onto it writes the file to flash and restarts
the board into it. The file is checked first (every 512-byte block carries the UF2 magic
numbers; one for another chip would not run), so a wrong download is refused with a reason
instead of leaving the board silently in BOOTSEL mode.
"""

from __future__ import annotations

import glob
import os
import struct
from pathlib import Path

from .errors import FlashError
from .progress import Progress, size_text

__all__ = ["INFO_FILE", "check_uf2", "find_drive", "install_uf2"]

INFO_FILE = "INFO_UF2.TXT"
DRIVES = ("/media/*/RPI-RP2", "/media/RPI-RP2", "/run/media/*/RPI-RP2", "/mnt/RPI-RP2")
BLOCK = 512
MAGIC_START0, MAGIC_START1, MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
FLAG_FAMILY = 0x00002000
RP2040_FAMILY = 0xE48BFF56
DOWNLOAD = "https://micropython.org/download/RPI_PICO/"


def check_uf2(data: bytes, name: str) -> None:
    """Refuse what is not a UF2 file for the RP2040."""
    if not data or len(data) % BLOCK:
        raise FlashError(f"{name} is not a UF2 file (download one from {DOWNLOAD})")
    for offset in range(0, len(data), BLOCK):
        start0, start1, flags, _, _, _, _, family = struct.unpack_from("<8I", data, offset)
        (end,) = struct.unpack_from("<I", data, offset + BLOCK - 4)
        if (start0, start1, end) != (MAGIC_START0, MAGIC_START1, MAGIC_END):
            raise FlashError(f"{name} is not a UF2 file (download one from {DOWNLOAD})")
        if flags & FLAG_FAMILY and family != RP2040_FAMILY:
            raise FlashError(
                f"{name} is for another chip (UF2 family {family:#010x}), not a Pico's RP2040: "
                f"download the Pico's from {DOWNLOAD}"
            )


def find_drive(explicit: Path | None = None) -> Path:
    """The mounted drive of a Pico in BOOTSEL mode."""
    if explicit is not None:
        if not (explicit / INFO_FILE).is_file():
            raise FlashError(f"{explicit} is not a Pico in BOOTSEL mode (it has no {INFO_FILE})")
        return explicit
    found = sorted({p for pattern in DRIVES for p in glob.glob(pattern)})
    drives = [Path(p) for p in found if (Path(p) / INFO_FILE).is_file()]
    if not drives:
        raise FlashError(
            "no Pico in BOOTSEL mode found (no RPI-RP2 drive under /media, /run/media or /mnt): "
            "hold BOOTSEL while plugging it in and wait for the drive, or pass --uf2-drive PATH"
        )
    if len(drives) > 1:
        raise FlashError(f"{len(drives)} RPI-RP2 drives found: pick one with --uf2-drive")
    return drives[0]


def install_uf2(uf2: Path, drive: Path, progress: Progress) -> None:
    """Copy ``uf2`` onto the BOOTSEL drive; the board restarts into it."""
    try:
        data = uf2.read_bytes()
    except OSError as exc:
        raise FlashError(f"cannot read {uf2}: {exc.strerror}") from None
    check_uf2(data, uf2.name)
    progress.say(f"copy {uf2.name} ({size_text(len(data))}) to {drive}")
    progress.start(len(data))
    written = 0
    try:
        with open(drive / uf2.name, "wb") as f:
            for offset in range(0, len(data), 64 * BLOCK):
                written += f.write(data[offset : offset + 64 * BLOCK])
                progress.advance(written, uf2.name)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        if written < len(data):  # once all is written, the board may restart before close
            progress.finish()
            raise FlashError(f"cannot write to {drive}: {exc.strerror}") from None
    progress.finish()
    progress.say(
        f"installed {uf2.name}: the Pico restarts into MicroPython; now run `lander flash`"
    )
