"""What the dictionary says about a value: its limit state, alarm states, bit names and
event sentences. The console asks only this module, so the dictionary's own answers (named
event arguments, alarm states, bit fields) replace these in one place.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from schemas import model

__all__ = [
    "ALARM_STATES",
    "bit_names",
    "event_sentence",
    "level_state",
    "set_bits",
]

#: States of state-valued fields that are alarms in themselves (the vehicle says so by
#: being in them): the phase CRASHED is red, SAFE and ABORT are yellow.
ALARM_STATES: dict[tuple[str, str], dict[str, str]] = {
    ("HK", "phase"): {"CRASHED": "RED", "ABORT": "YELLOW", "SAFE": "YELLOW"},
    ("HK", "mode"): {"SAFE": "YELLOW"},
}


def level_state(packet: str, f: model.Field, value: Any) -> str:
    """GREEN, YELLOW or RED for a value against its field's limits or alarm states; ""
    when the field has neither. A number that is not a number (NaN) is RED."""
    if isinstance(value, str):
        alarms = ALARM_STATES.get((packet, f.name))
        if alarms is None:
            return ""
        return alarms.get(value, "GREEN")
    if f.limits is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "RED"
    return f.limits.check(value)


@cache
def bit_names(f: model.Field) -> dict[int, str]:
    """Bit number -> name for a bit-field (``1 LRF_INHIBITED, 2 LRF_LATE, ...``)."""
    names: dict[int, str] = {}
    for value, name in re.findall(r"\b(\d+) ([A-Z][A-Z0-9_]+)", f.description):
        number = int(value)
        if number and number & (number - 1) == 0:
            names[number.bit_length() - 1] = name
    return names


def set_bits(f: model.Field, value: int) -> list[str]:
    """Names of the bits set in ``value``."""
    names = bit_names(f)
    return [
        names.get(bit, f"bit{bit}") for bit in range(int(value).bit_length()) if value >> bit & 1
    ]


_PHASES = model.load()["HK"].field("phase").states
_MODES = model.load()["HK"].field("mode").states


def event_sentence(values: dict[str, Any]) -> str:
    """One line saying what an EVENT packet reports, its arguments named."""
    name = str(values["event_id"])
    a1, a2, a3 = values["arg1"], values["arg2"], values["arg3"]
    if name == "PHASE_CHANGE":
        text = f"{name} {_PHASES.get(a1, a1)} -> {_PHASES.get(a2, a2)}"
    elif name == "MODE_CHANGE":
        text = f"{name} {_MODES.get(a1, a1)} -> {_MODES.get(a2, a2)}"
    elif name == "TOUCHDOWN":
        text = f"{name} vertical {abs(a1) / 1000:.2f} m/s, horizontal {abs(a2) / 1000:.2f} m/s"
    else:
        args = [str(a) for a in (a1, a2, a3)]
        while args and args[-1] == "0":
            args.pop()
        text = " ".join([name, *args])
    response = values.get("response", "NONE")
    return text if response == "NONE" else f"{text}; response {response}"
