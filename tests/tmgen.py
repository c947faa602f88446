"""Telemetry made the reference way (Construct's build), for tests to feed the decoder."""

from __future__ import annotations

from typing import Any

from cobs import cobs
from hypothesis import strategies as st

from schemas import model, structs

DICTIONARY = model.load()


def field_values(f: model.Field) -> st.SearchStrategy[Any]:
    if f.is_text:  # the firmware packs text as str or bytes; build() pads it
        return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=f.size)
    if f.type == "f32":
        return st.floats(width=32, allow_nan=False, allow_infinity=False)
    if f.type == "f64":
        return st.floats(allow_nan=False, allow_infinity=False)
    lo, hi = f.range
    return st.integers(int(lo), int(hi))


@st.composite
def packets(draw: st.DrawFn, definition: model.PacketDef | None = None) -> dict[str, Any]:
    """A telemetry packet's contents: name, seq, coarse, fine and raw field values."""
    d = definition or draw(st.sampled_from(DICTIONARY.packets))
    return {
        "name": d.name,
        "seq": draw(st.integers(0, 0x3FFF)),
        "coarse": draw(st.integers(0, 0xFFFFFFFF)),
        "fine": draw(st.integers(0, 0xFFFF)),
        "values": [draw(field_values(f)) for f in d.fields],
    }


def values(name: str, **given: Any) -> list[Any]:
    """Raw field values of a packet in wire order: those given by name, 0 for the rest."""
    fields = DICTIONARY[name].fields
    unknown = set(given) - {f.name for f in fields}
    assert not unknown, f"{name} has no field {unknown}"
    return [given.get(f.name, "" if f.is_text else 0.0 if f.is_float else 0) for f in fields]


def build(p: dict[str, Any]) -> bytes:
    """The packet's bytes, CRC included, as Construct builds them."""
    d = DICTIONARY[p["name"]]
    body = {
        "header": {"seq": p["seq"]},
        "time": {"coarse": p["coarse"], "fine": p["fine"]},
        "data": {f.name: _wire(f, v) for f, v in zip(d.fields, p["values"], strict=True)},
    }
    return structs.packet_struct(d).build({"body": {"value": body}})


def _wire(f: model.Field, value: Any) -> Any:
    if f.is_text:
        data = value.encode("ascii") if isinstance(value, str) else bytes(value)
        return data.ljust(f.size, b"\0")
    return value


def frame(packet: bytes) -> bytes:
    return cobs.encode(packet) + b"\x00"


def sequence(name: str, count: int, start_seq: int = 0) -> list[bytes]:
    """``count`` frames of one packet with continuous sequence counts."""
    d = DICTIONARY[name]
    out = []
    for i in range(count):
        values = ["" if f.is_text else 0.5 * i if f.is_float else (i % 2) for f in d.fields]
        out.append(
            frame(
                build(
                    {
                        "name": name,
                        "seq": (start_seq + i) & 0x3FFF,
                        "coarse": i,
                        "fine": 0,
                        "values": values,
                    }
                )
            )
        )
    return out
