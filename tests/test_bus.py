"""The telemetry bus over real pseudo-terminals: fan-out, link states, reconnection."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.bus import LinkState, LinkStatistics, Received, TelemetryBus
from ground.decoder import TelemetryDecoder
from ground.links import LinkClosed
from hil.conditions import wait_for

from . import tmgen

pytestmark = [pytest.mark.pty]


class Pty:
    """A pty pair; the test plays the board on the master side."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.name = os.ttyname(self.slave)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def receive(self, count: int, timeout: float = 10) -> bytes:
        got = b""
        end = time.monotonic() + timeout
        os.set_blocking(self.master, False)
        while len(got) < count and time.monotonic() < end:
            try:
                got += os.read(self.master, count - len(got))
            except BlockingIOError:
                time.sleep(0.01)
        return got

    def unplug(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty() -> Iterator[Pty]:
    p = Pty()
    yield p
    for fd in (p.master, p.slave):
        try:
            os.close(fd)
        except OSError:
            pass


def _packets(events: list) -> list:
    return [e.packet for e in events if isinstance(e, Received)]


def test_every_subscriber_gets_every_packet_stamped_with_its_ground_time(pty: Pty):
    frames = tmgen.sequence("NAV", 20) + tmgen.sequence("HK", 3)
    seen: list = []
    with TelemetryBus(f"serial://{pty.name}", statistics_interval=0.05) as bus:
        queue = bus.queue()
        unsubscribe = bus.subscribe(seen.append)
        before = time.time()
        pty.send(b"".join(frames[:10]))
        pty.send(b"".join(frames[10:]))
        wait_for(lambda: len(_packets(seen)) == 23, what="23 packets")
        wait_for(lambda: any(isinstance(e, LinkStatistics) for e in seen), what="statistics")
        unsubscribe()
        after = time.time()
    events = list(queue)  # ends with the closed state
    assert _packets(events) == _packets(seen) == TelemetryDecoder().decode_all(b"".join(frames))
    received = [e for e in events if isinstance(e, Received)]
    assert all(before <= e.ground_time <= after for e in received)
    assert [e.ground_time for e in received] == sorted(e.ground_time for e in received)
    states = [e.state for e in events if isinstance(e, LinkState)]
    assert states == ["closed"]  # "up" came before this queue was made
    assert bus.stats.packets == 23 and bus.state == "closed"


def test_a_queue_made_before_start_sees_the_link_come_up(pty: Pty):
    bus = TelemetryBus(f"serial://{pty.name}")
    queue = bus.queue()
    bus.start()
    pty.send(tmgen.sequence("HK", 1)[0])
    first, second = queue.get(10), queue.get(10)
    bus.close()
    assert isinstance(first, LinkState) and first.state == "up"
    assert isinstance(second, Received) and second.packet.name == "HK"


def test_an_asyncio_consumer_gets_the_same_events(pty: Pty):
    async def consume() -> list:
        bus = TelemetryBus(f"serial://{pty.name}")
        events = bus.async_queue()
        bus.start()
        pty.send(b"".join(tmgen.sequence("PROP", 5)))
        got = []
        async for event in events:
            got.append(event)
            if len(_packets(got)) == 5:
                await asyncio.to_thread(bus.close)
        return got

    got = asyncio.run(asyncio.wait_for(consume(), 20))
    assert [p.seq for p in _packets(got)] == [0, 1, 2, 3, 4]
    assert got[0].state == "up" and got[-1].state == "closed"


def test_a_full_queue_drops_its_oldest_events_and_says_how_many(pty: Pty):
    with TelemetryBus(f"serial://{pty.name}") as bus:
        queue = bus.queue(maxsize=5)
        pty.send(b"".join(tmgen.sequence("NAV", 30)))
        wait_for(lambda: bus.stats.packets == 30)
    events = [queue.get(0) for _ in range(5)]
    assert queue.dropped >= 26
    assert events[-1].state == "closed"
    assert [e.packet.seq for e in events if isinstance(e, Received)][-1] == 29


def test_commands_written_through_the_bus_reach_the_vehicle(pty: Pty):
    with TelemetryBus(f"serial://{pty.name}") as bus:
        bus.write(b"\x05tc\x01\x02\x00")
        assert pty.receive(6) == b"\x05tc\x01\x02\x00"


def test_a_capture_file_is_read_to_its_end_and_closes_the_bus(tmp_path: Path):
    stream = b"".join(tmgen.sequence("NAV", 50)) + b"noise\x00" + tmgen.sequence("HK", 1)[0]
    path = tmp_path / "cap.bin"
    path.write_bytes(stream)
    bus = TelemetryBus(f"file://{path}")
    queue = bus.queue()
    bus.start()
    events = list(queue)
    bus.close()
    reference = TelemetryDecoder()
    assert _packets(events) == reference.decode_all(stream)
    assert events[-2].stats == reference.stats.as_dict()  # the last statistics, then closed
    assert events[-1].state == "closed" and "end of capture" in events[-1].reason


@pytest.mark.pty
def test_a_board_that_goes_away_and_comes_back_is_reconnected(tmp_path: Path):
    """A Pico re-enumerates when it resets: its device goes, then a new one comes."""
    first = Pty()
    port = tmp_path / "ttyLANDER"
    port.symlink_to(first.name)
    bus = TelemetryBus(f"serial://{port}", backoff=(0.05, 0.2))
    events = bus.queue()
    bus.start()
    second = None
    try:
        first.send(b"".join(tmgen.sequence("NAV", 5)))
        wait_for(lambda: bus.stats.packets == 5, what="packets before")
        first.unplug()
        wait_for(lambda: bus.state == "lost", what="lost")
        with pytest.raises(LinkClosed, match="lost"):
            bus.write(b"\x00")
        second = Pty()
        port.unlink()
        port.symlink_to(second.name)
        wait_for(lambda: bus.state == "back", what="back")
        second.send(b"".join(tmgen.sequence("NAV", 5)))  # a restarted vehicle counts from 0
        wait_for(lambda: bus.stats.packets == 10, what="packets after")
    finally:
        bus.close()
        if second is not None:
            second.unplug()
    states = [e for e in events if isinstance(e, LinkState)]
    assert [s.state for s in states] == ["up", "lost", "back", "closed"]
    assert "lost" in states[1].reason
    assert bus.stats.gaps == 0 and bus.stats.duplicates == 0
