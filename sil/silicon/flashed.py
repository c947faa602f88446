"""Silicon boards with the project's firmware on them, flashed by `lander flash` and kept.

Why a cache: `lander flash` onto an empty Pico copies some 40 kB through the raw REPL into
littlefs, which takes the emulated chip tens of seconds; a board's whole state is its flash
file, so the file after one real flash serves every later board of the same firmware,
MicroPython, settings and key. The cache is keyed by all four.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .board import RUNNER, SiliconBoard, SiliconError
from .images import MICROPYTHON, cache_dir, locate, sha256_of

__all__ = ["firmware_id", "flashed_image", "lander_flash", "default_cache"]


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/lander/silicon`` (by default ~/.cache/lander/silicon)."""
    return cache_dir().parent / "silicon"


def firmware_id(rp2_dir: str | os.PathLike[str] | None = None) -> str:
    """What a flashed image depends on besides its settings: the firmware's build, the
    MicroPython image, the chip model."""
    from ground.flash.build import build_firmware
    from sil.firmware import firmware_files

    h = hashlib.sha256()
    build = build_firmware(firmware_files())
    for name in sorted(build.files):
        h.update(name.encode() + b"\0" + build.files[name])
    h.update(sha256_of(locate(MICROPYTHON, rp2_dir)).encode())
    for part in sorted(RUNNER.parent.glob("*.mjs")):
        h.update(part.read_bytes())
    return h.hexdigest()[:16]


def lander_flash(
    port: str, key_file: Path, config: dict[str, object], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run `lander flash` onto ``port`` with the ground's key and ``config`` as settings
    (``vehicle`` as --vehicle); SiliconError with its one line when it fails."""
    argv = [sys.executable, "-m", "ground.cli", "flash", "--port", port]
    argv += ["--key-file", str(key_file)]
    for name, value in config.items():
        if name == "vehicle":
            argv += ["--vehicle", str(value)]
        else:
            argv += ["--set", f"{name}={json.dumps(value)}"]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SiliconError(f"lander flash onto {port} took more than {timeout:g} s") from None
    if result.returncode != 0:
        raise SiliconError(result.stderr.strip() or f"lander flash exited {result.returncode}")
    return result


@contextmanager
def _locked(cache: Path) -> Iterator[None]:
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # processes that need the same image build it once
        yield


def flashed_image(
    key_file: Path,
    config: dict[str, object],
    *,
    cache: Path | None = None,
    rp2_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """A flash image that `lander flash` wrote onto an empty Pico with ``config`` and the
    key in ``key_file``: from the cache, or made now (and kept)."""
    cache = cache or default_cache()
    settings = json.dumps(config, sort_keys=True).encode() + key_file.read_bytes()
    tag = hashlib.sha256(settings).hexdigest()[:8]
    image = cache / f"firmware-{firmware_id(rp2_dir)}-{tag}.flash"
    with _locked(cache):
        if image.is_file():
            return image
        with tempfile.TemporaryDirectory(prefix="lander-silicon-", dir=cache) as scratch:
            flash = Path(scratch) / "pico.flash"
            with SiliconBoard(flash, rp2_dir=rp2_dir) as pico:
                lander_flash(pico.port, key_file, config)
            os.replace(flash, image)
    return image
