"""Real MQTT brokers for tests, on a free loopback port: Debian's mosquitto, amqtt in-process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ground.mqtt.broker import EmbeddedBroker

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


@contextmanager
def mosquitto(folder: Path, port: int | None = None) -> Iterator[str]:
    """mosquitto with a configuration of its own; yields mqtt://127.0.0.1:PORT."""
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (.ci/run installs it)")
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 100000\nlog_dest none\n"
    )
    process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


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
