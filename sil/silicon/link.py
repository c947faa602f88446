"""``silicon://``: a link that starts a silicon board with the project's firmware on it.

``silicon://?time_warp=20&seed=7&scenario=NAME&autostart=0&vehicle=ID&flash=FILE`` takes
the same options as ``sil://``. A new board gets the firmware by `lander flash` (once per
firmware and settings: the flashed image is cached, see sil/silicon/flashed.py) with the
ground's key for the vehicle; ``flash=FILE`` keeps the board's flash in FILE, and a board
whose FILE exists starts as it was left.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from ground.keys import DEFAULT_VEHICLE, KeyFileError, key_dir, load_key
from ground.links import LinkError, SerialLink, link_options

from ..link import sil_config
from .board import SiliconBoard, SiliconError
from .flashed import flashed_image
from .images import ImageError

__all__ = ["SiliconLink"]

FIRST_WORDS_WAIT = 60.0  # s: for a new board's firmware to start talking


class SiliconLink(SerialLink):
    """Starts a silicon board flashed with the project's firmware and opens its console."""

    reconnectable = False  # a board that stopped does not come back

    def __init__(self, url: str, options: dict[str, str]) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.board: SiliconBoard | None = None
        given = options.pop("flash", None)
        if given is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lander-silicon-")
        flash = Path(given) if given else Path(self._tmp.name if self._tmp else ".") / "pico.flash"
        try:
            if not flash.exists():
                config = sil_config(options)
                vehicle = str(config.get("vehicle", DEFAULT_VEHICLE))
                load_key(vehicle)  # the ground's key, made on first use
                image = flashed_image(key_dir() / f"{vehicle}.key", config)
                flash.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(image, flash)
            self.board = SiliconBoard(flash).start()
        except (SiliconError, ImageError, KeyFileError, OSError, TimeoutError) as exc:
            self._cleanup()
            raise LinkError(f"silicon board did not start: {str(exc).splitlines()[0]}") from None
        except LinkError:
            self._cleanup()
            raise
        super().__init__(url, self.board.port)
        self._early = self._first_words()

    def _first_words(self, timeout: float = FIRST_WORDS_WAIT) -> bytes:
        """What the board says first: the link is handed over once the firmware runs (a
        busy machine slows the emulated Pico's boot), or after ``timeout`` if it is silent."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if data := super().read(0.2):
                return data
        return b""

    def read(self, timeout: float = 0.1) -> bytes:
        if self._early:
            data, self._early = self._early, b""
            return data
        return super().read(timeout)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self.board is not None:
            self.board.stop()
            self.board = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def open_silicon_link(url: str) -> SiliconLink:
    """The ``lander.links`` entry point of ``silicon://``."""
    return SiliconLink(url, link_options(url))
