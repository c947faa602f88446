"""The sans-I/O decoder: identical to Construct, and never thrown by bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ground.decoder import TelemetryDecoder
from schemas import structs

from . import tmgen

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def _decode(chunks: list[bytes]) -> tuple[list, TelemetryDecoder]:
    decoder = TelemetryDecoder()
    out = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out, decoder


@FAST
@given(st.lists(tmgen.packets(), min_size=1, max_size=20), st.lists(st.integers(0, 10**6)))
def test_decoded_values_are_exactly_what_construct_parses(contents, cuts):
    raw = [tmgen.build(p) for p in contents]
    stream = b"".join(tmgen.frame(r) for r in raw)
    packets, decoder = _decode(_chunked(stream, cuts))
    assert len(packets) == len(contents)
    for packet, p, data in zip(packets, contents, raw, strict=True):
        parsed = structs.packet_struct(tmgen.DICTIONARY[p["name"]]).parse(data)
        body = parsed.body.value
        assert packet.name == p["name"]
        assert packet.seq == body.header.seq
        assert packet.raw[:2] == (body.time.coarse, body.time.fine)
        expected = {k: v for k, v in body.data.items() if not k.startswith("_")}
        assert packet.raw_values == expected
    assert decoder.stats.packets == len(contents)
    assert decoder.stats.bad_frames == 0


def _corrupt(kind: str, frame: bytes, data: st.DataObject) -> bytes:
    if kind == "flip":
        i = data.draw(st.integers(0, len(frame) - 2))
        bit = data.draw(st.integers(0, 7))
        return frame[:i] + bytes([frame[i] ^ (1 << bit)]) + frame[i + 1 :]
    if kind == "truncate":  # cut short, delimiter kept: the receiver sees a short frame
        cut = data.draw(st.integers(1, len(frame) - 2))
        return frame[:cut] + b"\x00"
    if kind == "drop_tail":  # cut short and the delimiter lost: runs into the next frame
        return frame[: data.draw(st.integers(1, len(frame) - 2))]
    garbage = data.draw(st.binary(min_size=1, max_size=40))
    return garbage + frame  # bytes between frames (maybe including 0x00)


@FAST
@given(st.data())
def test_corruption_never_raises_and_never_loses_an_intact_frame(data):
    contents = data.draw(st.lists(tmgen.packets(), min_size=1, max_size=12))
    frames = [tmgen.frame(tmgen.build(p)) for p in contents]
    kinds = data.draw(
        st.lists(
            st.sampled_from(["ok", "ok", "flip", "truncate", "drop_tail", "garbage"]),
            min_size=len(frames),
            max_size=len(frames),
        )
    )
    stream = []
    intact = []
    for i, (frame, kind) in enumerate(zip(frames, kinds, strict=True)):
        if kind in ("ok", "garbage"):
            # Intact: its own bytes and its delimiter, and the frame before it ended in 0x00.
            prev_ok = i == 0 or kinds[i - 1] != "drop_tail"
            if prev_ok or kind == "garbage":
                intact.append(contents[i])
        stream.append(frame if kind == "ok" else _corrupt(kind, frame, data))
    cuts = data.draw(st.lists(st.integers(0, 10**6), max_size=6))
    packets, decoder = _decode(_chunked(b"".join(stream), cuts))
    got = [(p.name, p.seq, p.raw) for p in packets]
    for p in intact:
        assert any(g[0] == p["name"] and g[1] == p["seq"] for g in got), p
    stats = decoder.stats
    assert stats.frames == stats.packets + stats.crc_errors + stats.undecodable + stats.unknown_apid


@FAST
@given(st.binary(max_size=3000), st.lists(st.integers(0, 10**6), max_size=8))
def test_random_bytes_never_raise(blob, cuts):
    packets, decoder = _decode(_chunked(blob, cuts))
    stats = decoder.stats
    assert stats.bytes == len(blob)
    assert stats.frames == stats.packets + stats.bad_frames


def test_each_bad_frame_lands_in_the_counter_that_says_why():
    good = tmgen.sequence("HK", 3)
    packet = tmgen.build(
        {"name": "HK", "seq": 3, "coarse": 0, "fine": 0, "values": tmgen.values("HK")}
    )
    flipped = bytearray(packet)
    flipped[20] ^= 0x04
    unknown = bytearray(packet)
    unknown[1] = 0x7F  # APID 0x07F is not in the dictionary; fix the CRC so only that is wrong
    from schemas import wire

    body = bytes(unknown[:-2])
    unknown = body + wire.crc16(body).to_bytes(2, "big")
    stream = (
        good[0]
        + tmgen.frame(bytes(flipped))
        + good[1]
        + tmgen.frame(unknown)
        + b"\x01\x02\x03\x00"  # a frame too short to be a packet
        + good[2]
        + good[0][:10]  # truncated at the end of the capture
    )
    packets, decoder = _decode([stream])
    s = decoder.stats
    assert [p.seq for p in packets] == [0, 1, 2]
    assert (s.crc_errors, s.unknown_apid, s.undecodable) == (1, 1, 2)
    assert s.frames == 7


def test_garbage_in_front_of_a_frame_is_cut_off():
    frames = tmgen.sequence("NAV", 2)
    packets, decoder = _decode([frames[0] + b"\x17\x42noise" + frames[1]])
    assert [p.seq for p in packets] == [0, 1]
    assert decoder.stats.undecodable == 1
    assert decoder.stats.gaps == 0


def test_sequence_gaps_are_counted_per_packet():
    frames = tmgen.sequence("NAV", 6) + tmgen.sequence("HK", 2)
    del frames[2:4]  # NAV 2 and 3 lost
    packets, decoder = _decode([b"".join(frames)])
    assert decoder.stats.gaps == 1
    assert decoder.stats.gaps_by_packet == {"NAV": 1}
    assert decoder.stats.missing_by_packet == {"NAV": 2}


def test_sequence_count_wraps_without_a_gap():
    frames = tmgen.sequence("POWER", 4, start_seq=0x3FFE)
    packets, decoder = _decode([b"".join(frames)])
    assert [p.seq for p in packets] == [0x3FFE, 0x3FFF, 0, 1]
    assert decoder.stats.gaps == 0


def test_a_run_with_no_delimiter_is_dropped_and_counted_once():
    decoder = TelemetryDecoder()
    for _ in range(10):
        assert decoder.feed(b"\x55" * 1000) == []
    good = tmgen.sequence("HK", 1)[0]
    assert len(decoder.feed(b"\x00" + good)) == 1
    assert decoder.stats.undecodable == 1


def test_engineering_values_apply_calibration_and_states():
    values = tmgen.values(
        "HK", mode=1, phase=3, uptime=42, tm_sent=7, heap_free=100000, board_temp=14000
    )
    packet = tmgen.build({"name": "HK", "seq": 0, "coarse": 10, "fine": 32768, "values": values})
    (decoded,), _ = _decode([tmgen.frame(packet)])
    v = decoded.values
    assert v["mode"] == "NOMINAL"
    assert v["phase"] == "BRAKING"
    assert v["board_temp"] == pytest.approx(27 - (14000 * 3.3 / 65535 - 0.706) / 0.001721)
    assert decoded.time == 10.5
    assert decoded.to_dict()["packet"] == "HK"
