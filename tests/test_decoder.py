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


# --- streamed and bulk decoding agree; framing defects -----------------------------------


def _stream_pieces() -> st.SearchStrategy[bytes]:
    """Frames, noise without a delimiter (some longer than any frame), and random bytes."""
    good = tmgen.packets().map(lambda p: tmgen.frame(tmgen.build(p)))
    long_noise = st.tuples(st.integers(1, 255), st.integers(1, 6000)).map(
        lambda t: bytes([t[0]]) * t[1]
    )
    return st.one_of(good, good, long_noise, st.binary(max_size=60))


@settings(FAST, max_examples=80)
@given(st.lists(_stream_pieces(), max_size=12), st.lists(st.integers(0, 10**6), max_size=12))
def test_streamed_and_bulk_decoding_give_the_same_packets_and_counters(pieces, cuts):
    stream = b"".join(pieces)
    bulk, bulk_decoder = _decode([stream])
    streamed, streamed_decoder = _decode(_chunked(stream, cuts))
    assert [p.data for p in streamed] == [p.data for p in bulk]
    assert streamed_decoder.stats == bulk_decoder.stats
    if len(stream) <= 6000:  # and a byte at a time
        bytewise, bytewise_decoder = _decode([stream[i : i + 1] for i in range(len(stream))])
        assert [p.data for p in bytewise] == [p.data for p in bulk]
        assert bytewise_decoder.stats == bulk_decoder.stats
    stats = bulk_decoder.stats
    assert stats.frames == stats.packets + stats.bad_frames


def test_an_intact_frame_behind_more_than_4_kb_of_noise_is_kept_when_read_in_small_pieces():
    good = tmgen.sequence("HK", 1)[0]
    stream = b"\x55" * 5000 + good
    for size in (len(stream), 4096, 100, 1):
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        packets, decoder = _decode(chunks)
        assert [p.name for p in packets] == ["HK"], size
        assert (decoder.stats.undecodable, decoder.stats.oversize_runs) == (1, 1)


def test_an_over_long_run_at_the_end_of_input_is_counted_once():
    decoder = TelemetryDecoder()
    for _ in range(10):
        decoder.feed(b"\x55" * 1000)
    assert decoder.close() == []
    assert (decoder.stats.frames, decoder.stats.undecodable) == (1, 1)
    assert decoder.stats.oversize_runs == 1


def _nav(order: list[int]) -> bytes:
    frames = tmgen.sequence("NAV", max(order) + 1)
    return b"".join(frames[i] for i in order)


def test_a_repeated_packet_is_a_duplicate_not_thousands_missing():
    packets, decoder = _decode([_nav([0, 1, 2, 2, 3, 4])])
    s = decoder.stats
    assert len(packets) == 6
    assert (s.gaps, s.missing, s.duplicates, s.out_of_order) == (0, 0, 1, 0)
    assert decoder.stats.missing_by_packet.get("NAV", 0) == 0


def test_reordered_packets_are_late_not_lost():
    packets, decoder = _decode([_nav([0, 1, 4, 2, 3, 5, 7, 6])])
    s = decoder.stats
    assert [p.seq for p in packets] == [0, 1, 4, 2, 3, 5, 7, 6]
    assert (s.gaps, s.missing, s.duplicates, s.out_of_order) == (0, 0, 0, 3)


def test_a_gap_partly_filled_by_late_packets_keeps_what_is_still_missing():
    _, decoder = _decode([_nav([0, 5, 2, 6])])
    s = decoder.stats
    assert (s.gaps, s.missing, s.out_of_order) == (1, 3, 1)
    assert s.gaps_by_packet == {"NAV": 1} and s.missing_by_packet == {"NAV": 3}


def test_a_jump_far_behind_is_a_gap_not_a_duplicate():
    frames = tmgen.sequence("NAV", 3, start_seq=5000) + tmgen.sequence("NAV", 3)
    packets, decoder = _decode([b"".join(frames)])
    s = decoder.stats
    assert (s.gaps, s.duplicates) == (1, 0)
    assert len(packets) == 6


def _events(*names: str, start_seq: int = 0) -> list[bytes]:
    codes = {e.name: e.code for e in tmgen.DICTIONARY.events}
    return [
        tmgen.frame(
            tmgen.build(
                {
                    "name": "EVENT",
                    "seq": start_seq + i,
                    "coarse": 0,
                    "fine": 0,
                    "values": tmgen.values("EVENT", event_id=codes[name]),
                }
            )
        )
        for i, name in enumerate(names)
    ]


@pytest.mark.parametrize("old_boot", [30, 5000], ids=["short", "long"])
@pytest.mark.parametrize("ident", [True, False], ids=["ident", "no-ident"])
def test_a_vehicle_that_restarts_is_a_new_boot_not_lost_or_repeated_packets(old_boot, ident):
    """After a reset every sequence count starts at 0 again: the first packets of every boot,
    IDENT (count 0) and the BOOT event, tell the ground so (either one is enough)."""
    idents = tmgen.sequence("IDENT", 2) if ident else [b"", b""]
    before = [idents[0], *_events("BOOT", "PHASE_CHANGE"), idents[1]]
    before += tmgen.sequence("NAV", old_boot)
    after = [idents[0], *_events("BOOT"), *tmgen.sequence("NAV", 40)]
    after += _events("PHASE_CHANGE", start_seq=1)
    packets, decoder = _decode([b"".join(before + after)])
    s = decoder.stats
    assert len(packets) == old_boot + 44 + (3 if ident else 0)
    assert (s.gaps, s.missing, s.duplicates, s.out_of_order) == (0, 0, 0, 0)


# --- one frame, one packet, raw bytes ------------------------------------------------------


def test_packets_keep_their_raw_bytes_and_decode_again_from_them():
    stream = b"".join(tmgen.sequence("NAV", 3) + tmgen.sequence("HK", 2))
    packets, _ = _decode([stream])
    again = [TelemetryDecoder().feed_packet(p.data) for p in packets]
    assert again == packets
    assert [p.values for p in again] == [p.values for p in packets]
    assert b"".join(tmgen.frame(p.data) for p in packets) == stream


def test_one_packet_or_one_frame_at_a_time_counts_like_a_stream():
    raw = [tmgen.build(p) for p in [_hk(0), _hk(1), _hk(3)]]
    bad = bytearray(raw[1])
    bad[15] ^= 0x10
    messages = [raw[0], bytes(bad), raw[1], raw[2], b"\x08\x01", raw[1]]
    decoder = TelemetryDecoder()
    got = [decoder.feed_packet(m) for m in messages]
    assert [None if p is None else p.seq for p in got] == [0, None, 1, 3, None, 1]
    s = decoder.stats
    assert (s.frames, s.packets, s.crc_errors, s.undecodable) == (6, 4, 1, 1)
    assert (s.gaps, s.missing, s.out_of_order, s.duplicates) == (1, 1, 0, 1)
    streamed, stream_decoder = _decode([b"".join(tmgen.frame(m) for m in messages)])
    assert [p.data for p in streamed] == [p.data for p in got if p is not None]
    assert stream_decoder.stats.as_dict() == {**s.as_dict(), "bytes": stream_decoder.stats.bytes}
    frames = TelemetryDecoder()
    assert [len(frames.feed_frame(m)) for m in messages] == [1, 0, 1, 1, 0, 1]


def _hk(seq: int) -> dict:
    return {"name": "HK", "seq": seq, "coarse": seq, "fine": 0, "values": tmgen.values("HK")}
