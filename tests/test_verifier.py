"""The sans-I/O commander core: verification stages matched to the command sent, a window per
stage on the clock the caller passes in, confirmation of critical commands, and the
vehicle's counter learnt from HK."""

from __future__ import annotations

import pytest

from ground.commander import (
    CommanderCore,
    CommandFailed,
    CommandTimeout,
    ConfirmationRequired,
    outcome_error,
)
from ground.decoder import TelemetryDecoder
from ground.keys import MemoryCounter
from ground.verifier import StageTimeouts

from . import tcgen, tmgen

STAGE = {"ACCEPTED": 1, "STARTED": 2, "COMPLETED": 3, "FAILED": 4}
REASON = {"NONE": 0, "BAD_CRC": 1, "BAD_LENGTH": 2, "BAD_MAC": 4, "NOT_ALLOWED": 9}


def verify_packet(code, seq, counter, stage, reason="NONE", mode=1, phase=0):
    values = [code, seq, counter, STAGE[stage], REASON[reason], mode, phase]
    raw = tmgen.build({"name": "TC_VERIFY", "seq": 0, "coarse": 100, "fine": 0, "values": values})
    return TelemetryDecoder().decode_all(tmgen.frame(raw))


def core(**timeouts):
    return CommanderCore(tcgen.KEY, MemoryCounter(), timeouts=StageTimeouts(**timeouts))


def test_stages_of_the_command_sent_complete_it():
    c = core()
    tc = c.prepare("SET_TM_RATE", {"packet": "NAV", "hz": 20})
    v = c.release(tc, now=10.0)
    for now, stage in ((10.1, "ACCEPTED"), (10.2, "STARTED"), (10.3, "COMPLETED")):
        [(got, report)] = c.receive(verify_packet(tc.code, tc.seq, tc.counter, stage), now)
        assert got is v and report.stage == stage
        assert report.after == pytest.approx(now - 10.0) and report.vehicle_time == 100.0
    assert v.outcome == "COMPLETED" and outcome_error(v) is None
    assert c.next_deadline() is None  # nothing pending any more


def test_verifications_of_other_commands_are_not_taken_for_ours():
    c = core()
    tc = c.prepare("NOOP", {})
    c.release(tc, now=0.0)
    others = (
        verify_packet(tc.code, tc.seq, tc.counter + 1, "ACCEPTED"),  # another counter
        verify_packet(tc.code + 1, tc.seq, tc.counter, "ACCEPTED"),  # another command
    )
    for packets in others:
        assert c.receive(packets, now=0.1) == []
    assert c.verifier.unmatched == 2


def test_each_stage_has_its_own_window_from_the_stage_before():
    c = core(accepted=1.0, started=0.5, completed=3.0)
    tc = c.prepare("NOOP", {})
    v = c.release(tc, now=0.0)
    assert c.next_deadline() == 1.0
    assert c.expire(now=0.99) == []
    c.receive(verify_packet(tc.code, tc.seq, tc.counter, "ACCEPTED"), now=0.9)
    assert c.next_deadline() == pytest.approx(1.4)  # 0.5 s after ACCEPTED, not after release
    [(got, report)] = c.expire(now=1.4)
    assert got is v and v.outcome == "TIMEOUT" and report.reason == "STARTED"
    error = outcome_error(v, "serial:///dev/ttyACM0")
    assert isinstance(error, CommandTimeout)
    assert str(error) == (
        "NOOP: no STARTED within 0.5 s of ACCEPTED "
        "(is the vehicle receiving commands on serial:///dev/ttyACM0?)"
    )


def test_a_refusal_ends_the_verification_with_its_reason():
    c = core()
    tc = c.prepare("ARM", {}, confirm=True)
    v = c.release(tc, now=0.0)
    c.receive(verify_packet(tc.code, tc.seq, tc.counter, "FAILED", "BAD_MAC"), now=0.1)
    error = outcome_error(v)
    assert isinstance(error, CommandFailed)
    assert str(error) == f"ARM failed: BAD_MAC (refused, counter {tc.counter})"
    assert c.expire(now=100.0) == []  # over: no timeout later


def test_not_allowed_names_the_phase_and_mode_it_was_refused_in():
    c = core()
    tc = c.prepare("START_DESCENT", {}, confirm=True)
    v = c.release(tc, now=0.0)
    c.receive(verify_packet(tc.code, tc.seq, tc.counter, "ACCEPTED"), now=0.1)
    c.receive(verify_packet(tc.code, tc.seq, tc.counter, "STARTED"), now=0.1)
    failed = verify_packet(tc.code, tc.seq, tc.counter, "FAILED", "NOT_ALLOWED", mode=2, phase=7)
    [(_, report)] = c.receive(failed, now=0.2)
    assert report.reason == "NOT_ALLOWED" and report.context == "in phase SAFE, mode SAFE"
    assert str(outcome_error(v)) == (
        f"START_DESCENT failed: NOT_ALLOWED in phase SAFE, mode SAFE (after STARTED, counter "
        f"{tc.counter})"
    )
    assert report.to_dict()["context"] == "in phase SAFE, mode SAFE"


def test_an_unreadable_frame_is_matched_by_its_sequence_count():
    # A frame the vehicle could not read echoes what it could: here a garbled counter.
    c = core()
    tc = c.prepare("NOOP", {})
    v = c.release(tc, now=0.0)
    [(got, report)] = c.receive(verify_packet(0, tc.seq, 12345, "FAILED", "BAD_CRC"), now=0.1)
    assert got is v and report.reason == "BAD_CRC"


def test_critical_commands_need_confirmation():
    c = core()
    with pytest.raises(ConfirmationRequired, match="ABORT is critical"):
        c.prepare("ABORT", {})
    assert c.prepare("ABORT", {}, confirm=True).name == "ABORT"


def test_counters_rise_and_skip_past_what_the_vehicle_reports_in_hk():
    c = core()
    first = c.prepare("NOOP", {}).counter
    hk = tmgen.DICTIONARY["HK"]
    given = {"tc_counter": 500, "tc_key_id": tcgen.KEY.key_id}
    values = [given.get(f.name, 0) for f in hk.fields]
    packet = tmgen.build({"name": "HK", "seq": 0, "coarse": 0, "fine": 0, "values": values})
    c.receive(TelemetryDecoder().decode_all(tmgen.frame(packet)), now=0.0)
    assert c.vehicle_counter == 500
    assert c.prepare("NOOP", {}).counter == 501 > first
