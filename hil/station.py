"""The ground a test gets: a telemetry bus on the target's link, through link faults if the
test asks for them, with every byte the ground received kept for replay, and archived."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import BinaryIO

from ground.archive.writer import BusRecorder
from ground.decoder import LinkStats
from ground.links import Link
from schemas.fingerprint import dictionary_hash

from .bus import TelemetryBus
from .linkfaults import FaultyLink, Injected, LinkFaults

__all__ = ["Ground"]


class Ground:
    """A connected ground: ``bus`` decodes the link; ``faults`` is the fault injector, if any."""

    def __init__(
        self,
        link: Link,
        *,
        faults: LinkFaults | None = None,
        record: Path | None = None,
        archive: str | None = None,
        vehicle: str = "?",
    ) -> None:
        self.faults: FaultyLink | None = None
        if faults is not None:
            link = self.faults = FaultyLink(link, faults, armed=False)
        self.link = link
        self._before = LinkStats()
        self.telemetry_file = record
        self.bus = TelemetryBus(link, reconnect=False)
        self._record: BinaryIO | None = None
        if record is not None:
            record.parent.mkdir(parents=True, exist_ok=True)
            self._record = open(record, "wb")  # noqa: SIM115 (closed with the ground)
            self.bus.subscribe_bytes(lambda data, _: self._write(data))
        #: archives what the ground receives (a session per boot), when given an archive
        self.recorder: BusRecorder | None = None
        if archive is not None:
            self.recorder = BusRecorder(
                self.bus, archive, dictionary=dictionary_hash(), vehicle=vehicle
            )

    def start(self) -> Ground:
        self.bus.start()
        return self

    def _write(self, data: bytes) -> None:
        if self._record is not None:
            self._record.write(data)

    def close(self) -> None:
        try:
            self.bus.close()
        finally:
            self.link.close()
            if self.recorder is not None:
                self.recorder.close()
            if self._record is not None:
                self._record.close()
                self._record = None

    def start_faults(self) -> None:
        """Begin injecting the link faults; :meth:`counted` counts from here."""
        if self.faults is not None:
            self._before = copy.deepcopy(self.bus.stats)
            self.faults.arm()

    def stop(self) -> None:
        """Stop reading the link (the reader finishes decoding what it read): what the
        ground counted and what the injector let through then compare exactly."""
        self.bus.close()

    def counted(self) -> dict[str, int]:
        """What the ground counted since the faults began: packets, bad frames, sequence
        gaps and the packets they skipped (compare with :attr:`injected`)."""
        now, before = self.bus.stats, self._before
        return {
            "packets": now.packets - before.packets,
            "bad_frames": now.bad_frames - before.bad_frames,
            "gaps": now.gaps - before.gaps,
            "missing": sum(now.missing_by_packet.values()) - sum(before.missing_by_packet.values()),
        }

    @property
    def stats(self) -> LinkStats:
        """What the ground counted on this link (packets, bad frames, gaps...)."""
        return self.bus.stats

    @property
    def injected(self) -> Injected:
        """What the fault injector did, and what the ground must have counted."""
        if self.faults is None:
            raise AttributeError("this test has no link faults (mark it link_faults(...))")
        return self.faults.injected
