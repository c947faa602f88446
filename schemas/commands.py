"""The telecommand dictionary as typed value objects, loaded once from ``commands.toml``.

The ground checks an operator's command against these objects before anything is sent
(:meth:`CommandDef.raw_values` raises :class:`ArgumentError`, one line naming the argument and
what it allows); the Construct reference struct and the firmware's command table are made
from them, so the board checks the same ranges the ground does. A bad definition fails here
with the command and argument it concerns.
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

from . import model
from .model import SchemaError

__all__ = [
    "ARG_TYPES",
    "MODE_FIELD",
    "Argument",
    "ArgumentError",
    "CommandDef",
    "FaultDef",
    "CommandDictionary",
    "SchemaError",
    "load",
    "parse",
]

#: Wire types an argument may have (a TC carries no f64: the board's floats are single).
ARG_TYPES: Final[Mapping[str, str]] = {
    k: v for k, v in model.FIELD_TYPES.items() if k != "f64" and k not in model.TEXT_TYPES
}
#: The telemetry field whose states name the vehicle modes a command's ``modes`` lists.
MODE_FIELD: Final[tuple[str, str]] = ("HK", "mode")
_F32_MAX: Final[float] = 3.4028234663852886e38
MAX_CODE: Final[int] = 0xFFFF


class ArgumentError(ValueError):
    """An operator's command is not in the dictionary or its arguments are wrong.

    The message is one line that names the command, the argument and what it allows.
    """


def f32(value: float) -> float:
    """``value`` as the nearest single-precision float (what the wire carries)."""
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


@dataclass(frozen=True, eq=False)
class Argument:
    """One argument of a command: wire type, allowed values and how an operator names them."""

    name: str
    type: str
    description: str
    unit: str = ""
    low: float = 0
    high: float = 0
    states: Mapping[int, str] = field(default_factory=dict)

    @property
    def fmt(self) -> str:
        return ARG_TYPES[self.type]

    @property
    def is_float(self) -> bool:
        return self.type == "f32"

    @property
    def size(self) -> int:
        return struct.calcsize(">" + self.fmt)

    def allowed(self) -> str:
        """What the argument allows, for messages and listings: ``0..50 Hz``, ``HK|NAV``."""
        if self.states:
            return "|".join(self.states.values())
        unit = f" {self.unit}" if self.unit else ""
        low, high = (f"{v:g}" if self.is_float else str(int(v)) for v in (self.low, self.high))
        return f"{low}..{high}{unit}"

    def raw(self, command: str, given: Any) -> int | float:
        """The raw wire value of an operator's value (text, number or state name), checked."""
        where = f"{command}: {self.name}={given!r}"
        expect = f"({self.type}, {self.allowed()})"
        if isinstance(given, bool):
            raise ArgumentError(f"{where} is not valid {expect}")
        if self.states:
            value = self._state_value(given)
            if value is None:
                raise ArgumentError(f"{where} is not one of {self.allowed()}")
            return value
        number: int | float | None
        if self.is_float:
            try:
                number = float(given)
            except (TypeError, ValueError):
                raise ArgumentError(f"{where} is not a number {expect}") from None
            if not math.isfinite(number) or abs(number) > _F32_MAX:
                raise ArgumentError(f"{where} is out of range {expect}")
            number = f32(number)
        else:
            number = _integer(given)
            if number is None:
                raise ArgumentError(f"{where} is not a whole number {expect}")
        if not self.low <= number <= self.high:
            raise ArgumentError(f"{where} is out of range {expect}")
        return number

    def _state_value(self, given: Any) -> int | None:
        if isinstance(given, str):
            wanted = given.strip().upper()
            for value, name in self.states.items():
                if name == wanted:
                    return value
        number = _integer(given)
        return number if number in self.states else None


def _integer(given: Any) -> int | None:
    if isinstance(given, int):
        return given
    if isinstance(given, float):
        return int(given) if given.is_integer() else None
    try:
        return int(str(given).strip(), 0)
    except ValueError:
        return None


@dataclass(frozen=True, eq=False)
class FaultDef:
    """One fault a command may inject: target and kind (raw and by name), and the range of
    its magnitude (None: on or off, the magnitude is ignored)."""

    target: int
    kind: int
    target_name: str
    kind_name: str
    description: str
    magnitude: tuple[float, float] | None = None
    #: the magnitude must be above ``low``, not equal to it
    above: bool = False
    unit: str = ""

    @property
    def name(self) -> str:
        return f"{self.target_name} {self.kind_name}"

    def allowed(self) -> str:
        """``0 < magnitude <= 1 kg/s``, or ``no magnitude``."""
        if self.magnitude is None:
            return "no magnitude"
        low, high = self.magnitude
        unit = f" {self.unit}" if self.unit else ""
        return f"{low:g} {'<' if self.above else '<='} magnitude <= {high:g}{unit}"

    def accepts(self, magnitude: float) -> bool:
        if self.magnitude is None:
            return True
        low, high = self.magnitude
        return (low < magnitude if self.above else low <= magnitude) and magnitude <= high


@dataclass(frozen=True, eq=False)
class CommandDef:
    """One telecommand: its code, arguments in wire order, criticality and allowed modes."""

    name: str
    code: int
    description: str
    args: tuple[Argument, ...] = ()
    critical: bool = False
    #: vehicle modes (raw HK.mode values) in which the board accepts it; empty: any
    modes: Mapping[int, str] = field(default_factory=dict)
    #: the (target, kind) pairs it accepts, for a command that injects faults; empty: none
    faults: Mapping[tuple[int, int], FaultDef] = field(default_factory=dict)

    @property
    def args_format(self) -> str:
        """struct format of the arguments (after the code), without byte order."""
        return "".join(a.fmt for a in self.args)

    @property
    def args_size(self) -> int:
        return struct.calcsize(">" + self.args_format)

    def arg(self, name: str) -> Argument:
        for a in self.args:
            if a.name == name:
                return a
        raise ArgumentError(f"{self.name}: unknown argument {name!r} ({self._arg_names()})")

    def raw_values(self, given: Mapping[str, Any]) -> tuple[int | float, ...]:
        """Raw wire values of the arguments, in wire order; ArgumentError names what is wrong."""
        for name in given:
            self.arg(name)
        values = []
        for a in self.args:
            if a.name not in given:
                raise ArgumentError(
                    f"{self.name}: missing argument {a.name} ({a.type}, {a.allowed()})"
                )
            values.append(a.raw(self.name, given[a.name]))
        if self.faults:
            self._check_fault(dict(zip((a.name for a in self.args), values, strict=True)))
        return tuple(values)

    def _check_fault(self, raw: Mapping[str, int | float]) -> None:
        fault = self.faults.get((int(raw["target"]), int(raw["kind"])))
        target = self.arg("target").states.get(int(raw["target"]), raw["target"])
        if fault is None:
            kinds = [f.kind_name for (t, _), f in self.faults.items() if f.target_name == target]
            raise ArgumentError(
                f"{self.name}: {target} has no fault {self.arg('kind').states[int(raw['kind'])]}"
                f" (its faults: {', '.join(kinds) or 'none'})"
            )
        if not fault.accepts(float(raw["magnitude"])):
            raise ArgumentError(
                f"{self.name}: magnitude={raw['magnitude']:g} is out of range for "
                f"{fault.name} ({fault.allowed()})"
            )

    def engineering(self, raw: tuple[int | float, ...]) -> dict[str, int | float | str]:
        """Raw argument values -> names with state names where there are states."""
        return {
            a.name: a.states.get(int(v), v) if a.states else v
            for a, v in zip(self.args, raw, strict=True)
        }

    def signature(self) -> str:
        """``SET_TM_RATE packet=HK|NAV|PROP|POWER hz=0..50 Hz``"""
        return " ".join([self.name, *(f"{a.name}={a.allowed()}" for a in self.args)])

    def _arg_names(self) -> str:
        if not self.args:
            return "it takes no arguments"
        return "arguments: " + ", ".join(a.name for a in self.args)


@dataclass(frozen=True)
class CommandDictionary:
    """Every telecommand of the vehicle and the APID they travel on."""

    apid: int
    commands: tuple[CommandDef, ...]

    def __iter__(self) -> Iterator[CommandDef]:
        return iter(self.commands)

    def __getitem__(self, name: str) -> CommandDef:
        wanted = name.upper()
        for c in self.commands:
            if c.name == wanted:
                return c
        known = ", ".join(c.name for c in self.commands)
        raise ArgumentError(f"unknown command {name!r} (known: {known})")

    def by_code(self, code: int) -> CommandDef | None:
        for c in self.commands:
            if c.code == code:
                return c
        return None

    @property
    def max_args_size(self) -> int:
        return max(c.args_size for c in self.commands)


# --- loading ----------------------------------------------------------------------------


_ARG_KEYS: Final = {"name", "type", "unit", "description", "range", "states", "states_from", "only"}
_FAULT_KEYS: Final = {"target", "kind", "description", "magnitude", "above", "unit"}


def _faults(
    command: str, raw: object, args: tuple[Argument, ...]
) -> dict[tuple[int, int], FaultDef]:
    if raw is None:
        return {}
    by_name = {a.name: a for a in args}
    if not {"target", "kind", "magnitude"} <= set(by_name):
        raise SchemaError(f"{command}: faults need arguments target, kind and magnitude")
    if not isinstance(raw, list):
        raise SchemaError(f"{command}: faults must be an array of tables [[{command}.faults]]")
    out: dict[tuple[int, int], FaultDef] = {}
    for entry in raw:
        where = f"{command}.faults[{len(out)}]"
        unknown = set(entry) - _FAULT_KEYS
        if unknown:
            raise SchemaError(f"{where}: unknown keys {sorted(unknown)}")
        codes = []
        for arg in ("target", "kind"):
            states = by_name[arg].states
            code = next((v for v, s in states.items() if s == entry.get(arg)), None)
            if code is None:
                raise SchemaError(f"{where}: {arg} {entry.get(arg)!r} is not one of {arg}'s states")
            codes.append(code)
        if not entry.get("description"):
            raise SchemaError(f"{where}: every fault needs a description")
        magnitude = entry.get("magnitude")
        if magnitude is not None:
            magnitude = _range(where, "f32", magnitude)
            wide = by_name["magnitude"]
            if not wide.low <= magnitude[0] <= magnitude[1] <= wide.high:
                raise SchemaError(f"{where}: magnitude {list(magnitude)} outside the argument's")
        key = (codes[0], codes[1])
        if key in out:
            raise SchemaError(f"{where}: {entry['target']} {entry['kind']} listed twice")
        out[key] = FaultDef(
            target=codes[0],
            kind=codes[1],
            target_name=str(entry["target"]),
            kind_name=str(entry["kind"]),
            description=str(entry["description"]),
            magnitude=magnitude,
            above=bool(entry.get("above", False)),
            unit=str(entry.get("unit", "")),
        )
    return out


def full_range(atype: str) -> tuple[float, float]:
    """Every value an argument type carries (f32: every finite one)."""
    if atype == "f32":
        return (-_F32_MAX, _F32_MAX)
    bits = struct.calcsize(">" + ARG_TYPES[atype]) * 8
    return (0, (1 << bits) - 1) if atype[0] == "u" else (-(1 << bits - 1), (1 << bits - 1) - 1)


def _range(where: str, atype: str, raw: object) -> tuple[float, float]:
    full = full_range(atype)
    if raw is None:
        return full
    if not (
        isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, int | float) for v in raw)
    ):
        raise SchemaError(f"{where}: range must be [low, high]")
    low, high = raw
    if atype != "f32" and not (isinstance(low, int) and isinstance(high, int)):
        raise SchemaError(f"{where}: an integer argument's range needs whole numbers")
    if atype == "f32":
        low, high = f32(low), f32(high)
    if not full[0] <= low <= high <= full[1]:
        raise SchemaError(f"{where}: range [{low}, {high}] is empty or does not fit in {atype}")
    return low, high


def _states_from(
    where: str,
    ref: str,
    telemetry: model.Dictionary,
    done: Mapping[str, CommandDef],
) -> dict[int, str]:
    if ref == "packets":
        return {p.apid: p.name for p in telemetry}
    if ref in telemetry.enums:
        return dict(telemetry.enums[ref].states)
    owner, _, name = ref.partition(".")
    try:
        if owner in done:
            return dict(done[owner].arg(name).states)
        return dict(telemetry[owner].field(name).states)
    except (KeyError, ArgumentError):
        raise SchemaError(
            f"{where}: states_from {ref!r} names no telemetry field, enumeration "
            "or earlier command argument"
        ) from None


def _argument(
    command: str,
    raw: Mapping[str, Any],
    telemetry: model.Dictionary,
    done: Mapping[str, CommandDef],
) -> Argument:
    name = str(raw.get("name", ""))
    where = f"{command}.{name or '?'}"
    if not name.isidentifier():
        raise SchemaError(f"{where}: argument name must be an identifier")
    atype = raw.get("type")
    if atype not in ARG_TYPES:
        raise SchemaError(f"{where}: type {atype!r} is not one of {', '.join(ARG_TYPES)}")
    if not raw.get("description"):
        raise SchemaError(f"{where}: every argument needs a description")
    unknown = set(raw) - _ARG_KEYS
    if unknown:
        raise SchemaError(f"{where}: unknown keys {sorted(unknown)}")
    if "states" in raw and "states_from" in raw:
        raise SchemaError(f"{where}: give states or states_from, not both")
    if "states_from" in raw:
        states = _states_from(where, str(raw["states_from"]), telemetry, done)
    else:
        try:
            states = {int(k): str(v) for k, v in dict(raw.get("states", {})).items()}
        except ValueError:
            raise SchemaError(f"{where}: state keys must be integers") from None
    if "only" in raw:
        if not states:
            raise SchemaError(f"{where}: only needs states or states_from")
        only = [str(s) for s in raw["only"]]
        missing = set(only) - set(states.values())
        if missing:
            raise SchemaError(f"{where}: only names unknown states {sorted(missing)}")
        states = {v: s for v, s in states.items() if s in only}
    if states and atype == "f32":
        raise SchemaError(f"{where}: a float argument cannot have states")
    low, high = _range(where, str(atype), raw.get("range"))
    for value in states:
        if not low <= value <= high:
            raise SchemaError(f"{where}: state {value} does not fit in {atype}")
    if states:
        low, high = min(states), max(states)
    return Argument(
        name=name,
        type=str(atype),
        description=str(raw["description"]),
        unit=str(raw.get("unit", "")),
        low=low,
        high=high,
        states=states,
    )


def parse(
    document: Mapping[str, Any], telemetry: model.Dictionary | None = None
) -> CommandDictionary:
    """Build and check a command dictionary from the parsed TOML document."""
    telemetry = telemetry if telemetry is not None else model.load()
    apid = document.get("apid")
    if not isinstance(apid, int) or not 0 <= apid <= model.MAX_APID:
        raise SchemaError(f"apid must be an integer 0..{model.MAX_APID}")
    if apid in {p.apid for p in telemetry}:
        raise SchemaError(f"apid {apid:#05x} is a telemetry packet's")
    commands_raw = document.get("commands")
    if not isinstance(commands_raw, dict) or not commands_raw:
        raise SchemaError("the dictionary defines no [commands.*]")
    mode_states = telemetry[MODE_FIELD[0]].field(MODE_FIELD[1]).states
    done: dict[str, CommandDef] = {}
    codes: dict[int, str] = {}
    for name, body in commands_raw.items():
        if not name.isidentifier() or name.upper() != name:
            raise SchemaError(f"{name}: command names are upper-case identifiers")
        code = body.get("code")
        if not isinstance(code, int) or not 0 < code <= MAX_CODE:
            raise SchemaError(f"{name}: code must be an integer 1..{MAX_CODE}")
        if code in codes:
            raise SchemaError(f"{name}: code {code:#06x} already used by {codes[code]}")
        codes[code] = name
        if not body.get("description"):
            raise SchemaError(f"{name}: every command needs a description")
        args = tuple(_argument(name, a, telemetry, done) for a in body.get("args", ()))
        names = [a.name for a in args]
        if len(set(names)) != len(names):
            raise SchemaError(f"{name}: duplicate argument names")
        modes: dict[int, str] = {}
        for mode in body.get("modes", ()):
            value = next((v for v, s in mode_states.items() if s == mode), None)
            if value is None:
                raise SchemaError(f"{name}: mode {mode!r} is not a state of HK.mode")
            modes[value] = mode
        done[name] = CommandDef(
            name=name,
            code=code,
            description=str(body["description"]),
            args=args,
            critical=bool(body.get("critical", False)),
            modes=modes,
            faults=_faults(name, body.get("faults"), args),
        )
    return CommandDictionary(apid=apid, commands=tuple(done.values()))


def load(
    path: str | Path | None = None, telemetry: model.Dictionary | None = None
) -> CommandDictionary:
    """Load the command dictionary (the project's own unless ``path`` names another)."""
    if path is None:
        text = resources.files("schemas").joinpath("commands.toml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"command dictionary is not valid TOML: {exc}") from exc
    return parse(document, telemetry)
