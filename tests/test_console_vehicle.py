"""The console against the virtual board (the firmware in the real MicroPython VM behind a
real pty), headless with Textual's Pilot: live values, a command typed and verified, a
critical command held until confirmed, and the board going away shown without a crash."""

from __future__ import annotations

import pytest

from ground.console.app import ConsoleApp
from ground.console.confirm import ConfirmCommand
from ground.console.source import TelemetryBus
from ground.history import CommandHistory

from .consolepilot import run, screen_text, type_text, wait_for


@pytest.mark.vm
@pytest.mark.pty
def test_operating_the_virtual_board_from_the_console(board_link, ground_home):
    bus = TelemetryBus(board_link)
    history = CommandHistory(ground_home / "history.jsonl")
    app = ConsoleApp(bus, vehicle="LANDER-1", history=history)
    hk = app.state.parameters.packets["HK"]

    def phase() -> str:
        return str(hk.values.get("phase"))

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            bus.start()
            await wait_for(pilot, lambda: "IDLE" in screen_text(app), what="live HK")
            assert "LANDER-1" in screen_text(app) and "UP" in screen_text(app)

            # A command typed is sent, and its stages arrive.
            await type_text(pilot, "SET_TM_RATE HK 5")
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.state.commands[-1].status == "COMPLETED")
            stages = [s.stage for s in app.state.commands[-1].stages]
            assert stages == ["ACCEPTED", "STARTED", "COMPLETED"]
            await pilot.press("f6")
            await wait_for(pilot, lambda: "COMPLETED" in screen_text(app), what="history")
            assert "SET_TM_RATE HK 5" in screen_text(app)
            assert history.records()[-1]["outcome"] == "COMPLETED"

            # A critical command waits for a dialog; declined, nothing goes to the vehicle.
            accepted = hk.values["tc_accepted"]
            await type_text(pilot, "ARM")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCommand), what="dialog")
            assert "CRITICAL" in screen_text(app)
            await pilot.press("n")
            await wait_for(pilot, lambda: app.state.commands[-1].status == "NOT SENT")
            seen = hk.count
            await wait_for(pilot, lambda: hk.count >= seen + 3, what="three more HK")
            assert (hk.values["tc_accepted"], phase()) == (accepted, "IDLE")

            # Confirmed, it is sent and the vehicle arms.
            await type_text(pilot, "ARM")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCommand), what="dialog")
            await pilot.press("y")
            await wait_for(pilot, lambda: app.state.commands[-1].status == "COMPLETED")
            await pilot.press("f1")
            await wait_for(pilot, lambda: "ARMED" in screen_text(app), what="phase ARMED")

            # The board goes away: shown at once, the console stays usable.
            board_link.board.stop()
            await wait_for(pilot, lambda: "LINK LOST" in screen_text(app), what="link lost")
            await pilot.press("f2")
            await type_text(pilot, "NOOP")
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.state.commands[-1].status == "NOT SENT")
            assert "not sent" in screen_text(app)
            assert app.is_running

    run(session())
    bus.close()
