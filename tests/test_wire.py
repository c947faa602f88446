"""The wire contract's fixed points: CRC check value, header layout, Construct round trip."""

import pytest

from schemas import wire

from . import tmgen


def test_crc_is_ccitt_false_check_value():
    assert wire.crc16(b"123456789") == 0x29B1


def test_crc_residue_of_a_packet_is_zero():
    packet = tmgen.build(
        {
            "name": "HK",
            "seq": 5,
            "coarse": 1,
            "fine": 2,
            "values": tmgen.values("HK", mode=1, phase=2),
        }
    )
    assert wire.crc16(packet) == 0
    assert wire.crc16(packet[:-1] + bytes([packet[-1] ^ 1])) != 0


def test_primary_header_of_a_telemetry_packet():
    packet = tmgen.build(
        {
            "name": "NAV",
            "seq": 0x1234,
            "coarse": 0,
            "fine": 0,
            "values": [0.0] * 2 + [0, 0] + [0.0] * 12,
        }
    )
    header = wire.PrimaryHeader.unpack(packet)
    assert header.version == 0
    assert header.packet_type is wire.PacketType.TM
    assert header.sec_header
    assert header.apid == tmgen.DICTIONARY["NAV"].apid
    assert header.seq_flags == 0b11
    assert header.seq == 0x1234
    assert header.data_length == len(packet) - 7
    assert header.pack() == packet[:6]


@pytest.mark.parametrize("bad", [{"apid": 0x800}, {"seq": 0x4000}, {"data_length": -1}])
def test_header_rejects_out_of_range_fields(bad):
    args = {"packet_type": wire.PacketType.TM, "apid": 1, "seq": 0, "data_length": 0} | bad
    with pytest.raises(ValueError):
        wire.PrimaryHeader(**args)
