"""Hypothesis strategies of telecommand arguments; the telecommands themselves (signed,
framed, forged) are hil.telecommands', re-exported here for the tests that draw both."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from hil.telecommands import DICTIONARY, KEY, OTHER_KEY, forged, frame, signed, with_crc
from schemas import commands

__all__ = [
    "DICTIONARY",
    "KEY",
    "OTHER_KEY",
    "arg_values",
    "forged",
    "frame",
    "raw_args",
    "signed",
    "with_crc",
]


def arg_values(a: commands.Argument) -> st.SearchStrategy[Any]:
    """Raw values an argument allows."""
    if a.states:
        return st.sampled_from(sorted(a.states))
    if a.is_float:
        return st.floats(a.low, a.high, width=32)
    return st.integers(int(a.low), int(a.high))


@st.composite
def raw_args(draw: st.DrawFn, command: commands.CommandDef) -> dict[str, Any]:
    """Raw values the command allows (for a fault, one of its fault table's)."""
    args = {a.name: draw(arg_values(a)) for a in command.args}
    if command.faults:
        fault = draw(st.sampled_from(list(command.faults.values())))
        args |= {"target": fault.target, "kind": fault.kind}
        if fault.magnitude is not None:
            low, high = fault.magnitude
            magnitude = draw(st.floats(low, high, width=32, exclude_min=fault.above))
            args["magnitude"] = magnitude
    return args
