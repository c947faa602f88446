"""Telemetry from a vehicle, read until what a test or a campaign waits for has come.

Conditions, never fixed sleeps: each reader returns as soon as its condition holds and gives
up with TimeoutError (or returns what came) after its timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ground.bus import LinkState, Received, TelemetryBus
from ground.decoder import Packet, TelemetryDecoder
from ground.links import Link

__all__ = ["first_packets", "read_until"]


def read_until(
    link: Link | str,
    done: Callable[[list[Packet]], bool],
    decoder: TelemetryDecoder | None = None,
    timeout: float = 20,
) -> list[Packet]:
    """Packets from ``link`` (a Link or a URL, read through its telemetry bus) until
    ``done(packets)`` holds or the link closes; TimeoutError after ``timeout`` seconds."""
    packets: list[Packet] = []
    bus = TelemetryBus(link, decoder=decoder, reconnect=False)
    events = bus.queue()
    end = time.monotonic() + timeout
    with bus:
        while not done(packets):
            if time.monotonic() >= end:
                raise TimeoutError(f"gave up waiting after {timeout} s; got {len(packets)} packets")
            event = events.get(0.05)
            if isinstance(event, Received):
                packets.append(event.packet)
            elif isinstance(event, LinkState) and event.state == "closed":
                break
    return packets


def first_packets(port: str, count: int = 3, timeout: float = 10) -> list[str]:
    """Names of the first ``count`` packets a board sends on its serial port (fewer if they
    do not come within ``timeout`` seconds)."""
    seen: list[Packet] = []

    def enough(packets: list[Packet]) -> bool:
        seen[:] = packets
        return len(packets) >= count

    try:
        read_until(f"serial://{port}", enough, timeout=timeout)
    except TimeoutError:
        pass
    return [p.name for p in seen]
