"""Real MQTT brokers for tests, on a free loopback port: Debian's mosquitto, amqtt in-process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench import mosquitto as _mosquitto
from bench.mosquitto import free_port, wait_listening
from ground.mqtt.broker import EmbeddedBroker

__all__ = ["free_port", "wait_listening", "mosquitto", "embedded", "broker_fixture"]


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
