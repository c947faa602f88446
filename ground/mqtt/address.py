"""``mqtt://user:password@host:port/<vehicle>`` URLs, and paho clients connected by them.

``mqtts://`` is MQTT over TLS (port 8883 by default); ``?ca=FILE`` names the certificate
authority to trust (default: the system's), ``?insecure=1`` skips the host name check (a
test broker with a self-signed certificate). paho-mqtt is the client: threaded, the fastest
measured on this kind of machine (``make bench``).
"""

from __future__ import annotations

import itertools
import os
import select
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as paho

from ..links import LinkError

__all__ = ["BrokerAddress", "parse", "connect", "is_mqtt", "Pump"]

CONNECT_TIMEOUT = 10.0  # s for the broker's CONNACK
_ids = itertools.count(1)


@dataclass(frozen=True)
class BrokerAddress:
    """Where a broker is, how to log in, and (for a client link) which vehicle."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    vehicle: str = ""
    ca: str | None = None
    insecure: bool = False

    @property
    def url(self) -> str:
        """The URL without the password (for messages and logs)."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}/{self.vehicle}".rstrip("/")

    @property
    def account(self) -> str:
        """The broker account requests are made under (the client id's prefix without one)."""
        return self.username or "anonymous"


def is_mqtt(url: str) -> bool:
    return url.startswith(("mqtt://", "mqtts://"))


def parse(url: str, *, need_vehicle: bool = False) -> BrokerAddress:
    """A BrokerAddress from a URL; LinkError (one line) when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise LinkError(f"{url!r} is not an mqtt:// or mqtts:// URL")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise LinkError(f"{url!r}: the port must be a number from 1 to 65535") from None
    vehicle = unquote(parts.path.strip("/"))
    if "/" in vehicle or "+" in vehicle or "#" in vehicle:
        raise LinkError(f"{url!r}: name one vehicle after the port (mqtt://host:1883/LANDER-1)")
    if need_vehicle and not vehicle:
        raise LinkError(f"{url!r} names no vehicle: mqtt://host:1883/LANDER-1")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return BrokerAddress(
        host=parts.hostname or "127.0.0.1",
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        vehicle=vehicle,
        ca=options.get("ca"),
        insecure=options.get("insecure", "0") not in ("0", "false", "no"),
    )


def client_id(role: str) -> str:
    """A client id of its own for each connection of this process."""
    return f"lander-{role}-{os.getpid()}-{next(_ids)}"


def connect(
    address: BrokerAddress,
    role: str,
    *,
    on_connect: Any = None,
    on_message: Any = None,
    will: tuple[str, bytes] | None = None,
    timeout: float = CONNECT_TIMEOUT,
    threaded: bool = True,
) -> paho.Client:
    """A paho client connected to ``address`` with its network thread running, which
    reconnects by itself (1 s doubling to 5 s). ``on_connect(client)`` runs at each
    (re)connection: subscribe there so that subscriptions survive a broker restart.
    ``threaded=False``: no network thread; the caller drives the client (:class:`Pump`).
    LinkError when the broker cannot be reached or refuses the login."""
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_id(role),
        protocol=paho.MQTTv311,
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(1, 5)
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        try:
            client.tls_set(ca_certs=address.ca, cert_reqs=ssl.CERT_REQUIRED)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise LinkError(f"{address.url}: TLS setup failed: {exc}") from None
        client.tls_insecure_set(address.insecure)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    answered = threading.Event()
    refused: list[str] = []

    def connected(c: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            refused.append(str(reason))
            answered.set()
            return
        if on_connect is not None:
            on_connect(c)
        answered.set()

    client.on_connect = connected
    if on_message is not None:
        client.on_message = on_message
    try:
        client.connect(address.host, address.port, keepalive=30)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise LinkError(
            f"no MQTT broker at {address.host}:{address.port} ({reason}): is `lander ground` "
            "or mosquitto running there?"
        ) from None
    if threaded:
        client.loop_start()
        answered.wait(timeout)
    else:
        pump = Pump(client)
        end = time.monotonic() + timeout
        while not answered.is_set() and time.monotonic() < end:
            pump.turn(0.05)
    if not answered.is_set() or refused:
        client.loop_stop()
        client.disconnect()
        why = refused[0] if refused else f"no answer within {timeout:g} s"
        raise LinkError(f"broker {address.host}:{address.port} refused the connection: {why}")
    return client


class Pump:
    """Drives a paho client from the caller's own thread (``connect(threaded=False)``).

    Why: with paho's network thread, every publish from another thread costs a wake-up
    write and a thread switch. Driven here, messages are handled in ``on_message`` on this
    thread, what they publish is queued and written together after the read, and the
    client reconnects (every ``retry`` s) when the broker went away."""

    def __init__(self, client: paho.Client, retry: float = 1.0) -> None:
        self.client = client
        self.retry = retry
        self._next_try = 0.0

    def turn(self, timeout: float, also: list[int] | None = None) -> list[int]:
        """Wait up to ``timeout`` s for the broker or the descriptors ``also``; handle what
        the broker sent, write what is queued; the descriptors of ``also`` that are ready."""
        client = self.client
        sock = client.socket()
        if sock is None:
            self._reconnect()
            ready, _, _ = select.select(also or [], [], [], timeout)
            return list(ready)
        fd = sock.fileno()
        wlist = [fd] if client.want_write() else []
        ready, _, _ = select.select([fd, *(also or [])], wlist, [], timeout)
        if fd in ready:
            for _ in range(4):  # a burst (at most ~400 messages), then write what it made
                if client.loop_read(100) != paho.MQTT_ERR_SUCCESS:
                    break
                if not select.select([fd], [], [], 0)[0]:
                    break
        if client.want_write():
            client.loop_write()
        client.loop_misc()
        return [other for other in ready if other != fd]

    def _reconnect(self) -> None:
        now = time.monotonic()
        if now < self._next_try:
            return
        self._next_try = now + self.retry
        try:
            self.client.reconnect()
        except (OSError, ssl.SSLError):
            pass
