"""The command gateway's core: refusals with reasons, one counter each, restarts."""

from __future__ import annotations

import json
from pathlib import Path

from ground.decoder import TelemetryDecoder
from ground.history import CommandHistory
from ground.keys import KeyFileError, MemoryCounter, VehicleKey
from ground.mqtt.gateway import (
    Ack,
    BadRequest,
    CommandGateway,
    GatewayState,
    Request,
    parse_request,
)
from ground.telecommand import Telecommand
from tests import tmgen

KEY = VehicleKey("LANDER-1", 7, bytes(range(32)))


def gateway(
    state: GatewayState | None = None,
    history: CommandHistory | None = None,
    counter: MemoryCounter | None = None,
) -> CommandGateway:
    counter = counter or MemoryCounter()

    def keys(vehicle: str) -> VehicleKey:
        if vehicle != KEY.vehicle:
            raise KeyFileError(f"no key file for {vehicle}")
        return KEY

    return CommandGateway(keys=keys, counters=lambda v: counter, state=state, history=history)


def request(rid: str, command: str = "NOOP", **args: object) -> Request:
    return Request(rid, "LANDER-1", "ops", command, dict(args))


def packet(name: str, seq: int = 0, **values: object):
    raw = tmgen.build(
        {"name": name, "seq": seq, "coarse": 100, "fine": 0, "values": tmgen.values(name, **values)}
    )
    decoded = TelemetryDecoder().feed_packet(raw)
    assert decoded is not None
    return decoded


def verify(tc: Telecommand, stage: int, seq: int = 1):
    return packet(
        "TC_VERIFY", seq, cmd_code=tc.code, tc_seq=tc.seq, counter=tc.counter, stage=stage
    )


def test_refusals_say_why_before_anything_is_signed() -> None:
    g = gateway()
    cases = [
        (g.request(request("a"), known=False), "UNKNOWN_VEHICLE"),
        (g.request(request("b", "NO_SUCH"), known=True), "BAD_COMMAND"),
        (g.request(request("c", "SET_TM_RATE", packet="NAV", hz=9999), known=True), "BAD_COMMAND"),
        (g.request(request("d", "ABORT"), known=True), "CONFIRMATION_REQUIRED"),
        (g.request(Request("e", "OTHER", "ops", "NOOP", {}), known=True), "NO_KEY"),
    ]
    for ack, reason in cases:
        assert isinstance(ack, Ack)
        assert ack.body["stage"] == "REFUSED" and ack.body["final"]
        assert ack.body["reason"] == reason, ack.body
        assert ack.body["message"]
    assert g.seen("a") and g.seen("d")


def test_a_command_the_vehicles_mode_forbids_is_refused_with_the_mode() -> None:
    g = gateway()
    g.receive("LANDER-1", [packet("HK", mode=2, tc_key_id=KEY.key_id)], now=0.0)  # SAFE
    ack = g.request(Request("m", "LANDER-1", "ops", "ARM", {}, confirm=True), known=True)
    assert isinstance(ack, Ack) and ack.body["reason"] == "NOT_ALLOWED"
    assert ack.body["message"] == "ARM is allowed in mode NOMINAL; LANDER-1 is in mode SAFE"
    g.receive("LANDER-1", [packet("HK", seq=1, mode=1, tc_key_id=KEY.key_id)], now=1.0)  # NOMINAL
    assert isinstance(
        g.request(Request("n", "LANDER-1", "ops", "ARM", {}, True), known=True), Telecommand
    )


def test_two_operators_never_share_a_counter() -> None:
    g = gateway()
    tcs = [g.request(request(f"r{i}"), known=True) for i in range(20)]
    assert all(isinstance(tc, Telecommand) for tc in tcs)
    assert len({tc.counter for tc in tcs}) == 20  # type: ignore[union-attr]


def test_the_counter_follows_the_vehicles_hk() -> None:
    g = gateway()
    g.receive("LANDER-1", [packet("HK", tc_counter=500, tc_key_id=KEY.key_id)], now=0.0)
    tc = g.request(request("x"), known=True)
    assert isinstance(tc, Telecommand) and tc.counter == 501


def test_every_stage_is_acknowledged_and_recorded_with_the_requester(tmp_path: Path) -> None:
    history = CommandHistory(tmp_path / "history.jsonl")
    g = gateway(history=history)
    r = request("s1")
    tc = g.request(r, known=True)
    assert isinstance(tc, Telecommand)
    sent = g.released(r, tc, now=1000.0, link="sil://")
    assert sent.body["stage"] == "SENT" and sent.body["counter"] == tc.counter
    stages = [
        a.body["stage"] for s in (1, 2, 3) for a in g.receive("LANDER-1", [verify(tc, s)], 1000.1)
    ]
    assert stages == ["ACCEPTED", "STARTED", "COMPLETED"]
    (record,) = history.records()
    assert record["requester"] == "ops" and record["outcome"] == "COMPLETED"


def test_pending_verifications_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "gateway.json"
    counter = MemoryCounter()
    first = gateway(GatewayState.load(state), counter=counter)
    r = request("keep")
    tc = first.request(r, known=True)
    assert isinstance(tc, Telecommand)
    first.released(r, tc, now=1000.0, link="sil://")
    first.receive("LANDER-1", [verify(tc, 1)], 1000.2)
    del first  # the gateway stops here

    again = gateway(GatewayState.load(state), counter=counter)
    assert again.seen("keep")  # a copy of the request is not sent twice
    acks = again.receive("LANDER-1", [verify(tc, 2), verify(tc, 3)], 1000.5)
    assert [a.body["stage"] for a in acks] == ["STARTED", "COMPLETED"]
    assert [s["stage"] for s in acks[-1].body["stages"]] == ["ACCEPTED", "STARTED", "COMPLETED"]
    assert json.loads(state.read_text())["pending"] == []


def test_a_restart_after_the_deadline_times_out_the_command(tmp_path: Path) -> None:
    state = tmp_path / "gateway.json"
    first = gateway(GatewayState.load(state))
    r = request("late")
    tc = first.request(r, known=True)
    assert isinstance(tc, Telecommand)
    first.released(r, tc, now=1000.0, link="sil://")
    again = gateway(GatewayState.load(state))
    again.receive("LANDER-1", [], 1001.0)  # nothing restored before the vehicle is heard
    again.core("LANDER-1")
    (ack,) = again.expire(now=1010.0)
    assert ack.body["stage"] == "TIMEOUT" and ack.body["final"]


def test_malformed_requests_and_state_are_one_line(tmp_path: Path) -> None:
    for payload in (b"nope", b"[]", b'{"id": "a/b", "command": "NOOP"}', b'{"id": "x"}'):
        try:
            parse_request("V", "ops", payload)
        except BadRequest as exc:
            assert "\n" not in str(exc)
        else:
            raise AssertionError(payload)
    broken = tmp_path / "gateway.json"
    broken.write_text("{")
    try:
        GatewayState.load(broken)
    except KeyFileError as exc:
        assert str(broken) in str(exc)
    else:
        raise AssertionError("a broken state file was taken")
