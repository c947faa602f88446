"""The project's firmware on silicon: flashed by `lander flash`, run by MicroPython's rp2 port
on the emulated RP2040, operated by the ground tools through the board's pty. This is where
the rp2 branch of firmware/hal.py runs: USB-CDC with kbd_intr, ADC 4, the watchdog,
machine.reset, the counter in flash, heap_lock on the port's own heap.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import serial

from ground.decoder import Packet, TelemetryDecoder
from ground.keys import CounterFile, load_key
from sil.scenarios import fly
from sil.silicon import SiliconBoard

from .silicon_boards import CONFIG, LANDER, board, copy_of_image, mpremote, run
from .tcgen import frame, signed

pytestmark = [pytest.mark.silicon, pytest.mark.timeout(900)]

STAGE_TIMEOUT = "60"  # s per verification stage: a busy machine slows the emulated Pico
PAUSE_WATCHDOG = "import machine; machine.mem32[0x40058000] &= ~(1 << 30)\n"


class Lander:
    """A flashed silicon board and the ground's key for it."""

    def __init__(self, pico: SiliconBoard, key: Path) -> None:
        self.pico, self.key = pico, key

    def cmd(self, *args: str) -> Any:
        """`lander cmd ARGS` once the firmware talks (lander cmd gives telemetry 10 s)."""
        with serial.Serial(self.pico.port, timeout=0.1) as port:
            packets_until(port, lambda packets: packets)
        return run(
            *LANDER,
            "cmd",
            "--link",
            f"serial://{self.pico.port}",
            "--key-file",
            str(self.key),
            *args,
        )


@pytest.fixture(scope="module")
def lander(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lander]:
    flash, key = copy_of_image(tmp_path_factory.mktemp("lander"))
    with board(flash) as pico:
        yield Lander(pico, key)


def packets_until(port: serial.Serial, done: Any, timeout: float = 300) -> list[Packet]:
    """Packets read from ``port`` until ``done(packets)`` is true."""
    decoder, packets = TelemetryDecoder(), []
    end = time.monotonic() + timeout
    while not done(packets):
        assert time.monotonic() < end, [p.name for p in packets][-20:]
        packets += decoder.feed(port.read(4096))
    return packets


def booted(packets: list[Packet]) -> bool:
    return any(p.name == "EVENT" and p.values["event_id"] == "BOOT" for p in packets)


def test_telemetry_is_the_unix_ports_for_the_same_seed(lander: Lander) -> None:
    # same seed, same commands: the same packets at the same vehicle times. Values agree to
    # single precision: the rp2 port computes in 32-bit floats, the unix port in 64-bit.
    until = 3.0
    with serial.Serial(lander.pico.port, timeout=0.1) as port:
        lander.pico.reset(power=True)
        silicon = packets_until(port, lambda ps: any(p.time >= until for p in ps))
    unix = TelemetryDecoder().decode_all(fly({**CONFIG, "halt_s": until + 1}))
    silicon = [p for p in silicon if p.time < until]
    unix = [p for p in unix if p.time < until]
    assert [(p.name, p.seq, p.time) for p in silicon] == [(p.name, p.seq, p.time) for p in unix]
    # what belongs to the board, not to the flight: a different heap, a real sensor, a CPU
    # whose cycles may overrun their 20 ms; a board that has booted before, runs the .mpy
    # build and holds a key (the unix run has the sources and no key)
    board = {"HK": {"heap_free", "board_temp", "loop_overruns", "tc_key_id"}}
    board["IDENT"] = {"boot", "firmware", "key_id"}
    differ = set()
    for ours, theirs in zip(silicon, unix, strict=True):
        for name, value in ours.values.items():
            if name in board.get(ours.name, ()):
                continue
            if ours.name == "EVENT" and ours.values["event_id"] == "BOOT" and name == "arg3":
                continue  # the boot count again
            other = theirs.values[name]
            if isinstance(value, float):
                same = math.isclose(value, other, rel_tol=1e-4, abs_tol=1e-3)
            else:
                same = value == other
            if not same:
                differ.add((ours.name, name, value, other))
    assert not differ, sorted(differ)[:20]


def test_a_command_is_verified(lander: Lander) -> None:
    result = lander.cmd("PING", "token=42")
    assert result.returncode == 0, result.stderr
    assert "COMPLETED" in result.stdout


def test_the_anti_replay_counter_survives_resets_and_power_cycles(lander: Lander) -> None:
    assert lander.cmd("PING", "token=1").returncode == 0
    spent = CounterFile(lander.key.with_suffix(".counter")).last  # the counter PING used
    key = load_key("LANDER-1", lander.key)
    for power in (False, True):
        lander.pico.reset(power=power)
        with serial.Serial(lander.pico.port, timeout=0.1) as port:
            packets_until(port, lambda packets: packets)  # the firmware runs again
            port.write(frame(signed("PING", spent, key, token=7).packet))
            verdict = packets_until(port, lambda ps: any(p.name == "TC_VERIFY" for p in ps))
        tc = [p for p in verdict if p.name == "TC_VERIFY"][0].values
        assert (tc["stage"], tc["reason"], tc["counter"]) == ("FAILED", "REPLAY", spent)
    assert lander.cmd("PING", "token=2").returncode == 0  # the next counter is accepted


def test_the_reset_command_restarts_the_chip(lander: Lander) -> None:
    boots = lander.pico.boots
    with serial.Serial(lander.pico.port, timeout=0.1) as port:
        result = lander.cmd("RESET", "--confirm")
        assert result.returncode == 0, result.stderr
        packets_until(port, booted)
    assert lander.pico.boots == boots + 1
    assert lander.pico.causes[-1] == "watchdog"  # machine.reset() on an RP2040


def test_a_stuck_loop_is_reset_by_the_watchdog(lander: Lander) -> None:
    # the flight has started, so the firmware's watchdog (8 s) runs; code that hangs after
    # a break-in (here waiting forever, so the emulator need not run 8 s of busy cycles)
    # stops feeding it, and the ground sees the board boot again
    lander.pico.reset(power=True)
    boots = lander.pico.boots
    with serial.Serial(lander.pico.port, timeout=0.1) as port:
        packets_until(port, lambda ps: any(p.name == "NAV" for p in ps))  # flying
    hang = "import time\nwhile True: time.sleep(1)"
    result = mpremote(lander.pico.port, "exec", "--no-follow", hang)
    assert result.returncode == 0, result.stderr
    with serial.Serial(lander.pico.port, timeout=0.1) as port:
        packets_until(port, booted)
    assert lander.pico.boots == boots + 1
    assert lander.pico.causes[-1] == "watchdog"


def test_hk_reads_the_die_temperature_on_adc4(lander: Lander) -> None:
    lander.pico.set_temperature(35.0)
    with serial.Serial(lander.pico.port, timeout=0.1) as port:
        lander.pico.reset(power=True)
        hk = packets_until(port, lambda ps: sum(p.name == "HK" for p in ps) >= 2)
    temps = [p.values["board_temp"] for p in hk if p.name == "HK"]
    assert all(abs(t - 35.0) < 1.0 for t in temps), temps


FRAMES = """
import gc, micropython, sys
import hal, packets as P
from app import App
class Null:
    def write(self, buf, n=None):
        return n
hal._out = Null()
hal.configure({})
app = App({"autostart": True, "seed": 3})
app.start()
for i in range(50):
    app.cycle()
gc.collect()
micropython.heap_lock()
for i in range(400):
    app.down.send(i % 4)
micropython.heap_unlock()
print("RESULT", sys.platform, gc.mem_free(), gc.mem_alloc(), app.down.sent)
"""


def test_frames_allocate_nothing_on_the_rp2_heap(lander: Lander) -> None:
    # under heap_lock() an allocation raises MemoryError: finishing proves there is none
    result = mpremote(lander.pico.port, "exec", PAUSE_WATCHDOG + FRAMES, timeout=120)
    assert result.returncode == 0, result.stderr
    match = re.search(r"RESULT rp2 (\d+) (\d+) (\d+)", result.stdout)
    assert match, result.stdout
    free, used, sent = map(int, match.groups())
    assert sent >= 400
    assert free > 100 * 1024  # the rp2 port's heap is larger than the 192 KB budget


def test_several_boards_run_side_by_side(tmp_path: Path) -> None:
    picos = []
    for n in range(3):
        flash, _ = copy_of_image(tmp_path, f"pico{n}")
        picos.append(board(flash))

    def telemetry(pico: SiliconBoard) -> list[str]:
        with serial.Serial(pico.port, timeout=0.1) as port:
            pico.reset()
            return [p.name for p in packets_until(port, booted)]

    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(SiliconBoard.start, picos))
            names = list(pool.map(telemetry, picos))  # all three running at once
    finally:
        for pico in picos:
            pico.stop()
    assert len({pico.flash for pico in picos}) == 3
    for seen in names:
        assert "EVENT" in seen, seen
