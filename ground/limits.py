"""Limit checking: the one place the ground decides GREEN, YELLOW or RED.

The dictionary gives each field its limits (numbers for measurements, state or bit names for
enumerations and flags: phase CRASHED, mode SAFE, fault-protection row PROP_LEAK);
:meth:`schemas.model.Limits.check` applies them to one value. Here, the per-packet view the
monitor, the console and the archive share: the state of every limited field of a packet,
and the transitions between states that an alarm list (or the ``alarm`` topic) reports.
Sans-I/O: packets in, states and transitions out.

A value that is not a finite number (NaN, infinity) is RED: it cannot be compared with any
limit, and a sensor that reports one is not nominal.

Rate limits (a field's ``rate_limit`` in the dictionary) watch how fast a number changes,
per second of vehicle time: :class:`RateWatch` measures the slopes, and :class:`LimitWatch`
reports their transitions beside the levels' (``PROP.propellant_mass rate GREEN -> RED``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas import model

__all__ = [
    "GREEN",
    "YELLOW",
    "RED",
    "Transition",
    "LimitWatch",
    "RateWatch",
    "limit_state",
    "packet_states",
]

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
    value: Any  # for a rate, the slope in the field's unit per second (None: not applying)
    kind: str = "level"  # or "rate": the field's rate_limit

    def __str__(self) -> str:
        before = self.before or "-"
        if self.kind == "rate":
            slope = "not applying" if self.value is None else f"{self.value:+.3g}/s"
            return f"{self.packet}.{self.field} rate {before} -> {self.after} ({slope})"
        return f"{self.packet}.{self.field} {before} -> {self.after} ({self.value})"


@dataclass
class _Slope:
    """Samples of one field over its rate limit's window of vehicle time."""

    window: float
    samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=256))

    def update(self, t: float, value: float) -> float | None:
        samples = self.samples
        if samples and t < samples[-1][0]:  # the vehicle clock went back: a reboot
            samples.clear()
        samples.append((t, value))
        while len(samples) > 2 and t - samples[1][0] >= self.window:
            samples.popleft()
        t0, v0 = samples[0]
        span = t - t0
        return (value - v0) / span if span >= self.window / 2 else None


class RateWatch:
    """The dictionary's rate limits over a stream of packets: sans-I/O, times passed in."""

    def __init__(self) -> None:
        self._slopes: dict[tuple[str, str], _Slope] = {}

    def check(
        self, packet: str, f: model.Field, values: Mapping[str, Any], vehicle_time: float
    ) -> tuple[str, float | None]:
        """``(state, slope)`` of ``f``'s rate limit after this packet: GREEN with no slope
        while the limit does not apply (its ``when``), ``""`` while the window fills."""
        limit = f.rate_limit
        assert limit is not None
        key = (packet, f.name)
        slope = self._slopes.get(key)
        if slope is None:
            slope = self._slopes[key] = _Slope(limit.window)
        if not limit.applies(values):
            slope.samples.clear()
            return GREEN, None
        value = values.get(f.name)
        if not isinstance(value, int | float):
            return "", None
        rate = slope.update(vehicle_time, float(value))
        return ("", None) if rate is None else (limit.limits.check(rate), rate)


class LimitWatch:
    """Remembers each limited field's state (and rate's) and reports when it changes."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str, str], str] = {}
        self.rates = RateWatch()

    def update(self, packets: Iterable[Any]) -> list[Transition]:
        out: list[Transition] = []
        for packet in packets:
            definition = packet.definition
            if not any(f.limits or f.rate_limit for f in definition.fields):
                continue
            values = packet.values
            name = definition.name
            for f in definition.fields:
                if f.limits is not None:
                    value = values[f.name]
                    self._set(out, packet.time, name, f.name, "level", f.limits.check(value), value)
                if f.rate_limit is not None:
                    state, slope = self.rates.check(name, f, values, packet.time)
                    if state:
                        self._set(out, packet.time, name, f.name, "rate", state, slope)
        return out

    def _set(
        self,
        out: list[Transition],
        time: float,
        packet: str,
        name: str,
        kind: str,
        state: str,
        value: Any,
    ) -> None:
        key = (packet, name, kind)
        before = self.states.get(key, "")
        if state != before:
            self.states[key] = state
            out.append(Transition(time, packet, name, before, state, value, kind))
