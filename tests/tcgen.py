"""Telecommands for tests: hypothesis strategies of valid arguments, signed frames, and the
packets a ground would never build (wrong key, unknown code, wrong argument length)."""

from __future__ import annotations

import struct
from typing import Any

from cobs import cobs
from hypothesis import strategies as st

from ground.keys import VehicleKey
from ground.telecommand import Telecommand, build, encode
from schemas import commands, wire

DICTIONARY = commands.load()
KEY = VehicleKey("LANDER-1", 1, bytes(range(100, 132)))
OTHER_KEY = VehicleKey("LANDER-1", 1, bytes(range(200, 232)))


def arg_values(a: commands.Argument) -> st.SearchStrategy[Any]:
    """Raw values an argument allows."""
    if a.states:
        return st.sampled_from(sorted(a.states))
    if a.is_float:
        return st.floats(a.low, a.high, width=32)
    return st.integers(int(a.low), int(a.high))


@st.composite
def raw_args(draw: st.DrawFn, command: commands.CommandDef) -> dict[str, Any]:
    """Raw values the command allows (for a fault, one of its fault table's)."""
    args = {a.name: draw(arg_values(a)) for a in command.args}
    if command.faults:
        fault = draw(st.sampled_from(list(command.faults.values())))
        args |= {"target": fault.target, "kind": fault.kind}
        if fault.magnitude is not None:
            low, high = fault.magnitude
            magnitude = draw(st.floats(low, high, width=32, exclude_min=fault.above))
            args["magnitude"] = magnitude
    return args


def signed(name: str, counter: int, key: VehicleKey = KEY, **args: Any) -> Telecommand:
    return build(DICTIONARY, name, args, key=key, counter=counter)


def frame(packet: bytes) -> bytes:
    """As the ground writes it: a leading delimiter, the COBS frame, the delimiter."""
    return b"\x00" + cobs.encode(packet) + b"\x00"


def forged(
    code: int,
    args: bytes,
    counter: int,
    *,
    key: VehicleKey = KEY,
    key_id: int | None = None,
    apid: int | None = None,
) -> bytes:
    """A correctly signed packet with any code and argument octets (what no ground builds)."""
    command = commands.CommandDef("FORGED", code, "test", ())
    body = encode(
        command,
        (),
        apid=DICTIONARY.apid if apid is None else apid,
        secret=key.secret,
        key_id=key.key_id if key_id is None else key_id,
        counter=counter,
        seq=counter & wire.MAX_SEQ,
    )[: -wire.MAC_LEN - wire.CRC_LEN]
    body += args
    body = body[:4] + struct.pack(">H", len(body) + wire.MAC_LEN + wire.CRC_LEN - 7) + body[6:]
    body += wire.tc_mac(key.secret, body)
    return body + wire.crc16(body).to_bytes(2, "big")


def with_crc(body: bytes) -> bytes:
    return body + wire.crc16(body).to_bytes(2, "big")
