"""SVG snapshots of the console's main screens (pytest-textual-snapshot; the README shows
them): the same made-up descent every time, on a fixed clock. After a deliberate change of
the screens, `pytest tests/test_console_snapshots.py --snapshot-update` renews them."""

from __future__ import annotations

import pytest

from ground.console.app import ConsoleApp
from ground.console.source import TelemetryBus
from ground.console.state import CommandRecord
from ground.history import CommandHistory
from ground.verifier import StageReport

from .consolefeed import T0, descent

END = 30.0  # seconds of descent shown


def console(tmp_path, leak: bool = False) -> ConsoleApp:
    app = ConsoleApp(
        TelemetryBus("tcp://127.0.0.1:9"),  # never started: the test feeds the events
        vehicle="LANDER-1",
        history=CommandHistory(tmp_path / "history.jsonl"),
        clock=lambda: T0 + END + 0.4,
    )
    for event in descent(END, leak_at=20.0 if leak else None):
        app.receive(event)
    return app


def fed(*keys: str):
    async def run_before(pilot) -> None:
        pilot.app.drain()
        for key in keys:
            await pilot.press(key)
        pilot.app.clear_notifications()
        if pilot.app.screen is pilot.app.screen_stack[0]:
            pilot.app.set_focus(None)  # no blinking cursor in a snapshot
        pilot.app.redraw()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_flight_director(snap_compare, tmp_path, size):
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=fed("f1"))


def test_parameters(snap_compare, tmp_path):
    assert snap_compare(console(tmp_path), terminal_size=(100, 30), run_before=fed("f2"))


def test_limits_with_a_leak(snap_compare, tmp_path):
    assert snap_compare(console(tmp_path, leak=True), terminal_size=(100, 30), run_before=fed("f3"))


def test_events(snap_compare, tmp_path):
    assert snap_compare(console(tmp_path, leak=True), terminal_size=(100, 30), run_before=fed("f4"))


def test_plots(snap_compare, tmp_path):
    assert snap_compare(console(tmp_path), terminal_size=(120, 36), run_before=fed("f5"))


def test_critical_command_dialog(snap_compare, tmp_path):
    keys = ("A", "R", "M", "enter")
    assert snap_compare(console(tmp_path), terminal_size=(80, 24), run_before=fed(*keys))


def commands_sent(app: ConsoleApp) -> ConsoleApp:
    """A session's commands: completed, failed on board with the vehicle's reason, refused
    by the ground segment's gateway, and not sent at all."""
    done = CommandRecord("SET_TM_RATE NAV 20", T0 + 5, gateway=True, gateway_outcome="COMPLETED")
    done.gateway_stages = [
        StageReport("ACCEPTED", "NONE", T0 + 5.1, 0.08),
        StageReport("STARTED", "NONE", T0 + 5.1, 0.09),
        StageReport("COMPLETED", "NONE", T0 + 5.2, 0.21),
    ]
    failed = CommandRecord("START_DESCENT", T0 + 9, gateway=True, gateway_outcome="FAILED")
    failed.gateway_stages = [
        StageReport("FAILED", "NOT_ALLOWED", T0 + 9.1, 0.07, None, "in phase IDLE, mode NOMINAL")
    ]
    refused = CommandRecord("ARM", T0 + 12, gateway=True, gateway_outcome="REFUSED")
    refused.refused = "ARM: NOT_ALLOWED: LANDER-1 is in mode SAFE; ARM needs NOMINAL"
    lost = CommandRecord("NOOP", T0 + 20, refused="link lost: the board went away")
    app.state.commands += [done, failed, refused, lost]
    return app


def test_commands_at_80_columns(snap_compare, tmp_path):
    """Every stage and reason in view at 80x24: the stages wrap, nothing is cut off."""
    app = commands_sent(console(tmp_path))
    assert snap_compare(app, terminal_size=(80, 24), run_before=fed("f6"))
