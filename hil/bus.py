"""The ground's telemetry bus, as the harness uses it: the one place that names it.

The harness codes against the bus interface every ground piece shares (a reader thread per
link; subscribers get :class:`Received`, :class:`LinkState` and :class:`LinkStatistics`;
``write`` sends telecommand bytes). Until ``ground.bus`` ships, this module carries a minimal
bus with exactly those names; then it becomes ``from ground.bus import ...``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ground.decoder import LinkStats, Packet, TelemetryDecoder
from ground.links import Link, LinkClosed, open_link

__all__ = ["Event", "LinkState", "LinkStatistics", "Received", "TelemetryBus"]


@dataclass(frozen=True, slots=True)
class Received:
    """A packet as the ground received it."""

    packet: Packet
    ground_time: float
    link: str


@dataclass(frozen=True, slots=True)
class LinkState:
    state: str  # "up" | "lost" | "back" | "closed"
    link: str
    ground_time: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class LinkStatistics:
    link: str
    ground_time: float
    stats: dict[str, int]


Event = Received | LinkState | LinkStatistics
Callback = Callable[[Event], None]


class TelemetryBus:
    """One reader thread per link, decoding once for every subscriber."""

    def __init__(self, link: str | Link, *, decoder: TelemetryDecoder | None = None) -> None:
        self._link = open_link(link) if isinstance(link, str) else link
        self._owns = isinstance(link, str)
        self.url = self._link.url
        self.decoder = decoder if decoder is not None else TelemetryDecoder()
        self.state = "closed"
        self._subscribers: list[Callback] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stats(self) -> LinkStats:
        return self.decoder.stats

    def start(self) -> TelemetryBus:
        self.state = "up"
        self._thread = threading.Thread(target=self._read, name=f"bus {self.url}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._owns:
            self._link.close()
        if self.state != "closed":
            self.state = "closed"
            self._publish(LinkState("closed", self.url, time.time()))

    def __enter__(self) -> TelemetryBus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def write(self, data: bytes) -> None:
        with self._write_lock:
            self._link.write(data)

    def _publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback(event)

    def _read(self) -> None:
        last_stats = time.monotonic()
        while not self._stop.is_set():
            try:
                data = self._link.read(0.05)
            except LinkClosed as exc:
                self.state = "lost"
                self._publish(LinkState("lost", self.url, time.time(), str(exc)))
                return
            now = time.time()
            for packet in self.decoder.feed(data) if data else ():
                self._publish(Received(packet, now, self.url))
            if time.monotonic() - last_stats >= 1.0:
                last_stats = time.monotonic()
                self._publish(LinkStatistics(self.url, now, self.decoder.stats.as_dict()))
