"""The firmware's generated encoder, run in the real MicroPython VM, makes exactly the bytes
Construct builds, for hypothesis-generated values of every packet."""

from __future__ import annotations

import json

import pytest
from cobs import cobs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil import vm

from . import tmgen

pytestmark = [pytest.mark.vm]

BATCH = r"""
import json, packets, framing
pkt = bytearray(packets.MAX_PACKET)
frame = bytearray(2 * packets.MAX_PACKET)
points = packets.new_points()
out = sys.stdout
for line in sys.stdin:
    case = json.loads(line)
    i = packets.NAMES.index(case["name"])
    s = points[i]
    for name, value in zip(case["fields"], case["values"]):
        setattr(s, name, value)
    coarse = case["coarse"]
    n = packets.PACKERS[i](pkt, case["seq"], coarse >> 16, coarse & 0xFFFF, case["fine"], s)
    crc = framing.crc16(pkt, n)
    pkt[n] = crc >> 8
    pkt[n + 1] = crc & 0xFF
    m = framing.cobs_encode(pkt, n + 2, frame)
    out.write(bytes(pkt[:n + 2]).hex() + " " + bytes(frame[:m]).hex() + "\n")
"""


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@given(st.lists(tmgen.packets(), min_size=6, max_size=24))
def test_firmware_bytes_equal_construct_build(batch):
    lines = []
    for p in batch:
        fields = [f.name for f in tmgen.DICTIONARY[p["name"]].fields]
        lines.append(json.dumps(p | {"fields": fields}))
    result = vm.run(BATCH, ("\n".join(lines) + "\n").encode())
    outputs = result.stdout.decode().split("\n")[: len(batch)]
    assert len(outputs) == len(batch)
    for p, line in zip(batch, outputs, strict=True):
        packet_hex, frame_hex = line.split()
        expected = tmgen.build(p)
        assert bytes.fromhex(packet_hex) == expected, p["name"]
        assert bytes.fromhex(frame_hex) == cobs.encode(expected) + b"\x00"


COBS_BATCH = r"""
import framing
buf = bytearray(1200)
back = bytearray(1200)
for line in sys.stdin:
    data = bytes.fromhex(line.strip())
    n = framing.cobs_encode(data, len(data), buf)
    m = framing.cobs_decode(buf, n - 1, back)
    print(bytes(buf[:n]).hex(), bytes(back[:m]).hex(), hex(framing.crc16(data, len(data))))
"""


@settings(max_examples=5, deadline=None)
@given(st.lists(st.binary(max_size=600), min_size=20, max_size=40))
def test_firmware_cobs_and_crc_match_the_ground(blobs):
    from schemas import wire

    stdin = "".join(b.hex() + "\n" for b in blobs).encode()
    lines = vm.run(COBS_BATCH, stdin).stdout.decode().splitlines()
    for blob, line in zip(blobs, lines, strict=True):
        encoded, decoded, crc = line.split(" ")
        assert bytes.fromhex(encoded) == cobs.encode(blob) + b"\x00"
        assert bytes.fromhex(decoded) == blob
        assert int(crc, 16) == wire.crc16(blob)


def test_firmware_crc_check_value():
    out = vm.run('import framing\nprint(hex(framing.crc16(b"123456789", 9)))').stdout
    assert out.strip() == b"0x29b1"
