"""Progress: what `lander flash` tells its user while it works.

On a terminal a bar on the last line follows the bytes copied, and the lines above say each
step; into a pipe or a file there is no bar, only those lines, so logs and tests read them.
"""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

__all__ = ["Progress", "size_text"]

BAR = 24  # characters of the bar


def size_text(n: int) -> str:
    return f"{n} B" if n < 1000 else f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1e6:.2f} MB"


class Progress:
    """Step lines, and a byte-progress bar when the output is a terminal."""

    def __init__(self, out: TextIO | None = None, tty: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self._total = 0
        self._done = 0
        self._bar = False

    def say(self, line: str) -> None:
        self._clear()
        self.out.write(line + "\n")
        self.out.flush()

    def start(self, total: int) -> None:
        """A copy of ``total`` bytes begins."""
        self._total, self._done = max(total, 1), 0

    def advance(self, done: int, label: str) -> None:
        """``done`` bytes of the total are copied; ``label`` says what is being copied."""
        self._done = min(done, self._total)
        if not self.tty:
            return
        filled = BAR * self._done // self._total
        width = shutil.get_terminal_size((80, 24)).columns
        text = (
            f"  [{'#' * filled}{'-' * (BAR - filled)}] {100 * self._done // self._total:3d}%  "
            f"{size_text(self._done)} of {size_text(self._total)}  {label}"
        )
        self.out.write("\r" + text[: width - 1] + "\x1b[K")
        self.out.flush()
        self._bar = True

    def finish(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._bar:
            self.out.write("\r\x1b[K")
            self._bar = False
