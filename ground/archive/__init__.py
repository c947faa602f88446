"""The ground's archive: every packet and every command it saw, kept, queried, replayed.

Raw packets are the record (re-decodable after a dictionary fix), stamped with the ground's
receive time, the vehicle, its boot, the vehicle time, APID, sequence count and the hash of
the dictionary they were decoded with. Parameter queries decode the stored packets of one
APID in bulk (:mod:`.columns`): at millions of packets a second, that is faster than keeping
a table of parameters would make ingest slow (figures in ``make bench``).

SQLite (WAL, batched writes) on one machine; the same interface on PostgreSQL.
"""

from __future__ import annotations

from .store import Archive, ArchiveError, CommandRecord, Session, default_location, open_archive
from .writer import ArchiveWriter, record_bus

__all__ = [
    "Archive",
    "ArchiveError",
    "ArchiveWriter",
    "CommandRecord",
    "Session",
    "default_location",
    "open_archive",
    "record_bus",
]
