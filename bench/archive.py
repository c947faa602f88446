"""Archive benchmarks: ingest, a parameter query, size per hour, PostgreSQL, bulk columns.

Baselines in the same run: ingest against a naive one-row-per-packet insert (a commit
each), bulk column decoding against the per-packet decoder on the same packets.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from cobs import cobs

from ground.archive import ArchiveWriter, open_archive
from ground.archive.columns import ColumnDecoder
from ground.decoder import TelemetryDecoder
from schemas import model

from .telemetry import hour_of_telemetry

REPEATS = 3


def _ingest(location: str, datas: list[bytes]) -> float:
    t0 = time.perf_counter()
    with ArchiveWriter(location, vehicle="BENCH", link="bench", dictionary="d") as writer:
        now = time.time()
        for data in datas:
            writer.add(data, now)
    return time.perf_counter() - t0


def _naive_ingest(path: str, datas: list[bytes]) -> float:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE packets (ground_time REAL, vehicle_time REAL, apid INTEGER, "
        "seq INTEGER, data BLOB)"
    )
    t0 = time.perf_counter()
    for data in datas:
        db.execute(
            "INSERT INTO packets VALUES (?,?,?,?,?)",
            (time.time(), 0.0, (data[0] << 8 | data[1]) & 0x7FF, 0, data),
        )
        db.commit()
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed


def bench_archive() -> None:
    dictionary = model.load()
    hour = hour_of_telemetry(dictionary)
    nav_apid = dictionary["NAV"].apid
    print(
        f"archive (SQLite, WAL; one hour of telemetry at dictionary rates: {len(hour):,} packets):"
    )
    with tempfile.TemporaryDirectory() as folder:
        ours = []
        for i in range(REPEATS):
            ours.append(_ingest(str(Path(folder) / f"a{i}.sqlite"), hour))
        t_ours = statistics.median(ours)
        sample = hour[:3000]
        t_naive = (
            _naive_ingest(str(Path(folder) / "naive.sqlite"), sample) * len(hour) / len(sample)
        )
        print(
            f"  ingest, ArchiveWriter (batches of 1000, WAL)      {len(hour) / t_ours:>12,.0f} "
            f"packets/s {t_naive / t_ours:7.1f}x naive"
        )
        print(
            f"  ingest, one INSERT + commit per packet (naive)      {len(hour) / t_naive:>12,.0f} "
            "packets/s"
        )
        path = Path(folder) / "a0.sqlite"
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        print(
            f"  size of one hour of telemetry                      {size / 1e6:>12.1f} MB "
            f"({size / len(hour):.0f} B/packet with indexes)"
        )
        with open_archive(str(path)) as archive:
            session = archive.session("last").id
            times = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                rows = archive.parameter("NAV.altitude", session=session)
                times.append(time.perf_counter() - t0)
            print(
                f"  query one hour of NAV.altitude ({len(rows):,} samples)      "
                f"{statistics.median(times) * 1e3:>9.1f} ms"
            )
    _bench_postgres(hour)
    _bench_columns(dictionary, [d for d in hour if (d[0] << 8 | d[1]) & 0x7FF == nav_apid])


def _bench_postgres(hour: list[bytes]) -> None:
    from hil import postgres

    if not postgres.available():
        print("  PostgreSQL ingest: skipped (no server; apt-get install postgresql)")
        return
    with postgres.local_postgres() as url:
        t = _ingest(url, hour)
    print(f"  ingest into PostgreSQL (local server, fsync off)   {len(hour) / t:>12,.0f} packets/s")


def _bench_columns(dictionary: model.Dictionary, nav: list[bytes]) -> None:
    nav = (nav * (200_000 // len(nav) + 1))[:200_000]
    definition = dictionary["NAV"]
    columns = ColumnDecoder(dictionary)
    stream = b"".join(cobs.encode(d) + b"\x00" for d in nav)
    per_packet = TelemetryDecoder().decode_all(stream)
    bulk = columns.decode(definition, nav)
    names = [f.name for f in definition.fields]
    assert [tuple(row[5:-1]) for row in bulk[:2000].tolist()] == [
        tuple(p.raw_values[n] for n in names) for p in per_packet[:2000]
    ], "bulk and per-packet decoding differ"
    t_bulk, t_each = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        columns.decode(definition, nav)
        t_bulk.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        [p.raw_values for p in TelemetryDecoder().decode_all(stream)]
        t_each.append(time.perf_counter() - t0)
    b, e = statistics.median(t_bulk), statistics.median(t_each)
    print(
        f"  bulk decode into numpy columns (NAV, {len(nav):,} packets) {len(nav) / b:>12,.0f} "
        f"packets/s {e / b:7.1f}x per-packet"
    )
    print(f"  per-packet decoder + raw_values (baseline)         {len(nav) / e:>12,.0f} packets/s")


if __name__ == "__main__":
    os.environ.setdefault("LANDER_ARCHIVE", ":memory:")
    bench_archive()
