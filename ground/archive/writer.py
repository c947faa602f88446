"""Archiving a live link: packets in, batched transactions out, never in the link's way.

The link's reader hands each packet to :meth:`ArchiveWriter.add` (a deque append); a
thread of its own writes them in batches, one transaction each, every ``interval`` seconds
or ``batch`` packets. A process killed mid-ingest so loses at most the batch it had not
committed, and the archive opens cleanly (SQLite WAL). Memory is bounded: past
``max_pending`` packets waiting (a stalled disk) the newest are counted as dropped, not
kept. A full disk or a broken database is reported once, in one line, and the link goes
on being decoded without the archive.

Identities (IDENT: a new boot, another vehicle) and commands go through the same queue, so
the one thread that owns the database writes everything in the order it happened.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas import wire

from ..identity import from_packet
from .store import Archive, open_archive

__all__ = ["ArchiveWriter", "BusRecorder", "record_bus"]


@dataclass(frozen=True, slots=True)
class _Identify:
    vehicle: str
    boot: int | None
    dictionary: str


@dataclass(frozen=True, slots=True)
class _Command:
    id: str
    requester: str
    name: str
    args: dict[str, Any]
    counter: int | None
    sent: float
    stages: tuple[tuple[str, str, float], ...]


class ArchiveWriter:
    """Writes one link's packets and commands into an archive from a thread of its own."""

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
        self.link = link
        self._pending: deque[tuple[float, bytes] | _Identify | _Command] = deque()
        self._identity = _Identify(vehicle, boot, dictionary)
        self._stats: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = False
        self._archive: Archive = open_archive(location)
        self.location = self._archive.location
        self.session = self._archive.begin_session(vehicle, link, dictionary, boot)
        self._session_packets = 0
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

    def add_packet(self, packet: Any, ground_time: float | None = None) -> None:
        """Queue a decoded packet; an IDENT first says whose packets follow."""
        identity = from_packet(packet)
        if identity is not None:
            self.identify(identity.vehicle, identity.boot, identity.dictionary)
        self.add(packet.data, ground_time)

    def identify(self, vehicle: str, boot: int | None, dictionary: str) -> None:
        """The packets that follow come from this vehicle, boot and dictionary: a new
        session, unless the current one holds no packet yet (then it is relabelled)."""
        identity = _Identify(vehicle, boot, dictionary)
        if identity != self._identity:
            self._identity = identity
            self._pending.append(identity)

    def record_command(
        self,
        command_id: str,
        *,
        requester: str,
        name: str,
        args: dict[str, Any],
        counter: int | None,
        sent: float,
        stages: list[tuple[str, str, float]],
    ) -> None:
        """Queue a command with its verification stages ``(stage, reason, ground time)``."""
        self._pending.append(
            _Command(command_id, requester, name, args, counter, sent, tuple(stages))
        )
        self._wake.set()

    def update_stats(self, stats: dict[str, int]) -> None:
        """Link statistics to keep with the session (written with the next batch)."""
        self._stats = dict(stats)

    def close(self) -> None:
        """Write what is pending, close the session and the archive."""
        self._stop = True
        self._wake.set()
        self._thread.join()
        if self.error is None:
            self._guarded(lambda: self._archive.end_session(self.session, self._stats))
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
            marker: _Identify | _Command | None = None
            while self._pending and len(rows) < self.batch:
                item = self._pending.popleft()
                if isinstance(item, tuple):
                    rows.append(_row(self.session, *item))
                else:
                    marker = item
                    break

            def write(rows: list[Any] = rows, marker: Any = marker) -> None:
                self._write(rows, marker)

            if not self._guarded(write):
                self.dropped += len(rows) + sum(isinstance(i, tuple) for i in self._pending)
                self._pending.clear()

    def _write(self, rows: list[Any], marker: _Identify | _Command | None) -> None:
        if rows:
            self._archive.add_packets(rows)
            self.written += len(rows)
            self._session_packets += len(rows)
            if self._stats:
                self._archive.update_session(self.session, self._stats)
        if isinstance(marker, _Identify):
            if self._session_packets == 0:
                self._archive.relabel_session(
                    self.session, marker.vehicle, marker.boot, marker.dictionary
                )
            else:
                self._archive.end_session(self.session, self._stats)
                self.session = self._archive.begin_session(
                    marker.vehicle, self.link, marker.dictionary, marker.boot
                )
                self._session_packets = 0
        elif isinstance(marker, _Command):
            self._archive.record_command(
                marker.id,
                self._identity.vehicle,
                marker.requester,
                marker.name,
                marker.args,
                marker.counter,
                marker.sent,
                session=self.session,
            )
            for stage, reason, at in marker.stages:
                self._archive.record_stage(marker.id, stage, reason, at)

    def _guarded(self, work: Callable[[], None]) -> bool:
        """Run a database step; any failure becomes the one line of :attr:`error`."""
        try:
            work()
            return True
        except Exception as exc:  # noqa: BLE001 - a full disk, a broken database: one line
            if self.error is None:
                self.error = (
                    f"archive {self.location}: {_reason(exc)}; "
                    "telemetry is still decoded but no longer archived"
                )
                if self.on_error:
                    self.on_error(self.error)
            return False


def record_bus(writer: ArchiveWriter, bus: Any) -> Callable[[], None]:
    """Archive everything a :class:`~ground.bus.TelemetryBus` receives; returns unsubscribe.

    Packets keep their ground receive time; link statistics go with the session; each
    IDENT (a new boot, another vehicle on the link) starts a session of its own.
    """
    from ..bus import LinkStatistics, Received

    def on_event(event: object) -> None:
        if isinstance(event, Received):
            writer.add_packet(event.packet, event.ground_time)
        elif isinstance(event, LinkStatistics):
            writer.update_stats(event.stats)

    return bus.subscribe(on_event)  # type: ignore[no-any-return]


class BusRecorder:
    """Archives a bus from the moment its link is up: a link that cannot be opened leaves
    no empty session behind and prints nothing but its own error."""

    def __init__(
        self,
        bus: Any,
        location: str | None,
        *,
        dictionary: str,
        vehicle: str = "?",
        notice: Callable[[str], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        from ..bus import LinkState

        self.writer: ArchiveWriter | None = None
        self._lock = threading.Lock()

        def on_event(event: object) -> None:
            if self.writer is None and isinstance(event, LinkState) and event.state == "up":
                with self._lock:
                    self.writer = ArchiveWriter(
                        location,
                        vehicle=vehicle,
                        link=event.link,
                        dictionary=dictionary,
                        on_error=on_error,
                    )
                if notice:
                    notice(
                        f"archiving to {self.writer.location} (session {self.writer.session}; "
                        "--no-archive turns it off)"
                    )
                record_bus(self.writer, bus)

        self._unsubscribe = bus.subscribe(on_event)

    def close(self) -> None:
        self._unsubscribe()
        with self._lock:
            if self.writer is not None:
                self.writer.close()


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


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    if "full" in text.lower():
        return "the disk is full"
    return text.splitlines()[0] if text else type(exc).__name__
