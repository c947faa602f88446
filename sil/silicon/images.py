"""The two third-party binaries a silicon board runs: the RP2040 boot ROM and MicroPython.

Why a lookup rather than files in the project: both are others' builds, never committed
here. They come, in this order, from the folder ``$LANDER_RP2_DIR`` (CI and the tests point
it at a folder that holds them), or from the user's cache (``$XDG_CACHE_HOME/lander/rp2``,
by default ``~/.cache/lander/rp2``), where a file with a pinned download is fetched once from
its official source and kept only if its SHA-256 is the pinned one. ``$LANDER_RP2_MIRROR``, a
base URL that serves both files under their names (an organisation's mirror; the tests serve
a folder on 127.0.0.1), is fetched from instead, with the same check: there the pinned
MicroPython is the tested build, so a machine without the official downloads still gets
both binaries, and a file altered on the way is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RP2_DIR_ENV",
    "MIRROR_ENV",
    "Binary",
    "BOOTROM",
    "MICROPYTHON",
    "ImageError",
    "cache_dir",
    "locate",
    "sha256_of",
    "bootrom_from_rp2040js_demo",
]

RP2_DIR_ENV = "LANDER_RP2_DIR"
MIRROR_ENV = "LANDER_RP2_MIRROR"
_UF2_MAGIC = (0x0A324655, 0x9E5D5157)


class ImageError(RuntimeError):
    """A binary is missing, corrupt or not the pinned one; the message says what to do."""


@dataclass(frozen=True)
class Binary:
    """A file the board needs: its name in a folder, where it comes from, its SHA-256."""

    name: str
    what: str
    source: str  # the official place a user gets it from
    url: str | None = None  # a pinned download, fetched automatically
    sha256: str | None = None  # the pinned build; None: any valid file of that name


# The RP2040 B1 boot ROM (raspberrypi/pico-bootrom-rp2040 00a4a191), 16 KiB, BSD-3-Clause.
# Raspberry Pi publish its source, not a binary; rp2040js's demo carries the binary as a
# TypeScript array, which the download turns back into the ROM's 16,384 octets.
BOOTROM = Binary(
    name="rp2040-bootrom-b1.bin",
    what="the RP2040 B1 boot ROM",
    source="https://github.com/raspberrypi/pico-bootrom-rp2040 (B1, 00a4a191)",
    url="https://raw.githubusercontent.com/wokwi/rp2040js/"
    "7701ee065f50a04380f81361befd754810cb9e28/demo/bootrom.ts",
    sha256="90b31e108faedfa6bbcfcc33ba05dac61e645108cfbbdc385f8dafc71fde44ae",
)

# MicroPython v1.28.0 for the Raspberry Pi Pico. Its official build is a dated file on
# micropython.org's download page; any RPI_PICO v1.28.0 build serves (the tests use one
# built from the same source, with this SHA-256).
MICROPYTHON = Binary(
    name="RPI_PICO-v1.28.0.uf2",
    what="MicroPython v1.28.0 for the Raspberry Pi Pico",
    source="https://micropython.org/download/RPI_PICO/ (v1.28.0)",
)
TESTED_MICROPYTHON_SHA256 = "5daa8e5fcdb37f1d81ff1a720b6c632113a5b11336564c62db7cd0005354cd87"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lander" / "rp2"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def locate(binary: Binary, folder: str | os.PathLike[str] | None = None) -> Path:
    """The path of ``binary``: in ``folder``, else ``$LANDER_RP2_DIR``, else the cache
    (downloading it there once when it has a pinned download)."""
    configured = folder if folder is not None else os.environ.get(RP2_DIR_ENV)
    if configured:
        path = Path(configured) / binary.name
        if not path.is_file():
            raise ImageError(
                f"no {binary.name} in {configured} ({binary.what}; from {binary.source})"
            )
        return _checked(binary, path)
    path = cache_dir() / binary.name
    if path.is_file():
        return _checked(binary, path)
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        _download(binary, path, mirror.rstrip("/") + "/" + binary.name)
        return _checked(binary, path)
    if binary.url is None:
        raise ImageError(
            f"{binary.what} is not in {cache_dir()}: download it from {binary.source} and "
            f"save it there as {binary.name}, or set {RP2_DIR_ENV} to a folder that holds it"
        )
    _download(binary, path)
    return path


def _checked(binary: Binary, path: Path) -> Path:
    if binary.sha256 is not None and sha256_of(path) != binary.sha256:
        raise ImageError(f"{path} is not {binary.what}: its SHA-256 is not the pinned one")
    if path.suffix == ".uf2":
        head = path.read_bytes()[:8]
        if len(head) < 8 or struct.unpack("<II", head) != _UF2_MAGIC:
            raise ImageError(f"{path} is not a UF2 file")
    return path


def bootrom_from_rp2040js_demo(text: str) -> bytes:
    """The boot ROM's octets from rp2040js's demo/bootrom.ts (a Uint32Array literal)."""
    body = text.partition("new Uint32Array([")[2].partition("])")[0]
    words = [int(w, 16) for w in re.findall(r"0x[0-9a-fA-F]+", body)]
    return struct.pack(f"<{len(words)}I", *words)


def _download(binary: Binary, path: Path, mirror_url: str | None = None) -> None:
    """Fetch ``binary`` from its pinned download (or a mirror's copy of the file) into
    ``path``, only if its SHA-256 is the pinned one."""
    url = mirror_url or binary.url
    assert url is not None
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except (OSError, ValueError) as exc:
        raise ImageError(
            f"cannot download {binary.what} from {url}: {exc}; save it as "
            f"{path} yourself, or set {RP2_DIR_ENV}"
        ) from None
    if binary is BOOTROM and mirror_url is None:
        data = bootrom_from_rp2040js_demo(data.decode(errors="replace"))
    pinned = binary.sha256 or TESTED_MICROPYTHON_SHA256  # a mirror serves the tested build
    if hashlib.sha256(data).hexdigest() != pinned:
        raise ImageError(f"the download of {binary.what} from {url} is not the pinned one")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)
