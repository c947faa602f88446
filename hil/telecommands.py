"""Telecommands as a test bench sends them: signed ones, their frames on a serial line, and
the packets a ground would never build (wrong key, unknown code, wrong argument length).

The keys here are fixed bench keys, known to every test and benchmark: never a vehicle's.
"""

from __future__ import annotations

import struct
from typing import Any

from cobs import cobs

from ground.keys import VehicleKey
from ground.telecommand import Telecommand, build, encode
from schemas import commands, wire

__all__ = ["DICTIONARY", "KEY", "OTHER_KEY", "signed", "frame", "forged", "with_crc"]

DICTIONARY = commands.load()
KEY = VehicleKey("LANDER-1", 1, bytes(range(100, 132)))
OTHER_KEY = VehicleKey("LANDER-1", 1, bytes(range(200, 232)))


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
