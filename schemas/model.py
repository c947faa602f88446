"""The packet dictionary as typed value objects, loaded once from ``telemetry.toml``.

Everything else (the ground's Construct structs and fast decoder, the firmware's generated
encoder, exports to other tools) is derived from these objects, so this module is where a
dictionary is checked: a bad definition fails here with the packet and field it concerns,
not as a wrong byte on the link.
"""

from __future__ import annotations

import struct
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Final

__all__ = [
    "FIELD_TYPES",
    "Field",
    "Limits",
    "PacketDef",
    "Dictionary",
    "SchemaError",
    "load",
]

MAX_APID: Final[int] = 0x7FF
#: Wire type -> struct format character (big-endian packing is applied per packet).
FIELD_TYPES: Final[Mapping[str, str]] = {
    "u8": "B",
    "u16": "H",
    "u32": "I",
    "i8": "b",
    "i16": "h",
    "i32": "i",
    "f32": "f",
    "f64": "d",
}


class SchemaError(ValueError):
    """The dictionary is malformed; the message names the packet and field."""


@dataclass(frozen=True)
class Limits:
    """Yellow and red limits in engineering units; ``None`` where a side has no limit."""

    yellow_low: float | None = None
    yellow_high: float | None = None
    red_low: float | None = None
    red_high: float | None = None

    def check(self, value: float) -> str:
        """Return ``"RED"``, ``"YELLOW"`` or ``"GREEN"`` for an engineering value."""
        if (self.red_low is not None and value < self.red_low) or (
            self.red_high is not None and value > self.red_high
        ):
            return "RED"
        if (self.yellow_low is not None and value < self.yellow_low) or (
            self.yellow_high is not None and value > self.yellow_high
        ):
            return "YELLOW"
        return "GREEN"


@dataclass(frozen=True, eq=False)
class Field:
    """One telemetry field: wire type plus how to turn its raw value into engineering units."""

    name: str
    type: str
    unit: str = ""
    description: str = ""
    calibration: tuple[float, ...] = ()
    states: Mapping[int, str] = field(default_factory=dict)
    limits: Limits | None = None

    @property
    def fmt(self) -> str:
        return FIELD_TYPES[self.type]

    @property
    def is_float(self) -> bool:
        return self.type.startswith("f")

    @property
    def size(self) -> int:
        return struct.calcsize(">" + self.fmt)

    @property
    def range(self) -> tuple[float, float]:
        """Smallest and largest raw value the wire type carries."""
        if self.type == "f32":
            return (-3.4028234663852886e38, 3.4028234663852886e38)
        if self.type == "f64":
            return (-1.7976931348623157e308, 1.7976931348623157e308)
        bits = self.size * 8
        if self.type.startswith("u"):
            return (0, (1 << bits) - 1)
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)

    def engineering(self, raw: float) -> float | int | str:
        """Raw wire value -> engineering value: a state name, a calibrated number, or raw."""
        if self.states:
            return self.states.get(int(raw), f"UNKNOWN({raw})")
        if self.calibration:
            value = 0.0
            for coefficient in reversed(self.calibration):
                value = value * raw + coefficient
            return value
        return raw


@dataclass(frozen=True, eq=False)
class PacketDef:
    """One telemetry packet: its APID, default rate and fields in wire order."""

    name: str
    apid: int
    rate_hz: float
    description: str
    fields: tuple[Field, ...]

    @property
    def data_format(self) -> str:
        """struct format of the fields (after the time code), without byte order."""
        return "".join(f.fmt for f in self.fields)

    @property
    def data_size(self) -> int:
        return struct.calcsize(">" + self.data_format)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"packet {self.name} has no field {name!r}")


@dataclass(frozen=True)
class Dictionary:
    """All telemetry packets of the vehicle, by name and by APID."""

    packets: tuple[PacketDef, ...]

    def __iter__(self) -> Iterator[PacketDef]:
        return iter(self.packets)

    def __getitem__(self, name: str) -> PacketDef:
        for p in self.packets:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.packets)
        raise KeyError(f"unknown packet {name!r} (known: {known})")

    def by_apid(self, apid: int) -> PacketDef | None:
        for p in self.packets:
            if p.apid == apid:
                return p
        return None


def _limits(where: str, raw: Mapping[str, float] | None) -> Limits | None:
    if raw is None:
        return None
    unknown = set(raw) - {"yellow_low", "yellow_high", "red_low", "red_high"}
    if unknown:
        raise SchemaError(f"{where}: unknown limit keys {sorted(unknown)}")
    limits = Limits(**{k: float(v) for k, v in raw.items()})
    if limits.red_low is not None and limits.yellow_low is not None:
        if limits.red_low > limits.yellow_low:
            raise SchemaError(f"{where}: red_low is above yellow_low")
    if limits.red_high is not None and limits.yellow_high is not None:
        if limits.red_high < limits.yellow_high:
            raise SchemaError(f"{where}: red_high is below yellow_high")
    return limits


def _field(packet: str, raw: Mapping[str, object]) -> Field:
    name = str(raw.get("name", ""))
    where = f"{packet}.{name or '?'}"
    if not name.isidentifier():
        raise SchemaError(f"{where}: field name must be an identifier")
    ftype = raw.get("type")
    if ftype not in FIELD_TYPES:
        raise SchemaError(f"{where}: type {ftype!r} is not one of {', '.join(FIELD_TYPES)}")
    if not raw.get("description"):
        raise SchemaError(f"{where}: every field needs a description")
    states_raw = raw.get("states") or {}
    assert isinstance(states_raw, dict)
    try:
        states = {int(k): str(v) for k, v in states_raw.items()}
    except ValueError as exc:
        raise SchemaError(f"{where}: state keys must be integers") from exc
    calibration = tuple(float(c) for c in raw.get("calibration", ()))  # type: ignore[attr-defined]
    if states and calibration:
        raise SchemaError(f"{where}: a field has states or a calibration, not both")
    limits_raw = raw.get("limits")
    f = Field(
        name=name,
        type=str(ftype),
        unit=str(raw.get("unit", "")),
        description=str(raw["description"]),
        calibration=calibration,
        states=states,
        limits=_limits(where, limits_raw),  # type: ignore[arg-type]
    )
    lo, hi = f.range
    for value in states:
        if not lo <= value <= hi:
            raise SchemaError(f"{where}: state {value} does not fit in {ftype}")
    return f


def parse(document: Mapping[str, object]) -> Dictionary:
    """Build and check a dictionary from the parsed TOML document."""
    packets_raw = document.get("packets")
    if not isinstance(packets_raw, dict) or not packets_raw:
        raise SchemaError("the dictionary defines no [packets.*]")
    packets = []
    seen_apids: dict[int, str] = {}
    for name, body in packets_raw.items():
        if not name.isidentifier() or name.upper() != name:
            raise SchemaError(f"{name}: packet names are upper-case identifiers")
        apid = body.get("apid")
        if not isinstance(apid, int) or not 0 <= apid <= MAX_APID:
            raise SchemaError(f"{name}: apid must be an integer 0..{MAX_APID}")
        if apid in seen_apids:
            raise SchemaError(f"{name}: apid {apid:#05x} already used by {seen_apids[apid]}")
        seen_apids[apid] = name
        fields = tuple(_field(name, f) for f in body.get("fields", ()))
        if not fields:
            raise SchemaError(f"{name}: a packet needs at least one field")
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise SchemaError(f"{name}: duplicate field names")
        packets.append(
            PacketDef(
                name=name,
                apid=apid,
                rate_hz=float(body.get("rate_hz", 0)),
                description=str(body.get("description", "")),
                fields=fields,
            )
        )
    return Dictionary(tuple(packets))


def load(path: str | Path | None = None) -> Dictionary:
    """Load the telemetry dictionary (the project's own unless ``path`` names another)."""
    if path is None:
        text = resources.files("schemas").joinpath("telemetry.toml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"telemetry dictionary is not valid TOML: {exc}") from exc
    return parse(document)
