"""The console over the ground segment (``mqtt://``): commands go to a real `lander ground`'s
command gateway as requests, its stages and refusals (with their reasons) appear as it
publishes them, another operator's commands appear too, and the console never holds the
vehicle's key."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ground.console.app import ConsoleApp
from ground.console.confirm import ConfirmCommand
from ground.console.source import TelemetryBus
from ground.history import CommandHistory
from ground.mqtt.requester import RemoteCommander
from tests.brokers import free_port, wait_listening

from .consolepilot import run, screen_text, type_text, wait_for

pytestmark = [pytest.mark.vm, pytest.mark.pty]


def lander_ground(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """`lander ground` on the embedded broker, owning a virtual board (idle on the pad); its
    keys in a folder of its own."""
    env = {**os.environ, "LANDER_KEY_DIR": str(tmp_path / "gateway-keys")}
    ground = subprocess.Popen(
        [
            sys.executable, "-m", "ground.cli", "ground", "--listen", str(port),
            "--link", f"sil://?time_warp=10&seed=3&autostart=0&flash={tmp_path / 'flash'}",
            "--state", str(tmp_path / "gateway.json"),
            "--history", str(tmp_path / "gateway-history.jsonl"),
            "--timeout", "60",  # stage windows a loaded machine cannot miss
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    assert ground.stderr is not None
    for line in ground.stderr:
        if line.startswith("lander ground: links sil://"):
            break
    else:
        raise AssertionError(f"lander ground did not start (exit {ground.wait(10)})")
    # What it says later is read (and dropped) so that a full pipe never stalls it.
    threading.Thread(target=ground.stderr.read, daemon=True).start()
    wait_listening(port)
    return ground


FINAL = ("COMPLETED", "FAILED", "TIMEOUT", "REFUSED", "NOT SENT")


async def outcome(pilot, app: ConsoleApp, record=None) -> str:  # type: ignore[no-untyped-def]
    """The last command's outcome (or ``record``'s), once it has one."""
    record = record or app.state.commands[-1]
    await wait_for(pilot, lambda: record.status in FINAL, timeout=120, what=record.text)
    return f"{record.status} {record.refused}".strip()


def test_commands_from_the_console_go_through_the_gateway(tmp_path: Path) -> None:
    port = free_port()
    ground = lander_ground(tmp_path, port)
    bus = TelemetryBus(f"mqtt://ops@127.0.0.1:{port}/LANDER-1")
    app = ConsoleApp(bus, vehicle="LANDER-1", history=CommandHistory(tmp_path / "console.jsonl"))
    hk = app.state.parameters.packets["HK"]

    async def session() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            bus.start()
            await wait_for(pilot, lambda: "IDLE" in screen_text(app), what="live HK")

            # A command is requested; the gateway signs it and its stages come back.
            await type_text(pilot, "SET_TM_RATE HK 5")
            await pilot.press("enter")
            assert await outcome(pilot, app) == "COMPLETED"
            record = app.state.commands[-1]
            assert [s.stage for s in record.stages] == ["ACCEPTED", "STARTED", "COMPLETED"]
            assert record.counter is not None
            await pilot.press("f6")
            await wait_for(pilot, lambda: "COMPLETED" in screen_text(app), what="history")

            # SAFE mode: the gateway refuses ARM (NOMINAL only) before signing, and says why.
            await type_text(pilot, "SAFE")
            await pilot.press("enter")
            assert await outcome(pilot, app) == "COMPLETED"
            await wait_for(pilot, lambda: hk.values.get("mode") == "SAFE", what="mode SAFE")
            accepted = hk.values["tc_accepted"]
            await type_text(pilot, "ARM")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCommand), what="dialog")
            await pilot.press("y")
            assert (await outcome(pilot, app)).startswith("REFUSED ARM: NOT_ALLOWED")
            await wait_for(pilot, lambda: "NOT_ALLOWED" in screen_text(app), what="the reason")
            assert "REFUSED" in screen_text(app)
            seen = hk.count
            await wait_for(pilot, lambda: hk.count >= seen + 2, what="two more HK")
            assert hk.values["tc_accepted"] == accepted  # nothing reached the vehicle

            # Another operator's command shows as it goes, named by who sent it.
            async with RemoteCommander(f"mqtt://bob@127.0.0.1:{port}/LANDER-1") as bob:
                await bob.send("PING", token=7)
            await wait_for(pilot, lambda: "bob: PING token=7" in screen_text(app), what="bob")
            bobs = [r for r in app.state.commands if r.text.startswith("bob:")]
            assert await outcome(pilot, app, bobs[0]) == "COMPLETED"
            assert len(bobs) == 1 and len(app.state.commands) == 4  # each command once

    try:
        run(session())
    finally:
        bus.close()
        ground.terminate()
        ground.wait(20)
    # The key stayed with the gateway: the console neither read nor made one.
    assert (tmp_path / "gateway-keys" / "LANDER-1.key").exists()
    assert not list(Path(os.environ["LANDER_KEY_DIR"]).glob("*.key"))
    gateway = [r["requester"] for r in CommandHistory(tmp_path / "gateway-history.jsonl").records()]
    assert gateway == ["ops", "ops", "bob"]
