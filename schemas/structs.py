"""Construct structs of the telemetry and command dictionaries: the reference codec.

These are the declarative definitions a reader can check against the wire contract line by
line. The ground's fast decoder (``ground.decoder``) is tested to give exactly what these
parse, the firmware's generated encoder to give exactly what these build, and the ground's
telecommand encoder (``ground.telecommand``) to give exactly what :func:`tc_struct` builds.
"""

from __future__ import annotations

from functools import cache

from construct import (
    BitsInteger,
    BitStruct,
    Bytes,
    Checksum,
    Const,
    Construct,
    Float32b,
    Float64b,
    Int8sb,
    Int8ub,
    Int16sb,
    Int16ub,
    Int32sb,
    Int32ub,
    RawCopy,
    Struct,
    Switch,
    this,
)

from . import commands, model, wire

__all__ = [
    "FIELD_CONSTRUCTS",
    "primary_header",
    "packet_struct",
    "any_packet_struct",
    "tc_struct",
]

FIELD_CONSTRUCTS: dict[str, Construct] = {
    "u8": Int8ub,
    "u16": Int16ub,
    "u32": Int32ub,
    "i8": Int8sb,
    "i16": Int16sb,
    "i32": Int32sb,
    "f32": Float32b,
    "f64": Float64b,
    "str16": Bytes(16),
}

primary_header = BitStruct(
    "version" / BitsInteger(3),
    "type" / BitsInteger(1),
    "sec_header" / BitsInteger(1),
    "apid" / BitsInteger(11),
    "seq_flags" / BitsInteger(2),
    "seq" / BitsInteger(14),
    "length" / BitsInteger(16),
)

cuc_time = Struct("coarse" / Int32ub, "fine" / Int16ub)


def _data_struct(packet: model.PacketDef) -> Construct:
    return Struct(*(f.name / FIELD_CONSTRUCTS[f.type] for f in packet.fields))


@cache
def packet_struct(packet: model.PacketDef) -> Construct:
    """Struct of one packet, header constants fixed, CRC checked on parse and made on build."""
    length = wire.CUC_LEN + packet.data_size + wire.CRC_LEN - 1
    header = BitStruct(
        "version" / Const(0, BitsInteger(3)),
        "type" / Const(int(wire.PacketType.TM), BitsInteger(1)),
        "sec_header" / Const(1, BitsInteger(1)),
        "apid" / Const(packet.apid, BitsInteger(11)),
        "seq_flags" / Const(wire.SEQ_UNSEGMENTED, BitsInteger(2)),
        "seq" / BitsInteger(14),
        "length" / Const(length, BitsInteger(16)),
    )
    body = Struct("header" / header, "time" / cuc_time, "data" / _data_struct(packet))
    return Struct(
        "body" / RawCopy(body),
        "crc" / Checksum(Int16ub, wire.crc16, this.body.data),
    )


def any_packet_struct(dictionary: model.Dictionary) -> Construct:
    """One struct for every APID, switching on the header (the naive way to decode a stream)."""
    return Struct(
        "header" / primary_header,
        "time" / cuc_time,
        "data" / Switch(this.header.apid, {p.apid: _data_struct(p) for p in dictionary}),
        "crc" / Int16ub,
    )


@cache
def tc_struct(command: commands.CommandDef, apid: int) -> Construct:
    """Struct of one telecommand. Build and parse take the key as ``key=`` (a parameter, so
    that it is never part of the packet's values): the tag is made on build, checked on parse.
    """
    length = wire.TC_OVERHEAD + command.args_size - wire.PRIMARY_HEADER_LEN - 1
    header = BitStruct(
        "version" / Const(0, BitsInteger(3)),
        "type" / Const(int(wire.PacketType.TC), BitsInteger(1)),
        "sec_header" / Const(1, BitsInteger(1)),
        "apid" / Const(apid, BitsInteger(11)),
        "seq_flags" / Const(wire.SEQ_UNSEGMENTED, BitsInteger(2)),
        "seq" / BitsInteger(14),
        "length" / Const(length, BitsInteger(16)),
    )
    signed = Struct(
        "header" / header,
        "key_id" / Int16ub,
        "counter" / Int32ub,
        "code" / Const(command.code, Int16ub),
        "args" / Struct(*(a.name / FIELD_CONSTRUCTS[a.type] for a in command.args)),
    )
    body = Struct(
        "signed" / RawCopy(signed),
        "mac"
        / Checksum(
            Bytes(wire.MAC_LEN),
            lambda key_data: wire.tc_mac(*key_data),
            lambda ctx: (ctx._params.key, ctx.signed.data),
        ),
    )
    return Struct(
        "body" / RawCopy(body),
        "crc" / Checksum(Int16ub, wire.crc16, this.body.data),
    )
