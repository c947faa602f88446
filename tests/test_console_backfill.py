"""The plots start full and the events are listed: a console opened on a live link whose
vehicle has an archive draws the recent past from it (written by the ground's own recorder
from a real link), then goes on live, with nothing lost or shown twice."""

from __future__ import annotations

import time
from pathlib import Path

from ground.archive import open_archive
from ground.archive.writer import BusRecorder
from ground.console.app import ConsoleApp
from ground.console.backfill import ArchiveHistory
from ground.console.source import TelemetryBus
from schemas.fingerprint import dictionary_hash

from .consolefeed import TelemetryServer
from .consolepilot import run, screen_text, wait_for


def record(server: TelemetryServer, location: str, packets: int, recorders: int = 1) -> None:
    """Archive ``packets`` packets from the live link, as `lander ground` or a console that
    owns the link does (``recorders=2``: both at once, the same packets twice)."""
    bus = TelemetryBus(f"tcp://127.0.0.1:{server.port}")
    dictionary = dictionary_hash()
    archiving = [
        BusRecorder(bus, location, dictionary=dictionary, vehicle="LANDER-1")
        for _ in range(recorders)
    ]
    bus.start()
    deadline = time.monotonic() + 30
    while any(r.writer is None or r.writer.written < packets for r in archiving):
        assert time.monotonic() < deadline, "the recorder archived too little"
        time.sleep(0.05)
    bus.close()
    for recorder in archiving:
        recorder.close()


def test_the_plots_start_with_the_archived_past_then_go_on_live(tmp_path: Path):
    server = TelemetryServer("NAV")
    location = str(tmp_path / "archive.sqlite")
    try:
        record(server, location, packets=20, recorders=2)
        with open_archive(location) as archive:
            rows = archive.parameter("NAV.altitude")
        first = {}  # each packet once (recorded twice), at its first receipt
        for r in rows:
            first.setdefault(r.vehicle_time, (r.ground_time, r.value))
        archived = sorted(first.values())
        assert len(rows) == 2 * len(archived)
        server.drop()
        server.listen()
        opened = time.time()
        bus = TelemetryBus(f"tcp://127.0.0.1:{server.port}")
        app = ConsoleApp(
            bus,
            vehicle="LANDER-1",
            plots=("NAV.altitude",),
            archive_history=ArchiveHistory(location, "LANDER-1"),
        )
        (series,) = app.state.plots.series

        async def session() -> None:
            async with app.run_test(size=(120, 36)) as pilot:
                await wait_for(pilot, lambda: series.points, what="the archived points")
                assert list(series.points) == [p for p in archived if p[0] >= opened - 60]
                bus.start()
                await wait_for(pilot, lambda: series.points[-1][0] > opened, what="live points")
                points = list(series.points)
                older = [t for t, _ in points if t < opened]
                assert len(older) >= 20 and points == sorted(points)
                assert len({t for t, _ in points}) == len(points)  # nothing twice

                await pilot.press("f5")
                await wait_for(pilot, lambda: "archived until -" in screen_text(app))

        run(session())
        bus.close()
    finally:
        server.close()


def test_the_events_before_the_console_opened_are_listed(tmp_path: Path):
    """A PROP_LEAK announced before the operator opened the console is still there to read
    (and to acknowledge)."""
    leak = {"event_id": 24, "severity": 2, "arg1": 5000, "response": 5}
    server = TelemetryServer("EVENT", **leak)
    location = str(tmp_path / "archive.sqlite")
    try:
        record(server, location, packets=3)
        server.drop()
        server.packet, server.raw = "HK", {}  # from now on, no event
        server.listen()
        opened = time.time()
        bus = TelemetryBus(f"tcp://127.0.0.1:{server.port}")
        history = ArchiveHistory(location, "LANDER-1")
        app = ConsoleApp(bus, vehicle="LANDER-1", archive_history=history)
        log = app.state.events

        async def session() -> None:
            async with app.run_test(size=(100, 30)) as pilot:
                bus.start()
                await pilot.press("f4")
                await wait_for(pilot, lambda: "PROP_LEAK" in screen_text(app), what="the leak")
                assert len(log.entries) >= 3
                assert all(e.ground_time < opened for e in log.entries)
                assert log.unacknowledged == len(log.entries)  # nobody acknowledged them here
                hk = app.state.parameters.packets["HK"]
                await wait_for(pilot, lambda: hk.count > 3, what="live telemetry")
                await pilot.press("f7")
                assert log.unacknowledged == 0

        run(session())
        bus.close()
    finally:
        server.close()
