"""A reader thread over one link with the telemetry bus's interface (``ground.bus``).

The console codes against the bus's names only (:mod:`ground.console.source` imports them
from one place). This module provides them over :func:`ground.links.open_link`: one thread
reads the link, decodes, stamps each packet with its ground receive time and hands packets,
link state (up, lost, back, closed) and statistics to subscribers. A link that goes away is
reported ``lost`` and, when it was named by URL, reopened with backoff; a capture that ends
is ``closed``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..decoder import LinkStats, Packet, TelemetryDecoder
from ..links import Link, LinkClosed, LinkError, open_link

__all__ = ["Received", "LinkState", "LinkStatistics", "Event", "TelemetryBus", "Subscription"]


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


class Subscription:
    """Events queued for a consumer on another thread; the oldest go when it is full."""

    def __init__(self, maxsize: int) -> None:
        self._items: deque[Event] = deque()
        self._maxsize = maxsize
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, event: Event) -> None:
        with self._ready:
            if len(self._items) >= self._maxsize:
                self._items.popleft()
                self.dropped += 1
            self._items.append(event)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> Event | None:
        with self._ready:
            if not self._items and not self._ready.wait_for(lambda: bool(self._items), timeout):
                return None
            return self._items.popleft()


class TelemetryBus:
    """One reader thread per link, fanning events out to subscribers."""

    def __init__(
        self,
        link: str | Link,
        *,
        decoder: TelemetryDecoder | None = None,
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.2, 5.0),
    ) -> None:
        self._link: Link | None = None if isinstance(link, str) else link
        self.url = link if isinstance(link, str) else link.url
        self.decoder = decoder if decoder is not None else TelemetryDecoder()
        # A link given as an object cannot be opened again; a capture ends, it is not lost.
        self.capture = self.url.startswith("file:")
        self.reconnect = reconnect and isinstance(link, str) and not self.capture
        self.backoff = backoff
        self.state = "closed"
        self._subscribers: list[Callable[[Event], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    @property
    def stats(self) -> LinkStats:
        return self.decoder.stats

    def __enter__(self) -> TelemetryBus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> TelemetryBus:
        """Open the link (LinkError if it cannot be) and start reading it."""
        if self._link is None:
            self._link = open_link(self.url)
        self.state = "up"
        self._publish(LinkState("up", self.url, time.time()))
        self._thread = threading.Thread(target=self._run, name=f"bus {self.url}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if self._link is not None:
            self._link.close()
            self._link = None
        if self.state != "closed":
            self.state = "closed"
            self._publish(LinkState("closed", self.url, time.time()))

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def queue(self, maxsize: int = 10000) -> Subscription:
        subscription = Subscription(maxsize)
        self.subscribe(subscription.put)
        return subscription

    def write(self, data: bytes) -> None:
        """Bytes to the vehicle; LinkClosed while the link is down."""
        with self._write_lock:
            link = self._link
            if link is None or self.state == "lost":
                raise LinkClosed(f"{self.url} is down")
            link.write(data)

    # --- the reader thread ----------------------------------------------------------

    def _publish(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def _run(self) -> None:
        next_stats = time.monotonic() + 1.0
        while not self._stop.is_set():
            link = self._link
            if link is None:
                return
            try:
                data = link.read(0.1)
            except LinkClosed as exc:
                for packet in self.decoder.close():
                    self._publish(Received(packet, time.time(), self.url))
                self.state = "closed" if self.capture else "lost"
                self._publish(LinkState(self.state, self.url, time.time(), str(exc)))
                if not self.reconnect:
                    return
                self._reopen()
                continue
            if data:
                now = time.time()
                for packet in self.decoder.feed(data):
                    self._publish(Received(packet, now, self.url))
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + 1.0
                self._publish(LinkStatistics(self.url, time.time(), self.stats.as_dict()))

    def _reopen(self) -> None:
        delay, longest = self.backoff
        old, self._link = self._link, None
        if old is not None:
            try:
                old.close()
            except Exception:  # noqa: BLE001 (a dead port may fail to close; it is gone anyway)
                pass
        while not self._stop.wait(delay):
            try:
                self._link = open_link(self.url)
            except LinkError:
                delay = min(delay * 2, longest)
                continue
            self.state = "back"
            self._publish(LinkState("back", self.url, time.time()))
            return
