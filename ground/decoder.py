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

__all__ = ["Packet", "LinkStats", "TelemetryDecoder"]

_HEADER = wire.PRIMARY_HEADER
_TM_WORD0_BASE = 1 << 11  # version 0, type TM, secondary header flag set
_MIN_PACKET = wire.TM_OVERHEAD
#: Frames longer than this cannot be telemetry of any dictionary we load; a run of bytes
#: this long with no delimiter is dropped (and counted once) rather than buffered forever.
MAX_FRAME = 4096


class _Spec:
    """Decoding plan of one APID, built once from its definition."""

    __slots__ = ("definition", "struct", "size", "length", "names", "converters", "last_seq")

    def __init__(self, definition: model.PacketDef) -> None:
        self.definition = definition
        self.struct = struct.Struct(">IH" + definition.data_format)
        self.size = wire.TM_OVERHEAD + definition.data_size
        self.length = self.size - wire.PRIMARY_HEADER_LEN - 1
        self.names = tuple(f.name for f in definition.fields)
        self.converters: tuple[Callable[[Any], Any] | None, ...] = tuple(
            f.engineering if (f.states or f.calibration) else None for f in definition.fields
        )
        self.last_seq: int | None = None


class Packet:
    """One good telemetry packet: its definition, sequence count, time and raw values."""

    __slots__ = ("_spec", "seq", "raw")

    def __init__(self, spec: _Spec, seq: int, raw: tuple[Any, ...]) -> None:
        self._spec = spec
        self.seq = seq
        #: (coarse, fine, field values...) exactly as on the wire.
        self.raw = raw

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
        return wire.cuc_seconds(self.raw[0], self.raw[1])

    @property
    def raw_values(self) -> dict[str, Any]:
        return dict(zip(self._spec.names, self.raw[2:], strict=True))

    @property
    def values(self) -> dict[str, Any]:
        """Engineering values: calibrated numbers in the field's unit, states by name."""
        return {
            name: (conv(raw) if conv else raw)
            for name, conv, raw in zip(
                self._spec.names, self._spec.converters, self.raw[2:], strict=True
            )
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "packet": self.name,
            "apid": self.apid,
            "seq": self.seq,
            "time": self.time,
            "values": self.values,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return (self.apid, self.seq, self.raw) == (other.apid, other.seq, other.raw)

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
            _TM_WORD0_BASE | p.apid: _Spec(p) for p in self.dictionary
        }
        self._max_packet_frame = max(s.size for s in self._specs.values()) + 2
        self._partial = b""
        self._discarding = False
        self.stats = LinkStats()

    # --- feeding ---------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> list[Packet]:
        """Take the next bytes of the stream; return the packets they complete."""
        stats = self.stats
        stats.bytes += len(data)
        chunks = (self._partial + bytes(data)).split(b"\x00") if self._partial else bytes(
            data
        ).split(b"\x00")
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
        out: list[Packet] = []
        specs = self._specs
        for chunk in chunks:
            if not chunk:
                continue
            stats.frames += 1
            try:
                pkt = cobs_decode(chunk)
            except DecodeError:
                self._salvage(chunk, out, "undecodable")
                continue
            if len(pkt) < _MIN_PACKET:
                self._salvage(chunk, out, "undecodable")
                continue
            if crc_hqx(pkt, 0xFFFF):
                self._salvage(chunk, out, "crc_errors")
                continue
            word0, word1, length = _HEADER.unpack_from(pkt)
            spec = specs.get(word0)
            if spec is None or length != spec.length or len(pkt) != spec.size or (
                word1 >> 14
            ) != wire.SEQ_UNSEGMENTED:
                self._reject_header(word0, chunk, out)
                continue
            self._emit(spec, word1 & wire.MAX_SEQ, pkt, out)
        return out

    def close(self) -> list[Packet]:
        """End of stream: an unterminated last frame is a truncated one."""
        if self._partial:
            self.stats.frames += 1
            out: list[Packet] = []
            self._salvage(self._partial, out, "undecodable")
            self._partial = b""
            return out
        return []

    def decode_all(self, data: bytes) -> list[Packet]:
        """Decode a whole capture (feed + close)."""
        return self.feed(data) + self.close()

    # --- internals -------------------------------------------------------------------

    def _emit(self, spec: _Spec, seq: int, pkt: bytes, out: list[Packet]) -> None:
        stats = self.stats
        last = spec.last_seq
        if last is not None and seq != (last + 1) & wire.MAX_SEQ:
            name = spec.definition.name
            stats.gaps += 1
            stats.gaps_by_packet[name] = stats.gaps_by_packet.get(name, 0) + 1
            skipped = (seq - last - 1) & wire.MAX_SEQ
            stats.missing_by_packet[name] = stats.missing_by_packet.get(name, 0) + skipped
        spec.last_seq = seq
        stats.packets += 1
        out.append(Packet(spec, seq, spec.struct.unpack_from(pkt, wire.PRIMARY_HEADER_LEN)))

    def _reject_header(self, word0: int, chunk: bytes, out: list[Packet]) -> None:
        # A CRC-good packet we cannot decode: an APID we do not know, or a bad header.
        known_form = (word0 & ~wire.MAX_APID) == _TM_WORD0_BASE
        if known_form and word0 not in self._specs:
            self.stats.unknown_apid += 1
        else:
            self._salvage(chunk, out, "undecodable")

    def _salvage(self, chunk: bytes, out: list[Packet], reason: str) -> None:
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
