"""Every refusal through a real pty to the firmware on the virtual board: each frame answered
with its reason, each reason counted in HK, a replayed capture refused in full."""

from __future__ import annotations

import pytest

from hil.telemetry import read_until

from . import tcgen
from .test_firmware_commanding import _bad_frames

pytestmark = [pytest.mark.vm, pytest.mark.pty]


def _verifications(packets):
    return [p.values for p in packets if p.name == "TC_VERIFY"]


def test_every_refusal_reason_through_a_real_pty(board_link):
    read_until(board_link, lambda packets: bool(packets))  # the firmware is up
    cases = _bad_frames()
    for frame, _ in cases:
        board_link.write(frame)
    packets = read_until(board_link, lambda got: len(_verifications(got)) == len(cases))
    got = [(v["stage"], v["reason"]) for v in _verifications(packets)]
    assert got == [("FAILED", reason) for _, reason in cases]

    def counted(packets):
        hk = [p for p in packets if p.name == "HK"]
        return bool(hk) and hk[-1].raw_values["tc_rejected"] == len(cases)

    packets = read_until(board_link, counted)
    hk = [p for p in packets if p.name == "HK"][-1].raw_values
    for reason in {reason for _, reason in cases}:
        expected = sum(r == reason for _, r in cases)
        assert hk[f"tc_rej_{reason.lower()}"] == expected, reason
    assert hk["tc_accepted"] == 0 and hk["phase"] == 0 and hk["mode"] == 1


def test_a_replayed_capture_is_refused_in_full(board_link):
    read_until(board_link, lambda packets: bool(packets))
    capture = b"".join(
        tcgen.signed(name, counter, **args).frame
        for counter, (name, args) in enumerate(
            [
                ("NOOP", {}),
                ("PING", {"token": 5}),
                ("SET_TM_RATE", {"packet": "NAV", "hz": 2}),
                ("SET_MODE", {"mode": "MAINTENANCE"}),
            ],
            start=1,
        )
    )
    board_link.write(capture)
    first = read_until(
        board_link, lambda got: [v["stage"] for v in _verifications(got)].count("COMPLETED") == 4
    )
    assert [v["reason"] for v in _verifications(first)] == ["NONE"] * 12
    board_link.write(capture)  # an eavesdropper plays it back
    again = read_until(board_link, lambda got: len(_verifications(got)) == 4)
    assert [(v["stage"], v["reason"]) for v in _verifications(again)] == [("FAILED", "REPLAY")] * 4
    assert not [p for p in again if p.name == "PONG"]
