"""Landings: the nominal descent, and the three lessons of recent landers
(../shared/lander-facts.md): ispace M1's crater rim, ispace M2's late rangefinder and
Intuitive Machines IM-1's inhibited rangefinder."""

from __future__ import annotations

import pytest

from hil.predicates import above, between, event, is_in

from . import HORIZONTAL_LIMIT, VERTICAL_LIMIT

pytestmark = pytest.mark.campaign

#: a touchdown within the design limits
SOFT = {
    "vertical": between(0.0, VERTICAL_LIMIT),
    "horizontal": between(-HORIZONTAL_LIMIT, HORIZONTAL_LIMIT),
    "propellant": above(0.0),
}


def test_nominal_landing(vehicle):
    """Arm, start the descent and follow it phase by phase to a soft landing."""
    vehicle.plot("NAV.altitude", "TRUTH.altitude", title="altitude (m)")
    vehicle.plot("NAV.vel_vertical", "TRUTH.vel_vertical", title="vertical velocity (m/s)")
    vehicle.send("ARM", confirm=True)
    vehicle.send("START_DESCENT", confirm=True)
    vehicle.await_event("PHASE_CHANGE", to="BRAKING", within=70)
    vehicle.await_event("PHASE_CHANGE", to="APPROACH", within=600)
    vehicle.await_telemetry("NAV.altitude", below=50, within=200)
    vehicle.await_event("TOUCHDOWN", **SOFT, severity="INFO", within=200)
    vehicle.await_event("PHASE_CHANGE", to="LANDED", within=5)
    vehicle.assert_events_in_order(
        event("PHASE_CHANGE", to="ARMED", trigger="ARM"),
        event("PHASE_CHANGE", to="DESCENT_ORBIT", trigger="START_DESCENT"),
        event("PHASE_CHANGE", to="BRAKING", trigger="PDI"),
        event("PHASE_CHANGE", to="APPROACH", trigger="HIGH_GATE"),
        event("PHASE_CHANGE", to="TERMINAL", trigger="LOW_GATE"),
        event("PHASE_CHANGE", to="LANDED", trigger="CONTACT"),
    )
    for when, rows in vehicle.history("HK.fdir_flags"):  # no row latched, ever
        assert not rows, f"fault protection latched {', '.join(rows)} at {when:.1f} s"


@pytest.mark.vehicle(scenario="m1", autostart=True)
def test_m1_crater_rim_jump_is_rejected_then_readmitted(vehicle):
    """ispace M1 (2023): the ground drops ~3 km at a crater rim; the rangefinder's jump is
    refused by the gate, as it was; unlike M1 it is re-admitted once its ranges agree, and
    the vehicle lands on the crater floor."""
    vehicle.plot("NAV.altitude", "TRUTH.altitude", "TRUTH.terrain", title="altitude (m)")
    vehicle.plot("NAV.innovation", title="rangefinder innovation (m)")
    vehicle.await_event("LRF_REJECTED", within=700)
    readmitted = vehicle.await_event("LRF_READMITTED", within=60)
    vehicle.await_telemetry("NAV.nav_mode", "RANGE_AIDED", within=5, since=readmitted)
    vehicle.await_event("TOUCHDOWN", **SOFT, within=300)
    vehicle.await_telemetry("HK.phase", "LANDED", within=5)
    assert vehicle.latest("TRUTH.terrain") < -2500  # on the crater floor
    assert readmitted.values["severity"] == "WARNING"


def test_m2_late_rangefinder_holds_the_descent(vehicle):
    """ispace M2 (2025): the rangefinder's first valid range comes below 900 m instead of
    3 km. Fault protection declares it late and holds the descent until it comes."""
    vehicle.plot("NAV.altitude", "NAV.lrf_range", title="altitude and range (m)")
    vehicle.send("INJECT_FAULT", target="LRF", kind="DEGRADED_RANGE", magnitude=900, confirm=True)
    vehicle.send("ARM", confirm=True)
    vehicle.send("START_DESCENT", confirm=True)
    vehicle.await_event("LRF_LATE", response="HOLD_DESCENT", within=600)
    vehicle.await_telemetry("NAV.guidance_mode", "HOLD_DESCENT", within=20)
    first_range = vehicle.await_telemetry("NAV.lrf_valid", "VALID", within=300)
    assert first_range == "VALID"
    assert vehicle.latest("NAV.lrf_range") < 910
    vehicle.await_event("TOUCHDOWN", **SOFT, within=300)
    held = [v for t, v in vehicle.history("NAV.vel_vertical")]
    assert min(held[-200:]) > -11.0  # never faster down than 10 m/s while held


def test_im1_plugged_rangefinder_is_flown_around_on_optical_navigation(vehicle):
    """IM-1 (2024): the rangefinder's safety plug was never pulled, and no command can pull
    it. Its self-test when armed catches it; with optical navigation loaded as the fallback
    the descent goes on, on the camera's altitude, and the vehicle lands."""
    vehicle.send("INJECT_FAULT", target="LRF", kind="INHIBIT", magnitude=0, confirm=True)
    vehicle.send("CLEAR_FAULT", target="LRF")
    vehicle.send("ARM", confirm=True)
    vehicle.await_event("LRF_INHIBITED", response="NONE", within=70)
    vehicle.await_telemetry("NAV.lrf_armed", "PLUGGED", within=5)  # still in
    vehicle.send("START_DESCENT", confirm=True)
    vehicle.await_event("PHASE_CHANGE", to="BRAKING", within=70)
    vehicle.await_telemetry("NAV.aid", "OPTICAL", within=700)
    vehicle.await_event("TOUCHDOWN", severity=is_in(["INFO", "WARNING"]), within=300)
    assert vehicle.count("LRF_BIT_PASSED") == 0
