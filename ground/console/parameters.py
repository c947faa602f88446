"""Every packet's latest values, their age and limit state, grouped by subsystem.

Sans-I/O: packets go in with their ground receive time, rows come out for a ``now`` the
caller gives. A parameter is stale when its packet is overdue against the rate it is
expected at (the dictionary's, or the one a completed SET_TM_RATE set); packets sent on
occurrence (events, verification) are never stale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from schemas import model

from ..decoder import Packet
from ..display import format_value as _plain
from ..limits import limit_state

__all__ = ["PacketStatus", "Parameter", "ParameterTable", "subsystem"]

#: Periods a packet may be late by (plus a second of jitter) before its values are stale.
STALE_PERIODS = 3.0


def subsystem(definition: model.PacketDef) -> str:
    """The subsystem a packet belongs to: its description up to the colon."""
    head, colon, _ = definition.description.partition(":")
    return head.strip() if colon and len(head) < 30 else definition.name


@dataclass
class PacketStatus:
    """What is known of one packet: the latest copy and when it came."""

    definition: model.PacketDef
    rate_hz: float
    count: int = 0
    received: float = 0.0  # ground time (UTC epoch s)
    vehicle_time: float = 0.0
    seq: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def age(self, now: float) -> float:
        return max(0.0, now - self.received)

    def stale(self, now: float) -> bool:
        if self.rate_hz <= 0 or not self.count:
            return False
        return self.age(now) > STALE_PERIODS / self.rate_hz + 1.0


@dataclass(frozen=True)
class Parameter:
    """One row of the parameters page."""

    subsystem: str
    packet: str
    name: str
    value: Any
    raw: Any
    unit: str
    state: str  # GREEN, YELLOW, RED, "" (no limits); see stale
    stale: bool
    age: float
    description: str

    @property
    def shown_state(self) -> str:
        return "STALE" if self.stale else self.state


class ParameterTable:
    """The latest copy of every packet."""

    def __init__(self, dictionary: model.Dictionary) -> None:
        self.dictionary = dictionary
        self.packets: dict[str, PacketStatus] = {
            p.name: PacketStatus(p, p.rate_hz) for p in dictionary
        }

    def update(self, packet: Packet, ground_time: float) -> PacketStatus:
        status = self.packets[packet.name]
        status.count += 1
        status.received = ground_time
        status.vehicle_time = packet.time
        status.seq = packet.seq
        status.values = packet.values
        status.raw = packet.raw_values
        return status

    def set_rate(self, packet: str, hz: float) -> None:
        """The vehicle now sends ``packet`` at ``hz`` (a completed SET_TM_RATE)."""
        if packet in self.packets:
            self.packets[packet].rate_hz = hz

    def value(self, packet: str, name: str, default: Any = None) -> Any:
        return self.packets[packet].values.get(name, default)

    def rows(self, now: float, query: str = "") -> list[Parameter]:
        """Rows of every received packet by subsystem; ``query`` keeps the matching ones."""
        words = query.lower().split()
        out = []
        for status in self.packets.values():
            if not status.count:
                continue
            d = status.definition
            group = subsystem(d)
            stale = status.stale(now)
            age = status.age(now)
            for f in d.fields:
                if words:
                    text = f"{group} {d.name} {f.name} {f.description}".lower()
                    if not all(w in text for w in words):
                        continue
                value = status.values[f.name]
                out.append(
                    Parameter(
                        group,
                        d.name,
                        f.name,
                        value,
                        status.raw[f.name],
                        f.unit,
                        limit_state(f, value),
                        stale,
                        age,
                        f.description,
                    )
                )
        return out


def format_value(value: Any, unit: str = "") -> str:
    """A value as an operator reads it: 3 decimals for small floats, states as names."""
    if isinstance(value, float):
        if math.isnan(value):
            text = "NaN"
        elif abs(value) >= 1e6:
            text = f"{value:.4g}"
        elif abs(value) >= 100:
            text = f"{value:.1f}"
        else:
            text = f"{value:.3f}"
    else:
        text = _plain(value)
    return f"{text} {unit}" if unit else text
