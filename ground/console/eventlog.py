"""The events the vehicle reported, as sentences, filterable, with acknowledgement.

Sans-I/O: EVENT packets go in with their ground receive time. An operator acknowledges
warnings (and worse); the ones not yet acknowledged are counted on every page.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..decoder import Packet

__all__ = ["EventEntry", "EventLog", "SEVERITIES"]

SEVERITIES = ("INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass
class EventEntry:
    ground_time: float
    vehicle_time: float
    name: str
    severity: str
    text: str
    response: str
    acknowledged: bool = False

    @property
    def level(self) -> int:
        return SEVERITIES.index(self.severity) if self.severity in SEVERITIES else 3

    @property
    def needs_ack(self) -> bool:
        return self.level >= 1 and not self.acknowledged


def _entry(packet: Packet, ground_time: float) -> EventEntry:
    event = packet.event
    assert event is not None, "an EVENT packet carries an event"
    return EventEntry(
        ground_time, packet.time, event.name, event.severity, event.sentence, event.response
    )


class EventLog:
    """The last ``capacity`` events; ``filtered()`` for the page, ``unacknowledged`` count."""

    def __init__(self, capacity: int = 5000) -> None:
        self.entries: deque[EventEntry] = deque(maxlen=capacity)
        self.total = 0

    def add(self, packet: Packet, ground_time: float) -> EventEntry:
        entry = _entry(packet, ground_time)
        self.entries.append(entry)
        self.total += 1
        return entry

    def backfill(self, events: Iterable[tuple[Packet, float]]) -> int:
        """Put older events (from the archive) before the live ones; returns how many. Those
        the live log already holds (from the first live one on) are not taken twice."""
        first = self.entries[0].ground_time if self.entries else math.inf
        older = [_entry(p, t) for p, t in events if t < first]
        if older:
            self.entries = deque(older + list(self.entries), maxlen=self.entries.maxlen)
            self.total += len(older)
        return len(older)

    @property
    def unacknowledged(self) -> int:
        return sum(1 for e in self.entries if e.needs_ack)

    def acknowledge(self) -> int:
        count = 0
        for entry in self.entries:
            if entry.needs_ack:
                entry.acknowledged = True
                count += 1
        return count

    def filtered(self, text: str = "", min_severity: str = "INFO") -> Iterator[EventEntry]:
        """Entries at or above ``min_severity`` whose sentence holds every word of ``text``."""
        floor = SEVERITIES.index(min_severity)
        words = text.lower().split()
        for entry in self.entries:
            if entry.level < floor:
                continue
            if words:
                line = f"{entry.severity} {entry.text}".lower()
                if not all(w in line for w in words):
                    continue
            yield entry
