"""The asyncio Commander against a virtual board (the whole firmware in the real MicroPython
VM behind a real pty): the happy path of every command, each seen doing what it says in
telemetry, the counter kept across the reset, and every command in the history with all its
stages."""

from __future__ import annotations

import asyncio
import getpass

import pytest

from ground.commander import (
    Commander,
    CommanderCore,
    CommandFailed,
    CommandTimeout,
    KeyMismatch,
)
from ground.history import CommandHistory
from ground.keys import MemoryCounter, VehicleKey
from ground.links import open_link
from ground.verifier import StageTimeouts

from . import tcgen


class Seen:
    """Packets the commander's reader hands to a subscriber, by name."""

    def __init__(self) -> None:
        self.packets: list = []

    def __call__(self, packet) -> None:
        self.packets.append(packet)

    def events(self) -> list[tuple[str, int, int]]:
        out = []
        for p in self.packets:
            if p.name == "EVENT":
                v = p.values
                out.append((v["event_id"], v["arg1"], v["arg2"]))
        return out


def test_every_command_does_what_it_says(board_link, tmp_path):
    history = CommandHistory(tmp_path / "history.jsonl")
    seen = Seen()
    vehicle_times: list[tuple[str, list[float]]] = []

    def boot_count() -> int:
        return sum(e == "BOOT" for e, _, _ in seen.events())

    async def session() -> list[tuple[str, str]]:
        core = CommanderCore(tcgen.KEY, MemoryCounter())
        outcomes = []
        async with Commander(board_link, core, history=history) as commander:
            commander.subscribe(seen)
            await commander.wait_for_telemetry(timeout=10)

            async def send(name: str, **args: object) -> None:
                try:
                    v = await commander.send(name, confirm=True, **args)
                except CommandFailed as exc:
                    v = exc.verification
                outcomes.append((name, [s.stage for s in v.stages], v.reason))
                vehicle_times.append((name, [s.vehicle_time for s in v.stages]))

            await send("NOOP")
            await send("PING", token=4000000000)
            await send("SET_TM_RATE", packet="HK", hz=5)
            await send("SET_TIME", coarse=1_000_000)
            await send("SET_TIME_WARP", factor=4)
            await send("SET_MODE", mode="MAINTENANCE")
            await send("SET_MODE", mode="NOMINAL")
            await send("ARM")
            await send("START_DESCENT")
            await send("INJECT_FAULT", target="LRF", kind="BIAS", magnitude=5.0)
            await send("CLEAR_FAULT", target="LRF")
            await send("ABORT")
            await send("SAFE")
            boots = boot_count()
            await send("RESET")
            # The board reboots (a BOOT event) with the counter from its flash.
            while boot_count() == boots:
                await asyncio.sleep(0.05)
            await send("NOOP")
            replayed = tcgen.signed("NOOP", core.counter.last)
            try:
                await commander.send_telecommand(replayed)
            except CommandFailed as exc:
                outcomes.append(("replayed NOOP", [], exc.verification.reason))
        return outcomes

    outcomes = asyncio.run(session())
    assert outcomes.pop() == ("replayed NOOP", [], "REPLAY")
    done = ["ACCEPTED", "STARTED", "COMPLETED"]
    for name, stages, reason in outcomes:
        if name in ("INJECT_FAULT", "CLEAR_FAULT") and reason == "NOT_ALLOWED":
            # The flight model decides; until it implements faults it refuses them.
            assert stages == ["ACCEPTED", "STARTED", "FAILED"]
            continue
        assert stages == done, (name, stages, reason)

    events = seen.events()
    assert [p.raw_values["token"] for p in seen.packets if p.name == "PONG"] == [4000000000]
    assert ("TM_RATE_CHANGED", 0x010, 5000) in events
    assert ("MODE_CHANGE", 1, 3) in events and ("MODE_CHANGE", 3, 1) in events
    phases = [(a, b) for e, a, b in events if e == "PHASE_CHANGE"]
    assert phases[:2] == [(0, 1), (1, 2)]  # IDLE -> ARMED -> DESCENT_ORBIT (PDI comes later)
    assert any(e == "ABORT" for e, _, _ in events)
    assert any(e == "SAFE_ENTERED" for e, _, _ in events)
    times = {name: stages for name, stages in vehicle_times}
    assert times["NOOP"][0] < 1_000_000 <= times["SET_TIME"][-1] <= times["SET_TIME_WARP"][0]
    records = history.records()
    assert [r["command"] for r in records] == [name for name, _, _ in outcomes] + ["NOOP"]
    assert records[-1]["outcome"] == "FAILED" and records[-1]["reason"] == "REPLAY"
    first = records[0]
    assert first["user"] == getpass.getuser() and first["outcome"] == "COMPLETED"
    assert [s["stage"] for s in first["stages"]] == done
    assert first["time"].endswith("Z") and first["key_id"] == 1
    assert tcgen.KEY.secret.hex() not in (tmp_path / "history.jsonl").read_text()


def test_a_vehicle_that_does_not_answer_times_out_with_a_clear_message(tmp_path):
    # pyserial's loop:// gives our own frames back: a link where no vehicle answers.
    link = open_link("loop://")
    history = CommandHistory(tmp_path / "history.jsonl")
    core = CommanderCore(tcgen.KEY, MemoryCounter(), timeouts=StageTimeouts(accepted=0.2))

    async def session() -> None:
        async with Commander(link, core, history=history, hk_timeout=0) as commander:
            await commander.send("NOOP")

    try:
        with pytest.raises(CommandTimeout) as info:
            asyncio.run(session())
    finally:
        link.close()
    assert str(info.value) == (
        "NOOP: no ACCEPTED within 0.2 s of release (is the vehicle receiving commands on loop://?)"
    )
    [record] = history.records()
    assert record["outcome"] == "TIMEOUT" and record["stages"][0]["stage"] == "TIMEOUT"


def test_a_new_ground_learns_the_vehicles_counter_before_it_signs(board_link):
    async def session(counter: MemoryCounter) -> list[str]:
        async with Commander(board_link, CommanderCore(tcgen.KEY, counter)) as commander:
            verification = await commander.send("NOOP")
            return [s.stage for s in verification.stages]

    assert asyncio.run(session(MemoryCounter(last=40))) == ["ACCEPTED", "STARTED", "COMPLETED"]
    restored = MemoryCounter()  # a new or restored ground machine: the key, no counter
    assert asyncio.run(session(restored)) == ["ACCEPTED", "STARTED", "COMPLETED"]
    assert restored.last == 42


def test_a_vehicle_holding_another_key_is_told_before_a_counter_is_spent(board_link):
    other = VehicleKey("LANDER-1", 2, tcgen.OTHER_KEY.secret)
    counter = MemoryCounter()

    async def session() -> None:
        async with Commander(board_link, CommanderCore(other, counter)) as commander:
            await commander.send("NOOP")

    with pytest.raises(KeyMismatch) as info:
        asyncio.run(session())
    assert str(info.value) == (
        "LANDER-1 holds key id 1 and this ground signs with key id 2: put this key on the "
        "vehicle (lander flash) or sign with the vehicle's key (--key-file)"
    )
    assert counter.last == 0
