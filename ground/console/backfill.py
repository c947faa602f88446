"""Back-filling from the archive: a console opened mid-descent starts with the plots' last
minute drawn and the events of the last half hour listed, not empty pages.

The archive (:mod:`ground.archive`) decodes a parameter's stored packets in bulk; here only
the numbers in the plot's window are kept, on the ground clock the live points use. The
query runs on a worker thread (an archive may be large or remote); the series merges what
it gets with :meth:`~ground.console.series.Series.backfill` (and
:meth:`~ground.console.eventlog.EventLog.backfill`), so what arrived live meanwhile is
neither lost nor shown twice.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager

from schemas.model import EVENT_PACKET

from ..archive import Archive, default_location, open_archive
from ..decoder import Packet, TelemetryDecoder

__all__ = ["ArchiveHistory", "EVENTS_BACK"]

#: s of events a console opened on a live link lists from the archive
EVENTS_BACK = 1800.0


class ArchiveHistory:
    """Recent values of one vehicle's parameters, from the archive at ``location``."""

    def __init__(self, location: str | None, vehicle: str) -> None:
        self.location = location
        self.vehicle = vehicle

    def recent(self, name: str, start: float, stop: float) -> list[tuple[float, float]]:
        """``(ground time, value)`` of ``name`` (``PACKET.field``) between start and stop;
        raises :class:`~ground.archive.ArchiveError` in one line when the archive cannot
        be read."""
        with self._open() as archive:
            if archive is None:
                return []
            rows = archive.parameter(name, start, stop, vehicle=self.vehicle)
        # Two tools that recorded the same link (the ground segment, and a console that
        # archived what it heard from it) hold the same packets twice: once each, in time.
        points: dict[tuple[float, float], tuple[float, float]] = {}
        for row in rows:
            if isinstance(row.value, int | float) and math.isfinite(row.value):
                value = float(row.value)
                points.setdefault((row.vehicle_time, value), (row.ground_time, value))
        return sorted(points.values())

    def events(self, start: float, stop: float) -> list[tuple[Packet, float]]:
        """The vehicle's EVENT packets between start and stop, with their ground times."""
        with self._open() as archive:
            if archive is None:
                return []
            apid = archive.dictionary[EVENT_PACKET].apid
            decoder = TelemetryDecoder(archive.dictionary)
            out: dict[tuple[float, int], tuple[Packet, float]] = {}
            for row in archive.packets(apid=apid, vehicle=self.vehicle, start=start, stop=stop):
                packet = decoder.feed_packet(row.data)
                if packet is not None and packet.event is not None:
                    out.setdefault((row.vehicle_time, row.seq), (packet, row.ground_time))
            return sorted(out.values(), key=lambda event: event[1])

    @contextmanager
    def _open(self) -> Iterator[Archive | None]:
        location = self.location or default_location()
        if "://" not in location and not os.path.exists(location):
            yield None  # nothing archived here yet: no empty archive made by looking
            return
        with open_archive(location) as archive:
            yield archive
