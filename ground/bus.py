"""The telemetry bus: one reader per link, any number of subscribers in the process.

A link has one reader. :class:`TelemetryBus` owns it: a thread reads the link, decodes with
the one :class:`~ground.decoder.TelemetryDecoder`, stamps every packet with the time its
last byte was read on the ground and with the vehicle, boot, firmware and dictionary it
came from (the last IDENT before it, :class:`~ground.identity.Identity`), and fans out to
its subscribers:

* :class:`Received` for each packet, :class:`LinkState` when the link comes up, is lost,
  comes back or is closed, and :class:`LinkStatistics` about once a second;
* as callbacks (run on the reader thread: quick, or hand the work on), thread-safe queues
  (:meth:`TelemetryBus.queue`) or asyncio queues (:meth:`TelemetryBus.async_queue`), which
  drop their oldest event rather than stall the reader when a consumer falls behind;
* and, for whoever records the raw stream, the bytes as read (:meth:`subscribe_bytes`).

A board that goes away (a Pico re-enumerates when it resets, a cable is pulled) is reopened
with exponential backoff until it is back; its packets then continue on the same bus. The
end of a capture file, or a link that cannot come back, closes the bus.

Commands go the other way through :meth:`TelemetryBus.write`, serialised, so a console, a
HIL script and the commander can share one link.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .decoder import LinkStats, Packet, TelemetryDecoder
from .identity import IDENT, Identity, from_packet
from .links import Link, LinkClosed, LinkError, open_link

__all__ = [
    "Received",
    "LinkState",
    "LinkStatistics",
    "Event",
    "TelemetryBus",
    "Subscription",
    "AsyncSubscription",
]

log = logging.getLogger(__name__)

#: s between LinkStatistics events
STATISTICS_INTERVAL = 1.0
#: s a read waits for bytes: how quickly the reader notices close()
POLL = 0.05


@dataclass(frozen=True, slots=True)
class Received:
    """A packet as the ground received it."""

    packet: Packet
    ground_time: float  # time.time() when its last byte was read (UTC epoch s)
    link: str  # the link's URL
    #: vehicle, boot, firmware and dictionary of the last IDENT before it (None before one)
    identity: Identity | None = None


@dataclass(frozen=True, slots=True)
class LinkState:
    """The link came ``up``, was ``lost``, came ``back``, or was ``closed`` for good."""

    state: str  # "up" | "lost" | "back" | "closed"
    link: str
    ground_time: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class LinkStatistics:
    """The link's counters (published about once a second while the link is open)."""

    link: str
    ground_time: float
    stats: dict[str, int]  # decoder + deframer counters (LinkStats.as_dict())


Event = Received | LinkState | LinkStatistics


class Subscription:
    """A thread-safe queue of events; when full it drops the oldest and counts ``dropped``.

    ``get(timeout)`` returns the next event or None after ``timeout`` seconds; iterating
    yields events until the link is closed (that LinkState included)."""

    def __init__(self, maxsize: int, unsubscribe: Callable[[Subscription], None]) -> None:
        self.maxsize = maxsize
        self.dropped = 0
        self._events: deque[Event] = deque()
        self._ready = threading.Condition()
        self._unsubscribe = unsubscribe
        self._closed = False

    def put(self, event: Event) -> None:
        with self._ready:
            if len(self._events) >= self.maxsize:
                self._events.popleft()
                self.dropped += 1
            self._events.append(event)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> Event | None:
        with self._ready:
            if not self._events:
                self._ready.wait(timeout)
            return self._events.popleft() if self._events else None

    def __iter__(self) -> Iterator[Event]:
        while True:
            event = self.get(None)
            if event is None:
                continue
            yield event
            if isinstance(event, LinkState) and event.state == "closed":
                return

    def close(self) -> None:
        """Stop receiving events."""
        self._unsubscribe(self)


class AsyncSubscription:
    """An asyncio queue of events on the loop that created it (drops the oldest when full).

    ``await get()`` (``get_within(timeout)`` gives None when nothing came);
    ``async for event in subscription`` ends after the link is closed."""

    def __init__(self, maxsize: int, unsubscribe: Callable[[AsyncSubscription], None]) -> None:
        self.maxsize = maxsize
        self.dropped = 0
        self._loop = asyncio.get_running_loop()
        self._events: deque[Event] = deque()
        self._ready = asyncio.Event()
        self._unsubscribe = unsubscribe

    def put(self, event: Event) -> None:
        """From any thread."""
        try:
            self._loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:  # the loop is closed: nobody is listening
            pass

    def _put(self, event: Event) -> None:
        if len(self._events) >= self.maxsize:
            self._events.popleft()
            self.dropped += 1
        self._events.append(event)
        self._ready.set()

    async def get(self) -> Event:
        while not self._events:
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()

    async def get_within(self, timeout: float) -> Event | None:
        """The next event, or None after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                return await self.get()
        except TimeoutError:
            return None

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self.get()
            yield event
            if isinstance(event, LinkState) and event.state == "closed":
                return

    def close(self) -> None:
        self._unsubscribe(self)


class TelemetryBus:
    """One reader thread per link; packets, link states and statistics to subscribers.

    ``link`` is a URL (the bus opens it and closes it) or an open
    :class:`~ground.links.Link` (its opener keeps it; the bus only stops reading it).
    ``reconnect``: reopen a link that went away, waiting ``backoff[0]`` seconds at first and
    doubling up to ``backoff[1]``, if the link can be reopened (a serial port can; a capture
    file or a virtual board that stopped cannot).
    """

    def __init__(
        self,
        link: str | Link,
        *,
        decoder: TelemetryDecoder | None = None,
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.2, 5.0),
        statistics_interval: float = STATISTICS_INTERVAL,
    ) -> None:
        self._url = link if isinstance(link, str) else None
        self._link: Link | None = None if isinstance(link, str) else link
        self.url: str = link if isinstance(link, str) else link.url
        self.decoder = decoder if decoder is not None else TelemetryDecoder()
        self.reconnect = reconnect
        self.backoff = backoff
        self.statistics_interval = statistics_interval
        self.state = "closed"
        self.reason = ""
        self._callbacks: list[Callable[[Event], None]] = []
        self._byte_callbacks: list[Callable[[bytes, float], None]] = []
        self._lock = threading.Lock()  # the subscriber lists
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed_sent = False
        self._identity: Identity | None = None

    # --- life -----------------------------------------------------------------------

    def start(self) -> TelemetryBus:
        """Open the link (a LinkError says why it cannot be) and start reading it."""
        if self._thread is not None:
            return self
        if self._link is None:
            assert self._url is not None
            self._link = open_link(self._url)
            self.url = self._link.url
        self._closed_sent = False
        self._stop.clear()
        self._set_state("up")
        self._thread = threading.Thread(target=self._run, name=f"bus {self.url}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop reading, close a link the bus opened; subscribers get LinkState("closed")."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if self._link is not None and self._url is not None:
            self._link.close()
            self._link = None
        self._closed("")

    def __enter__(self) -> TelemetryBus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> LinkStats:
        """The decoder's live counters."""
        return self.decoder.stats

    @property
    def link(self) -> Link | None:
        return self._link

    # --- subscribing ----------------------------------------------------------------

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on the reader thread for every event; returns the
        unsubscribe function."""
        with self._lock:
            self._callbacks = [*self._callbacks, callback]

        def unsubscribe() -> None:
            with self._lock:
                self._callbacks = [c for c in self._callbacks if c is not callback]

        return unsubscribe

    def subscribe_bytes(self, callback: Callable[[bytes, float], None]) -> Callable[[], None]:
        """Call ``callback(data, ground_time)`` with the link's bytes as read (a raw
        capture); returns the unsubscribe function."""
        with self._lock:
            self._byte_callbacks = [*self._byte_callbacks, callback]

        def unsubscribe() -> None:
            with self._lock:
                self._byte_callbacks = [c for c in self._byte_callbacks if c is not callback]

        return unsubscribe

    def queue(self, maxsize: int = 10000) -> Subscription:
        """A thread-safe queue of every event from now on."""
        subscription = Subscription(maxsize, lambda s: unsubscribe())
        unsubscribe = self.subscribe(subscription.put)
        return subscription

    def async_queue(self, maxsize: int = 10000) -> AsyncSubscription:
        """An asyncio queue of every event from now on, for the running loop."""
        subscription = AsyncSubscription(maxsize, lambda s: unsubscribe())
        unsubscribe = self.subscribe(subscription.put)
        return subscription

    # --- commands -------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Bytes to the vehicle; LinkClosed while the link is down."""
        with self._write_lock:
            link = self._link
            if link is None or self.state in ("lost", "closed"):
                raise LinkClosed(f"{self.url} is {self.state}" + _because(self.reason))
            link.write(data)

    # --- the reader -----------------------------------------------------------------

    def _run(self) -> None:
        link = self._link
        assert link is not None
        next_statistics = time.monotonic() + self.statistics_interval
        reason = ""
        try:
            while not self._stop.is_set():
                try:
                    data = link.read(POLL)
                except LinkClosed as exc:
                    self._deliver(self.decoder.close(), time.time())
                    reason = str(exc)
                    if not (self.reconnect and getattr(link, "reconnectable", False)):
                        break
                    self._set_state("lost", reason)
                    if not self._reopen(link):
                        break
                    reason = ""
                    self.decoder.forget_sequence()
                    self._set_state("back")
                    continue
                if data:
                    now = time.time()
                    for byte_callback in self._byte_callbacks:
                        self._call(byte_callback, data, now)
                    self._deliver(self.decoder.feed(data), now)
                if time.monotonic() >= next_statistics:
                    next_statistics = time.monotonic() + self.statistics_interval
                    self._publish(LinkStatistics(self.url, time.time(), self.stats.as_dict()))
        except Exception as exc:  # a bug must not leave subscribers waiting for ever
            log.exception("reader of %s failed", self.url)
            reason = f"reader failed: {exc}"
        self._publish(LinkStatistics(self.url, time.time(), self.stats.as_dict()))
        self._closed(reason)

    def _reopen(self, link: Link) -> bool:
        """Reopen with backoff until the link is back (True) or the bus is closed."""
        delay, longest = self.backoff
        with self._write_lock:
            link.close()
        while not self._stop.wait(delay):
            try:
                with self._write_lock:
                    link.reopen()  # type: ignore[attr-defined]
                return True
            except LinkError as exc:
                self.reason = str(exc)
                delay = min(delay * 2, longest)
        return False

    def _deliver(self, packets: list[Packet], now: float) -> None:
        if packets:
            url = self.url
            identity = self._identity
            for packet in packets:
                if packet.name == IDENT:
                    identity = from_packet(packet)
                self._publish(Received(packet, now, url, identity))
            self._identity = identity

    def _set_state(self, state: str, reason: str = "") -> None:
        self.state, self.reason = state, reason
        self._publish(LinkState(state, self.url, time.time(), reason))

    def _closed(self, reason: str) -> None:
        with self._lock:
            if self._closed_sent:
                return
            self._closed_sent = True
        self._set_state("closed", reason)

    def _publish(self, event: Event) -> None:
        for callback in self._callbacks:
            self._call(callback, event)

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # one subscriber's bug does not stop the others
            log.exception("bus subscriber %r failed", callback)


def _because(reason: str) -> str:
    return f": {reason}" if reason else ""
