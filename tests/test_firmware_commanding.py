"""The firmware's command handling in the real MicroPython VM: every refusal with its reason,
counted in HK and changing nothing; replays refused across a restart; a counter store that
a power cut cannot roll back."""

from __future__ import annotations

import struct

import pytest

from hil import onboard, vm

from . import tcgen

pytestmark = [pytest.mark.vm]

D = tcgen.DICTIONARY
frame = tcgen.frame


def _bad_frames() -> list[tuple[bytes, str]]:
    """Frames, each with the reason the vehicle must refuse it for."""
    good = tcgen.signed("SET_TM_RATE", 10, packet="NAV", hz=20).packet
    flipped = bytearray(good)
    flipped[15] ^= 0x40
    tm_header = bytearray(good)
    tm_header[0] = 0x09  # a telemetry packet's header, CRC made good
    long_length = good[:4] + b"\x00\x30" + good[6:-2]
    rate = D["SET_TM_RATE"].code
    return [
        (frame(b"\x19\x00\xc0"), "BAD_LENGTH"),  # too short to be a TC
        (frame(bytes(60)), "BAD_LENGTH"),  # longer than any TC
        (b"\x00\x05\x19\x00\x00", "BAD_LENGTH"),  # not COBS: a code byte runs past the end
        (frame(tcgen.with_crc(long_length)), "BAD_LENGTH"),  # data length disagrees
        (frame(tcgen.with_crc(bytes(tm_header[:-2]))), "BAD_LENGTH"),  # not a TC header
        (frame(bytes(flipped)), "BAD_CRC"),
        (frame(tcgen.forged(rate, struct.pack(">Hf", 0x20, 20.0), 11, key_id=2)), "UNKNOWN_KEY"),
        (frame(tcgen.signed("NOOP", 12, key=tcgen.OTHER_KEY).packet), "BAD_MAC"),
        (frame(tcgen.forged(0x7777, b"", 13)), "UNKNOWN_COMMAND"),
        (frame(tcgen.forged(D["PING"].code, b"\x01\x02\x03", 14)), "BAD_ARGUMENTS"),
        (frame(tcgen.forged(rate, struct.pack(">Hf", 0x20, 500.0), 15)), "OUT_OF_RANGE"),
        (frame(tcgen.forged(rate, struct.pack(">Hf", 0x20, float("nan")), 16)), "OUT_OF_RANGE"),
        (frame(tcgen.forged(rate, struct.pack(">Hf", 0x050, 1.0), 17)), "OUT_OF_RANGE"),
        (frame(tcgen.forged(D["SET_MODE"].code, b"\x00", 18)), "OUT_OF_RANGE"),
        (frame(tcgen.signed("NOOP", 18).packet), "REPLAY"),  # 18 was taken just above
        (frame(tcgen.signed("NOOP", 3).packet), "REPLAY"),  # older than the last one
    ]


def test_every_refusal_has_its_reason_is_counted_in_hk_and_changes_nothing(tmp_path):
    cases = _bad_frames()
    result = onboard.run(onboard.flash(tmp_path), [f for f, _ in cases])
    got = result.verifications()
    assert [(stage, reason) for _, _, stage, reason in got] == [
        ("FAILED", reason) for _, reason in cases
    ]
    # The echo identifies the command wherever the frame could be read.
    assert got[6][:2] == ("SET_TM_RATE", 11) and got[7][:2] == ("NOOP", 12)
    hk = result.hk
    expected: dict[str, int] = {}
    for _, reason in cases:
        expected[reason] = expected.get(reason, 0) + 1
    for reason, count in expected.items():
        assert hk[f"tc_rej_{reason.lower()}"] == count, reason
    assert hk["tc_rejected"] == len(cases) and hk["tc_accepted"] == 0
    assert result.after == result.before  # phase, mode, rates, clock, warp, flight state
    # The authenticated ones moved the counter (so they cannot be replayed when allowed).
    assert hk["tc_counter"] == 18
    assert result.named("EVENT") == []


def test_mode_and_phase_decide_what_is_allowed(tmp_path):
    stream = [
        tcgen.signed("SET_MODE", 1, mode="MAINTENANCE").frame,
        tcgen.signed("ARM", 2).frame,  # refused by the mode, before acceptance
        tcgen.signed("SET_MODE", 3, mode="NOMINAL").frame,
        tcgen.signed("ARM", 4).frame,
        tcgen.signed("ARM", 5).frame,  # refused by the flight model: already armed
    ]
    got = onboard.run(onboard.flash(tmp_path), stream).verifications()
    assert [(n, s, r) for n, _, s, r in got] == [
        ("SET_MODE", "ACCEPTED", "NONE"),
        ("SET_MODE", "STARTED", "NONE"),
        ("SET_MODE", "COMPLETED", "NONE"),
        ("ARM", "FAILED", "NOT_ALLOWED"),
        ("SET_MODE", "ACCEPTED", "NONE"),
        ("SET_MODE", "STARTED", "NONE"),
        ("SET_MODE", "COMPLETED", "NONE"),
        ("ARM", "ACCEPTED", "NONE"),
        ("ARM", "STARTED", "NONE"),
        ("ARM", "COMPLETED", "NONE"),
        ("ARM", "ACCEPTED", "NONE"),
        ("ARM", "STARTED", "NONE"),
        ("ARM", "FAILED", "NOT_ALLOWED"),
    ]


def test_no_key_on_board_refuses_everything_as_unknown_key(tmp_path):
    flash = onboard.flash(tmp_path)
    (flash / "tc.key").unlink()
    result = onboard.run(flash, [tcgen.signed("NOOP", 1).frame])
    assert [r for *_, r in result.verifications()] == ["UNKNOWN_KEY"]


def test_a_flash_that_cannot_keep_the_counter_fails_the_command_unrun(tmp_path):
    flash = onboard.flash(tmp_path)
    (flash / "tc_counter.0").mkdir()  # writing a slot now raises OSError
    (flash / "tc_counter.1").mkdir()
    result = onboard.run(flash, [tcgen.signed("ARM", 1).frame])
    assert [(s, r) for *_, s, r in result.verifications()] == [("FAILED", "EXECUTION_ERROR")]
    assert result.hk["tc_rej_execution_error"] == 1 and result.hk["tc_counter"] == 0
    assert result.after == result.before


def test_a_replayed_capture_is_refused_in_full_after_a_restart(tmp_path):
    flash = onboard.flash(tmp_path)
    capture = b"".join(
        tc.frame
        for tc in (
            tcgen.signed("NOOP", 7),
            tcgen.signed("PING", 8, token=99),
            tcgen.signed("SET_TM_RATE", 9, packet="NAV", hz=1),
            tcgen.signed("SET_MODE", 10, mode="MAINTENANCE"),
            tcgen.signed("ARM", 11),
        )
    )
    first = onboard.run(flash, capture)
    assert [s for *_, s, _ in first.verifications()].count("COMPLETED") == 4
    assert first.named("PONG")[0].raw_values["token"] == 99
    # A new boot of the same flash: the counter came back from the flash.
    replay = onboard.run(flash, capture)
    assert [(s, r) for *_, s, r in replay.verifications()] == [("FAILED", "REPLAY")] * 5
    assert replay.hk["tc_counter"] == 11 and replay.hk["tc_rej_replay"] == 5
    assert replay.after == replay.before  # NAV at its default rate, mode NOMINAL
    assert replay.named("PONG") == []
    fresh = onboard.run(flash, tcgen.signed("NOOP", 12).frame)
    assert [s for *_, s, _ in fresh.verifications()] == ["ACCEPTED", "STARTED", "COMPLETED"]


COUNTER_STORE = r"""
import os
from auth import CounterStore

def value():
    return CounterStore().value

s = CounterStore()
out = [s.value]
for v in (5, 6, 7):
    s.commit(v)
out.append(value())
newer = s.paths[s.slot]
# A power cut while the newer slot was being written: torn, empty, or gone.
for spoil in (b"\x00\x00", b"", b"\x00\x00\x00\x08\x00\x00", None):
    if spoil is None:
        os.remove(newer)
    else:
        with open(newer, "wb") as f:
            f.write(spoil)
    out.append(value())
s = CounterStore()
s.commit(9)  # goes to the spoilt slot; 6 stays in the other until the next commit
out.append(value())
print(out)
"""


def test_the_counter_store_survives_a_power_cut_mid_write(tmp_path):
    result = vm.run(COUNTER_STORE, cwd=tmp_path)
    # Fresh: 0. After 5, 6, 7: 7. With the newest slot spoilt any way: 6, the value before,
    # never less. Then a new commit on top.
    assert result.stdout.decode().strip() == "[0, 7, 6, 6, 6, 6, 9]"


KEYED_COUNTERS = r"""
from auth import CounterStore
from framing import crc16
s = CounterStore(key_id=7)
s.commit(500)
out = [CounterStore(key_id=7).value, CounterStore(key_id=8).value]
s = CounterStore(key_id=8)  # a new key: its own counter, from 0
s.commit(3)
out += [CounterStore(key_id=8).value, CounterStore(key_id=7).value]
# A record from before key ids were kept (u32 + CRC) belongs to the key held.
rec = bytearray(b"\x00\x00\x01\x00\x00\x00")
c = crc16(rec, 4)
rec[4], rec[5] = c >> 8, c & 0xFF
for path in ("old.0",):
    with open(path, "wb") as f:
        f.write(rec)
out.append(CounterStore("old", key_id=9).value)
print(out)
"""


def test_each_key_has_its_own_counter_and_an_old_record_belongs_to_the_key_held(tmp_path):
    result = vm.run(KEYED_COUNTERS, cwd=tmp_path)
    # Key 8 took the slot key 7's counter was in: a key put back starts from 0 (never reuse
    # one; the ground gives every new key an id no key file of its folder has).
    assert result.stdout.decode().strip() == "[500, 0, 3, 0, 256]"


def test_hk_never_stops_the_ground_learns_the_counter_from_it(tmp_path):
    stream = [
        tcgen.signed("SET_TM_RATE", 1, packet="HK", hz=0).frame,
        tcgen.signed("SET_TM_RATE", 2, packet="HK", hz=0.1).frame,
    ]
    got = onboard.run(onboard.flash(tmp_path), stream).verifications()
    assert [(c, s, r) for _, c, s, r in got if s in ("COMPLETED", "FAILED")] == [
        (1, "FAILED", "OUT_OF_RANGE"),
        (2, "COMPLETED", "NONE"),
    ]
