"""A vehicle's telemetry through the ground segment: ``mqtt://host:port/<vehicle>``.

:class:`MqttLink` is a :class:`~ground.links.Link` like a serial port: it takes the
vehicle's ``tm`` topic (raw packets, whoever publishes them: ``lander ground`` for the links
it owns, a bridge, a Pico W) and gives them to the reader as the serial stream would carry
them, so ``monitor``, ``capture`` and ``decode`` run the same decoder on the same packets and
show the same results as on a direct link.

QoS 1 delivers at least once: a publisher that lost an acknowledgement sends the packet
again, and a subscriber cannot tell the copy by any flag. :class:`RedeliveryFilter` drops
it by content: a vehicle never sends the same octets twice (its sequence count and time
code move), so a packet equal to one just received is the broker's copy, not telemetry, and
is neither a second packet nor a gap.
"""

from __future__ import annotations

import queue
from collections import deque
from typing import Any

from cobs import cobs

from ..links import LinkClosed, LinkError
from . import topics
from .address import connect, parse

__all__ = ["MqttLink", "RedeliveryFilter"]


class RedeliveryFilter:
    """Remembers the last ``size`` packets; ``fresh(packet)`` is False for a copy of one."""

    def __init__(self, size: int = 256) -> None:
        self._recent: set[bytes] = set()
        self._order: deque[bytes] = deque()
        self.size = size
        #: copies dropped
        self.redelivered = 0

    def fresh(self, packet: bytes) -> bool:
        if packet in self._recent:
            self.redelivered += 1
            return False
        self._recent.add(packet)
        self._order.append(packet)
        if len(self._order) > self.size:
            self._recent.discard(self._order.popleft())
        return True


class MqttLink:
    """The ``tm`` of one vehicle as a byte stream; commands go to the gateway instead."""

    reconnectable = False  # the MQTT client reconnects by itself

    def __init__(self, url: str) -> None:
        self.address = parse(url, need_vehicle=True)
        self.url = self.address.url
        self.vehicle = self.address.vehicle
        self.redelivery = RedeliveryFilter()
        self._frames: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._closed = False
        topic = topics.tm(self.vehicle)
        self._client = connect(
            self.address,
            "link",
            on_connect=lambda c: c.subscribe(topic, qos=1),
            on_message=self._message,
        )

    def _message(self, client: Any, userdata: Any, message: Any) -> None:
        packet = bytes(message.payload)
        if packet and self.redelivery.fresh(packet):
            self._frames.put(cobs.encode(packet) + b"\x00")

    def read(self, timeout: float = 0.1) -> bytes:
        if self._closed:
            raise LinkClosed(f"{self.url} closed")
        try:
            first = self._frames.get(timeout=timeout)
        except queue.Empty:
            return b""
        chunks = [first]
        while True:
            try:
                chunks.append(self._frames.get_nowait())
            except queue.Empty:
                break
        if None in chunks:
            raise LinkClosed(f"{self.url} closed")
        return b"".join(c for c in chunks if c)

    def write(self, data: bytes) -> None:
        raise LinkError(
            f"{self.url}: commands go through the ground's command gateway, which holds the "
            "key: use `lander cmd --link mqtt://...` or ground.mqtt.requester.RemoteCommander"
        )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._frames.put(None)
            self._client.disconnect()
            self._client.loop_stop()
