"""mqtt:// links against real brokers: the same packets and counters as the serial stream."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ground.decoder import TelemetryDecoder
from ground.links import LinkError, open_link
from ground.mqtt import topics
from ground.mqtt.address import connect, parse
from ground.mqtt.link import MqttLink, RedeliveryFilter
from tests import tmgen
from tests.brokers import broker_fixture, free_port  # noqa: F401 (fixture)

FRAMES = tmgen.sequence("NAV", 40) + tmgen.sequence("HK", 5)


def packets_of(frames: list[bytes]) -> list[bytes]:
    return [p.data for p in TelemetryDecoder().decode_all(b"".join(frames))]


def until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@given(st.lists(st.integers(0, 30), max_size=200))
def test_redelivery_filter_drops_copies_only(picks: list[int]) -> None:
    packets = [bytes([i]) * 8 for i in range(31)]
    sent = [packets[i] for i in picks]
    f = RedeliveryFilter(size=64)
    kept = [p for p in sent if f.fresh(p)]
    assert kept == list(dict.fromkeys(sent))  # all of them, once, in order
    assert f.redelivered == len(sent) - len(kept)


def test_a_qos1_copy_is_neither_a_packet_nor_a_gap(broker: str) -> None:
    link = MqttLink(f"{broker}/LANDER-1")
    publisher = connect(parse(broker), "test")
    try:
        for packet in packets_of(FRAMES):
            for _ in range(2):  # every packet delivered twice, as a lost PUBACK makes it
                publisher.publish(topics.tm("LANDER-1"), packet, qos=1)
        publisher.publish(topics.tm("OTHER"), packets_of(FRAMES)[0], qos=1)
        decoder = TelemetryDecoder()
        stream = bytearray()  # what `lander capture` writes
        got: list[bytes] = []

        def more() -> bool:
            data = link.read(0.2)
            stream.extend(data)
            got.extend(p.data for p in decoder.feed(data))
            return len(got) >= 45

        until(more)
        assert bytes(stream) == b"".join(FRAMES)  # the serial stream, byte for byte
        direct = TelemetryDecoder()
        assert got == packets_of(FRAMES)
        direct.decode_all(b"".join(FRAMES))
        stats = decoder.stats.as_dict()
        assert stats["packets"] == 45 and stats["duplicates"] == 0 and stats["gaps"] == 0
        assert link.redelivery.redelivered == 45
        assert stats["packets"] == direct.stats.packets
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        link.close()


def test_bad_mqtt_urls_are_one_line() -> None:
    for url, words in [
        ("mqtt://127.0.0.1:1883", "names no vehicle"),
        ("mqtt://127.0.0.1:x/V", "must be a number from 1 to 65535"),
        ("mqtt://127.0.0.1:1883/a/b", "name one vehicle"),
        (f"mqtt://127.0.0.1:{free_port()}/V", "no MQTT broker"),
    ]:
        with pytest.raises(LinkError, match=words) as caught:
            open_link(url)
        assert "\n" not in str(caught.value)
