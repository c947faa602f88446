"""``lander ground``: owns vehicle links, publishes what they say, gates commands.

One process, threads at the edges and one worker at the core: each owned link has its
:class:`~ground.bus.TelemetryBus` reader, which only puts work on a queue; the worker drives
the MQTT client itself (:class:`~ground.mqtt.address.Pump`: no thread hop per message,
publications written in bursts), takes that queue, decodes the ``tm`` of vehicles that
publish themselves (each vehicle its own decoder and statistics), publishes decoded
packets, events, alarms and link statistics, and runs the command gateway
(:class:`~ground.mqtt.gateway.CommandGateway`), so the gateway's counters and
verifications are touched by one thread only.

For a link it owns, the ground also publishes the raw packets on ``tm``: clients decode the
same packets with the same decoder as on a direct link.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import paho.mqtt.client as paho

from schemas import model

from ..bus import LinkState, LinkStatistics, Received, TelemetryBus
from ..cli.decode import packet_record
from ..decoder import Packet, TelemetryDecoder
from ..keys import DEFAULT_VEHICLE
from ..limits import LimitWatch
from ..links import LinkClosed, LinkError
from ..telecommand import Telecommand
from . import topics
from .address import BrokerAddress, Pump, connect
from .gateway import Ack, BadRequest, CommandGateway, Request, parse_request, request_id_of
from .link import RedeliveryFilter

__all__ = ["GroundStation", "Vehicle"]

log = logging.getLogger(__name__)

STATISTICS_INTERVAL = 1.0  # s between link statistics of a vehicle
#: packets held for a link whose vehicle is not known yet (until its IDENT)
UNNAMED_BACKLOG = 2000


@dataclass
class Vehicle:
    """One vehicle as the ground sees it: its decoder, statistics, limits, and its link."""

    name: str
    decoder: TelemetryDecoder
    bus: TelemetryBus | None = None  # a link the ground owns; None: the vehicle's tm topic
    redelivery: RedeliveryFilter = field(default_factory=RedeliveryFilter)
    limits: LimitWatch = field(default_factory=LimitWatch)
    next_statistics: float = 0.0

    @property
    def link(self) -> str:
        return self.bus.url if self.bus is not None else topics.tm(self.name)

    def statistics(self) -> dict[str, Any]:
        stats: dict[str, Any] = dict(self.decoder.stats.as_dict())
        stats["redelivered"] = self.redelivery.redelivered
        return stats


class _Decoded(NamedTuple):
    """What the limit watch reads of a packet, its values decoded once."""

    definition: Any
    values: dict[str, Any]
    time: float


@dataclass
class _Owned:
    """A link the ground owns, and its vehicle once known."""

    bus: TelemetryBus
    vehicle: Vehicle | None = None
    backlog: list[Received] = field(default_factory=list)


class GroundStation:
    """``start()``, then ``run(stop)`` on the worker thread (or ``serve()`` on one of its own)."""

    def __init__(
        self,
        broker: BrokerAddress,
        gateway: CommandGateway,
        *,
        links: list[str] = (),  # type: ignore[assignment]
        vehicle_tm: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.broker = broker
        self.gateway = gateway
        self.vehicle_tm = vehicle_tm
        self.clock = clock
        self.vehicles: dict[str, Vehicle] = {}
        self.dictionary = model.load()  # once: a decoder a vehicle, made in microseconds
        self._owned = [_Owned(TelemetryBus(url, reconnect=True)) for url in links]
        self._work: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._client: paho.Client | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake = os.pipe()  # the bus readers wake the worker
        os.set_blocking(self._wake[0], False)
        os.set_blocking(self._wake[1], False)
        #: packets published on packet/<NAME> (all vehicles)
        self.published = 0

    @property
    def buses(self) -> list[TelemetryBus]:
        """The buses of the links this ground owns (to archive them)."""
        return [owned.bus for owned in self._owned]

    # --- life -----------------------------------------------------------------------

    def start(self) -> GroundStation:
        """Connect to the broker and open the links (LinkError says which cannot be)."""
        self._client = connect(
            self.broker,
            "ground",
            on_connect=self._subscribe,
            on_message=self._message,
            threaded=False,
        )
        self._pump = Pump(self._client)
        try:
            for owned in self._owned:
                owned.bus.subscribe(functools.partial(self._enqueue_bus, owned))
                owned.bus.start()
                name = _named_vehicle(owned.bus.url)
                if name is not None:
                    self._adopt(owned, name)
        except LinkError:
            self.close()
            raise
        return self

    def serve(self) -> GroundStation:
        """Run the worker on a thread of its own (tests, embedding)."""
        self.start()
        self._thread = threading.Thread(target=self.run, name="ground", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)
        for owned in self._owned:
            owned.bus.close()
        if self._client is not None:
            for owned in self._owned:
                if owned.vehicle is not None:
                    self._publish(
                        topics.status(owned.vehicle.name),
                        topics.offline("the ground stopped"),
                        qos=1,
                        retain=True,
                    )
            self._client.disconnect()
            self._client = None
        for fd in self._wake:
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake = (-1, -1)

    def __enter__(self) -> GroundStation:
        return self.serve()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the MQTT edge (network thread) -----------------------------------------------

    def _enqueue_bus(self, owned: _Owned, event: Any) -> None:
        self._work.put(("bus", owned, event))
        try:
            os.write(self._wake[1], b"!")
        except (BlockingIOError, OSError):
            pass  # the worker has a wake-up pending already

    def _subscribe(self, client: paho.Client) -> None:
        client.subscribe(topics.ALL_REQUESTS, qos=1)
        if self.vehicle_tm:
            client.subscribe(topics.ALL_TM, qos=1)

    def _message(self, client: Any, userdata: Any, message: Any) -> None:
        """On the worker (the pump reads): handled at once, publications queued."""
        self._handle(("mqtt", message.topic, bytes(message.payload), self.clock()))

    def _publish(
        self, topic: str, payload: bytes | str, *, qos: int = 0, retain: bool = False
    ) -> None:
        client = self._client
        if client is not None:
            client.publish(topic, payload, qos=qos, retain=retain)

    # --- the worker -----------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Do the ground's work until ``stop`` (or :meth:`close`) is set."""
        stop = stop if stop is not None else self._stop
        work = self._work
        wake = self._wake[0]
        while not stop.is_set() and not self._stop.is_set():
            now = self.clock()
            deadline = self.gateway.next_deadline()
            wait = 0.2 if deadline is None else min(0.2, max(0.0, deadline - now))
            if self._pump.turn(wait, [wake]):
                try:
                    os.read(wake, 4096)
                except BlockingIOError:
                    pass
            while True:
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    break
                self._handle(item)
            now = self.clock()
            self._acks(self.gateway.expire(now))
            self._statistics(now)

    def _handle(self, item: tuple[Any, ...]) -> None:
        try:
            if item[0] == "mqtt":
                self._mqtt(item[1], item[2], item[3])
            else:
                self._bus(item[1], item[2])
        except Exception:  # one bad message must not stop the ground
            log.exception("ground could not handle %r", item[:2])

    def _mqtt(self, topic: str, payload: bytes, now: float) -> None:
        where = topics.split(topic)
        if where is None:
            return
        vehicle, leaf = where
        if leaf == "tm":
            self._tm(vehicle, payload, now)
        elif leaf.startswith("cmd/request/"):
            self._request(vehicle, leaf.removeprefix("cmd/request/"), payload, now)

    def _tm(self, name: str, payload: bytes, now: float) -> None:
        vehicle = self.vehicles.get(name)
        if vehicle is None:
            vehicle = self.vehicles[name] = Vehicle(name, TelemetryDecoder(self.dictionary))
        if vehicle.bus is not None or not vehicle.redelivery.fresh(payload):
            return  # our own republication of a link we own, or the broker's copy
        packet = vehicle.decoder.feed_packet(payload)
        if packet is not None:
            self._packets(vehicle, [packet], now)

    def _bus(self, owned: _Owned, event: Any) -> None:
        if isinstance(event, Received):
            if owned.vehicle is None:
                name = _ident_vehicle(owned.bus, event.packet)
                if name is None:
                    if len(owned.backlog) < UNNAMED_BACKLOG:
                        owned.backlog.append(event)
                    return
                self._adopt(owned, name)
            assert owned.vehicle is not None
            vehicle = owned.vehicle
            self._publish(topics.tm(vehicle.name), event.packet.data, qos=1)
            self._packets(vehicle, [event.packet], event.ground_time)
        elif isinstance(event, LinkStatistics) and owned.vehicle is not None:
            self._publish_statistics(owned.vehicle, event.ground_time)
        elif isinstance(event, LinkState) and owned.vehicle is not None:
            if event.state in ("up", "back"):
                state = topics.ONLINE
            else:
                state = topics.offline(f"link {event.state}: {event.reason or event.link}")
            self._publish(topics.status(owned.vehicle.name), state, qos=1, retain=True)

    def _adopt(self, owned: _Owned, name: str) -> None:
        vehicle = Vehicle(name, owned.bus.decoder, owned.bus)
        self.vehicles[name] = owned.vehicle = vehicle
        self._publish(topics.status(name), topics.ONLINE, qos=1, retain=True)
        backlog, owned.backlog = owned.backlog, []
        for event in backlog:
            self._bus(owned, event)

    def _packets(self, vehicle: Vehicle, packets: list[Packet], now: float) -> None:
        name = vehicle.name
        identity = vehicle.decoder.identity.current
        seen = []
        for packet in packets:
            values = packet.values  # once: the record and the limits both need them
            seen.append(_Decoded(packet.definition, values, packet.time))
            record = packet_record(packet, identity, values)
            record["ground_time"] = now
            self._publish(topics.packet(name, packet.name), json.dumps(record))
            self.published += 1
            if "event" in record:
                event = dict(record["event"], time=packet.time, ground_time=now)
                self._publish(topics.event(name), json.dumps(event), qos=1)
        for transition in vehicle.limits.update(seen):
            alarm = {
                "time": transition.time,
                "ground_time": now,
                "packet": transition.packet,
                "field": transition.field,
                "kind": transition.kind,
                "before": transition.before,
                "after": transition.after,
                "value": _plain(transition.value),
                "text": str(transition),
            }
            self._publish(topics.alarm(name), json.dumps(alarm), qos=1)
        self._acks(self.gateway.receive(name, packets, now))

    def _statistics(self, now: float) -> None:
        for vehicle in self.vehicles.values():
            if vehicle.bus is None and now >= vehicle.next_statistics:
                self._publish_statistics(vehicle, now)

    def _publish_statistics(self, vehicle: Vehicle, now: float) -> None:
        vehicle.next_statistics = now + STATISTICS_INTERVAL
        doc = {"link": vehicle.link, "ground_time": now, "stats": vehicle.statistics()}
        self._publish(topics.link(vehicle.name), json.dumps(doc))

    # --- the command gateway ----------------------------------------------------------

    def _request(self, name: str, account: str, payload: bytes, now: float) -> None:
        gateway = self.gateway
        try:
            request = parse_request(name, account, payload)
        except BadRequest as exc:
            request_id = request_id_of(payload)
            if request_id is not None:
                bad = Request(request_id, name, account, "", {})
                self._acks([gateway.refuse(bad, "BAD_REQUEST", str(exc))])
            return
        if gateway.seen(request.id):  # delivered again, or asked again after a reconnect
            last = gateway.last_ack(request.id)
            if last is not None:
                self._acks([last])
            return
        vehicle = self.vehicles.get(name)
        outcome = gateway.request(request, known=vehicle is not None)
        if isinstance(outcome, Ack):
            self._acks([outcome])
            return
        assert vehicle is not None
        try:
            self._send(vehicle, outcome)
        except LinkError as exc:
            self._acks([gateway.not_sent(request, outcome, str(exc))])
            return
        self._acks([gateway.released(request, outcome, now, vehicle.link)])

    def _send(self, vehicle: Vehicle, tc: Telecommand) -> None:
        if vehicle.bus is not None:
            vehicle.bus.write(tc.frame)
            return
        client = self._client
        if client is None or not client.is_connected():
            raise LinkClosed("the broker is not connected")
        client.publish(topics.tc(vehicle.name), tc.packet, qos=1)

    def _acks(self, acks: list[Ack]) -> None:
        for ack in acks:
            self._publish(
                topics.cmd_ack(ack.vehicle, ack.request_id),
                json.dumps(ack.body),
                qos=1,
            )


def _named_vehicle(url: str) -> str | None:
    """The vehicle a link URL names: ``sil://?vehicle=X`` (a virtual board's default name
    without it), or ``?vehicle=X`` on any URL; None: learnt from its IDENT."""
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    if "vehicle" in options:
        return options["vehicle"][-1]
    return DEFAULT_VEHICLE if parts.scheme == "sil" else None


def _ident_vehicle(bus: TelemetryBus, packet: Packet) -> str | None:
    identity = bus.decoder.identity.current
    return identity.vehicle if identity is not None and identity.vehicle else None


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) else str(value)
