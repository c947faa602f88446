"""Constants and header value objects of the wire contract (DESIGN.md, "The wire contract").

A packet on the wire is: a 6-octet CCSDS primary header, a 6-octet CUC time code (telemetry),
the fields, and a CRC-16/CCITT-FALSE over everything before it. The CRC is the last two
octets of the packet data field, so the header's data length counts it.

A telecommand (type 1) carries instead a secondary header of key id (2 octets) and anti-replay
counter (4 octets), the command code (2 octets) and its arguments, then an HMAC-SHA256 tag
truncated to 16 octets over everything before it, then the CRC (see ``ground.telecommand``).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

PRIMARY_HEADER_LEN: Final[int] = 6
CUC_LEN: Final[int] = 6
CRC_LEN: Final[int] = 2
#: Octets a telemetry packet carries besides its fields.
TM_OVERHEAD: Final[int] = PRIMARY_HEADER_LEN + CUC_LEN + CRC_LEN
MAX_APID: Final[int] = 0x7FF
MAX_SEQ: Final[int] = 0x3FFF
SEQ_UNSEGMENTED: Final[int] = 0b11
CRC_INIT: Final[int] = 0xFFFF
FINE_PER_SECOND: Final[int] = 65536

PRIMARY_HEADER: Final = struct.Struct(">HHH")
CUC: Final = struct.Struct(">IH")

#: Telecommand secondary header (key id, anti-replay counter) and command code.
TC_HEADER: Final = struct.Struct(">HHHHIH")
TC_SEC_HEADER_LEN: Final[int] = 6
TC_CODE_LEN: Final[int] = 2
#: Octets before a telecommand's arguments.
TC_HEADER_LEN: Final[int] = PRIMARY_HEADER_LEN + TC_SEC_HEADER_LEN + TC_CODE_LEN
MAC_LEN: Final[int] = 16
#: Octets a telecommand carries besides its arguments.
TC_OVERHEAD: Final[int] = TC_HEADER_LEN + MAC_LEN + CRC_LEN
MAX_COUNTER: Final[int] = 0xFFFFFFFF


class PacketType(IntEnum):
    TM = 0
    TC = 1


def crc16(data: bytes | bytearray | memoryview, crc: int = CRC_INIT) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): ``binascii.crc_hqx`` is exactly it.

    Over a packet that ends in its own big-endian CRC the result is 0 (the residue check).
    """
    return binascii.crc_hqx(data, crc)


def tc_mac(key: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """A telecommand's tag: HMAC-SHA256 of everything before it, first 16 octets."""
    return hmac.new(key, data, hashlib.sha256).digest()[:MAC_LEN]


@dataclass(frozen=True)
class PrimaryHeader:
    """The CCSDS 133.0-B-2 primary header, checked on construction."""

    packet_type: PacketType
    apid: int
    seq: int
    data_length: int
    sec_header: bool = True
    seq_flags: int = SEQ_UNSEGMENTED
    version: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.apid <= MAX_APID:
            raise ValueError(f"APID {self.apid} outside 0..{MAX_APID}")
        if not 0 <= self.seq <= MAX_SEQ:
            raise ValueError(f"sequence count {self.seq} outside 0..{MAX_SEQ}")
        if not 0 <= self.data_length <= 0xFFFF:
            raise ValueError(f"data length {self.data_length} outside 0..65535")

    def pack(self) -> bytes:
        word0 = (
            (self.version << 13)
            | (int(self.packet_type) << 12)
            | (int(self.sec_header) << 11)
            | self.apid
        )
        return PRIMARY_HEADER.pack(word0, (self.seq_flags << 14) | self.seq, self.data_length)

    @classmethod
    def unpack(cls, data: bytes | bytearray | memoryview) -> PrimaryHeader:
        if len(data) < PRIMARY_HEADER_LEN:
            raise ValueError(f"primary header needs {PRIMARY_HEADER_LEN} octets, got {len(data)}")
        word0, word1, length = PRIMARY_HEADER.unpack_from(data)
        return cls(
            version=word0 >> 13,
            packet_type=PacketType((word0 >> 12) & 1),
            sec_header=bool((word0 >> 11) & 1),
            apid=word0 & MAX_APID,
            seq_flags=word1 >> 14,
            seq=word1 & MAX_SEQ,
            data_length=length,
        )


def cuc_seconds(coarse: int, fine: int) -> float:
    """CUC (4 octets coarse, 2 fine) -> seconds on the vehicle clock."""
    return coarse + fine / FINE_PER_SECOND
