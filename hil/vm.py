"""Run code inside the real MicroPython VM (unix port) with the firmware importable.

Why: tests and benches drive the firmware's own modules (its App, uplink, encoder) in the VM
a Pico's heap allows, without a board or a serial port in between.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from ground.firmware import source_dir
from schemas import model
from sil.vm import find_micropython

__all__ = ["HEAP", "VmFailed", "argv", "run"]

#: a Pico's heap (the dictionary's): if it does not fit here it does not fit on the board
HEAP = model.load().heapsize


class VmFailed(RuntimeError):
    """The script ended with an exception; the message holds MicroPython's traceback."""


def argv(script: str, heap: str = HEAP) -> list[str]:
    """The command line that runs ``script`` in the VM with the firmware on sys.path."""
    prelude = f"import sys\nsys.path.insert(0, {str(source_dir())!r})\n"
    return [find_micropython(), "-X", f"heapsize={heap}", "-c", prelude + script]


def run(
    script: str, stdin: bytes = b"", timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``script`` in the VM; stdout is bytes.

    ``cwd`` is the board's flash (key, counter and boot files); by default an empty
    temporary folder, so that nothing the firmware writes lands in the checkout.
    """
    with tempfile.TemporaryDirectory(prefix="lander-vm-") as scratch:
        proc = subprocess.run(
            argv(script),
            input=stdin,
            capture_output=True,
            timeout=timeout,
            cwd=cwd if cwd is not None else scratch,
        )
    if proc.returncode != 0:
        raise VmFailed(
            f"MicroPython exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}"
        )
    return proc
