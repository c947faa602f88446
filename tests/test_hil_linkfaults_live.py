"""Link faults on a live virtual board, through the procedures API: a delayed link delays
verification, a cut link loses what it carried and the ground counts exactly that, and
repeated frames are counted as duplicates, one for one."""

from __future__ import annotations

import pytest

from ground.commander import CommanderCore
from ground.verifier import StageTimeouts
from hil.linkfaults import LinkFaults
from hil.procedures import Vehicle
from hil.station import Ground
from hil.target import VirtualTarget

pytestmark = [pytest.mark.vm, pytest.mark.pty]


def connect(target: VirtualTarget, faults: LinkFaults) -> tuple[Ground, Vehicle]:
    target.prepare({"seed": 2, "time_warp": 50, "autostart": True})
    ground = Ground(target.open(), faults=faults).start()
    vehicle = Vehicle(ground.bus, CommanderCore(target.key, target.counter))
    vehicle.reset_with(lambda: target.reset(vehicle))
    vehicle.wait(1.5)
    ground.start_faults()
    return ground, vehicle


def test_a_delayed_link_delays_every_verification(virtual_target):
    ground, vehicle = connect(virtual_target, LinkFaults(delay=0.4))
    try:
        verification = vehicle.send("PING", token=3)
        assert verification.stages[0].after >= 0.4  # the answer came back through the delay
        vehicle.await_telemetry("PONG.token", 3, within=60)
        ground.stop()
        assert ground.counted()["packets"] == ground.injected.packets > 0
    finally:
        ground.close()


def test_a_cut_loses_what_it_carried_and_the_ground_counts_it(virtual_target):
    ground, vehicle = connect(virtual_target, LinkFaults())
    try:
        assert ground.faults is not None
        ground.faults.cut(0.5)
        vehicle.wait(60)  # a second of real time at 50x: through the cut and after it
        ground.stop()
        injected, counted = ground.injected, ground.counted()
        assert injected.cut > 10
        assert counted["packets"] == injected.packets
        assert counted["missing"] == injected.missing > 0
    finally:
        ground.close()


def test_repeated_frames_are_duplicates_one_for_one(virtual_target):
    ground, vehicle = connect(virtual_target, LinkFaults(duplicate=0.05, seed=5))
    try:
        vehicle.wait(60)
        ground.stop()
        injected = ground.injected
        assert injected.duplicated > 5
        assert ground.counted()["packets"] == injected.packets
        assert ground.stats.duplicates == injected.duplicated
        assert ground.counted()["missing"] == 0
    finally:
        ground.close()


def test_a_lost_telecommand_times_out_and_says_which_stage(virtual_target):
    ground, vehicle = connect(virtual_target, LinkFaults(uplink_drop=1.0))
    try:
        lost = vehicle.send("NOOP", expect="TIMEOUT", timeouts=StageTimeouts(accepted=0.5))
        assert [s.stage for s in lost.stages] == ["TIMEOUT"] and lost.reason == "ACCEPTED"
        assert ground.injected.uplink_dropped == 1
    finally:
        ground.close()
