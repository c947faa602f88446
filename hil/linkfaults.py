"""Link faults between a target and the ground: drop, corrupt, delay, duplicate, cut.

:class:`FaultyLink` wraps any link and passes the vehicle's bytes to the ground through a
seeded fault model, frame by frame (a frame ends at its 0x00 delimiter, as on the wire):

- ``drop``: each frame is lost with this probability;
- ``ber``: each bit, delimiters included, is flipped with this probability (a flipped
  delimiter merges two frames, a flipped byte may become a delimiter and split one);
- ``duplicate``: each frame arrives twice with this probability;
- ``delay``: every byte reaches the ground this many seconds late;
- :meth:`FaultyLink.cut`: nothing gets through for a while (whole frames are lost);
- ``uplink_drop``: each telecommand written to the vehicle is lost with this probability.

It also works out what the ground must then count (:class:`Injected`): the packets it must
decode (every frame that was a good packet and arrived intact), the bad frames it must
report (every run of bytes between two delimiters, as the ground splits the stream, that is
not an intact packet: a corrupted frame, or the garbage a lost delimiter leaves in front of
the next frame) and the packets it must find missing from the sequence counts. A reference
decoder fed the original frames one at a time says which frames were good packets.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ground.decoder import TelemetryDecoder
from ground.links import Link
from schemas import wire

__all__ = ["FaultyLink", "Injected", "LinkFaults"]


@dataclass(frozen=True)
class LinkFaults:
    """The fault model; all zero is a perfect link."""

    drop: float = 0.0
    ber: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    uplink_drop: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("drop", "ber", "duplicate", "uplink_drop"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value}: a probability is between 0 and 1")
        if self.delay < 0:
            raise ValueError(f"delay={self.delay}: seconds, 0 or more")


@dataclass
class Injected:
    """What the injector did, and what the ground must therefore count."""

    frames: int = 0  # complete frames from the vehicle
    dropped: int = 0
    cut: int = 0
    corrupted: int = 0  # frames with at least one bit flipped
    bits_flipped: int = 0
    duplicated: int = 0
    uplink_dropped: int = 0
    #: what the ground must decode: good packets that arrived intact (duplicates twice)
    packets: int = 0
    #: what the ground must count as bad frames (crc_errors + undecodable + unknown_apid)
    bad_frames: int = 0
    #: good packets lost (dropped, cut or corrupted), by APID: original sequence counts
    lost: dict[int, list[int]] = field(default_factory=dict)
    #: the first and last sequence counts of each APID that reached the ground intact
    first_delivered: dict[int, int] = field(default_factory=dict)
    last_delivered: dict[int, int] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        """Lost packets the ground can notice: those between two packets of their APID that
        arrived (sequence counts only grow within one boot; 16,384 packets is far off)."""
        return sum(
            sum(
                1
                for seq in seqs
                if self.first_delivered.get(apid, 1 << 30) < seq < self.last_delivered[apid]
            )
            for apid, seqs in self.lost.items()
            if apid in self.last_delivered
        )


class FaultyLink:
    """A link whose downlink passes through :class:`LinkFaults`; the Link protocol."""

    reconnectable = False  # a test's link: lost is lost

    def __init__(self, link: Link, faults: LinkFaults, *, armed: bool = True) -> None:
        self.url = link.url
        self.faults = faults
        self.armed = armed
        self.injected = Injected()
        self._link = link
        self._rng = random.Random(faults.seed)
        self._reference = TelemetryDecoder()
        self._partial = bytearray()
        self._open_chunk = 0  # bytes the ground holds since its last delimiter (garbage)
        #: bytes on their way to the ground: (when due, bytes, packets and bad frames the
        #: ground will count in them, the (APID, sequence count) of the packet delivered)
        self._queue: deque[tuple[float, bytes, int, int, tuple[int, int] | None]] = deque()
        self._cut_until = 0.0
        self._lock = threading.Lock()

    # --- the Link protocol -------------------------------------------------------------

    def read(self, timeout: float = 0.1) -> bytes:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            data = self._link.read(max(0.0, min(left, 0.02) if self._queue else left))
            with self._lock:
                if data:
                    self._ingest(data)
                out = self._release()
            if out or time.monotonic() >= end:
                return out

    def write(self, data: bytes) -> None:
        with self._lock:
            if self.faults.uplink_drop and self._rng.random() < self.faults.uplink_drop:
                self.injected.uplink_dropped += 1
                return
        self._link.write(data)

    def close(self) -> None:
        self._link.close()

    def arm(self) -> None:
        """Start injecting, and counting afresh (sequence counts carry on from before)."""
        with self._lock:
            before = self.injected
            self.injected = Injected(
                first_delivered=dict(before.last_delivered),
                last_delivered=dict(before.last_delivered),
            )
            self.armed = True

    def cut(self, seconds: float) -> None:
        """Let nothing through for ``seconds`` from now (frames completed meanwhile are lost)."""
        with self._lock:
            self._cut_until = time.monotonic() + seconds

    # --- the fault model ---------------------------------------------------------------

    def _ingest(self, data: bytes) -> None:
        self._partial += data
        *frames, rest = bytes(self._partial).split(b"\x00")
        self._partial = bytearray(rest)
        for body in frames:
            self._frame(body + b"\x00")

    def _frame(self, frame: bytes) -> None:
        inj, faults, rng = self.injected, self.faults, self._rng
        before = self._reference.stats.bad_frames
        packets = self._reference.feed(frame)
        good = packets[0] if packets else None
        garbage = self._reference.stats.bad_frames > before  # bytes in front of a packet
        inj.frames += 1
        key = (good.apid, good.seq) if good is not None else None
        if not self.armed:
            self._queue_out(frame, self._emit(frame, good=key is not None, garbage=garbage), key)
            return
        if time.monotonic() < self._cut_until:
            inj.cut += 1
            self._lose(key)
            return
        if faults.drop and rng.random() < faults.drop:
            inj.dropped += 1
            self._lose(key)
            return
        copies = 2 if faults.duplicate and rng.random() < faults.duplicate else 1
        if copies == 2:
            inj.duplicated += 1
        delivered = False
        # The good packet's own frame (without delimiter): the end of the original frame.
        body = (
            frame[-1 - _cobs_size(wire.TM_OVERHEAD + good.definition.data_size) : -1]
            if good is not None
            else None
        )
        for _ in range(copies):
            out = self._corrupt(frame) if faults.ber else frame
            if out is frame:
                counts = self._emit(out, good=key is not None, garbage=garbage)
            else:
                inj.corrupted += 1
                counts = self._emit_corrupted(out, body)
            self._queue_out(out, counts, key)
            delivered |= counts[0] > 0
        if key is not None and not delivered:
            self._lose(key)

    def _lose(self, key: tuple[int, int] | None) -> None:
        if key is not None:
            self.injected.lost.setdefault(key[0], []).append(key[1])

    def _corrupt(self, frame: bytes) -> bytes:
        """The frame with each bit flipped with probability ``ber`` (itself if none is)."""
        bits = len(frame) * 8
        rng, ber = self._rng, self.faults.ber
        flips: list[int] = []
        # Geometric gaps between flips: one random draw per flip rather than per bit.
        position = -1
        while True:
            gap = int(_log(rng.random()) / _log(1.0 - ber)) if ber < 1 else 0
            position += gap + 1
            if position >= bits:
                break
            flips.append(position)
        if not flips:
            return frame
        out = bytearray(frame)
        for bit in flips:
            out[bit // 8] ^= 0x80 >> (bit % 8)
        self.injected.bits_flipped += len(flips)
        return bytes(out)

    def _emit(self, out: bytes, *, good: bool, garbage: bool) -> tuple[int, int]:
        """What the ground's deframer makes of an intact frame, which closes its current run
        of bytes: (packets, bad frames)."""
        bad = self._open_chunk or (len(out) > 1 and (not good or garbage))
        self._open_chunk = 0
        return int(good), int(bool(bad))  # a bad frame, or garbage cut off a packet's front

    def _emit_corrupted(self, out: bytes, body: bytes | None) -> tuple[int, int]:
        """Queue a corrupted frame: each run it closes that holds bytes is a bad frame; what
        follows its last 0x00 (a lost delimiter) is garbage in front of the next frame. The
        flips may all have hit garbage in front of a good packet (after a reset): the run
        that ends the frame then still ends with the intact packet, and it arrives.

        Returns (packets, bad frames) the ground will count."""
        *closed, tail = out.split(b"\x00")
        packets = bad = 0
        for i, piece in enumerate(closed):
            garbage = len(piece) + (self._open_chunk if i == 0 else 0)
            last = i == len(closed) - 1 and not tail
            if last and body is not None and piece.endswith(body):
                packets = 1
                garbage -= len(body)
            if garbage:
                bad += 1
        self._open_chunk = len(tail) if closed else self._open_chunk + len(tail)
        return packets, bad

    def _queue_out(self, out: bytes, counts: tuple[int, int], key: tuple[int, int] | None) -> None:
        due = time.monotonic() + self.faults.delay
        self._queue.append((due, out, counts[0], counts[1], key if counts[0] else None))

    def _release(self) -> bytes:
        """The bytes due, counted as the ground will count them once it has them."""
        now = time.monotonic()
        out = bytearray()
        inj = self.injected
        while self._queue and self._queue[0][0] <= now:
            _, data, packets, bad, key = self._queue.popleft()
            out += data
            inj.packets += packets
            inj.bad_frames += bad
            if key is not None:
                inj.first_delivered.setdefault(key[0], key[1])
                inj.last_delivered[key[0]] = key[1]
        return bytes(out)


def _cobs_size(size: int) -> int:
    """Octets of a ``size``-octet packet once COBS-encoded (one per started 254)."""
    return size + max(1, -(-size // 254))


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -745.0
