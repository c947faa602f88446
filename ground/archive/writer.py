"""Archiving a live link: packets in, batched transactions out, never in the link's way.

The link's reader hands each packet to :meth:`ArchiveWriter.add` (a deque append); a
thread of its own writes them in batches, one transaction each, every ``interval`` seconds
or ``batch`` packets. A process killed mid-ingest so loses at most the batch it had not
committed, and the archive opens cleanly (SQLite WAL). Memory is bounded: past
``max_pending`` packets waiting (a stalled disk) the newest are counted as dropped, not
kept. A full disk or a broken database is reported once, in one line, and the link goes
on being decoded without the archive.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from schemas import wire

from .store import Archive, ArchiveError, open_archive

__all__ = ["ArchiveWriter", "record_bus"]


class ArchiveWriter:
    """Writes one vehicle's packets into an archive session from a thread of its own."""

    def __init__(
        self,
        location: str | None,
        *,
        vehicle: str,
        link: str,
        dictionary: str,
        boot: int | None = None,
        batch: int = 1000,
        interval: float = 0.5,
        max_pending: int = 200_000,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.batch = batch
        self.interval = interval
        self.max_pending = max_pending
        self.on_error = on_error
        self.written = 0
        self.dropped = 0
        self.error: str | None = None
        self._pending: deque[tuple[float, bytes]] = deque()
        self._identity = (vehicle, link, dictionary, boot)
        self._stats: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = False
        self._archive: Archive = open_archive(location)
        self.location = self._archive.location
        self.session = self._archive.begin_session(vehicle, link, dictionary, boot)
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._thread.start()

    def add(self, data: bytes, ground_time: float | None = None) -> None:
        """Queue one packet (header to CRC) received at ``ground_time`` (now by default)."""
        if self.error is not None or len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append((time.time() if ground_time is None else ground_time, data))
        if len(self._pending) >= self.batch:
            self._wake.set()

    def new_boot(self, boot: int | None, dictionary: str | None = None) -> None:
        """The vehicle rebooted: what follows goes into a new session."""
        vehicle, link, old_dictionary, _ = self._identity
        self._identity = (vehicle, link, dictionary or old_dictionary, boot)
        self._pending.append((-1.0, b""))  # a marker the writer thread acts on in order
        self._wake.set()

    def update_stats(self, stats: dict[str, int]) -> None:
        """Link statistics to keep with the session (written with the next batch)."""
        self._stats = dict(stats)

    def close(self) -> None:
        """Write what is pending, close the session and the archive."""
        self._stop = True
        self._wake.set()
        self._thread.join()
        try:
            if self.error is None:
                self._archive.end_session(self.session, self._stats)
        except ArchiveError as exc:  # pragma: no cover - a disk that failed at the end
            self._fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - any database error becomes one line
            self._fail(_reason(exc))
        self._archive.close()

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            stopping = self._stop
            self._flush()
            if stopping:
                self._flush()
                return

    def _flush(self) -> None:
        while self._pending and self.error is None:
            rows: list[tuple[int, float, float, int, int, bytes]] = []
            boot_marker = False
            while self._pending and len(rows) < self.batch:
                ground_time, data = self._pending.popleft()
                if not data:
                    boot_marker = True
                    break
                rows.append(_row(self.session, ground_time, data))
            try:
                if rows:
                    self._archive.add_packets(rows)
                    self.written += len(rows)
                if boot_marker or (rows and self._stats):
                    self._archive.update_session(self.session, self._stats)
                if boot_marker:
                    self._archive.end_session(self.session, self._stats)
                    vehicle, link, dictionary, boot = self._identity
                    self.session = self._archive.begin_session(vehicle, link, dictionary, boot)
            except Exception as exc:  # noqa: BLE001 - any database error becomes one line
                self.dropped += len(rows) + len(self._pending)
                self._pending.clear()
                self._fail(_reason(exc))

    def _fail(self, reason: str) -> None:
        if self.error is None:
            self.error = (
                f"archive {self.location}: {reason}; "
                "telemetry is still decoded but no longer archived"
            )
            if self.on_error:
                self.on_error(self.error)


def _row(
    session: int, ground_time: float, data: bytes
) -> tuple[int, float, float, int, int, bytes]:
    word0 = (data[0] << 8) | data[1]
    word1 = (data[2] << 8) | data[3]
    coarse = int.from_bytes(data[6:10], "big")
    fine = (data[10] << 8) | data[11]
    return (
        session,
        ground_time,
        wire.cuc_seconds(coarse, fine),
        word0 & wire.MAX_APID,
        word1 & wire.MAX_SEQ,
        data,
    )


def _reason(exc: Any) -> str:
    text = str(exc).strip()
    if "full" in text.lower():
        return "the disk is full"
    return text.splitlines()[0] if text else type(exc).__name__


def record_bus(writer: ArchiveWriter, bus: Any) -> Callable[[], None]:
    """Archive everything a :class:`~ground.bus.TelemetryBus` receives; returns unsubscribe.

    Packets keep their ground receive time; link statistics go with the session.
    """
    from ..bus import LinkStatistics, Received

    def on_event(event: object) -> None:
        if isinstance(event, Received):
            writer.add(event.packet.data, event.ground_time)
        elif isinstance(event, LinkStatistics):
            writer.update_stats(event.stats)

    return bus.subscribe(on_event)  # type: ignore[no-any-return]
