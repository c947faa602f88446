"""The shipped mosquitto configuration (deploy/mosquitto/) enforced by a real mosquitto:
accounts, ACLs, anonymous refused, TLS. The broker runs it on free loopback ports with the
password file made by mosquitto_passwd and a test CA made by deploy/mosquitto/make-tls."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from ground.bridge import ONLINE
from ground.mqtt import topics
from hil.conditions import wait_for
from tests.brokers import (
    DEPLOY,
    Listener,
    Mosquitto,
    free_port,
    login,
    needs_mosquitto,
    publish,
)

pytestmark = needs_mosquitto

ACCOUNTS = ("viewer", "operator", "gateway", "edge-LANDER-1", "edge-LANDER-2")


def password(user: str) -> str:
    return f"{user}-secret"


@dataclass
class Secured:
    broker: Mosquitto
    tls_port: int
    ca: str

    @property
    def port(self) -> int:
        return self.broker.port

    def login(self, user: str) -> paho.Client:
        client, reason = login(self.port, user, password(user))
        assert client is not None, f"{user}: {reason}"
        return client

    def attempt(self, user: str, topic: str, payload: bytes) -> bool:
        """``user`` logs in and publishes; whether the broker kept the connection."""
        client = self.login(user)
        try:
            return publish(client, topic, payload)
        finally:
            client.disconnect()
            client.loop_stop()


def secured_broker(folder: Path) -> Secured:
    """mosquitto running deploy/mosquitto/lander.conf, its files in ``folder``."""
    shutil.copy(DEPLOY / "acl", folder / "acl")
    passwd = folder / "passwd"
    for i, user in enumerate(ACCOUNTS):
        create = ["-c"] if i == 0 else []
        subprocess.run(
            ["mosquitto_passwd", *create, "-b", str(passwd), user, password(user)], check=True
        )
    subprocess.run(
        [str(DEPLOY / "make-tls"), str(folder), "localhost"], check=True, capture_output=True
    )
    plain, tls = free_port(), free_port()
    conf = (DEPLOY / "lander.conf").read_text()
    for shipped, here in (
        ("/etc/mosquitto/lander", str(folder)),
        ("listener 1883 127.0.0.1", f"listener {plain} 127.0.0.1"),
        ("listener 8883\n", f"listener {tls} 127.0.0.1\n"),
    ):
        assert shipped in conf
        conf = conf.replace(shipped, here)
    broker = Mosquitto(folder, conf, port=plain)
    return Secured(broker, tls, str(folder / "ca.crt"))


@pytest.fixture(name="secured", scope="module")
def secured_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    secured = secured_broker(tmp_path_factory.mktemp("mosquitto"))
    yield secured
    secured.broker.stop()


@pytest.fixture(name="gateway")
def gateway_fixture(secured: Secured) -> Iterator[Listener]:
    """The gateway's view: everything under lander/."""
    listener = Listener(secured.port, "lander/#", user="gateway", password=password("gateway"))
    yield listener
    listener.close()


def test_anonymous_and_wrong_passwords_are_refused(secured: Secured) -> None:
    assert login(secured.port, None) == (None, "Not authorized")
    assert login(secured.port, "operator", "guess")[0] is None
    assert login(secured.port, "intruder", "intruder-secret")[0] is None


def test_a_viewer_cannot_request_a_command(secured: Secured, gateway: Listener) -> None:
    request = topics.cmd_request("LANDER-1", "operator")
    secured.attempt("viewer", request, b'{"id": "v1", "command": "ARM"}')
    secured.attempt("viewer", topics.cmd_request("LANDER-1", "viewer"), b'{"id": "v2"}')
    # nor may an operator request in another account's name
    secured.attempt("operator", topics.cmd_request("LANDER-1", "viewer"), b'{"id": "o0"}')
    assert secured.attempt("operator", request, b'{"id": "o1", "command": "NOOP"}')
    wait_for(lambda: gateway.on(request), what="the operator's request")
    requests = [(m.topic, m.payload) for m in gateway.messages if "/cmd/request/" in m.topic]
    assert requests == [(request, b'{"id": "o1", "command": "NOOP"}')]


def test_an_edge_publishes_only_its_own_vehicle(secured: Secured, gateway: Listener) -> None:
    secured.attempt("edge-LANDER-1", topics.tm("LANDER-2"), b"forged telemetry")
    secured.attempt("edge-LANDER-1", topics.status("LANDER-2"), b"offline")
    secured.attempt("edge-LANDER-1", topics.packet("LANDER-1", "NAV"), b"{}")
    assert secured.attempt("edge-LANDER-1", topics.tm("LANDER-1"), b"own telemetry")
    wait_for(lambda: gateway.on(topics.tm("LANDER-1")), what="its own telemetry")
    assert [m.topic for m in gateway.messages] == [topics.tm("LANDER-1")]


def test_nobody_but_the_gateway_publishes_telecommands(secured: Secured) -> None:
    tc = topics.tc("LANDER-1")
    edge = Listener(secured.port, tc, user="edge-LANDER-1", password=password("edge-LANDER-1"))
    for user in ("viewer", "operator", "edge-LANDER-1", "edge-LANDER-2"):
        secured.attempt(user, tc, user.encode())
    assert secured.attempt("gateway", tc, b"gateway")
    wait_for(lambda: edge.on(tc), what="the gateway's telecommand")
    assert edge.on(tc) == [b"gateway"]
    edge.close()


def test_an_edge_reads_only_its_own_telecommands(secured: Secured) -> None:
    other = Listener(
        secured.port,
        [topics.tc("LANDER-2"), topics.tc("LANDER-1")],
        user="edge-LANDER-1",
        password=password("edge-LANDER-1"),
    )
    gateway = secured.login("gateway")
    assert publish(gateway, topics.tc("LANDER-2"), b"for LANDER-2")
    assert publish(gateway, topics.tc("LANDER-1"), b"for LANDER-1")
    wait_for(lambda: other.on(topics.tc("LANDER-1")), what="its own telecommand")
    assert other.on(topics.tc("LANDER-2")) == []
    gateway.disconnect()
    other.close()


def test_tls_listener_takes_clients_that_trust_its_ca(secured: Secured) -> None:
    client, reason = login(secured.tls_port, "viewer", password("viewer"), tls_ca=secured.ca)
    assert client is not None, reason
    client.disconnect()
    untrusting = paho.Client(paho.CallbackAPIVersion.VERSION2)
    untrusting.tls_set()  # the system's authorities: they never signed the test CA
    with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.connect("127.0.0.1", secured.tls_port)


@pytest.mark.pty
def test_a_bridge_logs_in_over_tls_and_a_wrong_password_is_one_line(secured: Secured) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    viewer = Listener(
        secured.tls_port,
        topics.status("LANDER-1"),
        user="viewer",
        password=password("viewer"),
        tls_ca=secured.ca,
    )
    good = (
        f"mqtts://edge-LANDER-1:{password('edge-LANDER-1')}@localhost:{secured.tls_port}"
        f"?ca={secured.ca}"
    )
    bridge = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "bridge",
            "--link",
            f"serial://{port}",
            "--broker",
            good,
            "--vehicle",
            "LANDER-1",
            "--duration",
            "60",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: viewer.on(topics.status("LANDER-1"))[-1:] == [ONLINE])
    finally:
        bridge.terminate()
        bridge.communicate(timeout=30)
        viewer.close()
    bad = run_bridge(port, f"mqtt://edge-LANDER-1:wrong@127.0.0.1:{secured.port}")
    assert bad.returncode == 3
    assert "refused the connection: Not authorized" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    os.close(master)
    os.close(slave)


def run_bridge(port: str, broker: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "bridge",
            "--link",
            f"serial://{port}",
            "--broker",
            broker,
            "--vehicle",
            "LANDER-1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.vm
@pytest.mark.pty
def test_operators_command_and_watch_over_tls(secured: Secured, tmp_path: Path) -> None:
    # lander ground as the gateway account, clients with their own accounts, all over
    # mqtts:// trusting the test CA
    tls = f"localhost:{secured.tls_port}"

    def url(user: str, vehicle: str = "/LANDER-1") -> str:
        return f"mqtts://{user}:{password(user)}@{tls}{vehicle}?ca={secured.ca}"

    ground = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "ground",
            "--broker",
            url("gateway", ""),
            "--link",
            f"sil://?time_warp=10&seed=3&flash={tmp_path / 'flash'}",
            "--state",
            str(tmp_path / "gateway.json"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert ground.stderr is not None
        for line in ground.stderr:
            if line.startswith("lander ground: links sil://"):
                break
        client = [sys.executable, "-m", "ground.cli"]
        done = subprocess.run(
            [*client, "cmd", "--link", url("operator"), "PING", "token=9"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "COMPLETED" in done.stdout
        monitor = subprocess.run(
            [*client, "monitor", "--link", url("viewer"), "--duration", "3"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert monitor.returncode == 0, monitor.stderr
        assert "NAV" in monitor.stdout
    finally:
        ground.terminate()
        ground.wait(20)
