"""The ground's telecommand bytes are exactly what the Construct reference builds, for every
command of the dictionary, and keep the properties the uplink's break-in relies on."""

from __future__ import annotations

import pytest
from construct import ChecksumError
from hypothesis import given, settings
from hypothesis import strategies as st

from ground.keys import VehicleKey
from ground.telecommand import build
from schemas import structs, wire

from . import tcgen

D = tcgen.DICTIONARY


@st.composite
def telecommands(draw: st.DrawFn) -> tuple:
    command = draw(st.sampled_from(D.commands))
    args = draw(tcgen.raw_args(command))
    counter = draw(st.integers(1, wire.MAX_COUNTER))
    secret = draw(st.binary(min_size=16, max_size=64))
    key = VehicleKey("V", draw(st.integers(0, 0xFFFF)), secret)
    return command, args, counter, key


@settings(max_examples=300)
@given(telecommands())
def test_ground_bytes_equal_construct_build(case):
    command, args, counter, key = case
    tc = build(D, command.name, args, key=key, counter=counter)
    reference = structs.tc_struct(command, D.apid)
    built = reference.build(
        {
            "body": {
                "value": {
                    "signed": {
                        "value": {
                            "header": {"seq": counter & wire.MAX_SEQ},
                            "key_id": key.key_id,
                            "counter": counter,
                            "args": args,
                        }
                    }
                }
            }
        },
        key=key.secret,
    )
    assert tc.packet == built
    assert len(tc.packet) == wire.TC_OVERHEAD + command.args_size
    parsed = reference.parse(tc.packet, key=key.secret).body.value.signed.value
    assert (parsed.counter, parsed.key_id, parsed.code) == (counter, key.key_id, command.code)
    assert wire.crc16(tc.packet) == 0  # the CRC closes the packet
    # The uplink's break-in argument: the COBS code byte is never 0x03 and the header's
    # first octet is 0x18..0x1F, so a 0x03 at the front of a frame is always a Ctrl-C.
    frame = tc.frame
    assert frame[0] == 0 and frame[1] != 3 and 0x18 <= frame[2] <= 0x1F


def test_a_tag_made_with_another_key_fails_the_reference_parse():
    tc = tcgen.signed("NOOP", 5)
    reference = structs.tc_struct(D["NOOP"], D.apid)
    with pytest.raises(ChecksumError):
        reference.parse(tc.packet, key=tcgen.OTHER_KEY.secret)


def test_the_tag_is_hmac_sha256_truncated_over_everything_before_it():
    import hashlib
    import hmac

    tc = tcgen.signed("SET_TM_RATE", 9, packet="NAV", hz=20)
    signed, tag = tc.packet[:-18], tc.packet[-18:-2]
    assert tag == hmac.new(tcgen.KEY.secret, signed, hashlib.sha256).digest()[:16]
    assert tc.packet[12:14] == (0x0010).to_bytes(2, "big")
    assert tc.describe() == "SET_TM_RATE packet=NAV hz=20"
    assert repr(tcgen.KEY) == "VehicleKey(vehicle='LANDER-1', key_id=1)"  # the secret stays out
