"""The ground segment end to end: a virtual board, `lander ground`, real brokers, clients.

Several monitors and two operators on one vehicle at once; `lander ground` restarted with
a command in flight; everything through mosquitto or the embedded amqtt broker.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.bus import Received, TelemetryBus
from ground.history import CommandHistory
from ground.keys import load_key
from ground.mqtt.address import parse
from ground.mqtt.gateway import CommandGateway, GatewayState
from ground.mqtt.requester import CommandRefused, RemoteCommander
from ground.mqtt.station import GroundStation
from sil.board import VirtualBoard
from sil.link import provision_virtual_board
from tests.brokers import free_port, lander_ground, mosquitto

pytestmark = [pytest.mark.vm, pytest.mark.pty, pytest.mark.slow]

SIL = "sil://?time_warp=10&seed=3"


def until(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.fixture(name="station")
def station_fixture(tmp_path: Path) -> Iterator[tuple[str, GroundStation]]:
    with mosquitto(tmp_path / "mosquitto") as url:
        gateway = CommandGateway(
            keys=lambda v: load_key(v, create=False),
            state=GatewayState.load(tmp_path / "gateway.json"),
            history=CommandHistory(tmp_path / "history.jsonl"),
        )
        with GroundStation(parse(url), gateway, links=[f"{SIL}&flash={tmp_path / 'flash'}"]) as s:
            yield url, s


def test_monitors_and_two_operators_share_one_vehicle(station) -> None:  # type: ignore[no-untyped-def]
    url, ground = station
    vehicle = f"{url}/LANDER-1"
    monitors = [TelemetryBus(vehicle).start() for _ in range(3)]
    seen: list[list[Received]] = [[] for _ in monitors]
    for bus, log in zip(monitors, seen, strict=True):
        bus.subscribe(lambda e, log=log: log.append(e) if isinstance(e, Received) else None)
    try:
        until(lambda: all(any(r.packet.name == "HK" for r in log) for log in seen))

        async def operator(account: str) -> list[int]:
            user = url.replace("mqtt://", f"mqtt://{account}@")
            async with RemoteCommander(f"{user}/LANDER-1") as commander:
                done = []
                for _ in range(5):
                    v = await commander.send("NOOP")
                    assert v.outcome == "COMPLETED", v
                    done.append(v.counter)
                with pytest.raises(CommandRefused, match="UNKNOWN_VEHICLE"):
                    await RemoteCommander(f"{user}/NOBODY").send("NOOP")
                return done

        async def both() -> list[list[int]]:
            return list(await asyncio.gather(operator("alice"), operator("bob")))

        alice, bob = asyncio.run(both())
        assert len(set(alice + bob)) == 10  # no counter spent twice, none refused as REPLAY
        records = ground.gateway.history.records()
        assert sorted(r["requester"] for r in records) == ["alice"] * 5 + ["bob"] * 5
        assert {r["outcome"] for r in records} == {"COMPLETED"}
        # every monitor saw every completion, and lost nothing the ground did not
        own = ground.vehicles["LANDER-1"].decoder.stats
        for bus, log in zip(monitors, seen, strict=True):
            until(
                lambda log=log: (
                    sum(
                        r.packet.name == "TC_VERIFY" and r.packet.values["stage"] == "COMPLETED"
                        for r in log
                    )
                    >= 10
                )
            )
            assert bus.stats.missing <= own.missing
            assert bus.stats.duplicates == 0
    finally:
        for bus in monitors:
            bus.close()


def _ground(port: int, board: VirtualBoard, state: Path, history: Path) -> subprocess.Popen[str]:
    link = f"serial://{board.port}?vehicle=LANDER-1"
    return lander_ground(port, link, state, "--history", str(history), "--timeout", "60")


def test_ground_restarted_with_a_command_in_flight(tmp_path: Path) -> None:
    """Counters and the pending verification survive; clients reconnect by themselves."""
    flash = tmp_path / "flash"
    provision_virtual_board(flash, {"time_warp": "10", "seed": "3"})
    port, state, history = free_port(), tmp_path / "gateway.json", tmp_path / "history.jsonl"
    with VirtualBoard(flash) as board:
        ground = _ground(port, board, state, history)
        monitor = TelemetryBus(f"mqtt://127.0.0.1:{port}/LANDER-1").start()
        packets: list[Received] = []
        monitor.subscribe(lambda e: packets.append(e) if isinstance(e, Received) else None)
        try:

            async def scenario() -> None:
                nonlocal ground
                url = f"mqtt://ops@127.0.0.1:{port}/LANDER-1"
                async with RemoteCommander(url) as commander:
                    first = await commander.send("NOOP")
                    vm = board._vm
                    assert vm is not None
                    os.kill(vm.proc.pid, signal.SIGSTOP)  # the board hears, answers later
                    stages: list[str] = []
                    task = asyncio.create_task(
                        commander.send(
                            "PING", token=7, on_stage=lambda v, r: stages.append(r["stage"])
                        )
                    )
                    while "SENT" not in stages:
                        await asyncio.sleep(0.05)
                    ground.send_signal(signal.SIGKILL)  # mid-verification
                    ground.wait(10)
                    assert json.loads(state.read_text())["pending"]
                    ground = await asyncio.to_thread(_ground, port, board, state, history)
                    os.kill(vm.proc.pid, signal.SIGCONT)
                    second = await task
                    assert second.outcome == "COMPLETED"
                    assert stages[-1] == "COMPLETED"
                    third = await commander.send("NOOP")  # no REPLAY after the restart
                    assert first.counter is not None and second.counter is not None
                    assert first.counter < second.counter < third.counter  # type: ignore[operator]

            asyncio.run(scenario())
            count = len(packets)
            until(lambda: len(packets) > count + 20)  # the monitor came back by itself
            outcomes = [(r["command"], r["outcome"]) for r in CommandHistory(history).records()]
            assert outcomes == [("NOOP", "COMPLETED"), ("PING", "COMPLETED"), ("NOOP", "COMPLETED")]
        finally:
            monitor.close()
            ground.terminate()
            ground.wait(20)


def test_lander_cmd_and_monitor_over_the_embedded_broker(tmp_path: Path) -> None:
    port = free_port()
    ground = lander_ground(port, f"{SIL}&flash={tmp_path / 'flash'}", tmp_path / "gw.json")
    try:
        link = f"mqtt://127.0.0.1:{port}/LANDER-1"
        cmd = [sys.executable, "-m", "ground.cli", "cmd", "--link", link]
        done = subprocess.run(
            [*cmd, "SET_TM_RATE", "packet=NAV", "hz=20"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0].startswith("SET_TM_RATE packet=NAV hz=20  -> LANDER-1")
        assert "COMPLETED" in done.stdout
        refused = subprocess.run([*cmd, "ABORT"], capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "ABORT is critical" in refused.stderr
        monitor = subprocess.run(
            [sys.executable, "-m", "ground.cli", "monitor", "--link", link, "--duration", "3"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert monitor.returncode == 0 and "NAV" in monitor.stdout
        nav = subprocess.run(
            ["mosquitto_sub", "-p", str(port), "-t", "lander/LANDER-1/packet/NAV", "-C", "1"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        record = json.loads(nav.stdout)
        assert record.get("packet") == "NAV", record
        assert record["packet"] == "NAV" and record["identity"]["vehicle"] == "LANDER-1"
    finally:
        ground.terminate()
        ground.wait(20)
