"""Faults and commands scheduled in vehicle time, for a test's ``config.json``.

A flight that starts itself (``autostart``) and meets its faults at fixed vehicle times is
the same flight at any time warp and on any host, byte for byte: what a procedure checks
then cannot depend on how fast a command travelled. Names are the dictionary's
(``INJECT_FAULT``'s target and kind)::

    @pytest.mark.vehicle(autostart=True, config={"faults": [fault("LRF", "STUCK", at_s=400)]})
"""

from __future__ import annotations

from typing import Any

from schemas import commands

__all__ = ["fault"]

_INJECT = commands.load()["INJECT_FAULT"]


def _code(argument: str, name: str) -> int:
    states = _INJECT.arg(argument).states
    for code, state in states.items():
        if state == name.upper():
            return code
    raise ValueError(f"INJECT_FAULT {argument} {name!r}: one of {', '.join(states.values())}")


def fault(
    target: str, kind: str, magnitude: float = 0.0, *, at_s: float, clear_s: float | None = None
) -> dict[str, Any]:
    """A fault injected at vehicle time ``at_s`` (cleared at ``clear_s``)."""
    entry: dict[str, Any] = {
        "target": _code("target", target),
        "kind": _code("kind", kind),
        "magnitude": magnitude,
        "at_s": at_s,
    }
    if clear_s is not None:
        entry["clear_s"] = clear_s
    return entry
