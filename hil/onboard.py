"""Feed telecommand bytes to the firmware's App inside the real MicroPython VM, in one batch.

The App is built as at boot (config.json, key and counter files from the flash folder), then
every byte goes through the uplink exactly as read from the serial port, or every frame
straight to the command handler (``frames=True``: no break-in, so any byte string reaches
it). The telemetry it sends is decoded; a snapshot of the vehicle's state before and after
shows what the commands changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ground.decoder import Packet, TelemetryDecoder
from sil.firmware import install_sources

from . import telecommands, vm

__all__ = ["Run", "flash", "run"]

SCRIPT = r"""
import json, gc
import hal, packets as P
from app import App, load_config
from uplink import Break

def snapshot(app):
    f = app.flight
    hk = app.points[P.HK]
    return {"phase": f.phase, "mode": hk.mode, "periods": list(app.down.period_ms),
            "epoch": [app.clock.epoch_hi, app.clock.epoch_lo], "warp": app.warp,
            "h": f.vehicle.h, "vz": f.vehicle.vz, "prop": f.vehicle.prop}

hal.configure({})
app = App(load_config())
before = snapshot(app)
# Read the input as a serial port delivers it, a piece at a time: a Pico's heap has no room
# for all of it at once beside the flight software.
inp = sys.stdin.buffer
chunk = bytearray(400)
view = memoryview(chunk)
breaks = 0
frames = %(frames)s
if frames:
    size_buf = bytearray(2)
    while inp.readinto(size_buf) == 2:
        size = (size_buf[0] << 8) | size_buf[1]
        got = 0
        while got < size:
            got += inp.readinto(view[got:size])
        app.commanding.on_frame(chunk, size)
else:
    while True:
        n = inp.readinto(chunk)
        if not n:
            break
        for i in range(n):
            try:
                app.up.feed(chunk[i])
            except Break:
                breaks += 1
app.update_hk()
app.down.send(P.HK)
gc.collect()
sys.stderr.write("RESULT " + json.dumps({"before": before, "after": snapshot(app),
    "breaks": breaks, "free": gc.mem_free()}) + "\n")
"""


@dataclass
class Run:
    packets: list[Packet]
    before: dict[str, Any]
    after: dict[str, Any]
    breaks: int
    heap_free: int

    def verifications(self) -> list[tuple[str, int, str, str]]:
        """(command name or code, counter, stage, reason) of every TC_VERIFY, in order."""
        out = []
        for p in self.packets:
            if p.name == "TC_VERIFY":
                v, raw = p.values, p.raw_values
                command = telecommands.DICTIONARY.by_code(raw["cmd_code"])
                name = command.name if command else raw["cmd_code"]
                out.append((name, raw["counter"], v["stage"], v["reason"]))
        return out

    @property
    def hk(self) -> dict[str, Any]:
        return [p for p in self.packets if p.name == "HK"][-1].raw_values

    def named(self, name: str) -> list[Packet]:
        return [p for p in self.packets if p.name == name]


def flash(path: Path, config: dict[str, object] | None = None, key: bytes | None = None) -> Path:
    """A board's flash folder with the firmware, config.json and (by default) the test key."""
    install_sources(path, config or {}, telecommands.KEY.secret if key is None else key)
    return path


def run(
    flash_dir: Path, stream: bytes | list[bytes], *, frames: bool = False, prelude: str = ""
) -> Run:
    """Boot the App on ``flash_dir`` and feed it ``stream`` (bytes, or frames to on_frame);
    ``prelude`` runs first (to replace a module's clock, say)."""
    if frames:
        assert isinstance(stream, list)
        data = b"".join(len(f).to_bytes(2, "big") + f for f in stream)
    else:
        data = stream if isinstance(stream, bytes) else b"".join(stream)
    result = vm.run(prelude + SCRIPT % {"frames": frames}, data, cwd=flash_dir)
    match = re.search(rb"RESULT (.*)", result.stderr)
    if match is None:
        raise vm.VmFailed(f"no result from the App:\n{result.stderr.decode(errors='replace')}")
    report = json.loads(match.group(1))
    packets = TelemetryDecoder().decode_all(result.stdout)
    return Run(packets, report["before"], report["after"], report["breaks"], report["free"])
