"""Telemetry from a vehicle, read until what a test or a campaign waits for has come.

Conditions, never fixed sleeps: each reader returns as soon as its condition holds and gives
up with TimeoutError (or returns what came) after its timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import serial

from ground.decoder import Packet, TelemetryDecoder
from ground.links import Link, LinkClosed

__all__ = ["first_packets", "read_until"]


def read_until(
    link: Link,
    done: Callable[[list[Packet]], bool],
    decoder: TelemetryDecoder | None = None,
    timeout: float = 20,
) -> list[Packet]:
    """Packets from ``link`` until ``done(packets)`` holds or the link closes; TimeoutError
    after ``timeout`` seconds."""
    decoder = decoder or TelemetryDecoder()
    packets: list[Packet] = []
    end = time.monotonic() + timeout
    while not done(packets):
        if time.monotonic() >= end:
            raise TimeoutError(f"gave up waiting after {timeout} s; got {len(packets)} packets")
        try:
            packets.extend(decoder.feed(link.read(0.05)))
        except LinkClosed:
            break
    return packets


def first_packets(port: str, count: int = 3, timeout: float = 10) -> list[str]:
    """Names of the first ``count`` packets a board sends on its serial port (fewer if it
    goes quiet for ``timeout`` seconds)."""
    decoder, names = TelemetryDecoder(), list[str]()
    with serial.Serial(port, timeout=0.1) as link:
        end = time.monotonic() + timeout
        while len(names) < count and time.monotonic() < end:
            names += [p.name for p in decoder.feed(link.read(4096))]
    return names
