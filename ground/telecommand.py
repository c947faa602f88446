"""Telecommand packets: the ground's encoder of the wire contract's telecommand.

A telecommand is a CCSDS Space Packet of type 1 on the dictionary's APID (0x100):

======  ======  ==============================================================================
offset  octets  field
======  ======  ==============================================================================
0       2       version 0, type 1, secondary header flag 1, APID (first octet 0x18-0x1F)
2       2       sequence flags 0b11, 14-bit sequence count (the counter's low 14 bits)
4       2       data length: octets after the primary header minus one
6       2       key id
8       4       anti-replay counter (above the last the vehicle accepted)
12      2       command code
14      n       arguments, big-endian, as the dictionary defines them
14+n    16      HMAC-SHA256(key, octets 0 .. 14+n-1), first 16 octets
30+n    2       CRC-16/CCITT-FALSE of octets 0 .. 30+n-1
======  ======  ==============================================================================

On serial the ground writes ``0x00``, the COBS-encoded packet and ``0x00``: the leading
delimiter flushes whatever partial frame the vehicle holds. :func:`encode` is the fast path;
``schemas.structs.tc_struct`` is the reference Construct struct it is tested against.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cobs import cobs

from schemas import commands, wire

from .keys import VehicleKey

__all__ = ["Telecommand", "encode", "build"]


def encode(
    command: commands.CommandDef,
    raw_args: tuple[int | float, ...],
    *,
    apid: int,
    secret: bytes,
    key_id: int,
    counter: int,
    seq: int,
) -> bytes:
    """The packet of a command with checked raw argument values, tag and CRC included."""
    length = wire.TC_OVERHEAD + command.args_size - wire.PRIMARY_HEADER_LEN - 1
    body = wire.TC_HEADER.pack(
        (int(wire.PacketType.TC) << 12) | (1 << 11) | apid,
        (wire.SEQ_UNSEGMENTED << 14) | seq,
        length,
        key_id,
        counter,
        command.code,
    ) + struct.pack(">" + command.args_format, *raw_args)
    body += wire.tc_mac(secret, body)
    return body + wire.crc16(body).to_bytes(2, "big")


@dataclass(frozen=True)
class Telecommand:
    """One signed telecommand, ready to send, and what its verifications will carry."""

    command: commands.CommandDef
    raw_args: tuple[int | float, ...]
    key_id: int
    counter: int
    seq: int
    packet: bytes

    @property
    def name(self) -> str:
        return self.command.name

    @property
    def code(self) -> int:
        return self.command.code

    @property
    def args(self) -> dict[str, int | float | str]:
        """Arguments with state names where the dictionary has states."""
        return self.command.engineering(self.raw_args)

    @property
    def frame(self) -> bytes:
        """What goes on a serial line: 0x00, the COBS-encoded packet, 0x00."""
        encoded: bytes = cobs.encode(self.packet)
        return b"\x00" + encoded + b"\x00"

    @property
    def ident(self) -> tuple[int, int, int]:
        """(code, sequence count, counter): what TC_VERIFY echoes."""
        return (self.code, self.seq, self.counter)

    def describe(self) -> str:
        """``SET_TM_RATE packet=NAV hz=20`` (how an operator would type it)."""
        args = " ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.args.items()
        )
        return f"{self.name} {args}".rstrip()


def build(
    dictionary: commands.CommandDictionary,
    name: str,
    args: Mapping[str, Any],
    *,
    key: VehicleKey,
    counter: int,
) -> Telecommand:
    """Check a command against the dictionary and sign it; ArgumentError names what is wrong."""
    command = dictionary[name]
    raw = command.raw_values(args)
    if not 0 < counter <= wire.MAX_COUNTER:
        raise ValueError(f"counter {counter} outside 1..{wire.MAX_COUNTER}")
    seq = counter & wire.MAX_SEQ
    packet = encode(
        command,
        raw,
        apid=dictionary.apid,
        secret=key.secret,
        key_id=key.key_id,
        counter=counter,
        seq=seq,
    )
    return Telecommand(command, raw, key.key_id, counter, seq, packet)
