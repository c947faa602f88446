"""The virtual board's subcommands of ``lander``: ``sil``, ``scenario`` and ``demo``.

Registered through the ``lander.commands`` entry point group, so the ground's command line
offers them without the ground importing the virtual board.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ground.cli.arguments import positive_float, positive_int
from ground.decoder import TelemetryDecoder
from ground.errors import OperationFailed, UsageError

__all__ = ["register_sil", "register_scenario", "register_demo"]


def _board_options(p: argparse.ArgumentParser, time_warp: int) -> None:
    p.add_argument(
        "--time-warp",
        type=positive_int,
        default=time_warp,
        metavar="N",
        help="run simulated time N times faster than real time",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the simulation's noise")


def register_sil(sub: Any) -> None:
    p = sub.add_parser(
        "sil", help="start a virtual board (the firmware on the MicroPython VM behind a pty)"
    )
    _board_options(p, time_warp=1)
    p.add_argument(
        "--flash",
        default=".vboard",
        metavar="DIR",
        help="folder holding the board's flash (default .vboard)",
    )
    p.add_argument(
        "--idle", action="store_true", help="boot idle instead of starting the descent at once"
    )
    p.add_argument(
        "--scenario", metavar="NAME", help="fly a named scenario (lander scenario --list)"
    )
    p.set_defaults(func=run_sil)


def register_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="start a virtual board and watch its telemetry")
    _board_options(p, time_warp=20)
    p.add_argument("--duration", type=positive_float, default=30.0, metavar="S")
    p.set_defaults(func=run_demo)


def register_scenario(sub: Any) -> None:
    p = sub.add_parser(
        "scenario", help="fly a named scenario headless in the MicroPython VM, as fast as it runs"
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="scenario to fly (omit to list them)")
    p.add_argument("--list", action="store_true", help="list the scenarios")
    p.add_argument("--seed", type=int, default=1, help="seed of the simulation's noise")
    p.add_argument("--out", metavar="FILE", help="also write the telemetry to FILE")
    p.set_defaults(func=run_scenario)


def _sil_options(args: argparse.Namespace) -> dict[str, str]:
    options = {"time_warp": str(args.time_warp), "seed": str(args.seed)}
    options["autostart"] = "0" if args.idle else "1"
    if args.scenario:
        options["scenario"] = args.scenario
    return options


def run_sil(args: argparse.Namespace) -> int:
    from .board import VirtualBoard
    from .link import provision_virtual_board

    flash = Path(args.flash)
    provision_virtual_board(flash, _sil_options(args))
    board = VirtualBoard(flash)
    board.start()
    try:
        print(board.port, flush=True)
        print(
            f"virtual board running the firmware from {flash} "
            f"(heap 192K, time warp {args.time_warp}); Ctrl-C stops it",
            file=sys.stderr,
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return 0


def run_scenario(args: argparse.Namespace) -> int:
    from . import BoardError, scenarios

    if args.list or not args.name:
        for name, scenario in scenarios.SCENARIOS.items():
            print(f"{name:<26} {scenario.description}")
        return 0
    try:
        config = scenarios.scenario_config(args.name, seed=args.seed)
    except KeyError as exc:
        raise UsageError(f"{exc.args[0]}; `lander scenario --list` shows them") from None
    try:
        data = scenarios.fly(config)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, BoardError) as exc:
        raise OperationFailed(str(exc)) from None
    if args.out:
        try:
            Path(args.out).write_bytes(data)
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    decoder = TelemetryDecoder()
    result = scenarios.summary(decoder.decode_all(data))
    for t, event, severity, response, detail in result["events"]:
        extra = f"  response {response}" if response != "NONE" else ""
        print(f"{t:9.1f} s  {event:<22} {severity:<8} {detail}{extra}".rstrip())
    td = result["touchdown"]
    line = f"{args.name}: {result['phase']}"
    if td:
        line += (
            f" at {td['time']:.1f} s: vertical {-td['vertical']:.2f} m/s, "
            f"horizontal {abs(td['horizontal']):.2f} m/s, propellant {td['propellant']:.1f} kg"
        )
    print(line + f" ({decoder.stats.packets} packets" + (f" in {args.out})" if args.out else ")"))
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from ground.bus import TelemetryBus
    from ground.monitor import run_monitor

    url = f"sil://?time_warp={args.time_warp}&seed={args.seed}"
    print(f"starting a virtual board ({url}) and decoding its telemetry...", file=sys.stderr)
    bus = TelemetryBus(url)
    run_monitor(bus, duration=args.duration)
    s = bus.stats
    print(
        f"demo: {s.packets} packets decoded, {s.crc_errors} CRC errors, "
        f"{s.gaps} sequence gaps over {args.duration:g} s",
        file=sys.stderr,
    )
    return 0 if s.packets and not s.bad_frames and not s.gaps else 1
