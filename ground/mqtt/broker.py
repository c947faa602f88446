"""Where a broker is and how to log in to it: ``mqtt://[user[:password]@]host[:port]``.

``mqtts://`` connects over TLS (port 8883 by default) and checks the broker's certificate
against the system's authorities, or against ``?ca=FILE`` (a private CA, as a test broker
or a ground segment's own has). A password may also come from ``$LANDER_MQTT_PASSWORD``, so
that it need not sit in a shell's history or a process list.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as paho

from ..errors import UsageError

__all__ = ["Broker", "parse_broker", "PASSWORD_ENV"]

PASSWORD_ENV = "LANDER_MQTT_PASSWORD"


@dataclass(frozen=True)
class Broker:
    """A broker's address and the account to use there."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca: str | None = None  # CA file for mqtts://
    path: str = ""  # what follows host:port (a vehicle, for client links)

    @property
    def url(self) -> str:
        """The URL without the password (for messages)."""
        who = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{who}{self.host}:{self.port}"

    def client(self, client_id: str) -> paho.Client:
        """A paho client (MQTT 3.1.1, clean session) set up to log in here."""
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            try:
                context = ssl.create_default_context(cafile=self.ca)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(f"cannot use the CA file {self.ca}: {exc}") from None
            client.tls_set_context(context)
        return client


def parse_broker(url: str) -> Broker:
    """A broker from its URL; UsageError (one line) when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise UsageError(
            f"{url!r} is not a broker: give mqtt://host:port (or mqtts://, "
            "mqtt://user:password@host:port)"
        )
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise UsageError(f"{url!r}: the port is not a number") from None
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    password = unquote(parts.password) if parts.password is not None else None
    if password is None and parts.username is not None:
        password = os.environ.get(PASSWORD_ENV)
    ca = options.get("ca")
    if ca is not None and not os.path.isfile(ca):
        raise UsageError(f"{url!r}: no CA file {ca}")
    return Broker(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username is not None else None,
        password=password,
        ca=ca,
        path=parts.path.strip("/"),
    )
