"""A ground with the test key, and a virtual board (``sil://``: the firmware in the real VM
behind a real pty) provisioned with it. Import ``ground_fixture`` and ``vehicle_fixture``
into a test module to use the fixtures ``ground`` and ``vehicle``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.bus import LinkState, Received, TelemetryBus
from ground.decoder import Packet, TelemetryDecoder
from ground.keys import write_key
from ground.links import Link, open_link

from . import tcgen

SIL = "sil://?autostart=0&time_warp=10&seed=3"


@pytest.fixture(name="ground")
def ground_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Key folder holding the test key for LANDER-1; history file; both under tmp_path."""
    key_dir = tmp_path / "keys"
    write_key(tcgen.KEY, key_dir / f"{tcgen.KEY.vehicle}.key")
    monkeypatch.setenv("LANDER_KEY_DIR", str(key_dir))
    monkeypatch.setenv("LANDER_HISTORY", str(tmp_path / "history.jsonl"))
    return tmp_path


@pytest.fixture(name="vehicle")
def vehicle_fixture(ground: Path) -> Iterator[Link]:
    """An idle virtual board with the test key; its flash is ground/flash."""
    link = open_link(f"{SIL}&flash={ground / 'flash'}")
    try:
        yield link
    finally:
        link.close()


def read_until(
    link: Link | str, done, decoder: TelemetryDecoder | None = None, timeout: float = 20
) -> list[Packet]:
    """Packets from the link (through its telemetry bus) until ``done(packets)`` holds
    (AssertionError at ``timeout``, or the link closing first)."""
    packets: list[Packet] = []
    bus = TelemetryBus(link, decoder=decoder, reconnect=False)
    events = bus.queue()
    end = time.monotonic() + timeout
    with bus:
        while not done(packets):
            assert time.monotonic() < end, f"gave up waiting; got {len(packets)} packets"
            event = events.get(0.05)
            if isinstance(event, Received):
                packets.append(event.packet)
            elif isinstance(event, LinkState) and event.state == "closed":
                break
    return packets
