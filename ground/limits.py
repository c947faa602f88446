"""Limit checking: the one place the ground decides GREEN, YELLOW or RED.

The dictionary gives each field its limits (numbers for measurements, state or bit names for
enumerations and flags: phase CRASHED, mode SAFE, fault-protection row PROP_LEAK);
:meth:`schemas.model.Limits.check` applies them to one value. Here, the per-packet view the
monitor, the console and the archive share: the state of every limited field of a packet,
and the transitions between states that an alarm list (or the ``alarm`` topic) reports.
Sans-I/O: packets in, states and transitions out.

A value that is not a finite number (NaN, infinity) is RED: it cannot be compared with any
limit, and a sensor that reports one is not nominal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from schemas import model

__all__ = ["GREEN", "YELLOW", "RED", "Transition", "LimitWatch", "limit_state", "packet_states"]

GREEN, YELLOW, RED = "GREEN", "YELLOW", "RED"


def limit_state(f: model.Field, value: Any) -> str:
    """GREEN, YELLOW or RED for a field's engineering value; ``""`` when it has no limits."""
    if f.limits is None:
        return ""
    return f.limits.check(value)


def packet_states(packet: Any) -> dict[str, str]:
    """State of each limited field of a decoded packet, by field name."""
    values = packet.values
    return {
        f.name: f.limits.check(values[f.name])
        for f in packet.definition.fields
        if f.limits is not None
    }


@dataclass(frozen=True)
class Transition:
    """A limited field changed state: ``HK.phase GREEN -> RED (CRASHED)``."""

    time: float
    packet: str
    field: str
    before: str  # "" for the first value seen
    after: str
    value: Any

    def __str__(self) -> str:
        before = self.before or "-"
        return f"{self.packet}.{self.field} {before} -> {self.after} ({self.value})"


class LimitWatch:
    """Remembers each limited field's state and reports when it changes."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], str] = {}

    def update(self, packets: Iterable[Any]) -> list[Transition]:
        out = []
        for packet in packets:
            definition = packet.definition
            if not any(f.limits for f in definition.fields):
                continue
            values = packet.values
            for f in definition.fields:
                if f.limits is None:
                    continue
                value = values[f.name]
                state = f.limits.check(value)
                key = (definition.name, f.name)
                before = self.states.get(key, "")
                if state != before:
                    self.states[key] = state
                    out.append(
                        Transition(packet.time, definition.name, f.name, before, state, value)
                    )
        return out
