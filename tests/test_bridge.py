"""`lander bridge` against a real mosquitto: a board's port on one side (a pseudo-terminal
the test writes telemetry frames into and reads telecommands from), the broker on the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from cobs import cobs

from ground.bridge import OFFLINE, ONLINE, Bridge
from ground.mqtt import topics
from ground.mqtt.address import parse
from hil.conditions import wait_for
from tests import tmgen
from tests.brokers import Listener, Mosquitto, needs_mosquitto

pytestmark = [needs_mosquitto, pytest.mark.pty]

VEHICLE = "LANDER-7"
TM = topics.tm(VEHICLE)
STATUS = topics.status(VEHICLE)


def packet(i: int) -> bytes:
    return tmgen.build(
        {"name": "HK", "seq": i & 0x3FFF, "coarse": i, "fine": 0, "values": tmgen.values("HK")}
    )


class Board:
    """The board's end of a serial port: a pty master."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave  # kept open so the master never sees a hang-up
        self.sent: list[bytes] = []

    def send(self, first: int, count: int) -> None:
        for i in range(first, first + count):
            data = packet(i)
            self.sent.append(data)
            os.write(self.master, cobs.encode(data) + b"\x00")

    def read_frame(self) -> bytes:
        buf = b""
        while not buf.endswith(b"\x00"):
            buf += os.read(self.master, 1)
        return buf

    def close(self) -> None:
        if self.master >= 0:
            os.close(self.master)
            os.close(self._slave)
            self.master = -1


@pytest.fixture(name="board")
def board_fixture() -> Iterator[Board]:
    board = Board()
    yield board
    board.close()


@pytest.fixture(name="broker")
def broker_fixture(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path)
    yield broker
    broker.stop()


def test_a_lost_port_turns_the_vehicle_offline_and_its_return_online(
    broker: Mosquitto, tmp_path: Path
) -> None:
    # The port by a stable name, as udev's /dev/serial/by-id links are: the board is
    # unplugged (its pty goes away, the name with it), then plugged in again (a new pty
    # behind the same name).
    name = tmp_path / "ttyLANDER"
    board = Board()
    name.symlink_to(board.port)
    listener = Listener(broker.port, [TM, STATUS])
    bridge = Bridge(f"serial://{name}", parse(broker.url), VEHICLE, qos=1).start()
    try:
        wait_for(lambda: listener.on(STATUS)[-1:] == [ONLINE], what="online")
        board.send(0, 5)
        wait_for(lambda: len(listener.on(TM)) == 5, what="5 packets")
        board.close()  # unplugged: the pty and its name are gone
        name.unlink()
        wait_for(lambda: listener.on(STATUS)[-1:] != [ONLINE], what="offline")
        online, reason = topics.vehicle_status(listener.on(STATUS)[-1])
        assert not online and reason.startswith("serial port lost"), reason
        late = Listener(broker.port, STATUS)  # retained: a newcomer learns it at once
        wait_for(lambda: late.on(STATUS) == listener.on(STATUS)[-1:], what="retained offline")
        late.close()
        board = Board()  # plugged in again
        name.symlink_to(board.port)
        wait_for(lambda: listener.on(STATUS)[-1:] == [ONLINE], what="online again")
        board.send(5, 5)
        wait_for(lambda: len(listener.on(TM)) == 10, what="the packets after the return")
        assert listener.on(TM) == [packet(i) for i in range(10)]
    finally:
        bridge.close()
        board.close()
        listener.close()
    assert bridge.stats.connects == 1  # the broker never saw the port's trouble


def durable_broker(tmp_path: Path) -> Mosquitto:
    """A broker that keeps sessions and queued messages across a restart (on disk), so that
    the test's listener misses nothing while it reconnects."""
    return Mosquitto(tmp_path, persistent=True)


def test_packets_go_up_raw_and_commands_come_down_framed(broker: Mosquitto, board: Board) -> None:
    listener = Listener(broker.port, [TM, STATUS])
    bridge = Bridge(f"serial://{board.port}", parse(broker.url), VEHICLE, qos=1).start()
    try:
        wait_for(lambda: listener.on(STATUS) == [ONLINE], what="online")
        board.send(0, 50)
        wait_for(lambda: len(listener.on(TM)) >= 50, what="50 packets")
        assert listener.on(TM) == board.sent  # one packet per message, as sent, in order
        # a telecommand on tc reaches the port COBS-framed, byte for byte
        command = bytes(range(1, 40))
        listener.client.publish(topics.tc(VEHICLE), command, qos=1)
        assert board.read_frame() == cobs.encode(command) + b"\x00"
        wait_for(lambda: bridge.stats.commands == 1)
    finally:
        bridge.close()
    stopped = topics.offline("the bridge stopped")
    wait_for(lambda: listener.on(STATUS)[-1:] == [stopped], what="offline on close")
    late = Listener(broker.port, STATUS)  # retained: a newcomer learns it at once
    wait_for(lambda: late.on(STATUS) == [stopped], what="retained offline")
    late.close()
    listener.close()
    assert bridge.stats.received == bridge.stats.published == 50
    assert bridge.stats.dropped == 0


def test_broker_restarted_mid_stream_loses_nothing_at_qos_1(tmp_path: Path, board: Board) -> None:
    broker = durable_broker(tmp_path)
    listener = Listener(broker.port, TM, client_id="tm-archive", clean=False)
    bridge = Bridge(f"serial://{board.port}", parse(broker.url), VEHICLE, qos=1).start()
    try:
        wait_for(lambda: bridge.connected, what="the bridge's connection")
        board.send(0, 200)
        wait_for(lambda: bridge.stats.published >= 20, what="some packets published")
        broker.stop()  # mid-stream: some packets published, some queued, some unacknowledged
        board.send(200, 300)  # the outage: all of these wait in the bridge's queue
        wait_for(lambda: bridge.stats.received == 500, what="the port's packets")
        assert not bridge.connected
        broker.start()
        wait_for(lambda: bridge.stats.published >= 500, what="every packet published")
        wait_for(lambda: set(listener.on(TM)) >= set(board.sent), what="every packet delivered")
    finally:
        bridge.close()
        listener.close()
        broker.stop()
    assert bridge.stats.dropped == 0
    assert bridge.stats.connects == 2


def test_an_outage_longer_than_the_buffer_drops_the_oldest_and_counts_them(
    tmp_path: Path, board: Board
) -> None:
    broker = durable_broker(tmp_path)
    listener = Listener(broker.port, TM, client_id="tm-archive", clean=False)
    bridge = Bridge(f"serial://{board.port}", parse(broker.url), VEHICLE, qos=1, buffer=5).start()
    try:
        wait_for(lambda: bridge.connected, what="the bridge's connection")
        broker.stop()
        wait_for(lambda: not bridge.connected, what="the bridge to notice")
        board.send(0, 20)
        wait_for(lambda: bridge.stats.received == 20, what="the port's packets")
        assert bridge.stats.dropped == 15
        broker.start()
        wait_for(lambda: len(listener.on(TM)) >= 5, what="the buffered packets")
        wait_for(lambda: bridge.stats.published == 5, what="their acknowledgements")
    finally:
        bridge.close()
        listener.close()
        broker.stop()
    assert set(listener.on(TM)) == set(board.sent[-5:])  # the newest survive
    assert bridge.stats.published == 5


def test_a_killed_bridge_turns_its_vehicle_offline_by_its_will(
    broker: Mosquitto, board: Board
) -> None:
    listener = Listener(broker.port, STATUS)
    bridge = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "bridge",
            "--link",
            f"serial://{board.port}",
            "--broker",
            broker.url,
            "--vehicle",
            VEHICLE,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: listener.on(STATUS)[-1:] == [ONLINE], what="online")
        bridge.send_signal(signal.SIGKILL)
        bridge.wait()
        wait_for(lambda: listener.on(STATUS)[-1:] == [OFFLINE], what="the will")
    finally:
        if bridge.poll() is None:
            bridge.kill()
        bridge.wait()
        assert bridge.stderr is not None
        bridge.stderr.close()
        listener.close()


def test_a_stopped_bridge_says_offline_and_what_it_moved(broker: Mosquitto, board: Board) -> None:
    listener = Listener(broker.port, [STATUS, TM])
    bridge = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "bridge",
            "--link",
            f"serial://{board.port}",
            "--broker",
            broker.url,
            "--vehicle",
            VEHICLE,
            "--qos",
            "0",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: listener.on(STATUS)[-1:] == [ONLINE], what="online")
        board.send(0, 10)
        wait_for(lambda: len(listener.on(TM)) == 10, what="10 packets")
        bridge.send_signal(signal.SIGTERM)
        _, err = bridge.communicate(timeout=30)
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.communicate()
    assert bridge.returncode == 0
    assert "10 packets from the port, 10 published, 0 dropped" in err
    wait_for(
        lambda: listener.on(STATUS)[-1:] == [topics.offline("the bridge stopped")], what="offline"
    )
    listener.close()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--broker", "http://host"], "is not an mqtt:// or mqtts:// URL"),
        (["--broker", "mqtt://127.0.0.1:99999"], "the port must be a number from 1 to 65535"),
        (["--broker", "mqtt://127.0.0.1:1/LANDER-2"], "--vehicle LANDER-2"),
        (["--broker", "mqtts://127.0.0.1?ca=/nonexistent.crt"], "no CA file"),
    ],
)
def test_bad_options_get_one_line(argv: list[str], says: str, board: Board) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ground.cli", "bridge", "--link", f"serial://{board.port}", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert says in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_missing_port_is_one_line(broker: Mosquitto) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "bridge",
            "--link",
            "serial:///dev/ttyNOPE0",
            "--broker",
            broker.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 3
    assert "no serial port /dev/ttyNOPE0" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_board_that_goes_away_and_comes_back_is_bridged_again(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """A Pico re-enumerates when it resets: its device goes, then a new one comes."""
    first, second = Board(), Board()
    port = tmp_path / "ttyLANDER"
    port.symlink_to(first.port)
    listener = Listener(broker.port, TM)
    bridge = Bridge(f"serial://{port}", parse(broker.url), VEHICLE).start()
    try:
        first.send(0, 5)
        wait_for(lambda: len(listener.on(TM)) == 5, what="packets before")
        first.close()
        wait_for(lambda: bridge.bus.state == "lost", what="the port lost")
        # a telecommand while the port is away cannot be delivered: counted, not queued
        listener.client.publish(topics.tc(VEHICLE), b"\x10\x01", qos=1)
        wait_for(lambda: bridge.stats.commands_lost == 1, what="the lost telecommand")
        port.unlink()
        port.symlink_to(second.port)
        wait_for(lambda: bridge.bus.state == "back", what="the port back")
        second.send(5, 5)
        wait_for(lambda: len(listener.on(TM)) == 10, what="packets after")
    finally:
        bridge.close()
        second.close()
        listener.close()
    assert listener.on(TM) == first.sent + second.sent
