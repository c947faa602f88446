"""Events as an operator reads them: named arguments and one sentence.

The dictionary says what each ``EVENT.event_id`` means and what its raw ``arg1..arg3`` are
(``[events.*]`` in ``schemas/telemetry.toml``): this module is the one place that turns an
EVENT packet into an :class:`Event`, and an event into the line every tool prints
(``lander decode``, ``monitor``, ``scenario``, the console, the archive)::

    PHASE_CHANGE BRAKING -> APPROACH (HIGH_GATE)
    TOUCHDOWN vertical 1.06 m/s, horizontal 0.14 m/s, propellant 52.3 kg
    PROP_LEAK 6.1 kg missing in DESCENT_ORBIT, response SAFE

Sans-I/O: it takes decoded values and returns objects and strings.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas import model

__all__ = ["Event", "EventLog", "from_values", "line"]

_ARG_FIELDS = ("arg1", "arg2", "arg3")


@dataclass(frozen=True)
class Event:
    """One event: what happened, how much it matters, what fault protection did, and its
    arguments by name in engineering units (state names where they have states)."""

    time: float
    name: str
    code: int
    severity: str
    response: str
    args: Mapping[str, Any] = field(default_factory=dict)
    #: the dictionary's text with the arguments filled in: ``BRAKING -> APPROACH (HIGH_GATE)``
    detail: str = ""
    #: GREEN, YELLOW or RED: the severity's limit state in the dictionary
    alarm: str = ""

    @property
    def sentence(self) -> str:
        """``PHASE_CHANGE BRAKING -> APPROACH (HIGH_GATE)``, with ``, response SAFE`` when
        fault protection responded."""
        text = f"{self.name} {self.detail}".rstrip()
        return f"{text}, response {self.response}" if self.response != "NONE" else text

    def to_dict(self) -> dict[str, Any]:
        """Named values, as JSON output and the event topic carry them."""
        return {
            "name": self.name,
            "code": self.code,
            "severity": self.severity,
            "response": self.response,
            "args": dict(self.args),
            "text": self.sentence,
        }


def from_values(
    definition: model.EventDef | None,
    time: float,
    raw: Mapping[str, Any],
    values: Mapping[str, Any],
    packet: model.PacketDef | None = None,
) -> Event:
    """An :class:`Event` from an EVENT packet's raw and engineering values.

    ``definition`` is the dictionary's entry for the packet's event code, or None for a
    code the dictionary lacks (the event is then shown with its raw arguments); ``packet``,
    the EVENT packet's definition, gives the severity's limits."""
    arg_raw = [int(raw[name]) for name in _ARG_FIELDS if name in raw]
    response = str(values.get("response", "NONE"))
    if definition is None:
        name = str(values.get(model.EVENT_ID_FIELD, f"UNKNOWN({raw.get('event_id')})"))
        args: dict[str, Any] = dict(zip(_ARG_FIELDS, arg_raw, strict=False))
        detail = " ".join(f"{k}={v}" for k, v in args.items())
        code = int(raw.get(model.EVENT_ID_FIELD, 0))
    else:
        name = definition.name
        args = definition.values(arg_raw)
        detail = definition.detail(arg_raw)
        code = definition.code
    severity = str(values.get("severity", ""))
    alarm = ""
    if packet is not None and "severity" in {f.name for f in packet.fields}:
        limits = packet.field("severity").limits
        alarm = limits.check(severity) if limits is not None else ""
    return Event(
        time=time,
        name=name,
        code=code,
        severity=severity,
        response=response,
        args=args,
        detail=detail,
        alarm=alarm,
    )


def line(event: Event) -> str:
    """The event as a log line: vehicle time, severity, sentence."""
    return f"{event.time:10.1f} s  {event.severity:<8} {event.sentence}"


class EventLog:
    """The most recent events, oldest first: what a screen keeps visible."""

    def __init__(self, size: int = 8) -> None:
        self._events: deque[Event] = deque(maxlen=size)

    def extend(self, events: Iterable[Event]) -> None:
        self._events.extend(events)

    def __iter__(self) -> Any:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def lines(self) -> list[str]:
        return [line(e) for e in self._events]
