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
