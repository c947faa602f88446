"""Predicates for procedures: small callables that say what they test.

Each is a callable returning a bool whose ``str`` reads as the condition (``< 50``,
``in [LANDED, SAFE]``), so a failure message can say what was awaited. A comparison that
cannot be made (a number against a state name) is simply false. :func:`event` matches an
EVENT packet by name and named arguments, each a value or a predicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ground.decoder import Packet

__all__ = [
    "Predicate",
    "above",
    "all_of",
    "any_of",
    "at_least",
    "at_most",
    "below",
    "between",
    "equal_to",
    "event",
    "is_in",
    "not_",
    "predicate",
]


class Predicate:
    """A test of one value, with a readable description."""

    def __init__(self, test: Callable[[Any], bool], text: str) -> None:
        self._test = test
        self._text = text

    def __call__(self, value: Any) -> bool:
        try:
            return bool(self._test(value))
        except (TypeError, ValueError):
            return False

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<{self._text}>"


def predicate(value: Any) -> Predicate:
    """``value`` itself if it is a predicate (or any callable), else :func:`equal_to` it."""
    if isinstance(value, Predicate):
        return value
    if callable(value):
        return Predicate(value, getattr(value, "__name__", repr(value)))
    return equal_to(value)


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def equal_to(expected: Any) -> Predicate:
    return Predicate(lambda v: v == expected, f"== {_show(expected)}")


def below(limit: float) -> Predicate:
    return Predicate(lambda v: v < limit, f"< {_show(limit)}")


def above(limit: float) -> Predicate:
    return Predicate(lambda v: v > limit, f"> {_show(limit)}")


def at_most(limit: float) -> Predicate:
    return Predicate(lambda v: v <= limit, f"<= {_show(limit)}")


def at_least(limit: float) -> Predicate:
    return Predicate(lambda v: v >= limit, f">= {_show(limit)}")


def between(low: float, high: float) -> Predicate:
    return Predicate(lambda v: low <= v <= high, f"in [{_show(low)}, {_show(high)}]")


def is_in(choices: Iterable[Any]) -> Predicate:
    items = list(choices)
    return Predicate(lambda v: v in items, f"in [{', '.join(map(_show, items))}]")


def not_(p: Any) -> Predicate:
    inner = predicate(p)
    return Predicate(lambda v: not inner(v), f"not ({inner})")


def all_of(*ps: Any) -> Predicate:
    inner = [predicate(p) for p in ps]
    return Predicate(lambda v: all(p(v) for p in inner), " and ".join(map(str, inner)))


def any_of(*ps: Any) -> Predicate:
    inner = [predicate(p) for p in ps]
    return Predicate(lambda v: any(p(v) for p in inner), " or ".join(map(str, inner)))


#: keyword shorthands of :meth:`Vehicle.await_telemetry` and friends
SHORTHANDS: dict[str, Callable[[Any], Predicate]] = {
    "below": below,
    "above": above,
    "at_most": at_most,
    "at_least": at_least,
    "equal_to": equal_to,
    "is_in": is_in,
    "between": lambda bounds: between(*bounds),
}


def from_keywords(given: dict[str, Any]) -> Predicate:
    """One predicate from shorthand keywords (``below=50, above=10``: both must hold)."""
    unknown = set(given) - set(SHORTHANDS)
    if unknown:
        raise TypeError(f"unknown condition {sorted(unknown)}; use {', '.join(SHORTHANDS)}")
    ps = [SHORTHANDS[k](v) for k, v in given.items()]
    return ps[0] if len(ps) == 1 else all_of(*ps)


class EventMatch(Predicate):
    """Matches an EVENT packet by name and named arguments (``severity`` and ``response``
    too, the fields every event has)."""

    def __init__(self, name: str, args: dict[str, Any]) -> None:
        self.name = name.upper()
        # `from` is a Python keyword: procedures write from_=...
        self.args = {k.rstrip("_"): predicate(v) for k, v in args.items()}
        shown = ", ".join(
            f"{k} {p}" if not str(p).startswith("==") else f"{k}={str(p)[3:]}"
            for k, p in self.args.items()
        )
        super().__init__(self._match, f"{self.name}({shown})" if shown else self.name)

    def _match(self, packet: Packet) -> bool:
        event = packet.event
        if event is None or event.name != self.name:
            return False
        values = {**event.args, "severity": event.severity, "response": event.response}
        return all(k in values and p(values[k]) for k, p in self.args.items())


def event(name: str, **args: Any) -> EventMatch:
    """An EVENT named ``name`` whose arguments match (``event("PHASE_CHANGE", to="BRAKING")``)."""
    return EventMatch(name, args)
