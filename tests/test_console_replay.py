"""The console driven by a replayed capture (``file://``), headless with Textual's Pilot:
values appear with their units, a red value turns red on the parameters page and enters the
limits panel, events read as sentences, the end of the capture is shown, not a crash."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from ground.console.app import ConsoleApp
from ground.console.palette import STATE_STYLE
from ground.console.source import TelemetryBus

from .consolefeed import NOMINAL, frame
from .consolepilot import run, screen_text, type_text, wait_for


def capture(tmp_path: Path) -> Path:
    frames = [frame(name, 0, 10.0, **values) for name, values in NOMINAL.items()]
    frames.append(frame("EVENT", 0, 10.5, event_id=2, severity=0, arg1=3, arg2=4, arg3=7))
    low = {**NOMINAL["PROP"], "propellant_mass": 11.5}
    frames.append(frame("PROP", 1, 11.0, **low))
    path = tmp_path / "descent.bin"
    path.write_bytes(b"".join(frames))
    return path


def test_a_replay_drives_the_console(tmp_path: Path):
    bus = TelemetryBus(f"file://{capture(tmp_path)}")
    app = ConsoleApp(bus, vehicle="LANDER-1")

    async def session() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            bus.start()
            await wait_for(pilot, lambda: app.state.link.state == "closed", what="end of replay")
            await wait_for(pilot, lambda: "REPLAY END" in screen_text(app), what="status")
            # the flight page draws at 5 Hz: a replay this short may end before its next frame
            await wait_for(pilot, lambda: "9000.0 m" in screen_text(app), what="flight page")
            flight = screen_text(app)
            assert "BRAKING" in flight and "9000.0 m" in flight and "11.500 kg" in flight
            assert "PHASE_CHANGE BRAKING -> APPROACH (HIGH_GATE)" in flight

            await pilot.press("f2")
            await pilot.click("#param-search")
            await type_text(pilot, "propellant")
            await wait_for(pilot, lambda: "propellant_mass" in screen_text(app), what="search")
            assert "fuel_pressure" not in screen_text(app)
            table = app.pages["parameters"].query_one("#param-table")
            value = table.get_cell("PROP.propellant_mass", table.ordered_columns[3].key)
            assert isinstance(value, Text) and value.style == STATE_STYLE["RED"]
            assert "11.500" in value.plain

            await pilot.press("f3")
            await wait_for(pilot, lambda: "PROP.propellant_mass" in screen_text(app))
            limits = screen_text(app)
            assert "R<15 Y<40 kg" in limits and "NEW" in limits
            await pilot.press("f7")  # acknowledge
            await wait_for(pilot, lambda: "NEW" not in screen_text(app), what="acknowledged")

            await pilot.press("f4")
            await wait_for(pilot, lambda: "PHASE_CHANGE" in screen_text(app))
            assert app.is_running  # the end of the capture did not end the console

    run(session())
    bus.close()
