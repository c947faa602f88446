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
from tests.mosquitto_kit import DEPLOY, Listener, Mosquitto, needs_mosquitto, publish
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


def verifications(listener: Listener) -> list[tuple[int, str, str]]:
    return [
        (p.values["counter"], p.values["stage"], p.values["reason"])
        for p in decode(listener.on(topics.tm(VEHICLE)))
        if p.name == "TC_VERIFY"
    ]


@pytest.mark.pty
@pytest.mark.xfail(
    reason="known defect: with the second-pass flight model (~40 KB more heap) the virtual "
    "Pico W does not come online over TLS within 60 s; MQTT without TLS is unaffected",
    strict=False,
)
def test_a_virtual_pico_w_publishes_itself_refuses_a_replay_and_outlives_its_broker(
    ground_home: Path, secured: Secured
) -> None:
    listener = Listener(
        secured.port, f"lander/{VEHICLE}/#", user="viewer", password=password("viewer")
    )
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
        wait_for(lambda: listener.on(topics.status(VEHICLE))[-1:] == [ONLINE], 60)
        wait_for(lambda: {"HK", "NAV"} <= {p.name for p in decode(listener.on(topics.tm(VEHICLE)))})
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
        listener.close()
    packets = decode(listener.on(topics.tm(VEHICLE)))
    idents = [p for p in packets if p.name == "IDENT"]
    assert all(p.values["vehicle"] == VEHICLE for p in idents)


def test_a_board_that_may_not_log_in_keeps_trying_and_flies_on(secured: Secured) -> None:
    # wrong password: refused (CONNACK 5), the flight software goes on, and tries again later
    result = vm.run(
        LINK_SCRIPT % {"port": secured.port, "user": "edge-LANDER-1", "password": "wrong"}
    )
    out = re.search(rb"RESULT up=(\w+) refused=(\d+) sent=(\d+) lost=(\d+)", result.stderr)
    assert out, result.stderr
    assert out.group(1) == b"False" and int(out.group(2)) == 5
    assert int(out.group(4)) > 0 and int(out.group(3)) == 0


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
            "password": password("edge-LANDER-1"), "ca": Path(ca).read_text(),
        }  # fmt: skip
        result = vm.run(TLS_SCRIPT % json.dumps(mqtt))
        out = re.search(rb"RESULT up=(\w+) free=(\d+)", result.stderr)
        assert out, result.stderr
        assert out.group(1) == up, ca
        assert int(out.group(2)) > 32 * 1024  # a TLS session fits a Pico's heap


TLS_SCRIPT = r"""
import gc, time, hal
from app import App
hal.configure({})
app = App({"vehicle": "LANDER-1", "mqtt": %s})
m = app.mqtt
for i in range(20):
    m.service()
    if m.up:
        break
    m.next_try = time.ticks_ms()  # no backoff: the test wants the answer now
    time.sleep_ms(50)
gc.collect()
sys.stderr.write("RESULT up=%%s free=%%d\n" %% (m.up, gc.mem_free()))
m.close()
"""


LINK_SCRIPT = r"""
import gc, micropython, time, hal
from app import App
hal.configure({})
app = App({"autostart": True, "seed": 3, "vehicle": "LANDER-1", "mqtt": {
    "broker": "127.0.0.1", "port": %(port)d, "user": "%(user)s", "password": "%(password)s",
    "qos": 1}})
app.start()
for i in range(100):
    app.cycle()
    app.mqtt.service()
m = app.mqtt
sys.stderr.write("RESULT up=%%s refused=%%d sent=%%d lost=%%d\n"
                 %% (m.up, m.refused, m.sent, m.lost))
"""


def test_the_mqtt_frame_path_allocates_nothing_in_a_pico_heap(tmp_path: Path) -> None:
    # Telemetry over MQTT at QoS 1 under heap_lock(): any allocation would raise MemoryError.
    broker = Mosquitto(tmp_path)
    listener = Listener(broker.port, topics.tm("PICO-1"))
    script = HEAP_SCRIPT % {"port": broker.port}
    try:
        result = vm.run(script)
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
import gc, micropython, time, hal
from app import App
hal.configure({})
app = App({"autostart": True, "seed": 3, "vehicle": "PICO-1",
           "mqtt": {"broker": "127.0.0.1", "port": %(port)d, "qos": 1}})
m = app.mqtt
while not m.up:
    m.service()
    time.sleep_ms(10)
app.start()
for i in range(100):
    app.cycle()
    m.service()
gc.collect()
app.down.send(0)
m.service()
micropython.heap_lock()
for i in range(400):
    app.down.send(i %% 4)
    m.service()
micropython.heap_unlock()
while m.client.acked < m.sent + 1:
    m.service()
    time.sleep_ms(5)
sys.stderr.write("RESULT sent=%%d lost=%%d acked=%%d\n" %% (m.sent, m.lost, m.client.acked))
m.close()
"""
