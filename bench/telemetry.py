"""Synthetic telemetry for benchmarks: packets of the dictionary with random values."""

from __future__ import annotations

import random
import struct

from schemas import model, wire

__all__ = ["packet", "hour_of_telemetry"]


def packet(d: model.PacketDef, seq: int, t: int, rng: random.Random) -> bytes:
    values = []
    for f in d.fields:
        if f.is_text:
            values.append(b"LANDER-1")
        elif f.is_float:
            values.append(struct.unpack(">f", struct.pack(">f", rng.uniform(-1e4, 1e4)))[0])
        else:
            lo, hi = f.range
            values.append(rng.randint(int(lo), int(min(hi, 60000))))
    body = wire.PrimaryHeader(
        wire.PacketType.TM, d.apid, seq, wire.CUC_LEN + d.data_size + 1
    ).pack()
    body += struct.pack(">IH" + d.data_format, t // 1000, (t % 1000) * 65536 // 1000, *values)
    return body + wire.crc16(body).to_bytes(2, "big")


def hour_of_telemetry(dictionary: model.Dictionary, seconds: int = 3600) -> list[bytes]:
    """Every periodic packet at its dictionary rate for ``seconds`` of vehicle time, in
    time order (an hour of NAV at 10 Hz is 36,000 packets)."""
    rng = random.Random(11)
    timeline = []
    for d in dictionary:
        if d.rate_hz <= 0:
            continue
        step = 1000 / d.rate_hz
        timeline += [(int(i * step), d) for i in range(int(seconds * d.rate_hz))]
    timeline.sort(key=lambda item: item[0])
    seqs: dict[int, int] = {}
    out = []
    for t_ms, d in timeline:
        seq = seqs.get(d.apid, 0)
        seqs[d.apid] = (seq + 1) & wire.MAX_SEQ
        out.append(packet(d, seq, t_ms, rng))
    return out
