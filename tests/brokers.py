"""Real MQTT brokers for tests, on a free loopback port, and paho clients to talk to them.

``Mosquitto`` (bench/mosquitto.py: the one broker starter of tests and bench) is Debian's
mosquitto, ``mosquitto()`` the same in a ``with`` block, ``embedded()`` the in-process amqtt
of ``lander ground``, the ``broker`` fixture each in turn. ``Listener`` records what it
hears; ``login`` and ``publish`` try what an account may do.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from bench import mosquitto as _mosquitto
from bench.mosquitto import Mosquitto, free_port, wait_listening
from ground.mqtt.broker import EmbeddedBroker
from hil.conditions import wait_for

__all__ = [
    "DEPLOY",
    "Listener",
    "Mosquitto",
    "broker_fixture",
    "embedded",
    "free_port",
    "login",
    "mosquitto",
    "needs_mosquitto",
    "publish",
    "wait_listening",
]

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto"

needs_mosquitto = pytest.mark.skipif(
    not _mosquitto.available(), reason="mosquitto is not installed (.ci/run installs it)"
)


@contextmanager
def mosquitto(folder: Path, port: int | None = None) -> Iterator[str]:
    """mosquitto with a configuration of its own; yields mqtt://127.0.0.1:PORT."""
    if not _mosquitto.available():
        pytest.skip("mosquitto is not installed (.ci/run installs it)")
    with _mosquitto.mosquitto(folder, port) as url:
        yield url


@contextmanager
def embedded() -> Iterator[str]:
    broker = EmbeddedBroker("127.0.0.1", 0).start()
    try:
        yield broker.url
    finally:
        broker.stop()


@pytest.fixture(name="broker", params=["mosquitto", "amqtt"])
def broker_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each real broker in turn."""
    if request.param == "mosquitto":
        with mosquitto(tmp_path / "mosquitto") as url:
            yield url
    else:
        with embedded() as url:
            yield url


class Listener:
    """A paho client that records every message on the topics it subscribes to."""

    def __init__(
        self,
        port: int,
        topics: str | list[str],
        *,
        user: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        client_id: str = "",
        clean: bool = True,
    ) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self._lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,
            clean_session=clean,
        )
        if user is not None:
            self.client.username_pw_set(user, password)
        if tls_ca is not None:
            self.client.tls_set(ca_certs=tls_ca)
        self.topics = [topics] if isinstance(topics, str) else topics
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        wait_for(self.subscribed.is_set, what="the subscription")

    def _on_connect(self, client: paho.Client, *args: Any) -> None:
        client.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [m.payload for m in self.messages if m.topic == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def login(
    port: int, user: str | None, password: str | None = None, *, tls_ca: str | None = None
) -> tuple[paho.Client | None, str]:
    """Log in to a broker: (the connected client, "Success") or (None, why refused)."""
    outcome: list[str] = []
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    if user is not None:
        client.username_pw_set(user, password)
    if tls_ca is not None:
        client.tls_set(ca_certs=tls_ca)
    client.on_connect = lambda c, u, f, reason, p: outcome.append(str(reason))
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_for(lambda: outcome, what=f"{user}'s CONNACK")
    if outcome[0] != "Success":
        client.loop_stop()
        client.disconnect()
        return None, outcome[0]
    return client, outcome[0]


def publish(client: paho.Client, topic: str, payload: bytes) -> bool:
    """Publish at QoS 1 and wait until the broker has dealt with it: True once acknowledged,
    False when the broker dropped the connection for it (mosquitto 2.0 drops an MQTT 3.1.1
    client whose publish its ACL refuses). Either way the broker will not deliver it later."""
    done = threading.Event()
    dropped: list[object] = []
    client.reconnect_delay_set(60, 60)  # a dropped client stays away until the test is done
    client.on_publish = lambda *args: done.set()
    client.on_disconnect = lambda *args: (dropped.append(args), done.set())
    client.publish(topic, payload, qos=1)
    wait_for(done.is_set, what=f"the broker to take {topic}")
    return not dropped


def lander_ground(port: int, link: str, state: Path, *options: str) -> subprocess.Popen[str]:
    """``lander ground`` with its embedded broker on ``port``, owning ``link``: returned once
    it says it holds the link and the broker listens (an archive notice may come between)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ground.cli", "ground", "--listen", str(port)]
        + ["--link", link, "--state", str(state), *options],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        notice = process.stderr.readline()
        assert notice.startswith(f"lander ground: embedded MQTT broker on mqtt://127.0.0.1:{port}")
        scheme = link.split(":", 1)[0]
        for line in process.stderr:
            if line.startswith(f"lander ground: links {scheme}://"):
                break
        else:
            raise AssertionError(f"lander ground never said it holds {link}")
        wait_listening(port)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process
