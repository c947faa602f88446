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
    assert [limit_state(rate, v) for v in (0.0, 15.0, -25.0)] == ["GREEN", "YELLOW", "RED"]
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


def _prop(t: float, mass: float, engine: int, seq: int) -> Packet:
    raw = {"propellant_mass": mass, "engine": engine, "throttle": 0}
    frame = tmgen.frame(
        tmgen.build(
            {
                "name": "PROP",
                "seq": seq,
                "coarse": int(t),
                "fine": int((t % 1) * 65536),
                "values": tmgen.values("PROP", **raw),
            }
        )
    )
    (packet,) = TelemetryDecoder().decode_all(frame)
    return packet


def _leak(engine: int) -> list[Packet]:
    """PROP at 2 Hz for 10 s, the mass falling 0.5 kg/s, well above its low limits."""
    return [_prop(100 + i / 2, 200.0 - i / 4, engine, i) for i in range(20)]


def test_a_leak_is_a_rate_limit_in_the_dictionary_seen_by_every_tool():
    """With the engine off, propellant falling 0.5 kg/s is RED by its rate while the level
    is GREEN: in the alarm list the ground segment publishes and in `lander monitor`."""
    watch = LimitWatch()
    transitions = [t for p in _leak(engine=0) for t in watch.update([p])]
    rate = [t for t in transitions if t.kind == "rate"]
    assert [t.after for t in rate] == ["RED"]
    assert rate[0].time >= 102.0  # said once half the 4 s window has been seen, not before
    assert rate[-1].value == pytest.approx(-0.5)
    assert str(rate[-1]) == "PROP.propellant_mass rate - -> RED (-0.5/s)"
    assert watch.states[("PROP", "propellant_mass", "level")] == "GREEN"
    view = TelemetryView()
    view.update(_leak(engine=0))
    (row,) = [r for r in view.rows() if r.name == "propellant_mass rate"]
    assert (row.state, row.unit) == ("RED", "kg/s") and row.value == pytest.approx(-0.5)


def test_burning_propellant_is_not_a_leak():
    watch = LimitWatch()
    transitions = [t for p in _leak(engine=1) for t in watch.update([p])]
    assert {t.after for t in transitions if t.kind == "rate"} == {"GREEN"}
    view = TelemetryView()
    view.update(_leak(engine=1))
    (row,) = [r for r in view.rows() if r.name == "propellant_mass rate"]
    assert (row.state, row.value) == ("GREEN", "-")


def _one_field(**extra: object) -> dict[str, object]:
    return {
        "packets": {
            "A": {
                "apid": 1,
                "fields": [
                    {"name": "valve", "type": "u8", "description": "d", "states": {"0": "SHUT"}},
                    {"name": "mass", "type": "f32", "description": "d", "unit": "kg", **extra},
                ],
            }
        }
    }


def test_rate_limits_load_with_their_condition():
    rate = {"red_low": -1, "window": 2, "when": {"valve": "SHUT"}, "description": "leak"}
    (packet,) = model.parse(_one_field(rate_limit=rate))
    limit = packet.field("mass").rate_limit
    assert limit is not None and limit.when == ("valve", "SHUT") and limit.window == 2.0
    assert limit.limits.check(-2.0) == "RED" and packet.field("mass").rate_unit == "kg/s"
    assert limit.applies({"valve": "SHUT"}) and not limit.applies({"valve": "OPEN"})


@pytest.mark.parametrize(
    ("rate_limit", "message"),
    [
        ({"red_low": -1}, "says what it catches"),
        ({"description": "d"}, "needs a yellow or red threshold"),
        ({"red_low": -1, "description": "d", "red": ["SHUT"]}, "unknown rate_limit keys"),
        ({"red_low": -1, "description": "d", "window": 0}, "window must be"),
        ({"red_low": -1, "yellow_low": -2, "description": "d"}, "red_low is above yellow_low"),
        ({"red_low": -1, "description": "d", "when": {"pump": "ON"}}, "names 'pump'"),
        ({"red_low": -1, "description": "d", "when": {"valve": "OPEN"}}, "not a state of"),
    ],
)
def test_rate_limits_that_cannot_work_are_refused(rate_limit: dict[str, object], message: str):
    with pytest.raises(model.SchemaError, match=message):
        model.parse(_one_field(rate_limit=rate_limit))


def test_a_state_has_no_rate():
    document = _one_field()
    fields = document["packets"]["A"]["fields"]  # type: ignore[index]
    fields[0]["rate_limit"] = {"red_low": -1, "description": "d"}
    with pytest.raises(model.SchemaError, match="only a number changes at a rate"):
        model.parse(document)
