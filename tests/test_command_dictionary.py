"""The command dictionary: checked when loaded, and an operator's mistakes get one line that
names the argument and what it allows, before anything is sent."""

from __future__ import annotations

import pytest

from schemas import commands, model

D = commands.load()


def test_every_command_the_issue_names_is_defined_with_its_arguments():
    names = {c.name for c in D}
    assert {
        "NOOP", "PING", "SET_TM_RATE", "SET_MODE", "ARM", "START_DESCENT", "ABORT", "SAFE",
        "RESET", "SET_TIME", "INJECT_FAULT", "CLEAR_FAULT", "SET_TIME_WARP",
    } <= names  # fmt: skip
    for c in D:
        assert c.description, c.name
        for a in c.args:
            assert a.description and a.type in commands.ARG_TYPES, f"{c.name}.{a.name}"
    assert [a.name for a in D["INJECT_FAULT"].args] == ["target", "kind", "magnitude"]
    assert D["INJECT_FAULT"].arg("kind").states[6] == "LEAK"
    assert D["CLEAR_FAULT"].arg("target").states == D["INJECT_FAULT"].arg("target").states


def test_critical_commands_are_marked():
    assert {"ABORT", "START_DESCENT", "RESET"} <= {c.name for c in D if c.critical}
    assert not D["NOOP"].critical and not D["PING"].critical


def test_states_come_from_the_telemetry_dictionary():
    telemetry = model.load()
    assert D["SET_TM_RATE"].arg("packet").states == {
        telemetry[n].apid: n for n in ("HK", "NAV", "PROP", "POWER")
    }
    modes = telemetry["HK"].field("mode").states
    assert set(D["SET_MODE"].arg("mode").states.items()) <= set(modes.items())
    assert D["ARM"].modes == {1: "NOMINAL"}


def test_an_operator_may_give_names_or_numbers():
    rate = D["SET_TM_RATE"]
    assert rate.raw_values({"packet": "nav", "hz": "20"}) == (0x020, 20.0)
    assert rate.raw_values({"packet": 0x010, "hz": 0}) == (0x010, 0.0)
    assert D["PING"].raw_values({"token": "0xFFFFFFFF"}) == (0xFFFFFFFF,)


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("FLY", {}, "unknown command 'FLY' (known: NOOP, PING, "),
        ("SET_TM_RATE", {"packet": "NAV"}, "SET_TM_RATE: missing argument hz (f32, 0..50 Hz)"),
        ("SET_TM_RATE", {"packet": "NAV", "hz": "500"}, "hz='500' is out of range (f32, 0..50 Hz)"),
        ("SET_TM_RATE", {"packet": "NAV", "hz": "nan"}, "hz='nan' is out of range"),
        ("SET_TM_RATE", {"packet": "NAV", "hz": "fast"}, "hz='fast' is not a number"),
        (
            "SET_TM_RATE",
            {"packet": "EVENT", "hz": 1},
            "packet='EVENT' is not one of HK|NAV|PROP|POWER",
        ),
        (
            "SET_TM_RATE",
            {"packet": "NAV", "hz": 1, "x": 1},
            "unknown argument 'x' (arguments: packet, hz)",
        ),
        ("NOOP", {"x": 1}, "NOOP: unknown argument 'x' (it takes no arguments)"),
        ("SET_TIME_WARP", {"factor": "2.5"}, "factor='2.5' is not a whole number (u16, 1..10000)"),
        ("SET_TIME_WARP", {"factor": 0}, "factor=0 is out of range (u16, 1..10000)"),
        ("PING", {"token": -1}, "token=-1 is out of range (u32, 0..4294967295)"),
        (
            "INJECT_FAULT",
            {"target": "LRF", "kind": "MELT", "magnitude": 1},
            "kind='MELT' is not one of STUCK|",
        ),
    ],
)
def test_bad_commands_get_one_line_naming_the_argument_and_its_range(name, given, message):
    with pytest.raises(commands.ArgumentError) as info:
        D[name].raw_values(given)
    text = str(info.value)
    assert message in text and "\n" not in text


def _doc(**command):
    body = {"code": 1, "description": "d"} | command
    return {"apid": 0x100, "commands": {"A": body}}


def _arg(**arg):
    return _doc(args=[{"name": "x", "type": "u8", "description": "d"} | arg])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_arg(type="f64"), "A.x: type 'f64'"),
        (_arg(description=""), "A.x: every argument needs a description"),
        (_arg(range=[0, 300]), "does not fit in u8"),
        (_arg(type="f32", states={"1": "A"}), "cannot have states"),
        (_arg(states_from="HK.nope"), "names no telemetry field"),
        (_doc(modes=["FLYING"]), "mode 'FLYING' is not a state of HK.mode"),
        (_doc(code=0), "code must be an integer 1..65535"),
        (
            {"apid": 0x010, "commands": {"A": {"code": 1, "description": "d"}}},
            "is a telemetry packet's",
        ),
        (
            {
                "apid": 0x100,
                "commands": {
                    "A": {"code": 1, "description": "d"},
                    "B": {"code": 1, "description": "d"},
                },
            },
            "already used by A",
        ),
    ],
)
def test_bad_dictionary_is_refused_naming_command_and_argument(document, message):
    with pytest.raises(commands.SchemaError, match=message):
        commands.parse(document)
