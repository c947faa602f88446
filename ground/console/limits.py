"""Limit monitoring for the console: every parameter out of limits now and since the start.

Sans-I/O: fed decoded values with their times, it returns the transitions they make. Two
kinds of check, both the dictionary's and evaluated as :mod:`ground.limits` does for the
monitor and the ground segment's ``alarm`` topic: a field's limits (yellow and red levels,
alarm states such as the phase CRASHED, fault-protection rows such as PROP_LEAK), and its
rate limit where a level says nothing yet: a propellant mass falling with the engine off is
a leak long before it is low.
An operator acknowledges a violation; one that worsens afterwards needs acknowledging again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from schemas import model

from ..limits import RateWatch, limit_state

__all__ = ["LimitEntry", "Transition", "LimitMonitor", "SEVERITY", "describe_limits"]

#: Order of limit states, worst last.
SEVERITY = {"": 0, "GREEN": 0, "YELLOW": 1, "RED": 2}


def describe_limits(limits: model.Limits, unit: str = "") -> str:
    """``R<12 Y<14 Y>20.5 R>22 bar``, ``R:CRASHED Y:ABORT,SAFE``: the thresholds."""
    parts = []
    for label, names in (("R", limits.red), ("Y", limits.yellow)):
        if names:
            parts.append(f"{label}:{','.join(sorted(names))}")
    for label, value, sign in (
        ("R", limits.red_low, "<"),
        ("Y", limits.yellow_low, "<"),
        ("Y", limits.yellow_high, ">"),
        ("R", limits.red_high, ">"),
    ):
        if value is not None:
            parts.append(f"{label}{sign}{value:g}")
    numbers = any(
        v is not None
        for v in (limits.red_low, limits.yellow_low, limits.yellow_high, limits.red_high)
    )
    return " ".join(parts) + (f" {unit}" if unit and numbers else "")


@dataclass
class LimitEntry:
    """One monitored quantity that has been out of limits at least once."""

    packet: str
    field: str
    kind: str  # "level" (the dictionary's limits) or "rate"
    thresholds: str
    description: str = ""
    unit: str = ""
    state: str = "GREEN"  # now
    worst: str = "GREEN"  # since the start
    value: Any = None
    worst_value: Any = None
    first: float = 0.0  # ground time of the first violation
    changed: float = 0.0  # ground time of the last change of state
    violations: int = 0
    acknowledged: bool = False
    limits: model.Limits | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.packet, self.field, self.kind)

    @property
    def name(self) -> str:
        suffix = " rate" if self.kind == "rate" else ""
        return f"{self.packet}.{self.field}{suffix}"


@dataclass(frozen=True)
class Transition:
    entry: LimitEntry
    old: str
    new: str

    @property
    def worsened(self) -> bool:
        return SEVERITY[self.new] > SEVERITY[self.old]


class LimitMonitor:
    """Checks every packet's values; keeps every violation now and since the start."""

    def __init__(self, dictionary: model.Dictionary) -> None:
        self._checked: dict[str, tuple[tuple[int, model.Field, str], ...]] = {}
        self._rated: dict[str, tuple[model.Field, ...]] = {}
        for p in dictionary:
            # Packets sent on occurrence (events, verification) are not states that last:
            # the events log and the command history show them.
            if p.rate_hz <= 0:
                continue
            checked = []
            for i, f in enumerate(p.fields):
                if f.limits is not None:
                    checked.append((i, f, "level"))
            self._checked[p.name] = tuple(checked)
            self._rated[p.name] = tuple(f for f in p.fields if f.rate_limit is not None)
        self._rates = RateWatch()
        self.entries: dict[tuple[str, str, str], LimitEntry] = {}

    def observe(
        self, packet: str, values: dict[str, Any], ground_time: float, vehicle_time: float
    ) -> list[Transition]:
        """One packet's engineering values; returns the limit states they changed."""
        out: list[Transition] = []
        checked = self._checked.get(packet, ())
        if checked:
            items = list(values.values())
            for index, f, kind in checked:
                value = items[index]
                state = limit_state(f, value)
                self._set(out, packet, f, kind, state, value, ground_time)
        for f in self._rated.get(packet, ()):
            state, slope = self._rates.check(packet, f, values, vehicle_time)
            if state:
                self._set_rate(out, packet, f, state, slope, ground_time)
        return out

    def _set(
        self,
        out: list[Transition],
        packet: str,
        f: model.Field,
        kind: str,
        state: str,
        value: Any,
        now: float,
    ) -> None:
        entry = self.entries.get((packet, f.name, kind))
        if entry is None:
            if state in ("GREEN", ""):
                return
            assert f.limits is not None
            thresholds = describe_limits(f.limits, f.unit)
            entry = LimitEntry(packet, f.name, kind, thresholds, f.description, f.unit)
            entry.limits = f.limits
            self.entries[entry.key] = entry
        self._update(out, entry, state or "GREEN", value, now)

    def _set_rate(
        self,
        out: list[Transition],
        packet: str,
        f: model.Field,
        state: str,
        value: float | None,
        now: float,
    ) -> None:
        limit = f.rate_limit
        assert limit is not None
        key = (packet, f.name, "rate")
        entry = self.entries.get(key)
        if entry is None:
            if state == "GREEN":
                return
            entry = LimitEntry(
                packet,
                f.name,
                "rate",
                describe_limits(limit.limits, f.rate_unit),
                limit.description,
                f.rate_unit,
                limits=limit.limits,
            )
            self.entries[key] = entry
        self._update(out, entry, state, value, now)

    @staticmethod
    def _update(
        out: list[Transition], entry: LimitEntry, state: str, value: Any, now: float
    ) -> None:
        if value is not None:
            entry.value = value
        old = entry.state
        if state == old:
            if SEVERITY[state] and SEVERITY[state] == SEVERITY[entry.worst] and value is not None:
                entry.worst_value = _worse(entry, value)
            return
        entry.state = state
        entry.changed = now
        if SEVERITY[state] > SEVERITY[old]:
            if not entry.violations:
                entry.first = now
            entry.violations += 1
            entry.acknowledged = False
        if SEVERITY[state] >= SEVERITY[entry.worst]:
            entry.worst = state
            entry.worst_value = value
        out.append(Transition(entry, old, state))

    # --- what the panel shows ---------------------------------------------------------

    def now(self) -> list[LimitEntry]:
        """Out of limits now, worst first, then the most recent."""
        active = [e for e in self.entries.values() if SEVERITY[e.state]]
        return sorted(active, key=lambda e: (-SEVERITY[e.state], -e.changed))

    def since_start(self) -> list[LimitEntry]:
        """Every quantity that has been out of limits, worst first."""
        return sorted(self.entries.values(), key=lambda e: (-SEVERITY[e.worst], -e.first))

    def unacknowledged(self) -> Iterator[LimitEntry]:
        return (e for e in self.entries.values() if SEVERITY[e.state] and not e.acknowledged)

    def acknowledge(self) -> int:
        """Acknowledge every violation shown now; returns how many were acknowledged."""
        count = 0
        for entry in self.unacknowledged():
            entry.acknowledged = True
            count += 1
        return count


def _worse(entry: LimitEntry, value: Any) -> Any:
    """The value further out of limits of the worst seen and ``value``."""
    previous = entry.worst_value
    if not isinstance(value, int | float) or not isinstance(previous, int | float):
        return value
    low = entry.limits.yellow_low if entry.limits is not None else None
    if low is None and entry.limits is not None:
        low = entry.limits.red_low
    if low is not None and value < low:
        return min(previous, value)
    return max(previous, value)
