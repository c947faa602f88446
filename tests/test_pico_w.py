"""A vehicle that publishes itself (a Pico W's MQTT transport, firmware/mqtt.py and
firmware/mqttlink.py) on the real MicroPython VM against a real mosquitto running the
shipped configuration: `lander sil --broker mqtts://...` logs in over TLS with its edge
account, its packets arrive on tm, and commands on tc pass the checks a serial frame does
(key, MAC, counter)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.bridge import OFFLINE, ONLINE
from ground.decoder import Packet, TelemetryDecoder
from ground.mqtt import topics
from hil import vm
from hil.conditions import wait_for
from hil.telecommands import signed
from hil.tools import lander
from sil.board import VirtualBoard
from sil.link import authority
from tests.brokers import DEPLOY, Listener, Mosquitto, needs_mosquitto, publish
from tests.test_broker_security import Secured, password, secured_broker

pytestmark = [needs_mosquitto, pytest.mark.vm]

VEHICLE = "LANDER-1"  # the bench key's vehicle (the `ground_home` fixture's key folder)


@pytest.fixture(name="secured")
def secured_fixture(tmp_path: Path) -> Iterator[Secured]:
    (tmp_path / "broker").mkdir()
    secured = secured_broker(tmp_path / "broker")
    yield secured
    secured.broker.stop()


def decode(payloads: list[bytes]) -> list[Packet]:
    decoder = TelemetryDecoder()
    found = [decoder.feed_packet(p) for p in payloads]
    return [p for p in found if p is not None]


@pytest.fixture(name="viewer")
def viewer_fixture(secured: Secured) -> Iterator[Listener]:
    """Everything published of the vehicle, as the viewer account sees it."""
    listener = Listener(
        secured.port, f"lander/{VEHICLE}/#", user="viewer", password=password("viewer")
    )
    yield listener
    listener.close()


def comes_online_and_publishes(listener: Listener) -> None:
    wait_for(lambda: listener.on(topics.status(VEHICLE))[-1:] == [ONLINE], 60)
    wait_for(lambda: {"HK", "NAV"} <= {p.name for p in decode(listener.on(topics.tm(VEHICLE)))})


def verifications(listener: Listener) -> list[tuple[int, str, str]]:
    return [
        (p.values["counter"], p.values["stage"], p.values["reason"])
        for p in decode(listener.on(topics.tm(VEHICLE)))
        if p.name == "TC_VERIFY"
    ]


@pytest.mark.pty
def test_a_virtual_pico_w_publishes_itself_refuses_a_replay_and_outlives_its_broker(
    ground_home: Path, secured: Secured, viewer: Listener
) -> None:
    listener = viewer
    # over TLS, as a Pico W on a network is: the broker's name checked against the test CA
    edge = (
        f"mqtts://edge-{VEHICLE}:{password('edge-' + VEHICLE)}@localhost:{secured.tls_port}"
        f"?ca={secured.ca}"
    )
    board = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ground.cli",
            "sil",
            "--broker",
            edge,
            "--vehicle",
            VEHICLE,
            "--idle",
            "--time-warp",
            "10",
            "--flash",
            str(ground_home / "flash"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        comes_online_and_publishes(listener)
        # the gateway's command, then the same bytes again (a replay onto tc)
        command = signed("PING", 5, token=4242).packet
        gateway = secured.login("gateway")
        assert publish(gateway, topics.tc(VEHICLE), command)
        wait_for(lambda: (5, "COMPLETED", "NONE") in verifications(listener), what="PING")
        assert publish(gateway, topics.tc(VEHICLE), command)
        wait_for(lambda: (5, "FAILED", "REPLAY") in verifications(listener), what="REPLAY")
        pongs = [p for p in decode(listener.on(topics.tm(VEHICLE))) if p.name == "PONG"]
        assert [p.values["token"] for p in pongs] == [4242]  # it ran once
        gateway.disconnect()
        # the broker restarted: the board notices, logs in again and goes on publishing
        secured.broker.restart()
        before = len(listener.on(topics.tm(VEHICLE)))
        wait_for(lambda: len(listener.on(topics.tm(VEHICLE))) > before + 20, 60, "telemetry")
        board.send_signal(signal.SIGINT)
        board.communicate(timeout=30)
        # the VM went with its board: the broker says so by the board's will
        wait_for(lambda: listener.on(topics.status(VEHICLE))[-1:] == [OFFLINE])
    finally:
        if board.poll() is None:
            board.kill()
            board.communicate()
    packets = decode(listener.on(topics.tm(VEHICLE)))
    idents = [p for p in packets if p.name == "IDENT"]
    assert all(p.values["vehicle"] == VEHICLE for p in idents)


@pytest.mark.pty
def test_a_pico_w_flashed_as_the_readme_says_comes_online_and_publishes(
    ground_home: Path, secured: Secured, viewer: Listener
) -> None:
    # `lander flash --set 'mqtt={...}'` puts the build (.mpy) and the settings on the board;
    # it boots into the flight software with its transport in a Pico's heap (with the
    # sources it is compiled on the board: the test above)
    mqtt = {"broker": "127.0.0.1", "port": secured.port, "user": f"edge-{VEHICLE}"}
    mqtt["password"] = password(f"edge-{VEHICLE}")
    with VirtualBoard(ground_home / "flash") as board:
        result = lander("flash", "--port", board.port, "--set", f"mqtt={json.dumps(mqtt)}")
        assert result.returncode == 0, result.stderr
        comes_online_and_publishes(viewer)
    hk = [p for p in decode(viewer.on(topics.tm(VEHICLE))) if p.name == "HK"]
    assert hk[-1].values["heap_free"] > 16_000  # a Pico's heap with the transport in it


# The MQTT transport on its own: the firmware's downlink (the frame path the flight software
# calls) with an MqttLink, in the VM with a Pico's heap. (A board with the flight model is
# the test above.)
HARNESS = r"""
import gc, sys, time, micropython, hal
import packets as P
from clock import Clock
from downlink import Downlink
hal.configure({})
down = Downlink(P.new_points(), Clock(0))
gc.collect()
free0 = gc.mem_free()
from mqttlink import MqttLink
m = down.mqtt = MqttLink({"mqtt": %s}, %r, lambda pkt, n: None)
m.allocate()
"""


def harness(mqtt: dict[str, object], vehicle: str = VEHICLE) -> str:
    return HARNESS % (json.dumps(mqtt), vehicle)


def test_a_board_that_may_not_log_in_keeps_trying_and_counts_what_it_drops(
    secured: Secured,
) -> None:
    # wrong password: refused (CONNACK 5); the board goes on sending, its backlog of 4
    # fills, and what overflows is counted
    mqtt = {"broker": "127.0.0.1", "port": secured.port, "user": "edge-LANDER-1",
            "password": "wrong", "qos": 1, "backlog": 4}  # fmt: skip
    result = vm.run(harness(mqtt) + LINK_SCRIPT)
    out = re.search(
        rb"RESULT up=(\w+) refused=(\d+) sent=(\d+) lost=(\d+) queued=(\d+)", result.stderr
    )
    assert out, result.stderr
    assert out.group(1) == b"False" and int(out.group(2)) == 5
    assert int(out.group(3)) == 0 and int(out.group(4)) == 50 - 4 and int(out.group(5)) == 4


LINK_SCRIPT = r"""
for i in range(50):
    down.send(i % 4)
    m.service()
    m.next_try = time.ticks_ms()  # no backoff: the test wants the answer now
b = m.backlog
sys.stderr.write("RESULT up=%s refused=%d sent=%d lost=%d queued=%d\n"
                 % (m.up, m.refused, m.sent, b.lost, b.count))
"""


def test_a_board_over_tls_trusts_its_authority_alone(secured: Secured, tmp_path: Path) -> None:
    # a broker whose certificate another authority signed (an impostor) gets nothing
    impostor = tmp_path / "impostor"
    impostor.mkdir()
    subprocess.run(
        [str(DEPLOY / "make-tls"), str(impostor), "localhost"], check=True, capture_output=True
    )
    for ca, up in ((secured.ca, b"True"), (str(impostor / "ca.crt"), b"False")):
        mqtt = {
            "broker": "localhost", "port": secured.tls_port, "user": "edge-LANDER-1",
            "password": password("edge-LANDER-1"), "ca": "ca.der",
        }  # fmt: skip
        flash = tmp_path / f"flash-{up.decode()}"
        flash.mkdir()
        (flash / "ca.der").write_bytes(authority(ca))
        result = vm.run(harness(mqtt) + TLS_SCRIPT, cwd=flash)
        out = re.search(rb"RESULT up=(\w+) cost=(\d+)", result.stderr)
        assert out, result.stderr
        assert out.group(1) == up, ca
        # what the MQTT transport over TLS holds in the heap once connected: its code, the
        # client, the backlog and the TLS context with the authority (a Pico W's mbedtls
        # takes its record buffers, 16 KB in and 4 KB out, from the heap too; the unix
        # port's from C's)
        assert int(out.group(2)) < 24 * 1024  # (19.7 KB measured, 64-bit VM)


TLS_SCRIPT = r"""
for i in range(20):
    m.service()
    if m.up:
        break
    m.next_try = time.ticks_ms()  # no backoff: the test wants the answer now
    time.sleep_ms(50)
gc.collect()
sys.stderr.write("RESULT up=%s cost=%d\n" % (m.up, free0 - gc.mem_free()))
m.close()
"""


def test_the_mqtt_frame_path_allocates_nothing_in_a_pico_heap(tmp_path: Path) -> None:
    # Telemetry over MQTT at QoS 1 under heap_lock(): any allocation would raise MemoryError.
    broker = Mosquitto(tmp_path)
    listener = Listener(broker.port, topics.tm("PICO-1"))
    mqtt = {"broker": "127.0.0.1", "port": broker.port, "qos": 1}
    try:
        result = vm.run(harness(mqtt, "PICO-1") + HEAP_SCRIPT)
        out = re.search(rb"RESULT sent=(\d+) lost=(\d+) acked=(\d+)", result.stderr)
        assert out, result.stderr
        sent, lost, acked = (int(x) for x in out.groups())
        assert sent >= 400 and lost == 0
        wait_for(lambda: len(listener.on(topics.tm("PICO-1"))) == sent, what="every packet")
    finally:
        listener.close()
        broker.stop()
    packets = decode(listener.on(topics.tm("PICO-1")))
    assert len(packets) == sent  # every message one whole packet, its CRC good
    assert acked == sent + 1  # and the broker acknowledged each (and the online status)


HEAP_SCRIPT = r"""
while not m.up:
    m.service()
    time.sleep_ms(10)
down.send(0)
m.service()
gc.collect()
micropython.heap_lock()
for i in range(400):
    down.send(i % 4)
    m.service()
    while m.backlog.count > 16:  # the broker acknowledges: the backlog empties
        m.service()
micropython.heap_unlock()
while m.client.acked < m.sent + 1:
    m.service()
    time.sleep_ms(5)
sys.stderr.write("RESULT sent=%d lost=%d acked=%d\n" % (m.sent, m.backlog.lost, m.client.acked))
m.close()
"""


def test_a_board_keeps_a_backlog_while_its_broker_is_away(tmp_path: Path) -> None:
    # A board sends 10 packets, its broker stops, it sends 40 more into a backlog of 16
    # (the oldest 24 dropped and counted), the broker comes back: the 16 go out first, in
    # order, then 10 live ones, all under heap_lock().
    broker = Mosquitto(tmp_path, persistent=True)  # the listener's session survives
    listener = Listener(broker.port, topics.tm("PICO-2"), client_id="archive", clean=False)
    mqtt = {"broker": "127.0.0.1", "port": broker.port, "qos": 1, "backlog": 16}
    board = subprocess.Popen(
        vm.argv(harness(mqtt, "PICO-2") + BACKLOG_SCRIPT),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert board.stderr is not None
    lines: list[bytes] = []

    def said(word: bytes) -> bool:
        line = board.stderr.readline()  # type: ignore[union-attr]
        lines.append(line)
        assert line, b"".join(lines)
        return line.startswith(word)

    try:
        wait_for(lambda: said(b"CONNECTED"), 60)
        broker.stop()
        wait_for(lambda: said(b"AWAY"), 60)
        broker.start()
        wait_for(lambda: said(b"RESULT"), 60)
        out = re.search(rb"sent=(\d+) lost=(\d+) queued=(\d+)", lines[-1])
        assert out, lines
        sent, lost, queued = (int(x) for x in out.groups())
        assert lost == 24 and queued == 0
        # 10 + 16 + 10 reached the broker (a packet the stop swallowed was sent again)
        wait_for(lambda: len(decode(listener.on(topics.tm("PICO-2")))) >= 36, what="36 packets")
    finally:
        if board.poll() is None:
            board.kill()
        board.wait()
        board.stderr.close()
        listener.close()
        broker.stop()
    counts = [p.seq for p in decode(listener.on(topics.tm("PICO-2")))]
    kept = list(range(10)) + list(range(10 + 24, 50)) + list(range(50, 60))
    assert sorted(set(counts)) == kept  # the oldest 24 of the outage dropped, no others
    assert list(dict.fromkeys(counts)) == kept  # in order (a duplicate only repeats)


BACKLOG_SCRIPT = r"""
def wait(cond):
    while not cond():
        m.service()
        time.sleep_ms(5)
wait(lambda: m.up)
gc.collect()
micropython.heap_lock()
for i in range(10):
    down.send(P.HK)
    m.service()
micropython.heap_unlock()
wait(lambda: m.backlog.count == 0)
sys.stderr.write("CONNECTED\n")
wait(lambda: not m.up)
micropython.heap_lock()
for i in range(40):
    down.send(P.HK)
    m.service()
micropython.heap_unlock()
sys.stderr.write("AWAY lost=%d queued=%d\n" % (m.backlog.lost, m.backlog.count))
wait(lambda: m.up)
micropython.heap_lock()
for i in range(10):
    down.send(P.HK)
    m.service()
micropython.heap_unlock()
wait(lambda: m.backlog.count == 0)
b = m.backlog
sys.stderr.write("RESULT sent=%d lost=%d queued=%d\n" % (m.sent, b.lost, b.count))
m.close()
"""
