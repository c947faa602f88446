"""Generate the firmware's telemetry encoder (``firmware/packets.py``) and command table
(``firmware/commands.py``) from the dictionaries.

Construct does not run on MicroPython, so the board gets plain ``struct.pack_into`` code
written from the same definition the ground decodes with, and the table it checks commands
against from the definition the ground builds them with. A test renders both again and fails
when a committed file is stale; ``make generate`` (``python -m schemas.codegen``) rewrites
them.

The generated code is shaped for a microcontroller: one format string per packet, the
CCSDS header words folded into constants, values read from a "points" object whose
attributes the flight software updates in place, so packing a frame allocates nothing.
The CUC coarse time is packed as two 16-bit halves: on a 32-bit port, integers above
2**30 are heap objects.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import commands, craftgen, fingerprint, model, wire

__all__ = ["render", "render_commands", "target_path", "commands_path", "main"]


def target_path() -> Path:
    return Path(__file__).resolve().parent.parent / "firmware" / "packets.py"


def commands_path() -> Path:
    return Path(__file__).resolve().parent.parent / "firmware" / "commands.py"


def _const_name(*parts: str) -> str:
    return "_".join(p.upper() for p in parts)


def render(dictionary: model.Dictionary) -> str:
    """Return the source of ``firmware/packets.py`` for a dictionary."""
    out: list[str] = []
    emit = out.append
    emit("# Telemetry encoder of the lander, generated from schemas/telemetry.toml by")
    emit("# `make generate` (python -m schemas.codegen). Do not edit: edit the dictionary.")
    emit("from micropython import const")
    emit("from struct import pack_into")
    emit("")
    emit("# The dictionary this was generated from (IDENT.dictionary; schemas/fingerprint.py).")
    emit(f"DICTIONARY_ID = {fingerprint.dictionary_id():#010x}")
    emit(f"HEAP_BYTES = const({dictionary.heap_bytes})  # the flight computer's MicroPython heap")
    emit(f"N_PACKETS = const({len(dictionary.packets)})")
    max_len = max(wire.TM_OVERHEAD + p.data_size for p in dictionary)
    emit(f"MAX_PACKET = const({max_len})")
    emit("")
    emit("# Packet indices, APIDs and default rates (mHz; 0 = sent on occurrence).")
    for index, p in enumerate(dictionary):
        emit(f"{p.name} = const({index})")
    emit("NAMES = (" + "".join(f"{p.name!r}, " for p in dictionary) + ")")
    emit("APIDS = (" + "".join(f"{p.apid:#05x}, " for p in dictionary) + ")")
    emit("RATES_MHZ = (" + "".join(f"{round(p.rate_hz * 1000)}, " for p in dictionary) + ")")
    emit("")

    names_seen: dict[str, str] = {}
    values_seen: dict[str, int] = {}
    emit("# Enumerated states, as <FIELD>_<STATE>.")
    for p in dictionary:
        for f in p.fields:
            for value, state in sorted(f.states.items()):
                name = _const_name(f.name, state)
                owner = f"{p.name}.{f.name}"
                if name in names_seen and values_seen[name] == value:
                    continue  # a field of the same name and states ("states_from")
                if names_seen.get(name, owner) != owner:
                    raise model.SchemaError(
                        f"{owner}: constant {name} also made by {names_seen[name]}"
                    )
                names_seen[name] = owner
                values_seen[name] = value
                emit(f"{name} = const({value})")
    emit("")
    emit("# Enumerations, as <ENUM>_<STATE>; <ENUM>_NAMES where the values count from 0.")
    for enum in dictionary.enums.values():
        for value, state in sorted(enum.states.items()):
            name = _const_name(enum.name, state)
            if name in names_seen:
                raise model.SchemaError(
                    f"enums.{enum.name}: constant {name} also made by {names_seen[name]}"
                )
            names_seen[name] = f"enums.{enum.name}"
            emit(f"{name} = const({value})")
        if sorted(enum.states) == list(range(len(enum.states))):
            names = "".join(f"{enum.states[v]!r}, " for v in range(len(enum.states)))
            emit(f"{enum.name}_NAMES = ({names})")
    emit("")
    # No calibrations: the firmware packs raw values and never converts them (the ground does);
    # every name here is heap and a qstr on the board.

    for p in dictionary:
        attrs = [f.name for f in p.fields]
        emit("")
        emit(f"class {p.name.title().replace('_', '')}Points:")
        emit(f'    """Raw values of {p.name}, updated in place by the flight software."""')
        emit("")
        emit("    def __init__(self):")
        for f in p.fields:
            emit(f"        self.{f.name} = {_initial(f)}")
        emit("")
        length = wire.CUC_LEN + p.data_size + wire.CRC_LEN - 1
        word0 = (1 << 11) | p.apid  # version 0, type TM, secondary header present
        fmt = ">HHH" + "HHH" + p.data_format
        size = wire.PRIMARY_HEADER_LEN + wire.CUC_LEN + p.data_size
        emit("")
        emit(f"def pack_{p.name.lower()}(buf, seq, coarse_hi, coarse_lo, fine, s):")
        emit(f'    """Pack {p.name} up to its CRC into buf; return the length packed ({size})."""')
        args = ", ".join(f"s.{a}" for a in attrs)
        emit(
            f"    pack_into({fmt!r}, buf, 0, {word0:#06x}, {wire.SEQ_UNSEGMENTED << 14:#06x} | seq,"
        )
        emit(f"              {length}, coarse_hi, coarse_lo, fine, {args})")
        emit(f"    return {size}")
        emit("")
    emit("")
    emit("PACKERS = (" + "".join(f"pack_{p.name.lower()}, " for p in dictionary) + ")")
    emit("")
    emit("")
    emit("def new_points():")
    emit('    """One points object per packet, in packet-index order."""')
    classes = ", ".join(f"{p.name.title().replace('_', '')}Points()" for p in dictionary)
    emit(f"    return ({classes},)")
    return "\n".join(out) + "\n"


def _initial(f: model.Field) -> str:
    return "b''" if f.is_text else "0.0" if f.is_float else "0"


def _number(value: float, is_float: bool) -> str:
    return repr(float(value)) if is_float else str(int(value))


def render_commands(dictionary: commands.CommandDictionary) -> str:
    """Return the source of ``firmware/commands.py`` for a command dictionary."""
    out: list[str] = []
    emit = out.append
    cmds = dictionary.commands
    emit("# Telecommand table of the lander, generated from schemas/commands.toml by")
    emit("# `make generate` (python -m schemas.codegen). Do not edit: edit the dictionary.")
    emit("from micropython import const")
    emit("")
    emit(f"TC_APID = const({dictionary.apid:#05x})")
    word0 = (int(wire.PacketType.TC) << 12) | (1 << 11) | dictionary.apid
    emit(f"TC_WORD0 = const({word0:#06x})  # first header word: version 0, type TC, sec. header")
    emit(f"N_COMMANDS = const({len(cmds)})")
    emit(f"MIN_TC = const({wire.TC_OVERHEAD})")
    emit(f"MAX_TC = const({wire.TC_OVERHEAD + dictionary.max_args_size})")
    emit("")
    emit("# Telecommand layout (schemas/wire.py): offsets in the packet, tag length.")
    emit(f"TC_KEY_ID_AT = const({wire.PRIMARY_HEADER_LEN})")
    emit(f"TC_COUNTER_AT = const({wire.PRIMARY_HEADER_LEN + 2})")
    emit(f"TC_CODE_AT = const({wire.PRIMARY_HEADER_LEN + wire.TC_SEC_HEADER_LEN})")
    emit(f"TC_ARGS_AT = const({wire.TC_HEADER_LEN})")
    emit(f"TC_MAC_LEN = const({wire.MAC_LEN})")
    emit("")
    emit("# Argument ranges the dictionary sets, as <COMMAND>_<ARGUMENT>_MIN/_MAX.")
    for c in cmds:
        for a in c.args:
            if a.states or (a.low, a.high) == commands.full_range(a.type):
                continue
            for suffix, value in (("MIN", a.low), ("MAX", a.high)):
                name = _const_name(c.name, a.name, suffix)
                number = _number(value, a.is_float)
                emit(f"{name} = {number}" if a.is_float else f"{name} = const({number})")
    emit("")
    emit("# Command codes.")
    for c in cmds:
        emit(f"{c.name} = const({c.code:#06x})")
    emit("")
    emit("# The table, by index. ARGS_FMT: struct format of the arguments after the code;")
    emit("# MODES: HK.mode values in which the command is accepted (None: any); CHECKS: per")
    emit("# argument (low, high, allowed values or None).")
    emit("CODES = (" + "".join(f"{c.code:#06x}, " for c in cmds) + ")")
    emit("NAMES = (" + "".join(f"{c.name!r}, " for c in cmds) + ")")
    emit("ARGS_FMT = (" + "".join(f"{'>' + c.args_format!r}, " for c in cmds) + ")")
    emit("ARGS_LEN = (" + "".join(f"{c.args_size}, " for c in cmds) + ")")
    modes = (f"{tuple(sorted(c.modes))!r}" if c.modes else "None" for c in cmds)
    emit("MODES = (" + "".join(f"{m}, " for m in modes) + ")")
    emit("CHECKS = (")
    for c in cmds:
        checks = []
        for a in c.args:
            states = repr(tuple(sorted(a.states))) if a.states else "None"
            low, high = _number(a.low, a.is_float), _number(a.high, a.is_float)
            checks.append(f"({low}, {high}, {states}), ")
        emit(f"    ({''.join(checks)}),  # {c.name}")
    emit(")")
    emit("")
    emit("# Faults a command injects: (target << 8 | kind) -> (low, high, above) of the")
    emit("# magnitude (above: low itself excluded), or None when the fault is on or off.")
    emit("FAULTS = {")
    for c in cmds:
        for fault in c.faults.values():
            key = (fault.target << 8) | fault.kind
            spec = "None"
            if fault.magnitude is not None:
                bottom, top = fault.magnitude
                spec = f"({float(bottom)!r}, {float(top)!r}, {fault.above})"
            emit(f"    {key:#06x}: {spec},  # {fault.name}")
    emit("}")
    return "\n".join(out) + "\n"


def outputs() -> dict[Path, str]:
    """Every generated firmware file and what it must hold."""
    telemetry = model.load()
    return {
        target_path(): render(telemetry),
        commands_path(): render_commands(commands.load(telemetry=telemetry)),
        craftgen.target_path(): craftgen.render(craftgen.load()),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the generated firmware files; with ``--check`` only report stale ones."""
    argv = sys.argv[1:] if argv is None else argv
    stale = 0
    for path, text in outputs().items():
        if "--check" in argv:
            current = path.read_text("utf-8") if path.exists() else ""
            if current != text:
                print(f"{path} is stale: run `make generate`", file=sys.stderr)
                stale += 1
            continue
        path.write_text(text, "utf-8")
        print(f"wrote {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
