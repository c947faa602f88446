"""Verify: the board holds exactly the image, and the firmware on it runs.

Hashes are read back from the board (SHA-256 computed there) and compared with the image's.
That the firmware runs is proven the way an operator would check it: after the reset its
first telemetry packets arrive and decode, CRC and all, with the ground's own decoder.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ground.decoder import Packet, TelemetryDecoder

__all__ = ["TELEMETRY_TIMEOUT", "mismatches", "first_packets"]

TELEMETRY_TIMEOUT = 15.0  # s after the reset for the first packets (a slow board too; ends at once)
FIRST_PACKETS = 3  # that many packets decoded prove the firmware runs


def mismatches(expected: dict[str, str], actual: dict[str, str | None]) -> list[str]:
    """Names whose hash on the board is not the expected one (missing files included)."""
    return [name for name, digest in expected.items() if actual.get(name) != digest]


def first_packets(
    read: Callable[[float], bytes], timeout: float = TELEMETRY_TIMEOUT
) -> list[Packet]:
    """The first telemetry packets that ``read`` delivers within ``timeout`` seconds."""
    decoder = TelemetryDecoder()
    packets: list[Packet] = []
    end = time.monotonic() + timeout
    while len(packets) < FIRST_PACKETS and time.monotonic() < end:
        packets += decoder.feed(read(0.1))
    return packets
