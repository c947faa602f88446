"""A real mosquitto for tests: on a free loopback port, started and stopped by the test.

``Mosquitto(conf)`` runs the broker with a configuration text; ``restart()`` brings it back
on the same port (a broker outage). ``lander_config()`` turns the shipped example,
deploy/mosquitto/lander.conf, into one that runs in a scratch folder: its listeners on free
loopback ports, its files there; the rules (accounts, ACLs, anonymous refused, TLS) as
shipped.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from hil.conditions import wait_for

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

needs_mosquitto = pytest.mark.skipif(
    not Path(MOSQUITTO).exists(), reason="mosquitto is not installed (.ci/run installs it)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mosquitto:
    def __init__(
        self,
        folder: Path,
        conf: str | None = None,
        *,
        port: int | None = None,
        persistent: bool = False,
    ) -> None:
        self.folder = folder
        self.port = port or free_port()
        text = (
            conf if conf is not None else f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
        )
        # as root mosquitto would drop to user `mosquitto`, who cannot read the test's files
        text += f"\nuser {getpass.getuser()}\nlog_dest stderr\nmax_queued_messages 0\n"
        text += (
            f"persistence true\npersistence_location {folder}/\n"
            if persistent
            else ("persistence false\n")
        )
        self.conf_file = folder / "mosquitto.conf"
        self.conf_file.write_text(text)
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.conf_file)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self._listening, what=f"mosquitto on port {self.port}: {self.log.read_text()}")

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"mosquitto exited: {self.log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


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
