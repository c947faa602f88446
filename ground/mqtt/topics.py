"""The ground segment's topic names, in one place (DESIGN.md, "Ground segment").

Everything of a vehicle lives under ``lander/<vehicle>/``:

==================  ==========================================================  ===============
topic               payload                                                     published by
==================  ==========================================================  ===============
``tm``              one raw CCSDS telemetry packet (CRC included, never framed)  the edge
``tc``              one raw authenticated telecommand packet                    the gateway
``status``          ``online`` / ``offline``, retained (the edge's last will)   the edge
``packet/<NAME>``   the decoded packet as JSON (``lander decode --format jsonl``)  the ground
``event``           decoded events                                              the ground
``alarm``           limit transitions                                           the ground
``link``            link statistics                                             the ground
``cmd/request``     a command request                                           operators
``cmd/ack/<id>``    the verification stages of request ``id``                   the ground
==================  ==========================================================  ===============
"""

from __future__ import annotations

__all__ = [
    "ROOT",
    "ONLINE",
    "OFFLINE",
    "tm",
    "tc",
    "status",
    "packet",
    "event",
    "alarm",
    "link",
    "cmd_request",
    "cmd_ack",
    "vehicle_of",
]

ROOT = "lander"
#: payloads of ``status``
ONLINE = b"online"
OFFLINE = b"offline"


def _topic(vehicle: str, leaf: str) -> str:
    return f"{ROOT}/{vehicle}/{leaf}"


def tm(vehicle: str) -> str:
    return _topic(vehicle, "tm")


def tc(vehicle: str) -> str:
    return _topic(vehicle, "tc")


def status(vehicle: str) -> str:
    return _topic(vehicle, "status")


def packet(vehicle: str, name: str) -> str:
    return _topic(vehicle, f"packet/{name}")


def event(vehicle: str) -> str:
    return _topic(vehicle, "event")


def alarm(vehicle: str) -> str:
    return _topic(vehicle, "alarm")


def link(vehicle: str) -> str:
    return _topic(vehicle, "link")


def cmd_request(vehicle: str) -> str:
    return _topic(vehicle, "cmd/request")


def cmd_ack(vehicle: str, request_id: str) -> str:
    return _topic(vehicle, f"cmd/ack/{request_id}")


def vehicle_of(topic: str) -> str | None:
    """The vehicle a topic belongs to (``lander/<vehicle>/...``), or None."""
    parts = topic.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == ROOT else None
