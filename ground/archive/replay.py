"""``archive://SESSION?speed=10``: a stored session played back as a link.

The packets come out COBS-framed as the board sent them, so every tool that takes a link
(monitor, console, capture, decode, the HIL API) replays through the same decoder as live.
``speed`` scales the original ground receive times (1 is as it happened, 10 ten times
faster); ``speed=max`` sends as fast as the reader takes. ``db=`` names the archive
(default ``$LANDER_ARCHIVE``); ``SESSION`` is a session id or ``last``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from cobs.cobs import encode as cobs_encode

from ..errors import UsageError
from .store import PacketRow, open_archive

__all__ = ["ArchiveLink"]


class ArchiveLink:
    """A read-only link over one archived session."""

    def __init__(self, url: str) -> None:
        from ..links import LinkClosed

        self._closed_error = LinkClosed
        self.url = url
        parts = urlsplit(url)
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(options) - {"speed", "db"}
        if unknown:
            raise UsageError(f"{url}: unknown option {sorted(unknown)[0]!r} (speed=N|max, db=PATH)")
        speed_text = options.get("speed", "1")
        if speed_text == "max":
            self.speed = 0.0
        else:
            try:
                self.speed = float(speed_text)
            except ValueError:
                raise UsageError(f"{url}: speed={speed_text!r} is not a number or max") from None
            if not self.speed > 0:
                raise UsageError(f"{url}: speed must be greater than 0 (or max)")
        self._archive = open_archive(unquote(options["db"]) if "db" in options else None)
        which = unquote(parts.netloc + parts.path).strip("/") or "last"
        self.session = self._archive.session(which)
        self._rows: Iterator[PacketRow] = self._archive.packets(session=self.session.id)
        self._next: PacketRow | None = next(self._rows, None)
        self._t0_ground = self._next.ground_time if self._next else 0.0
        self._t0_wall = time.monotonic()

    def read(self, timeout: float = 0.1) -> bytes:
        if self._next is None:
            raise self._closed_error(f"end of archived session {self.session.id}")
        out = bytearray()
        deadline = time.monotonic() + timeout
        while self._next is not None and len(out) < 65536:
            due = self._due(self._next)
            now = time.monotonic()
            if due > now:
                if out or due > deadline:
                    if not out:
                        time.sleep(max(0.0, deadline - now))
                    break
                time.sleep(due - now)
            out += cobs_encode(self._next.data) + b"\x00"
            self._next = next(self._rows, None)
        return bytes(out)

    def _due(self, row: PacketRow) -> float:
        if not self.speed:
            return 0.0
        return self._t0_wall + (row.ground_time - self._t0_ground) / self.speed

    def write(self, data: bytes) -> None:
        raise UsageError("an archive replay is read-only: commands need a live link")

    def close(self) -> None:
        self._archive.close()
