"""The ground's telemetry decoder: a sans-I/O core fed bytes, frames or packets.

Every path of the ground (``lander decode``, the monitor, the archive, the MQTT bridge, the
HIL API) decodes through :class:`TelemetryDecoder`, so they all agree on what a stream
holds. It does no I/O, keeps no clock and starts no thread. A serial stream is fed as bytes
in chunks of any size (:meth:`~TelemetryDecoder.feed`; the framing is
:class:`~ground.deframer.Deframer`'s); a COBS-decoded frame or an MQTT message, which
carries one packet, is fed whole (:meth:`~TelemetryDecoder.feed_frame`,
:meth:`~TelemetryDecoder.feed_packet`). However a stream is chunked, the packets and the
counters are the same.

Bad input never raises and never hides good data: every corrupt frame is counted once, in
the counter that says why, and skipped; an intact packet at the end of a bad run (garbage in
front of it, a lost delimiter) is still found. The sequence count of each APID tells packets
lost (``gaps``, ``missing``) from packets repeated (``duplicates``) or arriving late
(``out_of_order``, which give back the packets counted missing).

The hot path is the raw path the bus, the bridge and a raw archive need: deframe, check the
CRC (by residue, ``binascii.crc_hqx``), route by APID and sequence count. A packet keeps its
raw bytes (:attr:`Packet.data`) and is unpacked, with one precompiled :class:`struct.Struct`
per APID (the layout Construct defines in :mod:`schemas.structs`; a test proves identical
results), only when a value is asked for.
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
from .deframer import MAX_FRAME, Deframer
from .identity import IDENT, IdentityWatch

__all__ = ["Packet", "LinkStats", "TelemetryDecoder", "MAX_FRAME", "REORDER_WINDOW"]

_TM_WORD0_BASE = 1 << 11  # version 0, type TM, secondary header flag set
_MIN_PACKET = wire.TM_OVERHEAD
_CUC_AT = wire.PRIMARY_HEADER_LEN
#: A packet at most this many sequence counts behind the next expected one is late or
#: repeated; further behind, the count jumped (the vehicle restarted, say): a gap.
REORDER_WINDOW = 1024


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


class Packet(bytes):
    """One good telemetry packet: its raw bytes (header .. CRC) and its definition.

    The packet *is* its bytes (a :class:`bytes` subclass, one per APID, whose class carries
    the definition), because the raw path makes a million of them a second and copying 60
    octets into a new bytes object is the cheapest object Python builds that can say what it
    is. Nothing is unpacked until asked for: :attr:`seq` and :attr:`apid` come from the
    header, :attr:`raw` and :attr:`values` unpack the fields each time they are read. Two
    packets are equal when their bytes are.
    """

    __slots__ = ()
    _spec: _Spec  # set on each APID's subclass (TelemetryDecoder)

    @property
    def data(self) -> bytes:
        """The packet as received, CRC included: archivable, re-decodable."""
        return bytes(self)

    @property
    def seq(self) -> int:
        return ((self[2] << 8) | self[3]) & wire.MAX_SEQ

    @property
    def words(self) -> tuple[Any, ...]:
        """Every number of the packet in one ``struct`` call: 3 header words, coarse, fine,
        the fields."""
        return self._spec.struct.unpack_from(self)

    @property
    def raw(self) -> tuple[Any, ...]:
        """(coarse, fine, field values...) exactly as on the wire."""
        return self.words[3:]

    @property
    def definition(self) -> model.PacketDef:
        return self._spec.definition

    @property
    def name(self) -> str:
        return self._spec.definition.name

    @property
    def apid(self) -> int:
        return self._spec.definition.apid

    @property
    def time(self) -> float:
        """Vehicle time (CUC coarse + fine) in seconds."""
        return wire.cuc_seconds(*wire.CUC.unpack_from(self, _CUC_AT))

    @property
    def raw_values(self) -> dict[str, Any]:
        return dict(zip(self._spec.names, self.words[5:], strict=True))

    @property
    def values(self) -> dict[str, Any]:
        """Engineering values: calibrated numbers in the field's unit, states by name."""
        spec = self._spec
        return {
            name: (conv(raw) if conv else raw)
            for name, conv, raw in zip(spec.names, spec.converters, self.words[5:], strict=True)
        }

    @property
    def event(self) -> _events.Event | None:
        """The event an EVENT packet carries, its arguments named; None for other packets."""
        table = self._spec.events
        if table is None:
            return None
        raw = self.raw_values
        code = raw.get(model.EVENT_ID_FIELD)
        definition = table.get(code) if isinstance(code, int) else None
        return _events.from_values(definition, self.time, raw, self.values, self.definition)

    def to_dict(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """``values``: the packet's :attr:`values` when the caller has them already."""
        record = {
            "packet": self.name,
            "apid": self.apid,
            "seq": self.seq,
            "time": self.time,
            "values": self.values if values is None else values,
        }
        event = self.event
        if event is not None:
            record["event"] = event.to_dict()
        return record

    def __repr__(self) -> str:
        return f"Packet({self.name}, seq={self.seq}, time={self.time:.3f})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (bytes, (bytes(self),))  # across processes a packet travels as its bytes


def _packet_class(spec: _Spec) -> type[Packet]:
    """The Packet subclass of one APID: its instances are that APID's packets."""
    return type(f"Packet_{spec.definition.name}", (Packet,), {"__slots__": (), "_spec": spec})


@dataclass
class LinkStats:
    """What the link delivered. Every frame lands in exactly one of ``packets``,
    ``crc_errors``, ``undecodable`` and ``unknown_apid``; ``resyncs`` and ``oversize_runs``
    say why some were undecodable; the sequence counters describe the good packets."""

    bytes: int = 0
    frames: int = 0
    packets: int = 0
    crc_errors: int = 0
    undecodable: int = 0
    unknown_apid: int = 0
    #: discontinuities of the sequence count, and the packets they skipped (a late packet
    #: gives its count back, and a gap whose packets all came late is no gap)
    gaps: int = 0
    missing: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    #: intact packets cut out of the end of a bad run; runs too long to be a frame
    resyncs: int = 0
    oversize_runs: int = 0
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
            "missing": self.missing,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "resyncs": self.resyncs,
            "oversize_runs": self.oversize_runs,
        }

    @property
    def bad_frames(self) -> int:
        return self.crc_errors + self.undecodable + self.unknown_apid


class _Gap:
    """Packets of one gap not yet seen; when they have all come late, it was no gap."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


class TelemetryDecoder:
    """Sans-I/O telemetry decoder: ``feed(bytes) -> [Packet]``, ``close() -> [Packet]``;
    ``feed_frame(frame) -> [Packet]`` and ``feed_packet(packet) -> Packet | None`` for links
    that carry whole frames or packets.

    >>> decoder = TelemetryDecoder()
    >>> decoder.feed(b"\\x00garbage\\x00")
    []
    >>> decoder.stats.undecodable
    1
    """

    def __init__(self, dictionary: model.Dictionary | None = None) -> None:
        self.dictionary = dictionary if dictionary is not None else model.load()
        specs = [_Spec(p, self.dictionary) for p in self.dictionary]
        self._known_word0 = {_TM_WORD0_BASE | s.definition.apid for s in specs}
        # First two octets of the header -> (Packet class, packet size, length field
        # octets): one dict lookup checks version, type, secondary header flag and APID.
        self._plans = {
            (_TM_WORD0_BASE | s.definition.apid).to_bytes(2, "big"): (
                _packet_class(s),
                s.size,
                s.length.to_bytes(2, "big"),
            )
            for s in specs
        }
        #: per APID (by the same key): the sequence count expected next, -1 before the first
        self._expected = dict.fromkeys(self._plans, -1)
        #: per APID: sequence counts skipped by a gap, still hoped for (at most the window)
        self._lost: dict[bytes, dict[int, _Gap]] = {key: {} for key in self._plans}
        #: (EVENT's key, offset of its event_id, BOOT's code): a restart, not lost packets
        self._boot = _boot_event(self.dictionary)
        longest = max(s.size for s in specs) + 2  # COBS adds one octet per 254, and one
        self._deframer = Deframer(MAX_FRAME, intact=self._intact, longest=longest)
        self.stats = LinkStats()
        #: which vehicle, boot, firmware and dictionary the packets come from (IDENT)
        self.identity = IdentityWatch()
        self._ident_key = next(
            (k for k, plan in self._plans.items() if plan[0]._spec.definition.name == IDENT), b""
        )

    # --- feeding ---------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> list[Packet]:
        """Take the next bytes of a serial stream; return the packets they complete."""
        self.stats.bytes += len(data)
        runs = self._deframer.split(data)
        self.stats.frames += len(runs)
        before = self._expected.get(self._ident_key)
        return self._observe(self._runs(runs), before)

    def feed_frame(self, frame: bytes) -> list[Packet]:
        """One COBS-decoded frame (a packet with its CRC); its packet, if it is good."""
        packet = self.feed_packet(frame)
        return [] if packet is None else [packet]

    def feed_packet(self, packet: bytes | bytearray | memoryview) -> Packet | None:
        """One CCSDS packet with its CRC (an MQTT message); the Packet, or None if bad."""
        before = self._expected.get(self._ident_key)
        out = self._observe(self._packet(bytes(packet)), before)
        return out[0] if out else None

    def _observe(self, out: list[Packet], ident_before: int | None) -> list[Packet]:
        """Let the identity watch see IDENT packets (cheaply: only when IDENT's count moved)."""
        if self._expected.get(self._ident_key) != ident_before:
            self.identity.observe(p for p in out if p.name == IDENT)
        return out

    def _packet(self, pkt: bytes) -> list[Packet]:
        stats = self.stats
        stats.bytes += len(pkt)
        stats.frames += 1
        if len(pkt) < _MIN_PACKET:
            stats.undecodable += 1
            return []
        if crc_hqx(pkt, 0xFFFF):
            stats.crc_errors += 1
            return []
        out: list[Packet] = []
        if self._intact(pkt):
            self._emit(pkt, out)
            stats.packets += 1
        else:
            self._reject_header(pkt)
        return out

    def close(self) -> list[Packet]:
        """End of stream: an unterminated last run is a packet only if it is intact."""
        run = self._deframer.end()
        if not run:
            return []
        self.stats.frames += 1
        before = self._expected.get(self._ident_key)
        out: list[Packet] = []
        try:
            pkt: bytes | None = cobs_decode(run) if len(run) <= MAX_FRAME else None
        except DecodeError:
            pkt = None
        if pkt is not None and self._intact(pkt):
            self._emit(pkt, out)
        else:
            self._bad(run, out, "undecodable")  # truncated
        self.stats.packets += len(out)
        return self._observe(out, before)

    def decode_all(self, data: bytes) -> list[Packet]:
        """Decode a whole capture (feed + close)."""
        return self.feed(data) + self.close()

    def forget_sequence(self) -> None:
        """The vehicle restarted (its link came back): its sequence counts start afresh."""
        for key in self._expected:
            self._expected[key] = -1
            self._lost[key].clear()

    # --- the hot loop ----------------------------------------------------------------

    def _runs(self, runs: list[bytes]) -> list[Packet]:
        # Every name local, good packets only; anything odd goes to _bad / _sequence.
        out: list[Packet] = []
        append = out.append
        plans = self._plans
        expected = self._expected
        for run in runs:
            try:
                pkt = cobs_decode(run)
            except DecodeError:
                self._bad(run, out, "undecodable")
                continue
            if crc_hqx(pkt, 0xFFFF):
                self._bad(run, out, "crc_errors" if len(pkt) >= _MIN_PACKET else "undecodable")
                continue
            key = pkt[:2]
            plan = plans.get(key)
            # A known APID, its size, the length field that says so, an unsegmented packet.
            if plan is None or plan[1] != len(pkt) or pkt[4:6] != plan[2] or pkt[2] < 0xC0:
                self._bad(run, out, "")
                continue
            seq = ((pkt[2] << 8) | pkt[3]) & 0x3FFF
            if expected[key] == seq:
                expected[key] = (seq + 1) & 0x3FFF
            else:
                self._sequence(key, seq, pkt)
            append(plan[0](pkt))
        self.stats.packets += len(out)
        return out

    # --- internals -------------------------------------------------------------------

    def _intact(self, pkt: bytes) -> bool:
        """A CRC-good packet of a known APID with a header that fits its definition."""
        if len(pkt) < _MIN_PACKET or crc_hqx(pkt, 0xFFFF):
            return False
        plan = self._plans.get(pkt[:2])
        return plan is not None and plan[1] == len(pkt) and pkt[4:6] == plan[2] and pkt[2] >= 0xC0

    def _emit(self, pkt: bytes, out: list[Packet]) -> None:
        """Route an intact packet: follow its sequence count, hand it on (the caller counts
        what it hands on)."""
        key = pkt[:2]
        seq = ((pkt[2] << 8) | pkt[3]) & wire.MAX_SEQ
        if self._expected[key] == seq:
            self._expected[key] = (seq + 1) & wire.MAX_SEQ
        else:
            self._sequence(key, seq, pkt)
        out.append(self._plans[key][0](pkt))

    def _sequence(self, key: bytes, seq: int, pkt: bytes) -> None:
        """A packet whose sequence count is not the one expected: first, gap, late, repeat;
        or the first packets of a vehicle that restarted (its IDENT, count 0, then its BOOT
        event): every count starts afresh."""
        stats = self.stats
        if key == self._ident_key and seq == 0:
            self.forget_sequence()
        elif key == self._boot[0] and pkt[self._boot[1] : self._boot[1] + 2] == self._boot[2]:
            ident = self._expected.get(self._ident_key, -1)
            self.forget_sequence()  # IDENT, which comes first, already started afresh
            if self._ident_key:
                self._expected[self._ident_key] = ident
        expected = self._expected[key]
        name = self._plans[key][0]._spec.definition.name
        if expected < 0:  # first packet of this APID
            self._expected[key] = (seq + 1) & wire.MAX_SEQ
            return
        ahead = (seq - expected) & wire.MAX_SEQ
        lost = self._lost[key]
        if ahead < wire.MAX_SEQ + 1 - REORDER_WINDOW:
            stats.gaps += 1
            stats.gaps_by_packet[name] = stats.gaps_by_packet.get(name, 0) + 1
            stats.missing += ahead
            stats.missing_by_packet[name] = stats.missing_by_packet.get(name, 0) + ahead
            # Forget what fell out of the window, then hope for (the last of) these.
            for old in [s for s in lost if (seq - s) & wire.MAX_SEQ >= REORDER_WINDOW]:
                del lost[old]
            gap = _Gap(ahead)
            for i in range(max(0, ahead - REORDER_WINDOW + 1), ahead):
                lost[(expected + i) & wire.MAX_SEQ] = gap
            self._expected[key] = (seq + 1) & wire.MAX_SEQ
            return
        late = lost.pop(seq, None)  # behind: expected stays where it is
        if late is None:
            stats.duplicates += 1
            return
        stats.out_of_order += 1
        stats.missing -= 1
        stats.missing_by_packet[name] -= 1
        late.left -= 1
        if late.left == 0:
            stats.gaps -= 1
            stats.gaps_by_packet[name] -= 1

    def _reject_header(self, pkt: bytes) -> None:
        """A CRC-good packet we cannot decode: an APID we do not know, or a bad header."""
        if len(pkt) < _MIN_PACKET:
            self.stats.undecodable += 1
            return
        word0 = int.from_bytes(pkt[:2], "big")
        known_form = (word0 & ~wire.MAX_APID) == _TM_WORD0_BASE
        if known_form and word0 not in self._known_word0:
            self.stats.unknown_apid += 1
        else:
            self.stats.undecodable += 1

    def _bad(self, run: bytes, out: list[Packet], reason: str) -> None:
        """Count a bad run once, unless an intact packet ends it (garbage in front).

        ``reason`` is the counter, or "" for a CRC-good packet that did not fit."""
        stats = self.stats
        oversize = len(run) > MAX_FRAME
        if oversize:
            stats.oversize_runs += 1
        hidden = self._deframer.resync(run)
        if hidden is not None:
            stats.resyncs += 1
            stats.undecodable += 1  # the garbage in front
            stats.frames += 1  # ... and the frame it hid
            self._emit(hidden, out)
            return
        if oversize:
            stats.undecodable += 1
        elif reason:
            setattr(stats, reason, getattr(stats, reason) + 1)
        else:
            self._reject_header(cobs_decode(run))


def _boot_event(dictionary: model.Dictionary) -> tuple[bytes, int, bytes]:
    """How to recognise the BOOT event in a raw packet: EVENT's first two header octets, the
    offset of ``event_id`` (its first field) and BOOT's code; nothing matches without them."""
    try:
        event = dictionary[model.EVENT_PACKET]
        boot = dictionary.event_named("BOOT")
    except KeyError:
        return b"", 0, b""
    if not event.fields or event.fields[0].name != model.EVENT_ID_FIELD:
        return b"", 0, b""
    key = (_TM_WORD0_BASE | event.apid).to_bytes(2, "big")
    offset = wire.PRIMARY_HEADER_LEN + wire.CUC_LEN
    return key, offset, boot.code.to_bytes(2, "big")


def decode_stream(chunks: Iterable[bytes], decoder: TelemetryDecoder | None = None) -> list[Packet]:
    """Decode an iterable of byte chunks to the end (a convenience for tests and tools)."""
    decoder = decoder or TelemetryDecoder()
    out: list[Packet] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out
