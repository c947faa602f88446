"""No byte string stops the firmware: hypothesis feeds it random frames, corrupted commands
and correctly signed nonsense, in batches, inside the real MicroPython VM (192 KB heap)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ground.telecommand import build
from hil import onboard
from schemas import wire

from . import tcgen
from .test_firmware_heap import HEAP_MARGIN

pytestmark = [pytest.mark.vm, pytest.mark.slow]

D = tcgen.DICTIONARY
FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def flash(tmp_path_factory):
    return onboard.flash(tmp_path_factory.mktemp("flash"))


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    """A valid command with octets changed, then its CRC made good again (or not)."""
    command = draw(st.sampled_from(D.commands))
    args = draw(tcgen.raw_args(command))
    packet = bytearray(build(D, command.name, args, key=tcgen.KEY, counter=1).packet)
    for _ in range(draw(st.integers(1, 4))):
        packet[draw(st.integers(0, len(packet) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        packet = bytearray(tcgen.with_crc(bytes(packet[:-2])))
    cut = draw(st.integers(1, len(packet)))
    return bytes(packet[:cut])


unsigned_frames = st.lists(
    st.one_of(st.binary(min_size=1, max_size=80), corrupted()), min_size=50, max_size=200
)


@FUZZ
@given(unsigned_frames)
def test_any_unauthenticated_frame_is_refused_once_and_changes_nothing(flash, frames):
    result = onboard.run(flash, frames, frames=True)
    verifications = result.verifications()
    assert len(verifications) == len(frames)  # one answer each: nothing crashed
    assert {stage for _, _, stage, _ in verifications} == {"FAILED"}
    assert result.hk["tc_rejected"] == len(frames) and result.hk["tc_accepted"] == 0
    assert result.after == result.before
    # Of the 192 KB heap, after a collection: the margin the heap test asks of a whole
    # descent (tests/test_firmware_heap.py), which nonsense on the uplink must not eat.
    assert result.heap_free > HEAP_MARGIN


@FUZZ
@given(st.lists(st.binary(min_size=1, max_size=60), min_size=20, max_size=100))
def test_any_byte_stream_on_the_serial_port_is_survived(flash, chunks):
    # Through the uplink byte by byte: frames split on 0x00, a 0x03 at a frame's front is a
    # break-in (the firmware's designed way to stop), anything else is a refused frame.
    result = onboard.run(flash, b"\x00".join(chunks) + b"\x00")
    assert result.after == result.before
    assert all(stage == "FAILED" for _, _, stage, _ in result.verifications())


@st.composite
def signed_nonsense(draw: st.DrawFn, counter: int) -> bytes:
    """Correctly signed packets with any code (RESET aside: it ends the run) and any argument
    octets that fit the longest command (a longer frame is refused unread)."""
    codes = st.sampled_from([c.code for c in D]) | st.integers(0, 0xFFFF)
    code = draw(codes.filter(lambda c: c != D["RESET"].code))
    args = draw(st.binary(max_size=D.max_args_size))
    return tcgen.frame(tcgen.forged(code, args, counter))


@FUZZ
@given(st.data())
def test_signed_commands_with_any_code_and_arguments_always_get_an_outcome(tmp_path_factory, data):
    flash = onboard.flash(tmp_path_factory.mktemp("signed"))
    count = data.draw(st.integers(30, 120))
    stream = [data.draw(signed_nonsense(counter)) for counter in range(1, count + 1)]
    stream.append(tcgen.signed("NOOP", count + 1).frame)
    result = onboard.run(flash, b"".join(stream))
    outcomes = [(c, s) for _, c, s, _ in result.verifications() if s in ("COMPLETED", "FAILED")]
    assert [c for c, _ in outcomes] == list(range(1, count + 2))  # exactly one outcome each
    assert outcomes[-1] == (count + 1, "COMPLETED")  # and the firmware still commands
    assert result.hk["tc_counter"] == count + 1


def test_a_frame_of_every_length_up_to_the_uplink_limit_is_refused_once(flash):
    frames = [bytes([0x19]) * n for n in range(1, 301)]
    frames += [struct.pack(">B", n % 255 + 1) * n for n in range(1, wire.TC_OVERHEAD + 10)]
    result = onboard.run(flash, frames, frames=True)
    assert len(result.verifications()) == len(frames)
