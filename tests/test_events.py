"""Events read as sentences, with named arguments, from the dictionary: in decode's table and
JSON lines, in the monitor's event log and in a flown scenario's summary."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ground.decoder import Packet, TelemetryDecoder
from ground.monitor import TelemetryView, render_table
from schemas import model

from . import tmgen

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
DICTIONARY = model.load()


def _event(event_id: int, *args: int, severity: int = 0, response: int = 0, seq: int = 0) -> bytes:
    raw = dict(zip(("arg1", "arg2", "arg3"), args, strict=False))
    values = tmgen.values("EVENT", event_id=event_id, severity=severity, response=response, **raw)
    return tmgen.frame(
        tmgen.build({"name": "EVENT", "seq": seq, "coarse": 370, "fine": 0, "values": values})
    )


def _decode(*frames: bytes) -> list[Packet]:
    return TelemetryDecoder().decode_all(b"".join(frames))


def _code(name: str) -> int:
    return DICTIONARY.event_named(name).code


def _state(field: str, name: str) -> int:
    packet, _, fname = field.partition(".")
    states = DICTIONARY[packet].field(fname).states if fname else DICTIONARY.enums[packet].states
    return next(v for v, s in states.items() if s == name)


def test_every_event_the_firmware_sends_is_in_the_dictionary_with_its_arguments_named():
    sent = set()
    for path in FIRMWARE.glob("*.py"):
        if path.name != "packets.py":
            sent |= set(re.findall(r"EVENT_ID_([A-Z_]+)", path.read_text()))
    assert sent, "no event found in the firmware sources"
    defined = {e.name: e for e in DICTIONARY.events}
    assert sent <= set(defined), f"not in the dictionary: {sent - set(defined)}"
    for name in sent:
        event = defined[name]
        assert event.description
        assert all(a.description for a in event.args), name


def test_phase_change_reads_as_phases_and_trigger():
    (packet,) = _decode(
        _event(
            _code("PHASE_CHANGE"),
            _state("HK.phase", "BRAKING"),
            _state("HK.phase", "APPROACH"),
            _state("TRIGGER", "HIGH_GATE"),
        )
    )
    event = packet.event
    assert event is not None
    assert event.sentence == "PHASE_CHANGE BRAKING -> APPROACH (HIGH_GATE)"
    assert event.args == {"from": "BRAKING", "to": "APPROACH", "trigger": "HIGH_GATE"}


def test_touchdown_reads_in_metres_per_second_from_the_wire_millimetres():
    # The wire carries vertical velocity, positive up, in mm/s: -1060 is a 1.06 m/s descent.
    (packet,) = _decode(_event(_code("TOUCHDOWN"), -1060, 140, 53400))
    event = packet.event
    assert event is not None
    assert event.sentence == "TOUCHDOWN vertical 1.06 m/s, horizontal 0.14 m/s, propellant 53.4 kg"
    assert event.args["vertical"] == pytest.approx(1.06)
    assert event.args["propellant"] == pytest.approx(53.4)


def test_fault_protection_event_names_its_row_and_response():
    (packet,) = _decode(
        _event(
            _code("PROP_LEAK"),
            5900,
            _state("HK.phase", "DESCENT_ORBIT"),
            _state("FDIR_ROW", "PROP_LEAK"),
            severity=3,
            response=_state("EVENT.response", "SAFE"),
        )
    )
    event = packet.event
    assert event is not None
    assert event.sentence == "PROP_LEAK 5.9 kg missing in DESCENT_ORBIT, response SAFE"
    assert event.args["row"] == "PROP_LEAK"
    assert (event.severity, event.alarm) == ("CRITICAL", "RED")


def test_an_event_code_the_dictionary_lacks_shows_its_raw_arguments():
    (packet,) = _decode(_event(999, 1, -2, 3))
    event = packet.event
    assert event is not None
    assert event.sentence == "UNKNOWN(999) arg1=1 arg2=-2 arg3=3"


def test_other_packets_carry_no_event():
    (packet,) = _decode(*tmgen.sequence("HK", 1))
    assert packet.event is None
    assert "event" not in packet.to_dict()


def test_fdir_flags_name_their_bits():
    bits = (1 << _state("FDIR_ROW", "LRF_LATE")) | (1 << _state("FDIR_ROW", "PROP_LEAK"))
    values = tmgen.values("HK", fdir_flags=bits)
    (packet,) = _decode(
        tmgen.frame(tmgen.build({"name": "HK", "seq": 0, "coarse": 1, "fine": 0, "values": values}))
    )
    assert packet.values["fdir_flags"] == ("LRF_LATE", "PROP_LEAK")


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ground.cli", *args],
        input=stdin.decode("latin-1") if stdin else None,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "events.bin"
    path.write_bytes(
        _event(_code("BOOT"), 7, 10, 3, seq=0)
        + _event(_code("TOUCHDOWN"), -1060, 140, 53400, seq=1)
        + b"".join(tmgen.sequence("HK", 1))
    )
    return path


def test_decode_jsonl_gives_events_as_named_values(capture: Path):
    result = _run("decode", "--format", "jsonl", str(capture))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    touchdown = records[1]["event"]
    assert touchdown["name"] == "TOUCHDOWN"
    assert touchdown["args"]["vertical"] == pytest.approx(1.06)
    assert (
        touchdown["text"] == "TOUCHDOWN vertical 1.06 m/s, horizontal 0.14 m/s, propellant 53.4 kg"
    )
    assert records[2]["values"]["fdir_flags"] == []
    assert "event" not in records[2]


def test_decode_table_shows_events_as_sentences(capture: Path):
    result = _run("decode", str(capture))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("INFO     BOOT #3, time warp 10, noise state 7")
    assert "TOUCHDOWN vertical 1.06 m/s, horizontal 0.14 m/s" in lines[1]
    assert "arg1" not in result.stdout


def test_monitor_keeps_the_recent_events_visible_as_sentences():
    view = TelemetryView()
    frames = [
        _event(_code("PHASE_CHANGE"), 3, 4, _state("TRIGGER", "HIGH_GATE"), seq=0),
        *(_event(_code("LRF_REJECTED"), 40 + i, 5, seq=1 + i) for i in range(20)),
        _event(_code("TOUCHDOWN"), -1060, 140, 53400, seq=21),
    ]
    view.update(_decode(*frames))
    view.update(_decode(*tmgen.sequence("HK", 1)))
    table = render_table(view, TelemetryDecoder().stats, colour=False)
    lines = table.splitlines()
    # The latest events, oldest first, after the values; not just the last one.
    assert lines[-1].endswith(
        "TOUCHDOWN vertical 1.06 m/s, horizontal 0.14 m/s, propellant 53.4 kg"
    )
    assert sum("LRF_REJECTED innovation" in line for line in lines) == len(view.events) - 1 > 2
    assert not any(line.startswith("EVENT") for line in lines), "events are not value rows"
    assert any(line.startswith("HK") and "fdir_flags" in line for line in lines)


def _summary_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip()]


@pytest.mark.vm
def test_scenario_prints_events_as_sentences():
    result = _run("scenario", "tank_leak")
    assert result.returncode == 0, result.stderr
    lines: list[Any] = _summary_lines(result.stdout)
    assert any(line.endswith("FAULT_INJECTED PROP LEAK, magnitude 0.5") for line in lines)
    assert any(
        re.search(r"CRITICAL PROP_LEAK [\d.]+ kg missing in DESCENT_ORBIT, response SAFE$", line)
        for line in lines
    ), result.stdout
    assert any(line.endswith("PHASE_CHANGE DESCENT_ORBIT -> SAFE (NO_GO)") for line in lines)
    assert lines[-1].startswith("tank_leak: SAFE")
