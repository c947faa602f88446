"""Limit checking as an operator sees it: numbers, states and flags; never GREEN for NaN."""

from __future__ import annotations

import math

import pytest

from ground.decoder import Packet, TelemetryDecoder
from ground.limits import LimitWatch, limit_state
from ground.monitor import TelemetryView
from schemas import model

from . import tmgen

DICTIONARY = model.load()


def _packet(name: str, coarse: int = 1, seq: int = 0, **values: object) -> Packet:
    raw = tmgen.values(name, **values)
    frame = tmgen.frame(
        tmgen.build({"name": name, "seq": seq, "coarse": coarse, "fine": 0, "values": raw})
    )
    (packet,) = TelemetryDecoder().decode_all(frame)
    return packet


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_value_that_is_not_a_number_is_red_not_green(value: float):
    rate = DICTIONARY["NAV"].field("rate_x")
    assert limit_state(rate, value) == "RED"
    # As the monitor shows a NAV packet whose body rate came down as NaN.
    view = TelemetryView()
    view.update([_packet("NAV", rate_x=value)])
    (row,) = [r for r in view.rows() if r.name == "rate_x"]
    assert row.state == "RED"


def test_numbers_against_yellow_and_red():
    rate = DICTIONARY["NAV"].field("rate_x")
    assert [limit_state(rate, v) for v in (0.0, 12.0, -25.0)] == ["GREEN", "YELLOW", "RED"]
    assert limit_state(DICTIONARY["NAV"].field("altitude"), math.nan) == ""  # no limits


def test_states_name_their_alarms():
    phase = DICTIONARY["HK"].field("phase")
    mode = DICTIONARY["HK"].field("mode")
    assert limit_state(phase, "CRASHED") == "RED"
    assert limit_state(phase, "BRAKING") == "GREEN"
    assert limit_state(mode, "SAFE") == "YELLOW"
    assert limit_state(mode, "NOMINAL") == "GREEN"


def test_flags_are_as_bad_as_the_worst_set():
    flags = DICTIONARY["HK"].field("fdir_flags")
    assert limit_state(flags, ()) == "GREEN"
    assert limit_state(flags, ("LRF_LATE",)) == "YELLOW"
    assert limit_state(flags, ("LRF_LATE", "PROP_LEAK")) == "RED"


def test_watch_reports_transitions_once():
    watch = LimitWatch()
    first = watch.update([_packet("HK", phase=3)])
    assert {(t.field, t.after) for t in first} >= {("phase", "GREEN"), ("mode", "GREEN")}
    assert watch.update([_packet("HK", phase=3, seq=1)]) == []
    (crash,) = [t for t in watch.update([_packet("HK", phase=9, seq=2)]) if t.field == "phase"]
    assert (crash.before, crash.after, crash.value) == ("GREEN", "RED", "CRASHED")
    assert str(crash) == "HK.phase GREEN -> RED (CRASHED)"


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"red": ["MELTED"]}, "red names unknown states"),
        ({"purple": 1}, "unknown limit keys"),
    ],
)
def test_limits_naming_what_the_field_lacks_are_refused(limits: dict[str, object], message: str):
    document = {
        "packets": {
            "A": {
                "apid": 1,
                "fields": [
                    {
                        "name": "x",
                        "type": "u8",
                        "description": "d",
                        "states": {"0": "OK"},
                        "limits": limits,
                    }
                ],
            }
        }
    }
    with pytest.raises(model.SchemaError, match=message):
        model.parse(document)
