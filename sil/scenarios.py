"""Named flight scenarios, and a runner that flies one in the real MicroPython VM.

A scenario is a fragment of the firmware's ``config.json``: terrain, faults injected at
given vehicle times (through the same ``Flight.inject_fault`` a telecommand calls),
commands, and switches that turn a protection off to reproduce the failure it exists for.
``lander sil --scenario NAME`` boots a virtual board with it; ``lander scenario NAME`` (and
the tests) fly it headless with :func:`fly`: the board's own ``main.py`` in the VM with a
Pico's heap, the time warp at its maximum, stopping two vehicle seconds after touchdown,
and returns the telemetry bytes.

The three lessons the flight model must let us test (../shared/lander-facts.md):
ispace M1 (2023), a true jump over a crater rim made the LRF be rejected for good;
ispace M2 (2025), the LRF gave its first valid range below ~900 m instead of 3 km;
Intuitive Machines IM-1 (2024), the LRF was inhibited from the start.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas import commands, model

from .board import find_micropython
from .firmware import install_sources

__all__ = ["Scenario", "SCENARIOS", "PHASES", "scenario_config", "fly", "summary"]

#: the dictionary's range of SET_TIME_WARP, and the flight computer's heap
MAX_WARP = int(commands.load()["SET_TIME_WARP"].arg("factor").high)
HEAP = model.load().heapsize

# Terrain along the track (metres from powered-descent initiation, height above the landing
# datum): the firmware's default mare, with a 600 m crater rim rising over 50 m under the
# approach. The vehicle flies over it and lands on the rim's far side; the rangefinder's
# beam, which looks ahead while the vehicle is tilted, crosses the wall back and forth.
CRATER_RIM_TRACK = [
    [-200000.0, 0.0],
    [60000.0, 250.0],
    [120000.0, -300.0],
    [121500.0, 300.0],
    [140000.0, 100.0],
    [250000.0, -150.0],
    [289000.0, -35.0],
    [291150.0, -40.0],
    [291200.0, 560.0],
    [292000.0, 590.0],
    [293500.0, 580.0],
    [330000.0, 80.0],
    [2000000.0, 0.0],
]

#: HK.phase (and PHASE_CHANGE's arguments): raw value -> name
PHASES = model.load()["HK"].field("phase").states

LRF, IMU, PROP, BATTERY = 1, 2, 3, 4
STUCK, DROPOUT, BIAS, NOISE, DEGRADED_RANGE, LEAK, UNDERVOLTAGE, INHIBIT = range(1, 9)


def _fault(target: int, kind: int, magnitude: float, at_s: float) -> dict[str, Any]:
    return {"target": target, "kind": kind, "magnitude": magnitude, "at_s": at_s}


@dataclass(frozen=True)
class Scenario:
    description: str
    config: dict[str, Any] = field(default_factory=dict)
    #: vehicle seconds after which a headless run stops if it has not landed
    halt_s: int = 900


SCENARIOS: dict[str, Scenario] = {
    "nominal": Scenario("default settings: descent orbit, PDI at 60 s, braking, approach, landing"),
    "crater_rim": Scenario(
        "a 600 m crater rim under the approach; the gate rejects the jump, then re-admits "
        "the LRF when its ranges agree (ispace M1 lesson)",
        {"terrain": {"points": CRATER_RIM_TRACK}},
    ),
    "crater_rim_m1": Scenario(
        "the crater rim with M1's logic (rejected once, ignored for good): reproduces the loss",
        {
            "terrain": {"points": CRATER_RIM_TRACK},
            "nav": {"readmit": False},
            "fdir": {"disable": ["LRF_FAULT"]},
        },
    ),
    "late_lrf": Scenario(
        "LRF first valid below 900 m instead of 3 km: LRF_LATE, hold the descent (ispace M2)",
        {"faults": [_fault(LRF, DEGRADED_RANGE, 900.0, 0)]},
    ),
    "lrf_inhibited": Scenario(
        "LRF inhibited from the start: its built-in test fails before PDI, SAFE (IM-1)",
        {"faults": [_fault(LRF, INHIBIT, 0, 0)]},
        halt_s=120,
    ),
    "lrf_inhibited_fixed": Scenario(
        "the inhibited LRF noticed in orbit, the ground clears it (CLEAR_FAULT at 30 s), "
        "re-arms and starts the descent again: the landing IM-1 could have had",
        {
            "faults": [dict(_fault(LRF, INHIBIT, 0, 0), clear_s=30)],
            "commands": [{"name": "arm", "at_s": 40}, {"name": "start_descent", "at_s": 41}],
        },
    ),
    "lrf_inhibited_unprotected": Scenario(
        "the inhibited LRF with its fault-protection rows off: a landing without altimeter",
        {
            "faults": [_fault(LRF, INHIBIT, 0, 0)],
            "fdir": {"disable": ["LRF_INHIBITED", "LRF_LATE", "LRF_FAULT"]},
        },
    ),
    "lrf_stuck": Scenario(
        "LRF output frozen during the approach: LRF_FAULT, hold the descent on inertial navigation",
        {"faults": [_fault(LRF, STUCK, 0, 400)]},
    ),
    "imu_dropout": Scenario(
        "IMU silent from mid-braking: IMU_FAULT, navigation switches to the engine model",
        {"faults": [_fault(IMU, DROPOUT, 1.0, 200)]},
    ),
    "tank_leak": Scenario(
        "0.5 kg/s propellant leak in the descent orbit: PROP_LEAK, SAFE, no PDI",
        {"faults": [_fault(PROP, LEAK, 0.5, 10)]},
        halt_s=120,
    ),
    "tank_leak_descent": Scenario(
        "0.3 kg/s leak during braking: PROP_LEAK, land now",
        {"faults": [_fault(PROP, LEAK, 0.3, 200)]},
    ),
    "overpressure": Scenario(
        "pressure regulator stuck open during braking: TANK_OVERPRESSURE, pressurant isolated",
        {"faults": [_fault(PROP, STUCK, 0.5, 200)]},
    ),
    "undervoltage": Scenario(
        "shorted cells in the descent orbit: BATTERY_UNDERVOLTAGE, SAFE, loads shed",
        {"faults": [_fault(BATTERY, UNDERVOLTAGE, 9.0, 10)]},
        halt_s=120,
    ),
    "undervoltage_descent": Scenario(
        "shorted cells during braking: BATTERY_UNDERVOLTAGE, loads shed, landing goes on",
        {"faults": [_fault(BATTERY, UNDERVOLTAGE, 9.0, 200)]},
    ),
    "loop_overrun": Scenario(
        "a flight computer too slow for its loop (1 us budget): LOOP_OVERRUN, telemetry shed",
        {"cycle_budget_us": 1},
        halt_s=30,
    ),
    "abort_to_orbit": Scenario(
        "ABORT 90 s into braking: burn back to a safe orbit, SAFE",
        {"commands": [{"name": "abort", "at_s": 150}]},
        halt_s=300,
    ),
    "abort_hover": Scenario(
        "ABORT during the approach: hover, then land",
        {"commands": [{"name": "abort", "at_s": 420}]},
    ),
}


def scenario_config(
    name: str, seed: int = 1, time_warp: float = MAX_WARP, halt: bool = True
) -> dict[str, Any]:
    """config.json of a named scenario; KeyError names the known ones."""
    try:
        scenario = SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise KeyError(f"unknown scenario {name!r} (known: {known})") from None
    config: dict[str, Any] = {"autostart": True, "seed": seed, "time_warp": time_warp}
    if halt:
        config.update({"halt_on_landing": True, "halt_s": scenario.halt_s})
    config.update(scenario.config)
    return config


def fly(config: dict[str, Any], timeout: float = 300) -> bytes:
    """Boot the firmware with ``config`` in the VM until it halts; return its telemetry.

    ``config`` should halt the run (``halt_on_landing``, ``halt_s``), as
    :func:`scenario_config` does.
    """
    with tempfile.TemporaryDirectory(prefix="lander-flight-") as flash:
        install_sources(Path(flash), config)
        proc = subprocess.run(
            [find_micropython(), "-X", f"heapsize={HEAP}", "main.py"],
            cwd=flash,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError("the firmware stopped with an error:\n" + "\n".join(tail))
    return proc.stdout


def summary(packets: list[Any]) -> dict[str, Any]:
    """What a flight came to: last phase, touchdown (its EVENT, and its figures: time,
    descent rate and horizontal speed in m/s, propellant in kg) and the events in order
    (:class:`ground.events.Event`)."""
    events = []
    touchdown = None
    phase = None
    for p in packets:
        if p.name == "HK":
            phase = p.values["phase"]
            continue
        event = p.event
        if event is None:
            continue
        events.append(event)
        if event.name == "TOUCHDOWN":
            touchdown = {"time": event.time, "event": event, **event.args}
        elif event.name == "PHASE_CHANGE":
            phase = event.args["to"]
    return {"phase": phase, "touchdown": touchdown, "events": events}
