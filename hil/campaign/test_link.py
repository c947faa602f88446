"""The link: a serial line with bit errors still delivers every intact packet."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.campaign


@pytest.mark.link_faults(ber=1e-4, seed=7)
@pytest.mark.vehicle(autostart=True)
def test_a_link_at_a_bit_error_rate_of_1e4_delivers_every_intact_packet(vehicle, ground):
    """At one bit in 10,000 flipped, a frame in a dozen is damaged: the ground counts each
    as a bad frame, decodes every frame that arrived intact, and notices the missing ones in
    the sequence counts."""
    vehicle.await_event("PHASE_CHANGE", to="BRAKING", within=70)
    vehicle.await_telemetry("NAV.altitude", below=8000, within=300)
    ground.stop()
    injected, counted = ground.injected, ground.counted()
    assert injected.corrupted > 20
    assert counted["packets"] == injected.packets
    assert counted["bad_frames"] == injected.bad_frames
    assert counted["missing"] == injected.missing
