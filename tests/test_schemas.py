"""The dictionary: checked when loaded, and the firmware encoder generated from it is current."""

import pytest

from schemas import codegen, model


def test_generated_firmware_files_are_current():
    for path, text in codegen.outputs().items():
        assert path.read_text("utf-8") == text, f"{path.name} is stale: make generate"


def test_every_packet_the_issue_names_is_defined():
    names = {p.name for p in model.load()}
    assert {"HK", "NAV", "PROP", "POWER", "EVENT", "TC_VERIFY"} <= names


def test_every_field_has_type_unit_or_states_and_description():
    for packet in model.load():
        for f in packet.fields:
            assert f.description, f"{packet.name}.{f.name}"
            assert f.type in model.FIELD_TYPES


def test_board_temperature_calibration_is_the_rp2040_conversion():
    f = model.load()["HK"].field("board_temp")
    for counts in (12000, 14000, 15000):
        expected = 27 - (counts * 3.3 / 65535 - 0.706) / 0.001721
        assert f.engineering(counts) == pytest.approx(expected, abs=1e-9)


def _doc(**fields):
    field = {"name": "x", "type": "u8", "description": "d"} | fields
    return {"packets": {"A": {"apid": 1, "fields": [field]}}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_doc(type="u7"), "A.x: type 'u7'"),
        (_doc(description=""), "A.x: every field needs a description"),
        (_doc(states={"256": "BIG"}), "state 256 does not fit"),
        (_doc(limits={"red_low": 5, "yellow_low": 1}), "red_low is above yellow_low"),
        (
            {
                "packets": {
                    "A": {"apid": 1, "fields": [{"name": "x", "type": "u8", "description": "d"}]},
                    "B": {"apid": 1, "fields": [{"name": "y", "type": "u8", "description": "d"}]},
                }
            },
            "already used by A",
        ),
    ],
)
def test_bad_dictionary_is_refused_naming_packet_and_field(document, message):
    with pytest.raises(model.SchemaError, match=message):
        model.parse(document)


def _events_doc(event: dict[str, object]) -> dict[str, object]:
    fields = [
        {"name": n, "type": t, "description": "d"}
        for n, t in (("event_id", "u16"), ("arg1", "i32"), ("arg2", "i32"))
    ]
    return {"packets": {"EVENT": {"apid": 5, "fields": fields}}, "events": {"E": event}}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"code": 1}, "events.E: every event needs a description"),
        (
            {"code": 1, "description": "d", "text": "{nope}", "args": []},
            "text names no argument",
        ),
        (
            {"code": 1, "description": "d", "args": [{"name": "a", "description": "d"}] * 3},
            "3 arguments, EVENT carries 2",
        ),
        (
            {
                "code": 1,
                "description": "d",
                "args": [{"name": "a", "description": "d", "states_from": "NOPE"}],
            },
            "states_from 'NOPE' names no enumeration",
        ),
        ({"code": 70000, "description": "d"}, "does not fit in event_id"),
    ],
)
def test_bad_event_definition_is_refused_naming_it(event, message):
    with pytest.raises(model.SchemaError, match=message):
        model.parse(_events_doc(event))


def test_enumerations_are_shared_by_fields_events_and_commands():
    from schemas import commands

    telemetry = model.load()
    targets = telemetry.enums["FAULT_TARGET"].states
    assert commands.load()["INJECT_FAULT"].arg("target").states == targets
    assert telemetry.event_named("FAULT_INJECTED").args[0].states == targets
    rows = telemetry.enums["FDIR_ROW"].states
    assert telemetry["HK"].field("fdir_flags").bits == rows
    event_ids = telemetry["EVENT"].field("event_id").states
    assert event_ids == {e.code: e.name for e in telemetry.events}
