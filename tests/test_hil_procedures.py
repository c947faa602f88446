"""Where a procedure's awaits look, against a ground that has read far ahead of it (as on a
busy host, where the reader thread decodes a burst at once): M1's flight, read whole from a
capture before the procedure asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.bus import TelemetryBus
from ground.commander import CommanderCore
from ground.keys import VehicleKey
from hil.conditions import wait_for
from hil.procedures import ProcedureFailed, Vehicle
from sil import scenarios

pytestmark = [pytest.mark.vm]


@pytest.fixture(scope="module")
def m1_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("m1") / "m1.bin"
    path.write_bytes(scenarios.fly(scenarios.scenario_config("m1", seed=1)))
    return path


def test_what_follows_an_event_is_found_from_the_event_not_from_as_far_as_the_ground_read(
    m1_capture: Path,
) -> None:
    # M1: the rangefinder is readmitted at 556.8 s, rejected again at 559.7 s
    bus = TelemetryBus(f"file://{m1_capture}", reconnect=False)
    vehicle = Vehicle(bus, CommanderCore(VehicleKey("LANDER-1", 1, bytes(32)), 0))
    bus.start()
    try:
        wait_for(
            lambda: any(e.state == "closed" for e in vehicle.link_events),
            what="the whole capture read (to touchdown)",
        )
        readmitted = vehicle.await_event("LRF_READMITTED", within=700)
        # found although the ground read on to touchdown, and the mode changed three times
        vehicle.await_telemetry("NAV.nav_mode", "RANGE_AIDED", within=5, since=readmitted)
        with pytest.raises(ProcedureFailed):  # "now" is past it: the flight is all read
            vehicle.await_telemetry("NAV.nav_mode", "RANGE_AIDED", within=5, since="now")
    finally:
        bus.close()
