"""Fault protection in flight: rangefinder dead, stuck and noisy, a tank leak, a battery
under-voltage, and an operator's ABORT during braking. Each fault is injected the way a
test engineer would, by telecommand at the moment of the flight the procedure names, or,
where the outcome depends on the exact moment, scheduled at a fixed vehicle time."""

from __future__ import annotations

from typing import Any

import pytest

from hil.predicates import between, is_in
from hil.schedule import fault

from . import HORIZONTAL_LIMIT, VERTICAL_LIMIT

pytestmark = pytest.mark.campaign


def start_descent(vehicle):
    """Arm, start the descent, and wait for powered flight (braking)."""
    vehicle.send("ARM", confirm=True)
    vehicle.send("START_DESCENT", confirm=True)
    vehicle.await_telemetry("HK.phase", "BRAKING", within=70)


def lrf_failing(name: str, kind: str, magnitude: float = 0.0) -> Any:
    """A flight that starts itself and meets a rangefinder fault 580 s in, early in the
    approach (braking lasts about 8 minutes)."""
    faults = {"faults": [fault("LRF", kind, magnitude, at_s=580)]}
    return pytest.param(marks=pytest.mark.vehicle(autostart=True, config=faults), id=name)


@pytest.mark.parametrize(
    [],
    [
        lrf_failing("dead", "DROPOUT", 1.0),
        lrf_failing("stuck", "STUCK"),
        lrf_failing("noisy", "NOISE", 300.0),
    ],
)
def test_rangefinder_failing_in_the_approach_holds_the_descent(vehicle):
    """The rangefinder dies, freezes or turns noisy early in the approach (at a fixed
    vehicle time, so that the flight is the same on any host): fault protection declares
    it faulty, holds the descent on inertial navigation, and the vehicle lands."""
    vehicle.plot("NAV.altitude", "TRUTH.altitude", "NAV.lrf_range", title="altitude (m)")
    vehicle.await_event("FAULT_INJECTED", target="LRF", within=700)
    vehicle.await_event("LRF_FAULT", response="HOLD_DESCENT", within=60)
    vehicle.await_telemetry("NAV.guidance_mode", "HOLD_DESCENT", within=5)
    # Within the touchdown test limits (3 m/s, 1 m/s): INFO or WARNING, never CRITICAL.
    vehicle.await_event("TOUCHDOWN", severity=is_in(["INFO", "WARNING"]), within=400)
    vehicle.await_telemetry("HK.phase", "LANDED", within=5)


def test_tank_leak_in_the_descent_orbit_keeps_the_vehicle_in_orbit(vehicle):
    """A 0.5 kg/s propellant leak before PDI: gauging sees the propellant go, PROP_LEAK puts
    the vehicle in SAFE, and the engine never lights."""
    vehicle.plot("PROP.propellant_mass", title="gauged propellant (kg)")
    vehicle.send("ARM", confirm=True)
    vehicle.send("START_DESCENT", confirm=True)
    vehicle.await_event("PHASE_CHANGE", to="DESCENT_ORBIT", within=10)
    before = vehicle.latest("PROP.propellant_mass")
    vehicle.send("INJECT_FAULT", target="PROP", kind="LEAK", magnitude=0.5, confirm=True)
    vehicle.await_event("PROP_LEAK", response="SAFE", severity="CRITICAL", within=40)
    vehicle.await_event("PHASE_CHANGE", to="SAFE", within=5)
    vehicle.wait(70)  # past the time PDI would have come
    assert vehicle.count("PHASE_CHANGE", to="BRAKING") == 0
    assert {engine for _, engine in vehicle.history("PROP.engine")} == {"OFF"}
    assert vehicle.latest("PROP.propellant_mass") < before - 10


def test_battery_under_voltage_in_braking_sheds_loads_and_lands(vehicle):
    """Shorted cells during braking: BATTERY_UNDERVOLTAGE sheds the payload and heaters, the
    current drops and the landing goes on within limits."""
    vehicle.plot("POWER.battery_voltage", "POWER.battery_current", title="battery (V, A)")
    start_descent(vehicle)
    vehicle.send("INJECT_FAULT", target="BATTERY", kind="UNDERVOLTAGE", magnitude=9.0, confirm=True)
    vehicle.await_event("BATTERY_UNDERVOLTAGE", response="SHED_LOADS", within=60)
    vehicle.await_telemetry("POWER.loads", "SHED", within=5)
    # Braking lasts about 8 minutes, then approach and terminal descent: awaited phase by
    # phase, as in the nominal landing, so that no window depends on when the fault came.
    vehicle.await_event("PHASE_CHANGE", to="APPROACH", within=600)
    vehicle.await_event(
        "TOUCHDOWN",
        vertical=between(0.0, VERTICAL_LIMIT),
        horizontal=between(-HORIZONTAL_LIMIT, HORIZONTAL_LIMIT),
        within=200,
    )
    assert vehicle.latest("POWER.loads") == "SHED"


def test_abort_during_braking_returns_to_a_safe_orbit(vehicle):
    """The operator aborts early in braking: the vehicle burns back to orbit and is SAFE."""
    vehicle.plot("TRUTH.altitude", title="true altitude (m)")
    vehicle.plot("TRUTH.vel_horizontal", title="true horizontal velocity (m/s)")
    start_descent(vehicle)
    vehicle.await_telemetry("NAV.vel_horizontal", below=1400, within=150)
    vehicle.send("ABORT", confirm=True)
    vehicle.await_event("ABORT", severity="CRITICAL", within=10)
    vehicle.await_event("PHASE_CHANGE", to="ABORT", trigger="ABORT", within=10)
    vehicle.await_telemetry("NAV.guidance_mode", "TO_ORBIT", within=10)
    vehicle.await_event("PHASE_CHANGE", from_="ABORT", to="SAFE", within=400)
    assert vehicle.latest("TRUTH.altitude") > 12000
    assert vehicle.latest("TRUTH.vel_horizontal") > 1600
    assert vehicle.count("TOUCHDOWN") == 0
