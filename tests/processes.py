"""A `lander` subprocess whose output a test can wait on (never a fixed sleep)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

LANDER = [sys.executable, "-m", "ground.cli"]


def wait_for(condition: Callable[[], object], timeout: float = 30, what: str = "") -> None:
    """Poll ``condition`` until it holds; AssertionError after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what or condition}"
        time.sleep(0.02)


class Lander:
    """``lander ARGS...`` running; ``out`` and ``err`` grow as it writes them."""

    def __init__(self, *args: str, **popen: object) -> None:
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
    def _drain(pipe, into: list[bytes]) -> None:
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

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        """Send ``sig`` (if still running) and wait; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        for reader in self._readers:
            reader.join(5)
        return code
