"""Commands the vehicle must refuse, and a reset in the middle of the descent."""

from __future__ import annotations

import os

import pytest

from ground.keys import VehicleKey

pytestmark = pytest.mark.campaign


def test_a_command_signed_with_the_wrong_key_is_refused(vehicle):
    """Someone without the vehicle's key tries to arm it: BAD_MAC, counted, nothing moves."""
    # the vehicle's key id, so that the MAC is what the vehicle refuses, not the key id
    forged = vehicle.sign(
        "ARM", key=VehicleKey(vehicle.key.vehicle, vehicle.key.key_id, os.urandom(32))
    )
    refused = vehicle.send_telecommand(forged, expect="FAILED")
    assert refused.reason == "BAD_MAC"
    vehicle.await_telemetry("HK.tc_rej_bad_mac", 1, within=5)
    assert vehicle.latest("HK.phase") == "IDLE"
    assert vehicle.count("PHASE_CHANGE") == 0


def test_a_replayed_command_is_refused(vehicle):
    """An eavesdropper plays back a command the vehicle accepted: REPLAY, and it is not run
    twice."""
    ping = vehicle.sign("PING", token=77)
    vehicle.send_telecommand(ping)
    vehicle.await_telemetry("PONG.token", 77, within=5)
    replayed = vehicle.send_telecommand(ping, expect="FAILED")
    assert replayed.reason == "REPLAY"
    vehicle.await_telemetry("HK.tc_rej_replay", 1, within=5)
    assert len(vehicle.history("PONG.token")) == 1


def test_a_command_in_the_wrong_mode_is_refused(vehicle):
    """ARM is for NOMINAL mode: in MAINTENANCE it is refused; back in NOMINAL it is taken."""
    vehicle.send("SET_MODE", mode="MAINTENANCE")
    vehicle.await_event("MODE_CHANGE", to="MAINTENANCE", within=5)
    refused = vehicle.send("ARM", confirm=True, expect="FAILED")
    assert refused.reason == "NOT_ALLOWED"
    assert [s.stage for s in refused.stages] == ["FAILED"]
    vehicle.await_telemetry("HK.tc_rej_not_allowed", 1, within=5)
    vehicle.send("SET_MODE", mode="NOMINAL")
    vehicle.send("ARM", confirm=True)
    vehicle.await_event("PHASE_CHANGE", to="ARMED", within=5)


def test_a_reset_in_the_descent_is_noticed_as_a_new_boot(vehicle, ground):
    """The flight computer resets during braking: the ground sees a new boot (a BOOT event,
    the clock and sequence counts starting again), the vehicle is IDLE with its anti-replay
    counter kept, and it takes commands again."""
    vehicle.plot("NAV.altitude", "TRUTH.altitude", title="altitude (m)")
    vehicle.send("ARM", confirm=True)
    vehicle.send("START_DESCENT", confirm=True)
    vehicle.await_event("PHASE_CHANGE", to="BRAKING", within=70)
    counter = vehicle.latest("HK.tc_counter")
    vehicle.send("RESET", confirm=True)
    vehicle.await_event("BOOT", within=30)
    assert vehicle.boots == 2
    vehicle.await_telemetry("HK.phase", "IDLE", within=5)
    assert vehicle.latest("HK.uptime") < 5
    assert vehicle.latest("HK.tc_counter") >= counter
    vehicle.send("NOOP")
    assert [s.boot for s in vehicle.samples][-1] == 2
    times = [t for t, _ in vehicle.history("HK.uptime")]
    assert times == sorted(times)  # the ground's clock of the mission keeps running
    # Sequence counts started again at the boot: not thousands of packets lost or repeated.
    stats = ground.stats
    assert (stats.gaps, stats.missing, stats.duplicates) == (0, 0, 0)
