"""The nominal descent flown end to end on silicon: the firmware flashed by `lander flash`
onto an emulated Pico, booted, flown from the descent orbit to touchdown at the firmware's
highest time warp (the emulated RP2040 then runs as fast as this machine lets it), decoded
by the ground from the board's USB console, and checked against the unix port's flight of
the same seed. The rp2 port computes in 32-bit floats, the unix port in 64-bit: over some
ten minutes of closed-loop flight the two trajectories part by a little, so the outcome and
the phases must be the same, and the touchdown's figures close.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest
import serial

from ground.decoder import Packet, TelemetryDecoder
from sil.scenarios import fly, outcome, scenario_config, summary
from sil.silicon.flashed import lander_flash

from .silicon_boards import board, copy_of_image

# Some 680 vehicle seconds: a vehicle second costs the emulated Pico 1 to 5 s of wall time on
# a shared 2-core machine (over 55 minutes when loaded twenty times over): too long for every
# `make test`, so `make silicon-descent` runs it.
pytestmark = [
    pytest.mark.silicon,
    pytest.mark.slow,
    pytest.mark.timeout(7200),
    pytest.mark.skipif(
        not os.environ.get("LANDER_SILICON_DESCENT"),
        reason="a whole descent on silicon takes up to an hour or more: make silicon-descent",
    ),
]

SEED = 5


def landed(packets: list[Packet]) -> bool:
    """The touchdown was reported and HK says where the flight ended."""
    td = any(p.name == "EVENT" and p.values["event_id"] == "TOUCHDOWN" for p in packets)
    return td and any(
        p.name == "HK" and p.values["phase"] in ("LANDED", "CRASHED") for p in packets
    )


def where(packets: list[Packet]) -> str:
    """How far the flight got: the last HK's vehicle time and phase."""
    hk = [p for p in packets if p.name == "HK"]
    return f"{hk[-1].time:.0f} vehicle s, {hk[-1].values['phase']}" if hk else "no HK"


def phases(result: dict[str, object]) -> list[str]:
    events = result["events"]
    assert isinstance(events, list)
    return [e.args["to"] for e in events if e.name == "PHASE_CHANGE"]


def test_the_nominal_descent_on_silicon_lands_as_on_the_unix_port(tmp_path: Path) -> None:
    config = scenario_config("nominal", seed=SEED)  # the highest warp; halts after landing
    flash, key = copy_of_image(tmp_path)
    with board(flash) as pico:
        lander_flash(pico.port, key, config)  # only config.json changes on the board
        decoder, packets = TelemetryDecoder(), []
        with serial.Serial(pico.port, timeout=0.2) as port:
            pico.reset(power=True)
            end = time.monotonic() + 6900
            while not landed(packets):
                assert time.monotonic() < end, f"not landed yet: {where(packets)}"
                packets += decoder.feed(port.read(4096))
    assert decoder.stats.missing == 0  # USB holds the firmware back rather than lose a packet
    silicon = summary(packets)
    unix = summary(TelemetryDecoder().decode_all(fly(config)))
    assert outcome(silicon) == outcome(unix) == "LANDED"
    assert phases(silicon) == phases(unix)
    ours, theirs = silicon["touchdown"], unix["touchdown"]
    assert isinstance(ours, dict) and isinstance(theirs, dict)
    print("touchdown on silicon", {k: v for k, v in ours.items() if k != "event"})
    print("touchdown on unix   ", {k: v for k, v in theirs.items() if k != "event"})
    assert math.isclose(ours["time"], theirs["time"], abs_tol=2.0)
    assert math.isclose(ours["vertical"], theirs["vertical"], abs_tol=0.2)
    assert math.isclose(ours["horizontal"], theirs["horizontal"], abs_tol=0.2)
    assert math.isclose(ours["propellant"], theirs["propellant"], rel_tol=0.02)
