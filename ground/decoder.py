"""The ground's telemetry decoder: a sans-I/O core fed bytes, returning packets.

Every path of the ground (``lander decode``, the monitor, the archive, the MQTT bridge, the
HIL API) decodes through :class:`TelemetryDecoder`, so they all agree on what a stream
holds. It does no I/O, keeps no clock and starts no thread: give it bytes as they come, in
chunks of any size, and it returns the packets they complete.

Bad input never raises and never hides good data. A serial line's 0x00 delimiter lets the
receiver resynchronise: every corrupt frame is counted once, in the counter that says why,
and skipped. Garbage that lands in front of a frame (noise between frames, a lost
delimiter) is cut off: the decoder looks for an intact packet at the end of a bad frame
before giving up on it, so the frame after a glitch still decodes.

Speed comes from the dictionary being fixed: one precompiled :class:`struct.Struct` per
APID (the same layout Construct defines in :mod:`schemas.structs`; a test proves identical
results), the CRC checked by residue with ``binascii.crc_hqx`` and COBS decoded in C.
Engineering values are computed when asked for (:attr:`Packet.values`), not for every
packet of a bulk decode.
"""

from __future__ import annotations

import struct
from binascii import crc_hqx
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cobs.cobs import DecodeError
from cobs.cobs import decode as cobs_decode

from schemas import model, wire

from . import events as _events
from .identity import IDENT, IdentityWatch

__all__ = ["Packet", "LinkStats", "TelemetryDecoder"]

_HEADER = wire.PRIMARY_HEADER
_TM_WORD0_BASE = 1 << 11  # version 0, type TM, secondary header flag set
_MIN_PACKET = wire.TM_OVERHEAD
#: Frames longer than this cannot be telemetry of any dictionary we load; a run of bytes
#: this long with no delimiter is dropped (and counted once) rather than buffered forever.
MAX_FRAME = 4096


class _Spec:
    """Decoding plan of one APID, built once from its definition."""

    __slots__ = ("definition", "struct", "size", "length", "names", "converters", "events")

    def __init__(self, definition: model.PacketDef, dictionary: model.Dictionary) -> None:
        self.definition = definition
        self.struct = struct.Struct(">HHHIH" + definition.data_format)
        self.size = wire.TM_OVERHEAD + definition.data_size
        self.length = self.size - wire.PRIMARY_HEADER_LEN - 1
        self.names = tuple(f.name for f in definition.fields)
        self.converters: tuple[Callable[[Any], Any] | None, ...] = tuple(
            f.engineering if (f.states or f.calibration or f.bits or f.is_text) else None
            for f in definition.fields
        )
        #: the packet that carries events: event code -> its definition
        self.events: dict[int, model.EventDef] | None = (
            {e.code: e for e in dictionary.events}
            if definition.name == model.EVENT_PACKET
            else None
        )


class Packet(tuple):
    """One good telemetry packet: its definition, sequence count, time and raw values.

    A tuple underneath, ``(spec, words)`` with ``words`` every number of the packet as
    unpacked in one ``struct`` call (3 header words, coarse, fine, the fields), because a
    bulk decode makes hundreds of thousands of them a second and a tuple is the cheapest
    object Python builds.
    """

    __slots__ = ()

    @property
    def _spec(self) -> _Spec:
        return self[0]  # type: ignore[no-any-return]

    @property
    def seq(self) -> int:
        return self[1][1] & wire.MAX_SEQ  # type: ignore[no-any-return]

    @property
    def raw(self) -> tuple[Any, ...]:
        """(coarse, fine, field values...) exactly as on the wire."""
        return self[1][3:]  # type: ignore[no-any-return]

    @property
    def definition(self) -> model.PacketDef:
        return self[0].definition  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return self[0].definition.name  # type: ignore[no-any-return]

    @property
    def apid(self) -> int:
        return self[0].definition.apid  # type: ignore[no-any-return]

    @property
    def time(self) -> float:
        """Vehicle time (CUC coarse + fine) in seconds."""
        words = self[1]
        return wire.cuc_seconds(words[3], words[4])

    @property
    def raw_values(self) -> dict[str, Any]:
        return dict(zip(self[0].names, self[1][5:], strict=True))

    @property
    def values(self) -> dict[str, Any]:
        """Engineering values: calibrated numbers in the field's unit, states by name."""
        spec = self[0]
        return {
            name: (conv(raw) if conv else raw)
            for name, conv, raw in zip(spec.names, spec.converters, self[1][5:], strict=True)
        }

    @property
    def event(self) -> _events.Event | None:
        """The event an EVENT packet carries, its arguments named; None for other packets."""
        table = self[0].events
        if table is None:
            return None
        raw = self.raw_values
        return _events.from_values(
            table.get(raw.get(model.EVENT_ID_FIELD)), self.time, raw, self.values, self.definition
        )

    def to_dict(self) -> dict[str, Any]:
        record = {
            "packet": self.name,
            "apid": self.apid,
            "seq": self.seq,
            "time": self.time,
            "values": self.values,
        }
        event = self.event
        if event is not None:
            record["event"] = event.to_dict()
        return record

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return (self.apid, self.seq, self.raw) == (other.apid, other.seq, other.raw)

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Packet({self.name}, seq={self.seq}, time={self.time:.3f})"


@dataclass
class LinkStats:
    """What the link delivered. Every frame lands in exactly one of the last four counters
    (``packets``, ``crc_errors``, ``undecodable``, ``unknown_apid``)."""

    bytes: int = 0
    frames: int = 0
    packets: int = 0
    crc_errors: int = 0
    undecodable: int = 0
    unknown_apid: int = 0
    gaps: int = 0
    #: per packet name: discontinuities of the sequence count and packets they skipped
    gaps_by_packet: dict[str, int] = field(default_factory=dict)
    missing_by_packet: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "bytes": self.bytes,
            "frames": self.frames,
            "packets": self.packets,
            "crc_errors": self.crc_errors,
            "undecodable": self.undecodable,
            "unknown_apid": self.unknown_apid,
            "gaps": self.gaps,
        }

    @property
    def bad_frames(self) -> int:
        return self.crc_errors + self.undecodable + self.unknown_apid


class TelemetryDecoder:
    """Sans-I/O telemetry decoder: ``feed(bytes) -> [Packet]``, ``close() -> [Packet]``.

    >>> decoder = TelemetryDecoder()
    >>> decoder.feed(b"\\x00garbage\\x00")
    []
    >>> decoder.stats.undecodable
    1
    """

    def __init__(self, dictionary: model.Dictionary | None = None) -> None:
        self.dictionary = dictionary if dictionary is not None else model.load()
        self._specs: dict[int, _Spec] = {
            _TM_WORD0_BASE | p.apid: _Spec(p, self.dictionary) for p in self.dictionary
        }
        # First two octets of the header -> (spec, length field, packet size, unpack_from):
        # one dict lookup checks version, type, secondary header flag and APID at once.
        self._plans = {
            w.to_bytes(2, "big"): (s, s.length, s.size, s.struct.unpack_from)
            for w, s in self._specs.items()
        }
        #: per APID (by the same key): the sequence count expected next, -1 before the first
        self._last_seq = dict.fromkeys(self._plans, -1)
        self._max_packet_frame = max(s.size for s in self._specs.values()) + 2
        self._partial = b""
        self._discarding = False
        self.stats = LinkStats()
        #: which vehicle, boot, firmware and dictionary the packets come from (IDENT)
        self.identity = IdentityWatch()
        self._ident_key = next(
            (k for k, plan in self._plans.items() if plan[0].definition.name == IDENT), b""
        )

    # --- feeding ---------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> list[Packet]:
        """Take the next bytes of the stream; return the packets they complete."""
        ident_before = self._last_seq.get(self._ident_key)
        out = self._feed(data)
        if self._last_seq.get(self._ident_key) != ident_before:
            self.identity.observe(p for p in out if p.name == IDENT)
        return out

    def _feed(self, data: bytes | bytearray | memoryview) -> list[Packet]:
        stats = self.stats
        stats.bytes += len(data)
        data = bytes(data)
        chunks = (self._partial + data).split(b"\x00") if self._partial else data.split(b"\x00")
        self._partial = chunks.pop()
        if self._discarding and chunks:
            # The tail of an over-long run, already counted when it was dropped.
            chunks[0] = b""
            self._discarding = False
        if len(self._partial) > MAX_FRAME:
            if not self._discarding:
                stats.frames += 1
                stats.undecodable += 1
            self._partial = b""
            self._discarding = True
        stats.frames += len(chunks) - chunks.count(b"")
        # The hot loop: every name local, good packets only; anything odd goes to _bad().
        out: list[Packet] = []
        append = out.append
        plans = self._plans
        last_seq = self._last_seq
        packet = Packet
        good = 0
        for chunk in chunks:
            if not chunk:
                continue
            try:
                pkt = cobs_decode(chunk)
            except DecodeError:
                self._bad(chunk, out, "undecodable")
                continue
            if len(pkt) < _MIN_PACKET:
                self._bad(chunk, out, "undecodable")
                continue
            if crc_hqx(pkt, 0xFFFF):
                self._bad(chunk, out, "crc_errors")
                continue
            key = pkt[:2]
            plan = plans.get(key)
            if plan is None or plan[2] != len(pkt):
                self._reject_header(chunk, pkt, out)
                continue
            words = plan[3](pkt)
            if words[2] != plan[1] or words[1] < 0xC000:
                self._reject_header(chunk, pkt, out)
                continue
            seq = words[1] & 0x3FFF
            if last_seq[key] != seq:
                self._gap(plan[0], last_seq[key], seq)
            last_seq[key] = (seq + 1) & 0x3FFF
            append(packet((plan[0], words)))
            good += 1
        stats.packets += good
        return out

    def close(self) -> list[Packet]:
        """End of stream: an unterminated last frame is a truncated one."""
        if self._partial:
            self.stats.frames += 1
            out: list[Packet] = []
            self._bad(self._partial, out, "undecodable")
            self._partial = b""
            self.identity.observe(p for p in out if p.name == IDENT)
            return out
        return []

    def decode_all(self, data: bytes) -> list[Packet]:
        """Decode a whole capture (feed + close)."""
        return self.feed(data) + self.close()

    # --- internals -------------------------------------------------------------------

    def _gap(self, spec: _Spec, expected: int, seq: int) -> None:
        if expected < 0:  # first packet of this APID
            return
        name = spec.definition.name
        stats = self.stats
        stats.gaps += 1
        stats.gaps_by_packet[name] = stats.gaps_by_packet.get(name, 0) + 1
        skipped = (seq - expected) & wire.MAX_SEQ
        stats.missing_by_packet[name] = stats.missing_by_packet.get(name, 0) + skipped

    def _emit(self, spec: _Spec, seq: int, pkt: bytes, out: list[Packet]) -> None:
        key = pkt[:2]
        if self._last_seq[key] != seq:
            self._gap(spec, self._last_seq[key], seq)
        self._last_seq[key] = (seq + 1) & wire.MAX_SEQ
        self.stats.packets += 1
        out.append(Packet((spec, spec.struct.unpack_from(pkt))))

    def _reject_header(self, chunk: bytes, pkt: bytes, out: list[Packet]) -> None:
        # A CRC-good packet we cannot decode: an APID we do not know, or a bad header.
        word0 = int.from_bytes(pkt[:2], "big")
        known_form = (word0 & ~wire.MAX_APID) == _TM_WORD0_BASE
        if known_form and word0 not in self._specs:
            self.stats.unknown_apid += 1
        else:
            self._bad(chunk, out, "undecodable")

    def _bad(self, chunk: bytes, out: list[Packet], reason: str) -> None:
        """Count a bad frame, unless an intact packet ends it (garbage ahead of a frame)."""
        start = max(1, len(chunk) - self._max_packet_frame)
        for i in range(start, len(chunk)):
            found = self._intact(chunk[i:])
            if found is not None:
                spec, seq, pkt = found
                self.stats.undecodable += 1  # the garbage in front
                self.stats.frames += 1  # ... and the frame it hid
                self._emit(spec, seq, pkt, out)
                return
        setattr(self.stats, reason, getattr(self.stats, reason) + 1)

    def _intact(self, candidate: bytes) -> tuple[_Spec, int, bytes] | None:
        try:
            pkt = cobs_decode(candidate)
        except DecodeError:
            return None
        if len(pkt) < _MIN_PACKET or crc_hqx(pkt, 0xFFFF):
            return None
        word0, word1, length = _HEADER.unpack_from(pkt)
        spec = self._specs.get(word0)
        if spec is None or length != spec.length or len(pkt) != spec.size:
            return None
        if word1 >> 14 != wire.SEQ_UNSEGMENTED:
            return None
        return spec, word1 & wire.MAX_SEQ, pkt


def decode_stream(chunks: Iterable[bytes], decoder: TelemetryDecoder | None = None) -> list[Packet]:
    """Decode an iterable of byte chunks to the end (a convenience for tests and tools)."""
    decoder = decoder or TelemetryDecoder()
    out: list[Packet] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out
