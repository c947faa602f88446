"""Link faults between a target and the ground: what the injector says it did is what the
ground counts, for any mix of drops, bit errors and duplicates (hypothesis), and on a live
virtual board: drops, a cut, a delay, duplicates."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ground.decoder import TelemetryDecoder
from ground.links import LinkClosed
from hil.linkfaults import FaultyLink, LinkFaults

from . import tmgen

NAV = tmgen.sequence("NAV", 400)
HK = tmgen.sequence("HK", 40)
# A stream as a board sends it, joined mid-frame: NAV at 10 Hz, HK at 1 Hz.
STREAM = b"\x17\x2a" + b"".join(
    n + (HK[i // 10] if i % 10 == 0 else b"") for i, n in enumerate(NAV)
)


class Replay:
    """A link that delivers a byte string in chunks, then closes."""

    url = "replay://"
    reconnectable = False

    def __init__(self, data: bytes, chunk: int) -> None:
        self.data = data
        self.chunk = chunk

    def read(self, timeout: float = 0.1) -> bytes:
        if not self.data:
            raise LinkClosed("end of replay")
        out, self.data = self.data[: self.chunk], self.data[self.chunk :]
        return out

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def through(faults: LinkFaults, chunk: int = 997) -> tuple[FaultyLink, TelemetryDecoder, list]:
    link = FaultyLink(Replay(STREAM, chunk), faults)
    decoder = TelemetryDecoder()
    packets = []
    while True:
        try:
            packets += decoder.feed(link.read(0))
        except LinkClosed:
            return link, decoder, packets


@settings(max_examples=30, deadline=None)
@given(
    drop=st.sampled_from([0.0, 0.01, 0.2]),
    ber=st.sampled_from([0.0, 1e-4, 1e-3]),
    duplicate=st.sampled_from([0.0, 0.02]),
    seed=st.integers(0, 2**32),
    chunk=st.sampled_from([1, 13, 997, 1 << 16]),
)
def test_the_ground_counts_what_was_injected(drop, ber, duplicate, seed, chunk):
    link, decoder, packets = through(LinkFaults(drop, ber, duplicate, seed=seed), chunk)
    stats, injected = decoder.stats, link.injected
    assert stats.packets == injected.packets == len(packets)
    assert stats.bad_frames == injected.bad_frames
    if not duplicate:  # a duplicate is a sequence discontinuity of its own
        assert sum(stats.missing_by_packet.values()) == injected.missing
    assert injected.frames == len(NAV) + len(HK)


def test_a_perfect_link_changes_nothing():
    link, decoder, packets = through(LinkFaults())
    assert link.injected.packets == len(packets) == len(NAV) + len(HK)
    # The bytes of a frame the stream began in the middle of, cut off the first packet.
    assert decoder.stats.bad_frames == link.injected.bad_frames == 1
    assert (link.injected.dropped, link.injected.corrupted) == (0, 0)


def test_every_intact_frame_is_decoded_at_a_bit_error_rate_of_1e4():
    link, decoder, packets = through(LinkFaults(ber=1e-4, seed=3))
    injected = link.injected
    assert injected.corrupted > 0 and injected.bits_flipped >= injected.corrupted
    assert len(packets) == len(NAV) + len(HK) - len(
        [seq for seqs in injected.lost.values() for seq in seqs]
    )


def test_a_bad_fault_model_is_one_clear_error():
    for bad, message in (
        ({"drop": 1.5}, "drop=1.5: a probability is between 0 and 1"),
        ({"delay": -1}, "delay=-1: seconds, 0 or more"),
    ):
        try:
            LinkFaults(**bad)
        except ValueError as exc:
            assert str(exc) == message
        else:
            raise AssertionError(f"{bad} accepted")
