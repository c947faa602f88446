"""Benchmark of the firmware's commanding in the MicroPython VM: what authenticating and
running a telecommand costs, next to the CRC check every frame pays anyway."""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from pathlib import Path

COMMANDS = 200

SCRIPT = r"""
import sys, time, gc
data = bytearray(%(size)d)  # the uplink's bytes, read before the firmware fills the heap
sys.stdin.buffer.readinto(data)
half = len(data) // 2
import hal, packets as P
from app import App, load_config
from framing import crc16

class Null:
    def write(self, buf, n=None):
        return n

hal._out = Null()
hal.configure({})
app = App(load_config())
pkt = bytes.fromhex(%(packet)r)
signed = len(pkt) - 18
N = 2000
t0 = time.ticks_us()
for i in range(N):
    crc16(pkt, len(pkt))
us_crc = time.ticks_diff(time.ticks_us(), t0) / N
t0 = time.ticks_us()
for i in range(N):
    app.commanding.hmac.check(pkt, signed)
us_mac = time.ticks_diff(time.ticks_us(), t0) / N
gc.collect()
t0 = time.ticks_us()
for b in memoryview(data)[:half]:
    app.up.feed(b)
us_cmd = time.ticks_diff(time.ticks_us(), t0) / %(half)d
# Allocation per command with the collector off, collected between frames so that the
# firmware's own heap does not run out before the count does.
alloc = 0
gc.collect()
gc.disable()
a0 = gc.mem_alloc()
for b in memoryview(data)[half:]:
    app.up.feed(b)
    if b == 0:
        alloc += gc.mem_alloc() - a0
        gc.enable()
        gc.collect()
        gc.disable()
        a0 = gc.mem_alloc()
gc.enable()
alloc /= %(half)d
assert app.points[P.HK].tc_accepted == %(total)d
fields = (us_crc, us_mac, us_cmd, alloc)
sys.stderr.write("BENCH us_crc=%%f us_mac=%%f us_cmd=%%f alloc=%%f\n" %% fields)
"""


def bench_commanding(repeats: int = 5) -> None:
    from hil import onboard, telecommands, vm

    packet = telecommands.signed("SET_TM_RATE", 10**6, packet="NAV", hz=10).packet
    frames = b"".join(telecommands.signed("NOOP", c).frame for c in range(1, COMMANDS + 1))
    script = SCRIPT % {
        "packet": packet.hex(),
        "half": COMMANDS // 2,
        "total": COMMANDS,
        "size": len(frames),
    }
    results = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as flash:
            onboard.flash(Path(flash))
            proc = subprocess.run(
                vm.argv(script),
                input=frames,
                capture_output=True,
                cwd=flash,
                timeout=300,
            )
        if proc.returncode:
            raise SystemExit(f"commanding bench: the VM failed: {proc.stdout.decode()[-500:]}")
        line = re.search(rb"BENCH (.*)", proc.stderr)
        assert line, proc.stderr
        results.append(
            {k: float(v) for k, v in (kv.split("=") for kv in line.group(1).decode().split())}
        )

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    crc = med("us_crc")
    rows = [
        ("CRC-16 check of the packet (every frame pays it)", crc),
        ("HMAC-SHA256 tag check (hashlib.sha256 twice)", med("us_mac")),
        ("whole NOOP: uplink, checks, counter to flash, 3 TC_VERIFY", med("us_cmd")),
    ]
    print(f"firmware commanding ({len(packet)} B telecommand, MicroPython unix port):")
    for name, us in rows:
        print(f"  {name:<58} {us:8.1f} us {us / crc:6.1f}x CRC")
    print(f"  {'heap allocated per command (gc disabled)':<58} {med('alloc'):8.0f} B")
