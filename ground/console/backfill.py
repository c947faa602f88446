"""Back-filling the plots from the archive: a console opened mid-descent starts with the
last minute drawn, not an empty window.

The archive (:mod:`ground.archive`) decodes a parameter's stored packets in bulk; here only
the numbers in the plot's window are kept, on the ground clock the live points use. The
query runs on a worker thread (an archive may be large or remote); the series merges what
it gets with :meth:`~ground.console.series.Series.backfill`, so the points that arrived live
meanwhile are neither lost nor drawn twice.
"""

from __future__ import annotations

import math
import os

from ..archive import default_location, open_archive

__all__ = ["ArchiveHistory"]


class ArchiveHistory:
    """Recent values of one vehicle's parameters, from the archive at ``location``."""

    def __init__(self, location: str | None, vehicle: str) -> None:
        self.location = location
        self.vehicle = vehicle

    def recent(self, name: str, start: float, stop: float) -> list[tuple[float, float]]:
        """``(ground time, value)`` of ``name`` (``PACKET.field``) between start and stop;
        raises :class:`~ground.archive.ArchiveError` in one line when the archive cannot
        be read."""
        location = self.location or default_location()
        if "://" not in location and not os.path.exists(location):
            return []  # nothing archived here yet: no empty archive made by looking
        with open_archive(location) as archive:
            rows = archive.parameter(name, start, stop, vehicle=self.vehicle)
        return [
            (row.ground_time, float(row.value))
            for row in rows
            if isinstance(row.value, int | float) and math.isfinite(row.value)
        ]
