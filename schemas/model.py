"""The packet dictionary as typed value objects, loaded once from ``telemetry.toml``.

Everything else (the ground's Construct structs and fast decoder, the firmware's generated
encoder, exports to other tools) is derived from these objects, so this module is where a
dictionary is checked: a bad definition fails here with the packet and field it concerns,
not as a wrong byte on the link.
"""

from __future__ import annotations

import math
import struct
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

__all__ = [
    "FIELD_TYPES",
    "EVENT_PACKET",
    "Enum",
    "EventArg",
    "EventDef",
    "Field",
    "Limits",
    "PacketDef",
    "RateLimit",
    "Dictionary",
    "SchemaError",
    "load",
]

MAX_APID: Final[int] = 0x7FF
#: The packet that carries events: its ``event_id`` names an ``[events.*]`` entry and its
#: fields ``arg1``, ``arg2``... carry that event's arguments in order.
EVENT_PACKET: Final[str] = "EVENT"
EVENT_ID_FIELD: Final[str] = "event_id"
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
    "str16": "16s",
}
#: Text types: ASCII, padded with NULs on the wire (the firmware's points hold bytes or str).
TEXT_TYPES: Final = frozenset({"str16"})


class SchemaError(ValueError):
    """The dictionary is malformed; the message names the packet and field."""


@dataclass(frozen=True)
class Limits:
    """Yellow and red limits: numbers in engineering units (``None`` where a side has no
    limit) and, for enumerated or bit fields, the state or bit names that raise an alarm
    (phase CRASHED, mode SAFE, fault-protection row PROP_LEAK)."""

    yellow_low: float | None = None
    yellow_high: float | None = None
    red_low: float | None = None
    red_high: float | None = None
    yellow: frozenset[str] = frozenset()
    red: frozenset[str] = frozenset()

    def check(self, value: object) -> str:
        """``"RED"``, ``"YELLOW"`` or ``"GREEN"`` for an engineering value: a number, a state
        name, or the names of the bits set. A number that is not finite (NaN, infinity) is
        RED: a measurement that cannot be compared with any limit is never nominal."""
        if isinstance(value, str):
            return "RED" if value in self.red else "YELLOW" if value in self.yellow else "GREEN"
        if isinstance(value, tuple | list | frozenset | set):
            states = {self.check(v) for v in value if isinstance(v, str)}
            return "RED" if "RED" in states else "YELLOW" if "YELLOW" in states else "GREEN"
        if not isinstance(value, int | float):
            return "RED"
        if not math.isfinite(value):
            return "RED"
        if (self.red_low is not None and value < self.red_low) or (
            self.red_high is not None and value > self.red_high
        ):
            return "RED"
        if (self.yellow_low is not None and value < self.yellow_low) or (
            self.yellow_high is not None and value > self.yellow_high
        ):
            return "YELLOW"
        return "GREEN"


@dataclass(frozen=True)
class RateLimit:
    """Limits on how fast a field changes, per second of vehicle time measured over
    ``window`` seconds, where a level says nothing yet: a propellant mass falling with the
    engine off is a leak long before the mass is low. ``when`` (a field of the same packet
    and one of its states) says when the limit applies: the engine OFF, not burning."""

    limits: Limits
    description: str
    window: float = 4.0
    when: tuple[str, str] | None = None

    def applies(self, values: Mapping[str, Any]) -> bool:
        """Whether the limit holds for a packet with these engineering values."""
        return self.when is None or values.get(self.when[0]) == self.when[1]


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
    #: a bit field: bit number -> name of the flag it carries
    bits: Mapping[int, str] = field(default_factory=dict)
    #: a limit on the field's rate of change (``unit``/s), checked as well as ``limits``
    rate_limit: RateLimit | None = None

    @property
    def rate_unit(self) -> str:
        return f"{self.unit}/s" if self.unit else "/s"

    @property
    def fmt(self) -> str:
        return FIELD_TYPES[self.type]

    @property
    def is_float(self) -> bool:
        return self.type.startswith("f")

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def size(self) -> int:
        return struct.calcsize(">" + self.fmt)

    @property
    def range(self) -> tuple[float, float]:
        """Smallest and largest raw value the wire type carries (text: its length)."""
        if self.is_text:
            return (0, self.size)
        if self.type == "f32":
            return (-3.4028234663852886e38, 3.4028234663852886e38)
        if self.type == "f64":
            return (-1.7976931348623157e308, 1.7976931348623157e308)
        bits = self.size * 8
        if self.type.startswith("u"):
            return (0, (1 << bits) - 1)
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)

    def engineering(self, raw: Any) -> float | int | str | tuple[str, ...]:
        """Raw wire value -> engineering value: a state name, the names of the bits set, a
        calibrated number, or raw (text without its padding)."""
        if self.is_text:
            return bytes(raw).rstrip(b"\0").decode("ascii", "replace")
        if self.states:
            return self.states.get(int(raw), f"UNKNOWN({raw})")
        if self.bits:
            return set_bits(self.bits, int(raw))
        if self.calibration:
            value = 0.0
            for coefficient in reversed(self.calibration):
                value = value * raw + coefficient
            return value
        number: float | int = raw
        return number


def set_bits(names: Mapping[int, str], raw: int) -> tuple[str, ...]:
    """Names of the bits set in ``raw``, lowest first (``BIT<n>`` for an unnamed one)."""
    out = []
    bit = 0
    while raw >> bit:
        if (raw >> bit) & 1:
            out.append(names.get(bit, f"BIT{bit}"))
        bit += 1
    return tuple(out)


@dataclass(frozen=True)
class Enum:
    """A named enumeration that fields, event arguments and commands share
    (``states_from = "TRIGGER"``), generated into the firmware as ``<ENUM>_<STATE>``."""

    name: str
    description: str
    states: Mapping[int, str]


@dataclass(frozen=True, eq=False)
class EventArg:
    """One argument of an event: which raw ``argN`` slot, and what it means."""

    name: str
    description: str
    unit: str = ""
    #: engineering = raw * scale (raw integers carry milli-units and the like)
    scale: float = 1.0
    states: Mapping[int, str] = field(default_factory=dict)
    #: Python format spec of the engineering number in sentences (``.2f``)
    format: str = "g"

    def engineering(self, raw: int) -> int | float | str:
        if self.states:
            return self.states.get(int(raw), f"UNKNOWN({raw})")
        if self.scale != 1.0:
            return raw * self.scale
        return raw

    def text(self, value: object) -> str:
        """The value as a sentence shows it: a state name, or the number with its unit."""
        if isinstance(value, str):
            return value
        try:
            number = format(value, self.format)
        except (TypeError, ValueError):
            number = str(value)
        return f"{number} {self.unit}" if self.unit else number


@dataclass(frozen=True, eq=False)
class EventDef:
    """One event: its code (``EVENT.event_id``), its arguments in ``argN`` order and the
    sentence an operator reads (``text``: ``{from} -> {to} ({trigger})``)."""

    name: str
    code: int
    description: str
    args: tuple[EventArg, ...] = ()
    text: str = ""

    def values(self, raw: tuple[int, ...] | list[int]) -> dict[str, int | float | str]:
        """Named engineering values of the arguments, from the raw ``argN`` values."""
        return {a.name: a.engineering(r) for a, r in zip(self.args, raw, strict=False)}

    def detail(self, raw: tuple[int, ...] | list[int]) -> str:
        """What the sentence says after the event's name: ``BRAKING -> APPROACH (HIGH_GATE)``"""
        values = self.values(raw)
        texts = {a.name: a.text(values[a.name]) for a in self.args}
        return self.text.format_map(texts) if self.text else ""

    def sentence(self, raw: tuple[int, ...] | list[int]) -> str:
        """``PHASE_CHANGE BRAKING -> APPROACH (HIGH_GATE)``"""
        return f"{self.name} {self.detail(raw)}".rstrip()


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
    """All telemetry packets of the vehicle, by name and by APID, its events by code and
    the enumerations they share."""

    packets: tuple[PacketDef, ...]
    events: tuple[EventDef, ...] = ()
    enums: Mapping[str, Enum] = field(default_factory=dict)
    #: the MicroPython heap of the flight computer, in octets ([computer] heap_bytes)
    heap_bytes: int = 192 * 1024

    @property
    def heapsize(self) -> str:
        """The heap as MicroPython's ``-X heapsize=`` takes it: ``192K``."""
        kib, rest = divmod(self.heap_bytes, 1024)
        return f"{kib}K" if not rest else str(self.heap_bytes)

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

    def event(self, code: int) -> EventDef | None:
        """The event with this ``EVENT.event_id``, or None for a code the dictionary lacks."""
        for e in self.events:
            if e.code == code:
                return e
        return None

    def event_named(self, name: str) -> EventDef:
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(f"unknown event {name!r}")


_LIMIT_KEYS: Final = {"yellow_low", "yellow_high", "red_low", "red_high", "yellow", "red"}


def _limits(where: str, raw: Mapping[str, Any] | None, names: Mapping[int, str]) -> Limits | None:
    if raw is None:
        return None
    unknown = set(raw) - _LIMIT_KEYS
    if unknown:
        raise SchemaError(f"{where}: unknown limit keys {sorted(unknown)}")
    alarms: dict[str, frozenset[str]] = {}
    for colour in ("yellow", "red"):
        listed = [str(n) for n in raw.get(colour, ())]
        missing = set(listed) - set(names.values())
        if missing:
            raise SchemaError(f"{where}: {colour} names unknown states {sorted(missing)}")
        alarms[colour] = frozenset(listed)
    numbers = {k: float(v) for k, v in raw.items() if k not in alarms}
    limits = Limits(
        yellow_low=numbers.get("yellow_low"),
        yellow_high=numbers.get("yellow_high"),
        red_low=numbers.get("red_low"),
        red_high=numbers.get("red_high"),
        yellow=alarms["yellow"],
        red=alarms["red"],
    )
    if limits.red_low is not None and limits.yellow_low is not None:
        if limits.red_low > limits.yellow_low:
            raise SchemaError(f"{where}: red_low is above yellow_low")
    if limits.red_high is not None and limits.yellow_high is not None:
        if limits.red_high < limits.yellow_high:
            raise SchemaError(f"{where}: red_high is below yellow_high")
    return limits


_RATE_KEYS: Final = {"yellow_low", "yellow_high", "red_low", "red_high"}
_RATE_KEYS_ALL: Final = _RATE_KEYS | {"window", "when", "description"}


def _rate_limit(where: str, raw: object) -> RateLimit | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SchemaError(f"{where}: rate_limit must be a table {{ red_low = -0.2, ... }}")
    unknown = set(raw) - _RATE_KEYS_ALL
    if unknown:
        raise SchemaError(f"{where}: unknown rate_limit keys {sorted(unknown)}")
    if not _RATE_KEYS & set(raw):
        raise SchemaError(f"{where}: a rate_limit needs a yellow or red threshold")
    if not raw.get("description"):
        raise SchemaError(f"{where}: a rate_limit says what it catches (description)")
    limits = _limits(f"{where} rate_limit", {k: raw[k] for k in _RATE_KEYS & set(raw)}, {})
    assert limits is not None
    window = raw.get("window", RateLimit.window)
    if not isinstance(window, int | float) or isinstance(window, bool) or not window > 0:
        raise SchemaError(f"{where}: rate_limit window must be a number of seconds above 0")
    when = raw.get("when")
    condition: tuple[str, str] | None = None
    if when is not None:
        if not isinstance(when, dict) or len(when) != 1:
            raise SchemaError(f'{where}: rate_limit when names one field: {{ engine = "OFF" }}')
        ((name, state),) = when.items()
        condition = (str(name), str(state))
    return RateLimit(limits, str(raw["description"]), float(window), condition)


def _check_conditions(packet: str, fields: tuple[Field, ...]) -> None:
    """A rate limit's ``when`` names a field of its packet, and one of its states."""
    by_name = {f.name: f for f in fields}
    for f in fields:
        if f.rate_limit is None or f.rate_limit.when is None:
            continue
        name, state = f.rate_limit.when
        other = by_name.get(name)
        if other is None or not other.states:
            raise SchemaError(
                f"{packet}.{f.name}: rate_limit when names {name!r}, not a field of {packet} "
                "with states"
            )
        if state not in other.states.values():
            raise SchemaError(
                f"{packet}.{f.name}: rate_limit when: {state!r} is not a state of {packet}.{name}"
            )


def _states(where: str, raw: object) -> dict[int, str]:
    if not isinstance(raw, dict):
        raise SchemaError(f'{where}: states must be a table {{ 1 = "NAME" }}')
    try:
        states = {int(k): str(v) for k, v in raw.items()}
    except ValueError as exc:
        raise SchemaError(f"{where}: state keys must be integers") from exc
    if len(set(states.values())) != len(states):
        raise SchemaError(f"{where}: duplicate state names")
    return states


class _Refs:
    """What ``states_from``/``bits_from`` may name: an enumeration, ``events`` (the event
    codes), ``packets`` (the packets by APID) or a field of a packet defined earlier
    (``HK.phase``)."""

    def __init__(self, enums: Mapping[str, Enum]) -> None:
        self.enums = enums
        self.events: dict[int, str] = {}
        self.packets: dict[int, str] = {}
        self.fields: dict[str, Field] = {}

    def states(self, where: str, ref: object) -> dict[int, str]:
        ref = str(ref)
        if ref in self.enums:
            return dict(self.enums[ref].states)
        if ref == "events":
            return dict(self.events)
        if ref == "packets" and self.packets:
            return dict(self.packets)
        if ref in self.fields and self.fields[ref].states:
            return dict(self.fields[ref].states)
        raise SchemaError(
            f"{where}: states_from {ref!r} names no enumeration, 'events', 'packets' "
            "or earlier field"
        )


def _field(packet: str, raw: Mapping[str, Any], refs: _Refs) -> Field:
    name = str(raw.get("name", ""))
    where = f"{packet}.{name or '?'}"
    if not name.isidentifier():
        raise SchemaError(f"{where}: field name must be an identifier")
    ftype = raw.get("type")
    if ftype not in FIELD_TYPES:
        raise SchemaError(f"{where}: type {ftype!r} is not one of {', '.join(FIELD_TYPES)}")
    if not raw.get("description"):
        raise SchemaError(f"{where}: every field needs a description")
    if "states" in raw and "states_from" in raw:
        raise SchemaError(f"{where}: give states or states_from, not both")
    if "states_from" in raw:
        states = refs.states(where, raw["states_from"])
    else:
        states = _states(where, raw.get("states", {}))
    if "bits" in raw and "bits_from" in raw:
        raise SchemaError(f"{where}: give bits or bits_from, not both")
    bits = (
        refs.states(where, raw["bits_from"])
        if "bits_from" in raw
        else _states(where, raw.get("bits", {}))
    )
    calibration = tuple(float(c) for c in raw.get("calibration", ()))
    if sum(map(bool, (states, calibration, bits))) > 1:
        raise SchemaError(f"{where}: a field has states, bits or a calibration, only one")
    if ftype in TEXT_TYPES and (states or calibration or bits or raw.get("limits")):
        raise SchemaError(f"{where}: a text field has no states, bits, calibration or limits")
    if (states or bits or ftype in TEXT_TYPES) and "rate_limit" in raw:
        raise SchemaError(f"{where}: only a number changes at a rate: no rate_limit here")
    f = Field(
        name=name,
        type=str(ftype),
        unit=str(raw.get("unit", "")),
        description=str(raw["description"]),
        calibration=calibration,
        states=states,
        limits=_limits(where, raw.get("limits"), states or bits),
        bits=bits,
        rate_limit=_rate_limit(where, raw.get("rate_limit")),
    )
    lo, hi = f.range
    for value in states:
        if not lo <= value <= hi:
            raise SchemaError(f"{where}: state {value} does not fit in {ftype}")
    for bit in bits:
        if f.is_float or not 0 <= bit < f.size * 8:
            raise SchemaError(f"{where}: bit {bit} does not fit in {ftype}")
    return f


def _enums(raw: object) -> dict[str, Enum]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SchemaError("[enums] must be a table of [enums.NAME]")
    out = {}
    for name, body in raw.items():
        if not name.isidentifier() or name.upper() != name:
            raise SchemaError(f"enums.{name}: enumeration names are upper-case identifiers")
        if not body.get("description"):
            raise SchemaError(f"enums.{name}: every enumeration needs a description")
        states = _states(f"enums.{name}", body.get("states"))
        if not states:
            raise SchemaError(f"enums.{name}: an enumeration needs states")
        out[name] = Enum(name, str(body["description"]), states)
    return out


_EVENT_ARG_KEYS: Final = {"name", "description", "unit", "scale", "states", "states_from", "format"}


def _event(name: str, body: Mapping[str, Any], slots: int, refs: _Refs) -> EventDef:
    where = f"events.{name}"
    if not name.isidentifier() or name.upper() != name:
        raise SchemaError(f"{where}: event names are upper-case identifiers")
    code = body.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        raise SchemaError(f"{where}: code must be an integer")
    if not body.get("description"):
        raise SchemaError(f"{where}: every event needs a description")
    args_raw = body.get("args", ())
    if len(args_raw) > slots:
        raise SchemaError(f"{where}: {len(args_raw)} arguments, {EVENT_PACKET} carries {slots}")
    args = []
    for raw in args_raw:
        aname = str(raw.get("name", ""))
        awhere = f"{where}.{aname or '?'}"
        if not aname.isidentifier():
            raise SchemaError(f"{awhere}: argument name must be an identifier")
        unknown = set(raw) - _EVENT_ARG_KEYS
        if unknown:
            raise SchemaError(f"{awhere}: unknown keys {sorted(unknown)}")
        if not raw.get("description"):
            raise SchemaError(f"{awhere}: every argument needs a description")
        if "states" in raw and "states_from" in raw:
            raise SchemaError(f"{awhere}: give states or states_from, not both")
        states = (
            refs.states(awhere, raw["states_from"])
            if "states_from" in raw
            else _states(awhere, raw.get("states", {}))
        )
        fmt = str(raw.get("format", "g"))
        try:
            format(1.0, fmt)
        except ValueError:
            raise SchemaError(f"{awhere}: format {fmt!r} is not a number format") from None
        args.append(
            EventArg(
                name=aname,
                description=str(raw["description"]),
                unit=str(raw.get("unit", "")),
                scale=float(raw.get("scale", 1.0)),
                states=states,
                format=fmt,
            )
        )
    if len({a.name for a in args}) != len(args):
        raise SchemaError(f"{where}: duplicate argument names")
    text = str(body.get("text", ""))
    try:
        text.format_map({a.name: "" for a in args})
    except (KeyError, ValueError, IndexError) as exc:
        raise SchemaError(f"{where}: text names no argument {exc}") from None
    return EventDef(name, code, str(body["description"]), tuple(args), text)


def parse(document: Mapping[str, Any]) -> Dictionary:
    """Build and check a dictionary from the parsed TOML document."""
    packets_raw = document.get("packets")
    if not isinstance(packets_raw, dict) or not packets_raw:
        raise SchemaError("the dictionary defines no [packets.*]")
    enums = _enums(document.get("enums"))
    refs = _Refs(enums)
    events_raw = document.get("events") or {}
    if not isinstance(events_raw, dict):
        raise SchemaError("[events] must be a table of [events.NAME]")
    for name, body in events_raw.items():
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(code, int) and code in refs.events:
            raise SchemaError(f"events.{name}: code {code} already used by {refs.events[code]}")
        if isinstance(code, int):
            refs.events[code] = name
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
        refs.packets[apid] = name
        fields = tuple(_field(name, f, refs) for f in body.get("fields", ()))
        if not fields:
            raise SchemaError(f"{name}: a packet needs at least one field")
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise SchemaError(f"{name}: duplicate field names")
        _check_conditions(name, fields)
        refs.fields.update({f"{name}.{f.name}": f for f in fields})
        packets.append(
            PacketDef(
                name=name,
                apid=apid,
                rate_hz=float(body.get("rate_hz", 0)),
                description=str(body.get("description", "")),
                fields=fields,
            )
        )
    events: tuple[EventDef, ...] = ()
    if events_raw:
        carrier = next((p for p in packets if p.name == EVENT_PACKET), None)
        if carrier is None or EVENT_ID_FIELD not in {f.name for f in carrier.fields}:
            raise SchemaError(f"events need a packet {EVENT_PACKET} with a field {EVENT_ID_FIELD}")
        slots = sum(1 for f in carrier.fields if f.name.startswith("arg"))
        events = tuple(_event(n, b, slots, refs) for n, b in events_raw.items())
        lo, hi = carrier.field(EVENT_ID_FIELD).range
        for e in events:
            if not lo <= e.code <= hi:
                raise SchemaError(f"events.{e.name}: code {e.code} does not fit in event_id")
    computer = document.get("computer") or {}
    heap = computer.get("heap_bytes", Dictionary.heap_bytes) if isinstance(computer, dict) else None
    if not isinstance(heap, int) or isinstance(heap, bool) or heap <= 0:
        raise SchemaError("computer.heap_bytes must be a positive integer")
    return Dictionary(tuple(packets), events, enums, heap)


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
