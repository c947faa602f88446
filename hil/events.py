"""What an EVENT packet says, by argument name: ``PHASE_CHANGE`` ``from``, ``to``, ``trigger``.

The harness matches and shows events by their arguments' names and engineering values, so
that a procedure reads ``await_event("PHASE_CHANGE", to="BRAKING")``. The names and scales
are the firmware's (``firmware/phases.py``, ``flight.py``, ``nav.py``); this is the one place
the harness reads them, to be replaced by the dictionary's own event definitions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ground.decoder import Packet
from schemas import commands, model

__all__ = ["event_args", "event_name", "sentence"]

_HK = model.load()["HK"]
_PHASES = _HK.field("phase").states
_MODES = _HK.field("mode").states
_TRIGGERS = dict(
    enumerate(
        "ARM START_DESCENT ABORT SAFE NO_GO PDI HIGH_GATE LOW_GATE CONTACT CRASH "
        "ORBIT_REACHED HOVER_DONE".split(),
        start=1,
    )
)
_FAULT = commands.load()["INJECT_FAULT"]
_TARGETS = _FAULT.arg("target").states
_KINDS = _FAULT.arg("kind").states


def _states(states: Mapping[int, str]) -> Callable[[int], Any]:
    return lambda raw: states.get(raw, raw)


def _milli(raw: int) -> float:
    return raw / 1000


_same: Callable[[int], Any] = int
#: event -> (argument name, raw -> engineering) for arg1, arg2, arg3
_ARGS: dict[str, tuple[tuple[str, Callable[[int], Any]], ...]] = {
    "BOOT": (("rng_state", _same), ("time_warp", _same)),
    "PHASE_CHANGE": (
        ("from", _states(_PHASES)),
        ("to", _states(_PHASES)),
        ("trigger", _states(_TRIGGERS)),
    ),
    "MODE_CHANGE": (("from", _states(_MODES)), ("to", _states(_MODES))),
    "TM_RATE_CHANGED": (("apid", _same), ("hz", _milli)),
    "TOUCHDOWN": (("vertical", _milli), ("horizontal", _milli), ("propellant", _milli)),
    "FAULT_INJECTED": (
        ("target", _states(_TARGETS)),
        ("kind", _states(_KINDS)),
        ("magnitude", _milli),
    ),
    "FAULT_CLEARED": (("target", _states(_TARGETS)),),
    "LRF_REJECTED": (("innovation", _same), ("sigma", _same)),
    "LRF_READMITTED": (("range", _same), ("rejected", _same)),
}


def event_name(packet: Packet) -> str:
    return str(packet.values["event_id"])


def event_args(packet: Packet) -> dict[str, Any]:
    """An EVENT packet's arguments by name, in engineering values (arg1.. if unnamed)."""
    raw = packet.raw_values
    values = packet.values
    named = _ARGS.get(str(values["event_id"]))
    out: dict[str, Any] = {}
    if named is None:
        out = {f"arg{i}": raw[f"arg{i}"] for i in (1, 2, 3) if raw[f"arg{i}"]}
    else:
        for i, (name, convert) in enumerate(named, start=1):
            out[name] = convert(raw[f"arg{i}"])
    if values["response"] != "NONE":
        out["response"] = values["response"]
    return out


def sentence(packet: Packet) -> str:
    """One line an operator reads: ``PHASE_CHANGE from=BRAKING to=APPROACH trigger=HIGH_GATE``."""
    args = " ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in event_args(packet).items()
    )
    return f"{event_name(packet)} {args}".rstrip()
