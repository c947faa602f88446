"""The sans-I/O deframer: runs between delimiters, COBS-decoded, however the bytes come."""

from __future__ import annotations

from binascii import crc_hqx

from cobs import cobs
from hypothesis import given
from hypothesis import strategies as st

from ground.deframer import MAX_FRAME, Deframer

from .test_decoder import FAST, _chunked


def _frame(payload: bytes) -> bytes:
    return cobs.encode(payload) + b"\x00"


def _crc_ok(frame: bytes) -> bool:
    return len(frame) > 2 and crc_hqx(frame, 0xFFFF) == 0


def _with_crc(payload: bytes) -> bytes:
    return payload + crc_hqx(payload, 0xFFFF).to_bytes(2, "big")


def _feed(deframer: Deframer, chunks: list[bytes]) -> list[bytes]:
    out = []
    for chunk in chunks:
        out += deframer.feed(chunk)
    return out + deframer.close()


def test_frames_come_out_decoded_and_the_partial_waits_for_its_delimiter():
    d = Deframer()
    assert d.feed(_frame(b"a\x00b") + _frame(b"c")[:1]) == [b"a\x00b"]
    assert d.feed(_frame(b"c")[1:]) == [b"c"]
    assert d.close() == []
    assert (d.stats.frames, d.stats.bytes, d.stats.cobs_errors) == (2, 8, 0)


def test_a_bad_run_is_counted_and_an_intact_frame_at_its_end_is_found():
    d = Deframer(intact=_crc_ok, longest=64)
    good = _with_crc(b"telemetry")
    frames = _feed(d, [b"\x05\xff\xff" + _frame(good) + b"\x09\x01\x00" + _frame(good)])
    assert frames == [good, good]
    assert (d.stats.resyncs, d.stats.cobs_errors, d.stats.frames) == (1, 1, 4)


def test_noise_longer_than_a_frame_is_bounded_and_counted_once():
    d = Deframer(intact=_crc_ok, longest=64)
    good = _with_crc(b"after the noise")
    for _ in range(100):
        assert d.feed(b"\x55" * 1000) == []
        assert len(d._partial) <= MAX_FRAME + 1  # memory stays bounded
    assert d.feed(_frame(good)) == [good]
    assert (d.stats.oversize_runs, d.stats.resyncs) == (1, 1)


@FAST
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40).map(lambda b: _frame(_with_crc(b))),
            st.binary(max_size=50),
            st.integers(1, 6000).map(lambda n: b"\x07" * n),
        ),
        max_size=10,
    ),
    st.lists(st.integers(0, 10**6), max_size=10),
)
def test_chunking_changes_nothing(pieces, cuts):
    stream = b"".join(pieces)
    bulk, streamed = Deframer(intact=_crc_ok, longest=64), Deframer(intact=_crc_ok, longest=64)
    assert _feed(bulk, [stream]) == _feed(streamed, _chunked(stream, cuts))
    assert bulk.stats == streamed.stats
