"""Telemetry for console tests: packets made the reference way (Construct), decoded by the
ground's decoder, and bus events carrying them at chosen ground times."""

from __future__ import annotations

from typing import Any

from ground.console.source import LinkState, Received
from ground.decoder import Packet, TelemetryDecoder

from . import tmgen

URL = "file://test.bin"


def frame(name: str, seq: int = 0, t: float = 0.0, **raw: Any) -> bytes:
    """One frame of packet ``name`` at vehicle time ``t`` with raw field values by name."""
    coarse = int(t)
    fine = int(round((t - coarse) * 65536)) & 0xFFFF
    body = {"name": name, "seq": seq, "coarse": coarse, "fine": fine}
    return tmgen.frame(tmgen.build({**body, "values": tmgen.values(name, **raw)}))


def packet(name: str, seq: int = 0, t: float = 0.0, **raw: Any) -> Packet:
    (decoded,) = TelemetryDecoder().feed(frame(name, seq, t, **raw))
    return decoded


def received(name: str, ground_time: float, seq: int = 0, t: float = 0.0, **raw: Any) -> Received:
    return Received(packet(name, seq, t, **raw), ground_time, URL)


def link(state: str, ground_time: float, reason: str = "") -> LinkState:
    return LinkState(state, URL, ground_time, reason)


#: Raw values of a vehicle in braking, every field in limits.
NOMINAL = {
    "HK": {"mode": 1, "phase": 3, "heap_free": 60000, "board_temp": 14000},
    "NAV": {
        "altitude": 9000.0,
        "lrf_range": 9100.0,
        "lrf_valid": 1,
        "q_w": 1.0,
        "vel_vertical": -40.0,
        "alt_sigma": 12.0,
    },
    "PROP": {
        "fuel_pressure": 36000,
        "ox_pressure": 36000,
        "fuel_temp": 2000,
        "ox_temp": 2000,
        "propellant_mass": 250.0,
        "throttle": 650,
        "thrust": 2000.0,
        "engine": 1,
        "pressurant_pressure": 13000,
    },
    "POWER": {"battery_voltage": 31000, "battery_current": 500, "state_of_charge": 90},
}
