"""Every MQTT topic of the ground segment, in one place for the ground process and the edges.

Under ``lander/<vehicle>/``:

=========================  ==============  ==================================================
topic                      who publishes   what
=========================  ==============  ==================================================
``tm``                     the edge        one raw CCSDS telemetry packet per message
                                           (a bridge, a Pico W, or ``lander ground`` for the
                                           links it owns)
``tc``                     the gateway     one raw signed telecommand packet per message
``status``                 the edge        retained ``online``, or ``offline`` with the
                                           reason after a colon (``offline: serial port
                                           lost: ...``); the edge's last will is
                                           ``offline``
``packet/<NAME>``          ground          decoded JSON, as ``lander decode --format jsonl``
``event``                  ground          decoded events (JSON)
``alarm``                  ground          limit transitions (JSON)
``link``                   ground          link statistics (JSON, about once a second)
``cmd/request/<account>``  an operator     a command request (JSON); the broker's ACL
                                           (``pattern write lander/+/cmd/request/%u``) makes
                                           ``<account>`` the requester's own account name
``cmd/ack/<request id>``   ground          every stage of that request (JSON)
=========================  ==============  ==================================================
"""

from __future__ import annotations

__all__ = [
    "ROOT",
    "tm",
    "tc",
    "status",
    "packet",
    "event",
    "alarm",
    "link",
    "cmd_request",
    "cmd_ack",
    "ALL_TM",
    "ALL_REQUESTS",
    "split",
    "ONLINE",
    "OFFLINE",
    "offline",
    "vehicle_status",
]

ROOT = "lander"
#: every vehicle's raw telemetry (what ``lander ground --vehicle-tm`` takes)
ALL_TM = f"{ROOT}/+/tm"
#: every vehicle's command requests (what the gateway takes)
ALL_REQUESTS = f"{ROOT}/+/cmd/request/+"


#: the retained ``status`` of a vehicle that is on the bus (bare: what an edge's will says
#: when it is gone without a word)
ONLINE = b"online"
OFFLINE = b"offline"


def offline(reason: str = "") -> bytes:
    """The ``status`` of a vehicle that is not on the bus, and why: ``offline: <reason>``."""
    return OFFLINE + (f": {reason}".encode() if reason else b"")


def vehicle_status(payload: bytes) -> tuple[bool, str]:
    """A ``status`` payload as (online, reason)."""
    state, _, reason = payload.decode(errors="replace").partition(":")
    return state.strip() == "online", reason.strip()


def tm(vehicle: str) -> str:
    return f"{ROOT}/{vehicle}/tm"


def tc(vehicle: str) -> str:
    return f"{ROOT}/{vehicle}/tc"


def status(vehicle: str) -> str:
    return f"{ROOT}/{vehicle}/status"


def packet(vehicle: str, name: str) -> str:
    return f"{ROOT}/{vehicle}/packet/{name}"


def event(vehicle: str) -> str:
    return f"{ROOT}/{vehicle}/event"


def alarm(vehicle: str) -> str:
    return f"{ROOT}/{vehicle}/alarm"


def link(vehicle: str) -> str:
    return f"{ROOT}/{vehicle}/link"


def cmd_request(vehicle: str, account: str) -> str:
    return f"{ROOT}/{vehicle}/cmd/request/{account}"


def cmd_ack(vehicle: str, request_id: str) -> str:
    return f"{ROOT}/{vehicle}/cmd/ack/{request_id}"


def split(topic: str) -> tuple[str, str] | None:
    """``lander/V/cmd/request/ops`` -> ``("V", "cmd/request/ops")``; None outside ``lander/``."""
    root, _, rest = topic.partition("/")
    vehicle, _, leaf = rest.partition("/")
    if root != ROOT or not vehicle or not leaf:
        return None
    return vehicle, leaf
