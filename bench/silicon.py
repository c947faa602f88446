"""The firmware on a Pico's own CPU: the benchmark scripts on the silicon board (MicroPython's
rp2 port on the emulated RP2040), beside the same scripts on the unix port in the same run.

Times on silicon are emulated time (``time.ticks_us`` reads the RP2040's timer, which the
emulator advances by the cycles each instruction takes at 125 MHz), so they are the Pico's,
whatever the speed of this machine; wall times (boot, flash) are this machine's. Not
modelled, so the Pico figures are somewhat optimistic: flash program and erase time, XIP
cache misses.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .vm_script import FIRMWARE_BENCH

COMMANDS = 40
# Vehicle seconds of the descent flown on both ports: the descent orbit, PDI and a minute and
# a half of braking (the whole descent would take the emulator tens of minutes)
HALT_S = 150
DESCENT_BENCH = FIRMWARE_BENCH.replace(
    '"halt_on_landing": True}', f'"halt_on_landing": True, "halt_s": {HALT_S}}}'
)
# The firmware on the flashed board flies, so its watchdog runs: pause it before taking over.
PAUSE_WATCHDOG = "import machine\nmachine.mem32[0x40058000] &= ~(1 << 30)\n"
COMMAND_BENCH = r"""
import sys, time, gc
import hal, packets as P
from app import App
from auth import Hmac
class Null:
    def write(self, buf, n=None):
        return n
hal._out = Null()
hal.configure({})
app = App({"key_id": 1})
app.commanding.hmac = Hmac(bytes.fromhex(%(key)r))
data = bytes.fromhex(%(frames)r)
before = app.points[P.HK].tc_accepted
gc.collect()
t0 = time.ticks_us()
for b in data:
    app.up.feed(b)
us = time.ticks_diff(time.ticks_us(), t0) / %(n)d
sys.stderr.write("BENCH us_cmd=%%f accepted=%%d\n" %% (us, app.points[P.HK].tc_accepted - before))
"""


def _fields(text: str) -> dict[str, float]:
    line = re.search(r"BENCH (.*)", text)
    assert line, text[-2000:]
    return {k: float(v) for k, v in (kv.split("=") for kv in line.group(1).split())}


def _on_unix(script: str) -> dict[str, float]:
    from hil import vm

    with tempfile.TemporaryDirectory() as flash:
        return _fields(vm.run(script, timeout=600, cwd=Path(flash)).stderr.decode())


def _on_silicon(port: str, script: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "mpremote", "connect", port, "exec", "import sys\n" + script],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert proc.returncode == 0, proc.stderr
    return _fields(proc.stdout)


def _process_cost(pid: int, seconds: float = 5.0) -> tuple[float, float]:
    """(resident MB, share of one core) of process ``pid`` over ``seconds``."""

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    c0, t0 = cpu(), time.monotonic()
    time.sleep(seconds)
    share = (cpu() - c0) / (time.monotonic() - t0)
    rss = next(
        int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return rss, share


def _flying_load(pico: Any, pid: int, emulated_s: float = 3.0) -> tuple[float, float, float]:
    """(share of the Pico's cycles the firmware uses flying at warp 1, resident MB and share
    of a core of the emulator) over ``emulated_s`` of the board's time once it flies."""
    import serial

    from ground.decoder import TelemetryDecoder

    decoder, rss, share = TelemetryDecoder(), 0.0, 0.0
    with serial.Serial(pico.port, timeout=0.2) as port:
        end = time.monotonic() + 600
        while not any(p.name == "NAV" for p in decoder.feed(port.read(4096))):
            assert time.monotonic() < end, "the firmware did not start flying"
        s0 = pico.stats()
        while (s1 := pico.stats())["nanos"] - s0["nanos"] < emulated_s * 1e9:
            rss, share = _process_cost(pid, 1.0)
            port.reset_input_buffer()  # a ground reading it, as on a bench
    busy = (s1["busy_cycles"] - s0["busy_cycles"]) / ((s1["nanos"] - s0["nanos"]) * 0.125)
    return busy, rss, share


def _rp2_dir() -> Path | None:
    """$LANDER_RP2_DIR, else ../shared/rp2 beside the checkout when there, else the cache."""
    if configured := os.environ.get("LANDER_RP2_DIR"):
        return Path(configured)
    beside = Path(__file__).resolve().parents[2] / "shared" / "rp2"
    return beside if beside.is_dir() else None


def bench_silicon() -> None:
    from sil.silicon import ImageError, SiliconError, find_node

    try:
        find_node()
        with tempfile.TemporaryDirectory(prefix="lander-bench-") as scratch:
            _bench(Path(scratch), _rp2_dir())
    except (SiliconError, ImageError) as exc:
        print(f"firmware on silicon: skipped ({exc})")


def _bench(folder: Path, rp2: Path | None) -> None:
    from ground.keys import DEFAULT_VEHICLE, VehicleKey, free_key_id, write_key
    from hil.telecommands import KEY, signed
    from sil.silicon import SiliconBoard
    from sil.silicon.flashed import lander_flash

    key = folder / f"{DEFAULT_VEHICLE}.key"
    write_key(VehicleKey.generate(DEFAULT_VEHICLE, free_key_id(key.parent)), key)
    # Boot and flash from empty, in wall time on this machine.
    t0 = time.monotonic()
    pico = SiliconBoard(folder / "pico.flash", rp2_dir=rp2).start()
    boot_new = time.monotonic() - t0
    try:
        t0 = time.monotonic()
        lander_flash(pico.port, key, {"autostart": True, "seed": 5, "time_warp": 1})
        flash_s = time.monotonic() - t0
    finally:
        pico.stop()
    t0 = time.monotonic()
    pico = SiliconBoard(folder / "pico.flash", rp2_dir=rp2).start()
    boot_flashed = time.monotonic() - t0
    try:
        assert pico._proc is not None
        load, rss, share = _flying_load(pico, pico._proc.pid)
        frames = b"".join(signed("NOOP", 10**6 + c).frame for c in range(1, COMMANDS + 1))
        commands = COMMAND_BENCH % {"key": KEY.secret.hex(), "frames": frames.hex(), "n": COMMANDS}
        pico_cmd = _on_silicon(pico.port, PAUSE_WATCHDOG + commands)
        unix_cmd = _on_unix(commands)
        t0 = time.monotonic()
        pico_fw = _on_silicon(pico.port, PAUSE_WATCHDOG + DESCENT_BENCH)
        descent_wall = time.monotonic() - t0
        unix_fw = _on_unix(DESCENT_BENCH)
    finally:
        pico.stop()
    assert pico_cmd["accepted"] == unix_cmd["accepted"] == COMMANDS
    print("firmware on silicon (MicroPython v1.28.0 rp2 port on the emulated RP2040 at 125 MHz;")
    print("  emulated time, against the unix port (-X heapsize=192K) in the same run):")
    rows = [
        (f"control cycle, mean over the first {HALT_S} s of the descent", "us_per_cycle"),
        ("control cycle in the busiest of the five 10 Hz slots", "us_busiest"),
        ("the slowest single control cycle", "us_worst"),
        ("heap collection (2 Hz, in the idle time after a cycle)", "us_gc"),
        ("the slowest collection", "us_gc_worst"),
        ("telemetry frame (pack + CRC + COBS + write)", "us_per_frame"),
    ]
    for name, key in rows:
        print(
            f"  {name:<54} {pico_fw[key]:9.1f} us on the Pico {unix_fw[key]:8.1f} us unix "
            f"{pico_fw[key] / unix_fw[key]:6.1f}x"
        )
    print(
        f"  {'telecommand NOOP, from its first octet to TC_VERIFY':<54} "
        f"{pico_cmd['us_cmd']:9.1f} us on the Pico {unix_cmd['us_cmd']:8.1f} us unix "
        f"{pico_cmd['us_cmd'] / unix_cmd['us_cmd']:6.1f}x"
    )
    budget = 20000.0
    print(
        f"  20 ms cycle budget: the busiest slot uses {pico_fw['us_busiest'] / budget:5.1%} "
        f"({budget / pico_fw['us_busiest']:.1f}x margin), the slowest cycle "
        f"{pico_fw['us_worst'] / budget:5.1%}; the mean {pico_fw['us_per_cycle'] / budget:5.1%}"
    )
    print(
        f"  a cycle and the collection after it, at most {pico_fw['us_worst_gc'] / 1000:.1f} ms "
        "(the next cycle must end 40 ms after that cycle's start)"
    )
    print(
        f"  loop overruns in {pico_fw['cycles']:.0f} cycles: {pico_fw['overruns']:.0f}; "
        f"collections the heap forced: {pico_fw['gcs_forced']:.0f}"
    )
    print(f"  heap allocated per telemetry frame {pico_fw['alloc_per_frame']:27.1f} B")
    print(
        f"  heap in use after boot / at most in the descent / total {pico_fw['heap_used']:7.0f} / "
        f"{pico_fw['heap_peak']:.0f} / {pico_fw['heap_total']:.0f} B "
        f"(unix, 192K heap: {unix_fw['heap_used']:.0f} / {unix_fw['heap_peak']:.0f} / "
        f"{unix_fw['heap_total']:.0f} B)"
    )
    print(f"  the Pico's CPU busy while flying at time warp 1 (all tasks, USB) {load:7.1%}")
    print("silicon board, wall time on this machine:")
    print(f"  boot to the USB console, new flash (littlefs formatted) {boot_new:7.1f} s")
    print(f"  boot to the USB console, firmware on flash             {boot_flashed:7.1f} s")
    print(f"  lander flash onto an empty Pico (21 modules, 43 kB)     {flash_s:7.1f} s")
    print(f"  the first {HALT_S} s of the descent, as fast as it runs      {descent_wall:7.1f} s")
    print(f"  cost of a board flying at warp 1: {rss:.0f} MB resident, {share:.1%} of a core")


if __name__ == "__main__":
    bench_silicon()  # the silicon part of `make bench` alone: python -m bench.silicon
