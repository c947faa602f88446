"""The virtual target as the harness drives it: a reset is over when the firmware that the
reset started is up, never because of what the port held from before."""

from __future__ import annotations

import pytest

from ground.commander import CommanderCore
from hil.conditions import wait_for
from hil.procedures import Vehicle
from hil.station import Ground

pytestmark = [pytest.mark.vm, pytest.mark.pty]


def test_the_first_command_after_the_first_reset_is_verified_even_with_a_0x03(virtual_target):
    """The first ground of a session decodes what the port held while its vehicle resets
    (the order a loaded machine gives), and its first command's frame carries a 0x03, as one
    in ten do: the command must reach a firmware that has turned Ctrl-C off, not one still
    starting (where the 0x03 would stop it), so the reset must not end on an earlier boot."""
    virtual_target.prepare({"seed": 1, "time_warp": 10000, "autostart": False})
    ground = Ground(virtual_target.open())
    vehicle = Vehicle(ground.bus, CommanderCore(virtual_target.key, virtual_target.counter))

    def reset() -> None:
        ground.start()
        wait_for(lambda: ground.bus.stats.packets > 0, what="what the port held, decoded")
        virtual_target.reset(vehicle)

    try:
        vehicle.reset_with(reset)
        arm = vehicle.sign("ARM")
        while 3 not in arm.frame:
            arm = vehicle.sign("ARM")
        assert [s.stage for s in vehicle.send_telecommand(arm).stages] == [
            "ACCEPTED",
            "STARTED",
            "COMPLETED",
        ]
        assert vehicle.boots == 1
    finally:
        vehicle.close()
        ground.close()
