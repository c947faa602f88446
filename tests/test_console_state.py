"""The console's state without Textual: what each page would show for given telemetry."""

from __future__ import annotations

import math

import pytest

from ground.console.commandline import ArgumentError, complete, parse
from ground.console.eventpage import parse_filter
from ground.console.limits import LimitMonitor
from ground.console.parameters import ParameterTable, format_value
from ground.console.state import SILENCE, ConsoleState
from ground.console.teamcommands import TeamCommands
from schemas import commands, model

from .consolefeed import NOMINAL, T0, URL, link, packet, received

DICTIONARY = model.load()
COMMANDS = commands.load()


def braking(ground_time: float, **changes: dict) -> list:
    """One packet of each periodic kind, nominal but for ``changes`` per packet."""
    return [
        received(name, ground_time, **{**values, **changes.get(name, {})})
        for name, values in NOMINAL.items()
    ]


def test_a_red_value_is_announced_once_and_kept_since_start():
    state = ConsoleState(URL)
    first = state.apply(braking(100.0), now=100.0)
    assert not first.transitions
    low = state.apply(braking(101.0, PROP={"propellant_mass": 10.0}), now=101.0)
    [red] = low.new_red
    assert red.entry.name == "PROP.propellant_mass" and red.entry.thresholds == "R<15 Y<40 kg"
    again = state.apply(braking(102.0, PROP={"propellant_mass": 9.0}), now=102.0)
    assert not again.new_red  # still red: no second announcement
    back = state.apply(braking(103.0), now=103.0)
    assert [t.new for t in back.transitions] == ["GREEN"]
    assert state.limits.now() == []
    [entry] = state.limits.since_start()
    assert (entry.worst, entry.worst_value, entry.first) == ("RED", 9.0, 101.0)


def test_acknowledged_violations_need_acknowledging_again_when_they_worsen():
    state = ConsoleState(URL)
    state.apply(braking(1.0, PROP={"propellant_mass": 30.0}), now=1.0)  # yellow
    assert state.unacknowledged == 1
    assert state.acknowledge() == 1 and state.unacknowledged == 0
    state.apply(braking(2.0, PROP={"propellant_mass": 10.0}), now=2.0)  # red
    assert state.unacknowledged == 1


def test_nan_is_red_not_green():
    state = ConsoleState(URL)
    applied = state.apply(braking(1.0, NAV={"rate_x": math.nan}), now=1.0)
    assert [(t.entry.name, t.new) for t in applied.new_red] == [("NAV.rate_x", "RED")]


def test_alarm_states_crashed_is_red_safe_is_yellow():
    state = ConsoleState(URL)
    state.apply(braking(1.0, HK={"phase": 7, "mode": 2}), now=1.0)  # SAFE, SAFE
    assert {(e.name, e.state) for e in state.limits.now()} == {
        ("HK.phase", "YELLOW"),
        ("HK.mode", "YELLOW"),
    }
    applied = state.apply(braking(2.0, HK={"phase": 9}), now=2.0)  # CRASHED
    assert [(t.entry.name, t.new) for t in applied.new_red] == [("HK.phase", "RED")]


def test_a_leak_is_caught_by_its_rate_while_the_level_is_still_green():
    monitor = LimitMonitor(DICTIONARY)
    states = []
    for i in range(12):  # 0.5 kg/s with the engine off, at 2 Hz, far above the level limits
        p = packet(
            "PROP",
            i,
            t=i * 0.5,
            **{**NOMINAL["PROP"], "engine": 0, "propellant_mass": 300.0 - 0.25 * i},
        )
        for t in monitor.observe("PROP", p.values, ground_time=i * 0.5, vehicle_time=p.time):
            states.append((t.entry.name, t.new))
    assert states == [("PROP.propellant_mass rate", "RED")]
    entry = monitor.now()[0]
    assert entry.value == pytest.approx(-0.5) and entry.unit == "kg/s"


def test_burning_propellant_is_not_a_leak():
    monitor = LimitMonitor(DICTIONARY)
    for i in range(12):
        p = packet("PROP", i, t=i * 0.5, **{**NOMINAL["PROP"], "propellant_mass": 300.0 - i})
        assert monitor.observe("PROP", p.values, i * 0.5, p.time) == []


def test_parameters_go_stale_against_their_packets_rate():
    table = ParameterTable(DICTIONARY)
    table.update(packet("HK", **NOMINAL["HK"]), ground_time=10.0)
    table.update(packet("NAV", **NOMINAL["NAV"]), ground_time=10.0)
    table.update(packet("EVENT", event_id=1), ground_time=10.0)
    stale = {r.packet for r in table.rows(now=12.0) if r.stale}
    assert stale == {"NAV"}  # 10 Hz: 1.3 s late is stale; HK at 1 Hz is not yet
    stale = {r.packet for r in table.rows(now=15.0) if r.stale}
    assert stale == {"NAV", "HK"}  # an EVENT is sent on occurrence: never stale
    table.set_rate("NAV", 0.2)  # SET_TM_RATE NAV 0.2 completed
    assert {r.packet for r in table.rows(now=15.0) if r.stale} == {"HK"}


def test_parameters_are_searchable_and_carry_units_and_states():
    table = ParameterTable(DICTIONARY)
    table.update(packet("PROP", **{**NOMINAL["PROP"], "propellant_mass": 30.0}), 1.0)
    [row] = table.rows(now=1.5, query="propellant mass")
    assert (row.subsystem, row.unit, row.state, row.age) == ("Propulsion", "kg", "YELLOW", 0.5)
    [pressure] = table.rows(now=1.5, query="fuel_pressure")
    assert (pressure.value, pressure.raw) == (18.0, 36000)
    assert format_value(pressure.value, pressure.unit) == "18.000 bar"


def test_events_are_sentences_filtered_and_counted_until_acknowledged():
    state = ConsoleState(URL)
    state.apply(
        [
            received("EVENT", 1.0, event_id=2, severity=0, arg1=3, arg2=4, arg3=7),
            received("EVENT", 2.0, event_id=24, severity=2, arg1=500, response=5),
            received("EVENT", 3.0, event_id=30, severity=0, arg1=-1060, arg2=140),
        ],
        now=3.0,
    )
    texts = [e.text for e in state.events.filtered()]
    assert texts == [  # the arguments as the dictionary names them
        "PHASE_CHANGE BRAKING -> APPROACH (HIGH_GATE)",
        "PROP_LEAK 0.5 kg missing in IDLE, response LAND_NOW",
        "TOUCHDOWN vertical 1.06 m/s, horizontal 0.14 m/s, propellant 0.0 kg",
    ]
    assert [e.name for e in state.events.filtered(*parse_filter("sev:warn"))] == ["PROP_LEAK"]
    assert [e.name for e in state.events.filtered(*parse_filter("touchdown"))] == ["TOUCHDOWN"]
    assert state.events.unacknowledged == 1
    state.acknowledge()
    assert state.events.unacknowledged == 0


def test_a_latched_fault_protection_row_is_a_limit_by_name():
    state = ConsoleState(URL)
    applied = state.apply(braking(1.0, HK={"fdir_flags": 32 | 1}), now=1.0)
    [red] = applied.new_red
    assert (red.entry.name, red.entry.value) == ("HK.fdir_flags", ("LRF_INHIBITED", "PROP_LEAK"))
    assert "R:" in red.entry.thresholds and "PROP_LEAK" in red.entry.thresholds


def test_link_lost_and_back_are_counted_and_timed():
    state = ConsoleState(URL)
    state.apply([link("up", 0.0)], now=0.0)
    applied = state.apply([link("lost", 5.0, "board unplugged")], now=5.0)
    assert state.link.down and state.link.reason == "board unplugged"
    assert [c.state for c in applied.link] == ["lost"]
    state.apply([link("back", 9.0)], now=9.0)
    assert (state.link.state, state.link.drops, state.link.since) == ("back", 1, 9.0)


def test_commands_parse_by_name_or_in_order():
    assert parse("set_tm_rate NAV 20", COMMANDS)[1] == {"packet": "NAV", "hz": "20"}
    assert parse("SET_TM_RATE hz=20 packet=NAV", COMMANDS)[1] == {"packet": "NAV", "hz": "20"}
    for bad, says in [
        ("SET_TM_RATE NAV 200", "out of range"),
        ("NOOP extra", "one argument too many"),
        ("SET_TM_RATE hz=1", "missing argument packet"),
        ("LAUNCH", "unknown command"),
    ]:
        with pytest.raises(ArgumentError, match=says):
            parse(bad, COMMANDS)


def test_completion_offers_names_arguments_and_states():
    assert complete("SET_TM", COMMANDS).candidates == ["SET_TM_RATE "]
    assert complete("SE", COMMANDS).candidates == [
        "SET_TM_RATE",
        "SET_MODE",
        "SET_TIME",
        "SET_TIME_WARP",
    ]
    assert "CRITICAL" in complete("ARM", COMMANDS).hint
    assert complete("SET_TM_RATE packet=P", COMMANDS).candidates == [
        "SET_TM_RATE packet=PROP ",
        "SET_TM_RATE packet=POWER ",
    ]
    assert complete("SET_TM_RATE NAV ", COMMANDS).hint.startswith("hz: f32 0..50 Hz")
    assert complete("INJECT_FAULT LRF B", COMMANDS).candidates == ["INJECT_FAULT LRF BIAS "]


def test_the_vehicle_is_named_by_its_identity_and_a_foreign_dictionary_said_once():
    state = ConsoleState(URL)
    ident = {"vehicle": "LANDER-9", "boot": 4, "firmware": 0xABCDEF01, "dictionary": 0x12345678}
    first = state.apply([received("IDENT", 1.0, **ident)], now=1.0)
    again = state.apply([received("IDENT", 2.0, 1, **ident)], now=2.0)
    assert state.identity.current is not None
    assert (state.identity.current.vehicle, state.identity.current.boot) == ("LANDER-9", 4)
    [warning] = first.warnings
    assert "dictionary 12345678" in warning and not again.warnings


def test_a_link_up_with_nothing_on_it_goes_silent_and_is_heard_again():
    state = ConsoleState(URL)
    state.apply([link("up", T0), received("HK", T0 + 0.5, **NOMINAL["HK"])], T0 + 0.5)
    assert state.apply([], T0 + 0.5 + SILENCE).silence is None  # not yet
    assert state.apply([], T0 + 0.6 + SILENCE).silence is True
    assert state.link.silent and state.apply([], T0 + 10).silence is None  # said once
    back = state.apply([received("HK", T0 + 11, 1, **NOMINAL["HK"])], T0 + 11)
    assert back.silence is False and not state.link.silent
    # A link that is down is not silent: it is lost, and says so.
    state.apply([link("lost", T0 + 12, "gone")], T0 + 12)
    assert state.apply([], T0 + 30).silence is None and not state.link.silent


def test_the_teams_commands_are_folded_per_request_and_ours_left_alone():
    team = TeamCommands()
    team.own.add("mine")
    assert team.ack({"id": "mine", "stage": "SENT"}, T0) is None
    sent = {"id": "r1", "requester": "bob", "command": "ARM", "describe": "ARM", "stage": "SENT"}
    record, new = team.ack(sent, T0)
    assert new and record.text == "bob: ARM" and record.status == "REQUESTED"
    accepted = {**sent, "stage": "ACCEPTED", "counter": 9}
    accepted["stages"] = [{"stage": "ACCEPTED", "reason": "NONE", "after_s": 0.1}]
    record, new = team.ack(accepted, T0 + 1)
    assert not new and record.status == "at ACCEPTED" and record.counter == 9
    failed = {**accepted, "stage": "FAILED", "final": True}
    failed["stages"] = accepted["stages"] + [
        {"stage": "FAILED", "reason": "NOT_ALLOWED", "after_s": 0.2, "context": "in phase IDLE"}
    ]
    record, _ = team.ack(failed, T0 + 2)
    assert record.status == "FAILED" and [s.stage for s in record.stages] == ["ACCEPTED", "FAILED"]
    assert record.stages[-1].why == "NOT_ALLOWED in phase IDLE"
    refused = {"id": "r2", "requester": "eve", "command": "ABORT", "stage": "REFUSED"}
    record, new = team.ack({**refused, "reason": "NOT_ALLOWED", "message": "mode SAFE"}, T0)
    assert new and record.status == "REFUSED" and record.refused == "NOT_ALLOWED: mode SAFE"
