"""The bench edge: a board's serial port on one side, the ground segment's broker on the other.

``lander bridge`` sits next to a board and moves raw packets, nothing more: every good
telemetry packet the port delivers goes to ``lander/<vehicle>/tm`` as it was received (CRC
included, never re-framed), and every message on ``lander/<vehicle>/tc`` goes to the port
COBS-framed. It holds no key, so it can neither forge nor alter a command without the
firmware refusing it.

Either side may go away. The port is reopened with backoff by the
:class:`~ground.bus.TelemetryBus` that reads it; the broker is reconnected with backoff by
paho (:func:`ground.mqtt.address.connect`). While the broker is away telemetry waits in a
bounded queue (:class:`Backlog`), whose oldest packets are dropped, and counted, when the
outage outlasts it; at QoS 1 every packet still queued is delivered once the broker is
back. The retained ``status`` describes the vehicle as the bus sees it: ``online`` while
the bridge is connected and the board's port is open; ``offline: <reason>`` when the port is
lost (unplugged, reset) and ``online`` again when it comes back; ``offline: the bridge
stopped`` when it stops; plain ``offline``, its last will, when it dies or loses the
network.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from cobs import cobs

from .bus import Event, LinkState, Received, TelemetryBus
from .identity import IDENT, from_packet
from .links import LinkError
from .mqtt import topics
from .mqtt.address import BrokerAddress, connect

__all__ = ["Backlog", "Bridge", "BridgeStats"]

#: QoS 1 packets handed to the broker and not yet acknowledged, at most
WINDOW = 64
ONLINE = topics.ONLINE
OFFLINE = topics.OFFLINE


class Backlog:
    """A bounded FIFO of telemetry packets: when full, the oldest is dropped and counted."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.dropped = 0
        self._items: deque[bytes] = deque()
        self._lock = threading.Lock()

    def put(self, data: bytes) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.popleft()
                self.dropped += 1
            self._items.append(data)

    def take(self) -> bytes | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    def give_back(self, data: bytes) -> None:
        """Return a packet that could not be sent to the head of the queue."""
        with self._lock:
            if len(self._items) >= self.size:
                self.dropped += 1
                return
            self._items.appendleft(data)

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class BridgeStats:
    """What the bridge has moved and lost."""

    received: int = 0  # good packets from the port
    published: int = 0  # handed to the broker (QoS 0: written; QoS 1: acknowledged)
    dropped: int = 0  # oldest packets dropped when the backlog was full
    queued: int = 0  # waiting for the broker now
    commands: int = 0  # telecommands written to the port
    commands_lost: int = 0  # telecommands that came while the port was away
    connects: int = 0  # sessions with the broker


class Bridge:
    """Moves one vehicle's packets between a serial link and a broker.

    ``start()`` opens the port and logs in to the broker (a LinkError, one line, if either
    cannot be done); from then on both are reconnected when lost. ``close()`` says
    ``offline`` and stops both.
    """

    def __init__(
        self,
        link: str,
        broker: BrokerAddress,
        vehicle: str,
        *,
        qos: int = 1,
        buffer: int = 10000,
        notice: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.broker = broker
        self.vehicle = vehicle
        self.qos = qos
        self.notice = notice
        self.backlog = Backlog(buffer)
        self.bus = TelemetryBus(link, reconnect=True)
        self.topic_tm = topics.tm(vehicle)
        self.topic_tc = topics.tc(vehicle)
        self.topic_status = topics.status(vehicle)
        self._stats = BridgeStats()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._connected = False
        self._unacked = 0
        self._status_mids: set[int] = set()  # messages on status, not telemetry
        self._sender: threading.Thread | None = None
        self._seen_vehicle: str | None = None
        self._port_lost = ""  # why the board's port is away ("" while it is open)
        self.client: paho.Client | None = None

    # --- life -----------------------------------------------------------------------

    def start(self) -> Bridge:
        self.bus.subscribe(self._on_bus)
        self.bus.start()
        try:
            self.client = connect(
                self.broker,
                "bridge",
                on_connect=self._on_connect,
                on_message=self._on_message,
                will=(self.topic_status, OFFLINE),
            )
        except LinkError:
            self.bus.close()
            raise
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self._sender = threading.Thread(target=self._send, name="bridge sender", daemon=True)
        self._sender.start()
        return self

    def close(self) -> None:
        """Stop reading the port, say ``offline`` (retained) and leave the broker."""
        self.bus.close()
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._sender is not None:
            self._sender.join()
        if self.client is None:
            return
        if self._connected:
            info = self.client.publish(
                self.topic_status, topics.offline("the bridge stopped"), qos=1, retain=True
            )
            self._status_mids.add(info.mid)
            try:
                info.wait_for_publish(timeout=2)
            except RuntimeError:  # the connection went meanwhile: the will says it
                pass
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> Bridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def stats(self) -> BridgeStats:
        s = self._stats
        s.dropped = self.backlog.dropped
        s.queued = len(self.backlog) + self._unacked
        return BridgeStats(**vars(s))

    # --- serial to broker -----------------------------------------------------------

    def _on_bus(self, event: Event) -> None:
        if isinstance(event, Received):
            packet = event.packet
            self._stats.received += 1
            self.backlog.put(packet.data)
            if packet.name == IDENT:
                self._check_vehicle(packet)
            with self._wake:
                self._wake.notify()
        elif isinstance(event, LinkState) and event.state in ("lost", "back"):
            self.notice(
                f"serial link {event.state}" + (f": {event.reason}" if event.reason else "")
            )
            if event.state == "lost":
                self._port_lost = f"serial port lost: {event.reason or 'closed'}"
            else:
                self._port_lost = ""
            self._say_status()

    def _status(self) -> bytes:
        return topics.offline(self._port_lost) if self._port_lost else ONLINE

    def _say_status(self) -> None:
        """Publish the vehicle's status as it now is (retained; when connected)."""
        client = self.client
        if client is None or not self._connected:
            return  # said at the next connection
        info = client.publish(self.topic_status, self._status(), qos=1, retain=True)
        self._status_mids.add(info.mid)

    def _check_vehicle(self, packet: Any) -> None:
        identity = from_packet(packet)
        if identity is None or identity.vehicle == self._seen_vehicle:
            return
        self._seen_vehicle = identity.vehicle
        if identity.vehicle != self.vehicle:
            self.notice(
                f"the board says it is {identity.vehicle}, not {self.vehicle}: "
                f"its packets still go to {self.topic_tm} (--vehicle {identity.vehicle} "
                "would follow it)"
            )

    def _ready(self) -> bool:
        return self._stop.is_set() or (
            self._connected and len(self.backlog) > 0 and (self.qos == 0 or self._unacked < WINDOW)
        )

    def _send(self) -> None:
        """Hand queued packets to the broker while it is connected (QoS 1: a window of
        unacknowledged ones at a time, so that the backlog, not paho, holds the rest)."""
        while True:
            with self._wake:
                self._wake.wait_for(self._ready)
            if self._stop.is_set():
                return
            data = self.backlog.take()
            if data is None:
                continue
            if self.qos:
                with self._wake:
                    self._unacked += 1
            assert self.client is not None
            info = self.client.publish(self.topic_tm, data, qos=self.qos)
            if info.rc == paho.MQTT_ERR_NO_CONN and self.qos == 0:
                self.backlog.give_back(data)  # lost the broker just now: keep it for later
                with self._wake:
                    self._connected = False
            # at QoS 1 paho keeps an unsent packet and sends it again on reconnection

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, *rest: Any) -> None:
        if mid in self._status_mids or self._stop.is_set():
            self._status_mids.discard(mid)  # not telemetry (offline is said once stopped)
            return
        self._stats.published += 1
        if self.qos:
            with self._wake:
                self._unacked -= 1
                self._wake.notify()

    # --- broker ---------------------------------------------------------------------

    def _on_connect(self, client: paho.Client) -> None:
        """At every (re)connection, on the network thread."""
        self._stats.connects += 1
        # (its acknowledgement cannot come before the mid is noted: same thread)
        info = client.publish(self.topic_status, self._status(), qos=1, retain=True)
        self._status_mids.add(info.mid)
        client.subscribe(self.topic_tc, qos=1)
        self.notice(
            f"connected to {self.broker.url}: {self.topic_tm} <- packets, {self.topic_tc} -> port"
        )
        with self._wake:
            self._connected = True
            self._wake.notify()

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        with self._wake:
            was = self._connected
            self._connected = False
        if was and not self._stop.is_set():
            self.notice(
                f"lost {self.broker.url} ({reason}); reconnecting, "
                f"queueing up to {self.backlog.size} packets"
            )

    # --- broker to serial -----------------------------------------------------------

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if message.topic != self.topic_tc:
            return
        try:
            self.bus.write(cobs.encode(message.payload) + b"\x00")
        except LinkError as exc:
            self._stats.commands_lost += 1
            self.notice(f"a telecommand was lost: {exc}")
            return
        self._stats.commands += 1
