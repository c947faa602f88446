"""Benchmark of the ground segment over MQTT (mosquitto on loopback, started here).

1. Packets/s and latency from the vehicle's send to a client's decode, through the broker,
   ``lander ground`` (decode, publish ``packet/<NAME>``) and the broker again, next to a bare
   paho-mqtt publisher and subscriber pair on the same broker in the same run (the floor:
   one broker hop, no ground).
2. How many vehicles one ``lander ground`` (its own process, pinned to one core) keeps up
   with: synthetic vehicles publishing their ``tm`` at the nominal rates (NAV 10 Hz, PROP and
   TRUTH 2 Hz, HK and POWER 1 Hz), more each step, until the ground falls behind: it has not
   published every packet soon after the step, or its latency grew during the step (the
   median of the last fifth of the packets over that of the first, by more than 0.5 s).
   That figure depends on what else the machine runs; so, beside it, the ground's own CPU
   time (from /proc) per vehicle-second of traffic, and the vehicles one whole core would
   serve at that cost, next to the same figure for a bare paho subscriber (its own process,
   same core) measured in the same run: a busy machine slows both, the ratio stays.

The vehicle's time code carries the wall-clock send time, so a client measures the latency
of every packet from its decoded ``time``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ground.mqtt import topics
from ground.mqtt.address import connect, parse
from schemas import model, wire

from . import mosquitto

RATES = {"NAV": 10, "PROP": 2, "TRUTH": 2, "HK": 1, "POWER": 1}  # per vehicle, Hz
#: s: a latency that grows by more than this over a step is a backlog growing: falling behind
#: (a latency that is high but steady is a busy machine, and the bare pair shows it too)
LAG_LIMIT = 0.5
STEP_SECONDS = 6.0
PER_VEHICLE = sum(RATES.values())  # packets/s
STEADY = 25  # vehicles for the latency at a steady load
IDLE_BARE = 31_300  # packets/s of a bare paho pair on an idle machine of this kind


def _packet(d: model.PacketDef, seq: int, sent: float, rng: random.Random) -> bytes:
    """A packet whose time code is ``sent`` (wall clock); steady values (a vehicle at rest
    does not flap its limits, which would publish an alarm a packet)."""
    import struct

    values: list[Any] = []
    for f in d.fields:
        if f.is_text:
            values.append(b"LANDER-1")
        elif f.is_float:
            values.append(0.0)
        else:
            values.append(int(f.range[0]))
    body = wire.PrimaryHeader(
        wire.PacketType.TM, d.apid, seq, wire.CUC_LEN + d.data_size + 1
    ).pack()
    coarse = int(sent)
    fine = int((sent - coarse) * wire.FINE_PER_SECOND)
    body += struct.pack(">IH" + d.data_format, coarse, fine, *values)
    return body + wire.crc16(body).to_bytes(2, "big")


class Receiver:
    """A client: counts decoded packets and their latencies (JSON ``time`` or the raw CUC)."""

    def __init__(self, url: str, topic: str, *, raw: bool = False) -> None:
        self.raw = raw
        self.latencies: list[float] = []
        self.count = 0
        self.lock = threading.Lock()
        self.client = connect(
            parse(url),
            "bench-rx",
            on_connect=lambda c: c.subscribe(topic, 0),
            on_message=self._message,
        )
        time.sleep(0.3)

    def _message(self, client: Any, userdata: Any, message: Any) -> None:
        now = time.time()
        if self.raw:
            p = message.payload
            sent = wire.cuc_seconds(int.from_bytes(p[6:10], "big"), int.from_bytes(p[10:12], "big"))
        else:
            sent = json.loads(message.payload)["time"]
        with self.lock:
            self.count += 1
            self.latencies.append(now - sent)

    def take(self) -> tuple[int, list[float]]:
        with self.lock:
            count, lat = self.count, self.latencies
            self.count, self.latencies = 0, []
        return count, lat

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _publish(url: str, vehicles: int, seconds: float, rate_scale: float = 1.0) -> int:
    """Synthetic vehicles at their nominal rates for ``seconds``; packets sent."""
    dictionary = model.load()
    rng = random.Random(3)
    client = connect(parse(url), "bench-tx")
    names = [f"SIM-{i:04d}" for i in range(vehicles)]
    seqs: dict[tuple[str, str], int] = {}
    sent = 0
    tick = 0.1 / rate_scale
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        due = [p for p, hz in RATES.items() if n % int(10 / hz) == 0]
        now = time.time()
        for name in names:
            topic = topics.tm(name)
            for p in due:
                seq = seqs.get((name, p), 0)
                seqs[(name, p)] = (seq + 1) & wire.MAX_SEQ
                client.publish(topic, _packet(dictionary[p], seq, now, rng), qos=0)
                sent += 1
        n += 1
        delay = start + n * tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    client.disconnect()
    client.loop_stop()
    return sent


def _vehicles(url: str, vehicles: int, seconds: float) -> int:
    """:func:`_publish` in a process of its own (the receiver here keeps its core)."""
    with ProcessPoolExecutor(1) as pool:
        return pool.submit(_publish, url, vehicles, seconds).result()


def _flood(url: str, topic: str, count: int) -> float:
    """``count`` NAV packets as fast as paho sends them; seconds taken."""
    dictionary, rng = model.load(), random.Random(1)
    client = connect(parse(url), "bench-flood")
    start = time.perf_counter()
    for seq in range(count):
        client.publish(topic, _packet(dictionary["NAV"], seq & wire.MAX_SEQ, time.time(), rng))
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return elapsed


def _wait_count(rx: Receiver, count: int, timeout: float) -> None:
    end = time.monotonic() + timeout
    while rx.count < count and time.monotonic() < end:
        time.sleep(0.02)


def _settle(rx: Receiver, quiet: float = 1.0, timeout: float = 60.0) -> None:
    """Wait until nothing has come for ``quiet`` s, and forget what came."""
    end = time.monotonic() + timeout
    last = -1
    while rx.count != last and time.monotonic() < end:
        last = rx.count
        time.sleep(quiet)
    rx.take()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (Linux /proc), all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _bare_subscriber(url: str, topic: str, count: int, ready: Any, result: Any) -> None:
    """A bare paho subscriber (its own process, the ground's core): CPU s for ``count``
    messages, from the first to the last."""
    try:
        os.sched_setaffinity(0, {0})
    except (AttributeError, OSError):
        pass
    got = [0]
    done = threading.Event()
    first = [0.0]

    def message(client: Any, userdata: Any, msg: Any) -> None:
        if got[0] == 0:
            first[0] = time.process_time()
        got[0] += 1
        if got[0] >= count:
            done.set()

    client = connect(
        parse(url), "bench-bare", on_connect=lambda c: c.subscribe(topic, 0), on_message=message
    )
    time.sleep(0.3)
    ready.set()
    done.wait(120)
    result.put((got[0], time.process_time() - first[0]))
    client.disconnect()
    client.loop_stop()


def bare_cpu(url: str, count: int) -> tuple[int, float]:
    """(messages received, CPU s) of a bare paho subscriber taking ``count`` NAV packets."""
    context = multiprocessing.get_context("spawn")
    ready, result = context.Event(), context.Queue()
    child = context.Process(
        target=_bare_subscriber, args=(url, "bench/cpu", count, ready, result), daemon=True
    )
    child.start()
    ready.wait(60)
    _flood(url, "bench/cpu", count)
    got, cpu = result.get(timeout=180)
    child.join(10)
    return got, cpu


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else float("nan")  # type: ignore[index]


def _ground(url: str, folder: Path) -> subprocess.Popen[bytes]:
    log = folder / "ground.log"
    with open(log, "wb") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ground.cli",
                "ground",
                "--vehicle-tm",
                "--broker",
                url,
                "--state",
                str(folder / "gateway.json"),
            ],
            stderr=err,
        )
    try:
        os.sched_setaffinity(process.pid, {0})  # one core
    except (AttributeError, OSError):
        pass
    end = time.monotonic() + 60
    while b"publishing under" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > end:
            raise RuntimeError(f"lander ground did not start: {log.read_text()}")
        time.sleep(0.1)
    return process


def bench_ground_segment() -> None:
    if not mosquitto.available():
        print("ground segment: mosquitto is not installed (apt-get install mosquitto)")
        return
    with (
        tempfile.TemporaryDirectory() as tmp,
        mosquitto.mosquitto(Path(tmp), tuning="max_inflight_messages 1000\n") as url,
    ):
        n = 20000
        # the floor: a bare paho pair through mosquitto
        rx = Receiver(url, "bench/raw", raw=True)
        elapsed = _flood(url, "bench/raw", n)
        t0 = time.perf_counter()
        _wait_count(rx, n, 60)
        bare_rate = rx.count / (elapsed + time.perf_counter() - t0)
        _, bare_lat = rx.take()
        rx.close()
        bare_got, bare_cpu_s = bare_cpu(url, n)
        bare_per_packet = bare_cpu_s / bare_got
        ground = _ground(url, Path(tmp))
        try:
            rx = Receiver(url, "lander/+/packet/#")
            _flood(url, topics.tm("FLOOD"), 200)  # the ground meets the vehicle first
            _wait_count(rx, 200, 30)
            rx.take()
            elapsed = _flood(url, topics.tm("FLOOD"), n)
            t0 = time.perf_counter()
            _wait_count(rx, n, 120)
            ground_rate = rx.count / (elapsed + time.perf_counter() - t0)
            got, flood_lat = rx.take()
            # latency at a steady load, not a flood
            sent = _vehicles(url, STEADY, 4.0)
            _wait_count(rx, sent, 10.0)
            _, steady = rx.take()
            print("ground segment over MQTT (mosquitto on loopback; lander ground on one core):")
            print(
                f"  bare paho pair through mosquitto    {bare_rate:9.0f} packets/s  "
                f"p50 {1e3 * _pct(bare_lat, 50):6.1f} ms  p99 {1e3 * _pct(bare_lat, 99):7.1f} ms"
            )
            print(
                f"  vehicle -> broker -> lander ground -> broker -> client decode "
                f"{ground_rate:7.0f} packets/s ({ground_rate / bare_rate:.2f}x bare; "
                f"{got} of {n} delivered)"
            )
            print(
                f"    latency at {STEADY} vehicles ({STEADY * PER_VEHICLE} packets/s): p50 "
                f"{1e3 * _pct(steady, 50):6.1f} ms  p99 {1e3 * _pct(steady, 99):7.1f} ms"
            )
            capacity = 0
            costs: list[float] = []  # ground CPU s per vehicle-second, each step kept up with
            for vehicles in (10, 25, 50, 100, 200, 300, 400, 600, 800):
                _settle(rx)  # no backlog of the step before
                cpu0 = cpu_seconds(ground.pid)
                sent = _vehicles(url, vehicles, STEP_SECONDS)
                _wait_count(rx, sent, 3.0)
                cost = (cpu_seconds(ground.pid) - cpu0) / (vehicles * STEP_SECONDS)
                got, lat = rx.take()
                p99 = _pct(lat, 99)
                fifth = max(1, len(lat) // 5)
                growth = (
                    statistics.median(lat[-fifth:]) - statistics.median(lat[:fifth]) if lat else 0.0
                )
                kept = got >= 0.99 * sent and growth < LAG_LIMIT
                print(
                    f"    {vehicles:4d} vehicles: {sent / STEP_SECONDS:7.0f} packets/s sent, "
                    f"{got / sent:6.1%} decoded and published, p99 {1e3 * p99:8.1f} ms, "
                    f"lag grew {1e3 * growth:7.1f} ms, "
                    f"ground CPU {1e3 * cost:5.2f} ms per vehicle-second"
                    f"{'' if kept else '  <- falls behind'}"
                )
                if not kept:
                    break
                capacity = vehicles
                costs.append(cost)
            print(
                f"  one lander ground keeps up with {capacity} vehicles at nominal rates "
                f"({PER_VEHICLE} packets/s each; target 200)"
            )
            if costs:
                cost = statistics.median(costs[-3:])  # the busiest steps: fixed costs amortised
                bare_vehicle = bare_per_packet * PER_VEHICLE
                print(
                    f"  CPU per vehicle-second: lander ground {1e3 * cost:.2f} ms, about "
                    f"{1 / cost:,.0f} vehicles per core; a bare paho subscriber "
                    f"{1e3 * bare_vehicle:.2f} ms ({1e6 * bare_per_packet:.1f} us a packet), "
                    f"about {1 / bare_vehicle:,.0f} vehicles per core "
                    f"(the ground costs {cost / bare_vehicle:.1f}x the bare subscriber)"
                )
            share = ground_rate / bare_rate
            print(
                f"  on an idle core (bare pair {IDLE_BARE:,} packets/s, perf-baselines) the same "
                f"ratio is {share * IDLE_BARE:,.0f} packets/s, about "
                f"{share * IDLE_BARE / PER_VEHICLE:,.0f} vehicles"
            )
            rx.close()
        finally:
            ground.terminate()
            ground.wait(20)
            errors = (Path(tmp) / "ground.log").read_text().splitlines()[1:]
            if errors:
                print("  lander ground said: " + " | ".join(errors[:5]))


if __name__ == "__main__":
    bench_ground_segment()
