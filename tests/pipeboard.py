"""The firmware's main.py in the real MicroPython VM, its serial port a pair of pipes.

A :class:`~ground.links.Link` to a board with no REPL and no pty in between: the quickest way
to run the whole firmware (asyncio tasks, uplink, commanding, flash files) under the ground's
commander. The flash is a folder, as on the virtual board.
"""

from __future__ import annotations

import os
import select
import subprocess
from pathlib import Path

from ground.links import LinkClosed
from sil.firmware import install_sources

from . import vm


class PipeBoard:
    """Starts ``main.py`` from ``flash`` (installed first when ``config`` is given)."""

    def __init__(
        self, flash: Path, config: dict[str, object] | None = None, key: bytes | None = None
    ) -> None:
        if config is not None:
            install_sources(flash, config, key)
        self.flash = flash
        self.url = f"pipe://{flash}"
        self.proc = subprocess.Popen(
            [vm.micropython(), "-X", f"heapsize={vm.HEAP}", "main.py"],
            cwd=flash,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self._out = self.proc.stdout.fileno()
        self._in = self.proc.stdin

    def read(self, timeout: float = 0.1) -> bytes:
        ready, _, _ = select.select([self._out], [], [], timeout)
        if not ready:
            return b""
        data = os.read(self._out, 65536)
        if not data:
            raise LinkClosed("the firmware exited")
        return data

    def write(self, data: bytes) -> None:
        try:
            self._in.write(data)
            self._in.flush()
        except (BrokenPipeError, ValueError):
            raise LinkClosed("the firmware exited") from None

    def wait(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
