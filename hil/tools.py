"""The tools a vehicle's users run, run as they run them: each a process of its own.

`lander` is this project's command (run to its end, or :class:`Lander` running while a test
watches its output), `mpremote` MicroPython's own tool, used on its own to check what
`lander flash` did to a board.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from io import BufferedReader
from pathlib import Path
from typing import Any

from .conditions import wait_for

__all__ = ["LANDER", "MPREMOTE", "Lander", "lander", "mpremote"]

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


class Lander:
    """``lander ARGS...`` running; ``out`` and ``err`` grow as it writes them."""

    def __init__(self, *args: str, **popen: Any) -> None:
        self.proc = subprocess.Popen(
            [*LANDER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen
        )
        self.pid = self.proc.pid
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._readers = [
            threading.Thread(target=self._drain, args=(pipe, into), daemon=True)
            for pipe, into in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(pipe: BufferedReader, into: list[bytes]) -> None:
        for chunk in iter(lambda: pipe.read1(65536), b""):
            into.append(chunk)

    @property
    def out(self) -> str:
        return b"".join(self._out).decode(errors="replace")

    @property
    def err(self) -> str:
        return b"".join(self._err).decode(errors="replace")

    def wait_for_output(self, pattern: str, stream: str = "out", timeout: float = 30) -> None:
        wait_for(
            lambda: re.search(pattern, getattr(self, stream)) or self.proc.poll() is not None,
            timeout,
            f"{pattern!r} from lander",
        )
        assert re.search(pattern, getattr(self, stream)), (self.out[-2000:], self.err)

    def stop(self, sig: int | None = signal.SIGINT, timeout: float = 30) -> int:
        """Send ``sig`` (if still running; None: let it end on its own) and wait; the exit
        status (it is killed after ``timeout`` seconds)."""
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        for reader in self._readers:
            reader.join(5)
        return code
