"""A link that drops and comes back (a board on a TCP serial server that goes away), with
the console headless: LINK LOST shown at once, the console usable meanwhile, then BACK and
fresh values, with no restart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ground.console.app import ConsoleApp
from ground.console.source import TelemetryBus

from .consolefeed import TelemetryServer
from .consolepilot import run, screen_text, wait_for


@pytest.fixture(name="served")
def served_fixture() -> Iterator[tuple[TelemetryServer, TelemetryBus, ConsoleApp]]:
    """A console on a board's TCP serial server (HK at 20 Hz), closed after the test."""
    server = TelemetryServer()
    bus = TelemetryBus(f"tcp://127.0.0.1:{server.port}", backoff=(0.1, 0.5))
    try:
        yield server, bus, ConsoleApp(bus, vehicle="LANDER-1")
    finally:
        bus.close()
        server.close()


async def telemetry_shown(pilot: Any, bus: TelemetryBus, hk: Any) -> None:
    """The link started, and the console counting HK."""
    bus.start()
    await wait_for(pilot, lambda: hk.count > 5, what="telemetry")


def test_a_dropped_link_is_shown_and_comes_back(served):
    server, bus, app = served
    hk = app.state.parameters.packets["HK"]

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await telemetry_shown(pilot, bus, hk)
            server.drop()
            await wait_for(pilot, lambda: "LINK LOST" in screen_text(app), what="LINK LOST")
            await pilot.press("f4")  # still answering keys
            await wait_for(pilot, lambda: app.tabs.active == "events")
            seen = hk.count
            server.listen()
            await wait_for(pilot, lambda: "BACK" in screen_text(app), what="BACK")
            await wait_for(pilot, lambda: hk.count > seen + 5, what="fresh telemetry")
            assert app.state.link.drops == 1 and app.is_running

    run(session())


def test_a_vehicle_that_goes_silent_on_a_link_still_up_is_shown(served):
    """A hung flight computer (or a vehicle the ground segment lost) keeps the link up: after
    SILENCE seconds without a packet the top line says NO TM, in red; then telemetry again."""
    server, bus, app = served
    hk = app.state.parameters.packets["HK"]

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await telemetry_shown(pilot, bus, hk)
            assert "NO TM" not in screen_text(app)
            server.quiet.set()
            await wait_for(pilot, lambda: "NO TM" in screen_text(app), what="NO TM")
            assert app.state.link.state == "up" and app.status_bar.has_class("alarm")
            seen = hk.count
            server.quiet.clear()
            await wait_for(pilot, lambda: hk.count > seen, what="telemetry again")
            await wait_for(pilot, lambda: "NO TM" not in screen_text(app), what="NO TM gone")
            assert not app.status_bar.has_class("alarm") and app.state.link.drops == 0

    run(session())
