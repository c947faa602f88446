"""Benchmarks (``make bench``): figures with baselines measured side by side in the same run.

1. Ground decode throughput of ``TelemetryDecoder`` against naive per-packet Construct
   parsing of the same stream (split on 0x00, cobs.decode, CRC, ``Struct.parse`` with a
   BitStruct header and a Switch on the APID), after checking both give the same values.
   The raw path (deframe, check the CRC, route by APID and sequence count, unpack no value:
   what the bus, the MQTT bridge and a raw archive need) against the floor of plain Python
   measured in the same run (split, cobs.decode, crc_hqx, one struct unpack per packet).
2. The firmware in the real MicroPython VM (``-X heapsize=192K``): heap bytes allocated
   per telemetry frame, VM time per frame, VM time per control cycle over a whole nominal
   descent (flight model, navigation, fault protection, guidance and telemetry), heap in use.
3. The same firmware figures on the silicon board, in the Pico's own (emulated) time, with
   boot and flash times and the cost of a board (bench/silicon.py).
4. The ground segment over MQTT (bench/ground_segment.py): packets/s and latency through
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
from typing import Any

from cobs import cobs

from ground.decoder import TelemetryDecoder
from schemas import model, structs, wire

from .telemetry import packet as _packet
from .vm_script import FIRMWARE_BENCH

FRAMES = 200_000
REPEATS = 5
MIX = {"NAV": 10, "HK": 1, "PROP": 2, "POWER": 1, "EVENT": 1}


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


def ours_unpacked(stream: bytes) -> list:
    """The decoder with every packet's numbers unpacked (what Construct's parse gives)."""
    return [p.words for p in ours(stream)]


def floor(stream: bytes, unpackers: dict[bytes, Any]) -> list:
    """Plain Python's least work per packet: split, COBS, CRC residue, one struct call."""
    out = []
    append = out.append
    for frame in stream.split(b"\x00"):
        if not frame:
            continue
        try:
            pkt = cobs.decode(frame)
        except cobs.DecodeError:
            continue
        if crc_hqx(pkt, 0xFFFF):
            continue
        unpack = unpackers.get(pkt[:2])
        if unpack is not None:
            append(unpack(pkt))
    return out


RAW_TARGET = 1_000_000  # packets/s on one core


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
    unpackers = {
        ((1 << 11) | d.apid).to_bytes(2, "big"): struct.Struct(">HHHIH" + d.data_format).unpack_from
        for d in dictionary
    }
    assert len(floor(stream, unpackers)) == count
    contenders = {
        "ours": (ours, stream, 1),
        "unpacked": (ours_unpacked, stream, 1),
        "floor": (partial(floor, unpackers=unpackers), stream, 1),
        "naive": (naive, sample, 10),
    }
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
    t_floor = statistics.median(times["floor"])
    rows = [
        ("raw path: TelemetryDecoder.feed (64 KiB chunks)", t_ours),
        ("TelemetryDecoder.feed + every packet unpacked", statistics.median(times["unpacked"])),
        ("floor: split + cobs + crc_hqx + struct unpack", t_floor),
    ]
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
    raw_rate, floor_rate = count / t_ours, count / t_floor
    verdict = "meets" if raw_rate >= RAW_TARGET else "is below"
    print(
        f"  raw path = {raw_rate / floor_rate:.2f} x the floor of this run; {raw_rate:,.0f} "
        f"packets/s {verdict} the target of {RAW_TARGET:,} (reached from a floor of "
        f"{RAW_TARGET * floor_rate / raw_rate:,.0f})"
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
        f"  heap allocated per control cycle (the collector's work) {med('alloc_per_cycle'):6.0f} B"
    )
    print(
        f"  heap in use after boot (collected)                     {med('heap_used'):8.0f} B "
        f"of {med('heap_total'):.0f}"
    )
    print(f"  heap at most in the descent (collected twice a second) {med('heap_peak'):6.0f} B")


def main() -> int:
    from .archive import bench_archive
    from .commanding import bench_commanding
    from .console import bench_console
    from .ground_segment import bench_ground_segment
    from .silicon import bench_silicon

    bench_ground()
    bench_firmware()
    bench_commanding()
    bench_console()
    bench_silicon()
    bench_archive()
    bench_ground_segment()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
