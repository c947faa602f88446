"""Verify: the board holds exactly the image, and the firmware on it runs.

Hashes are read back from the board (SHA-256 computed there) and compared with the image's.
That the firmware runs is proven the way an operator would check it: after the reset its
first telemetry packets arrive and decode, CRC and all, through the ground's telemetry bus.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ground.bus import LinkState, Received, TelemetryBus
from ground.decoder import Packet
from ground.links import LinkClosed, LinkError

from .errors import FlashError

__all__ = ["TELEMETRY_TIMEOUT", "mismatches", "first_packets"]

TELEMETRY_TIMEOUT = 60.0  # s after the reset for the first packets (a slow board too, such as an
# emulated Pico on a busy machine, which takes 20-30 s to boot the firmware; ends at once)
FIRST_PACKETS = 3  # that many packets decoded prove the firmware runs


def mismatches(expected: dict[str, str], actual: dict[str, str | None]) -> list[str]:
    """Names whose hash on the board is not the expected one (missing files included)."""
    return [name for name, digest in expected.items() if actual.get(name) != digest]


class _BoardReader:
    """The board's port, held by the flasher, as a link the telemetry bus can read."""

    reconnectable = False

    def __init__(self, read: Callable[[float], bytes], url: str) -> None:
        self.url = url
        self.lost: FlashError | None = None
        self._read = read

    def read(self, timeout: float = 0.1) -> bytes:
        try:
            return self._read(timeout)
        except FlashError as exc:  # BoardLost: said after the bus has stopped
            self.lost = exc
            raise LinkClosed(str(exc)) from None

    def write(self, data: bytes) -> None:
        raise LinkError("the flasher only listens to the board here")

    def close(self) -> None:
        """The flasher closes the port."""


def first_packets(
    read: Callable[[float], bytes], timeout: float = TELEMETRY_TIMEOUT, url: str = "the board"
) -> list[Packet]:
    """The first telemetry packets that ``read`` delivers within ``timeout`` seconds."""
    reader = _BoardReader(read, url)
    bus = TelemetryBus(reader, reconnect=False)
    events = bus.queue()
    packets: list[Packet] = []
    end = time.monotonic() + timeout
    with bus:
        while len(packets) < FIRST_PACKETS and (left := end - time.monotonic()) > 0:
            event = events.get(left)
            if isinstance(event, Received):
                packets.append(event.packet)
            elif isinstance(event, LinkState) and event.state == "closed":
                break
    if reader.lost is not None:
        raise reader.lost
    return packets
