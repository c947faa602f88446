"""The tools a vehicle's users run, run as they run them: each a process of its own.

`lander` is this project's command, `mpremote` MicroPython's own tool, used on its own to
check what `lander flash` did to a board.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["LANDER", "MPREMOTE", "lander", "mpremote"]

LANDER = [sys.executable, "-m", "ground.cli"]
MPREMOTE = [sys.executable, "-m", "mpremote"]


def lander(
    *args: str, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`lander ARGS`; its output as text."""
    return subprocess.run(
        [*LANDER, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def mpremote(port: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`mpremote connect PORT ARGS`, e.g. ``mpremote(port, "ls")``; its output as text."""
    return subprocess.run(
        [*MPREMOTE, "connect", port, *args], capture_output=True, text=True, timeout=timeout
    )
