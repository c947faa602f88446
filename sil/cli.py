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

from ground import events
from ground.cli.arguments import positive_float, positive_int
from ground.decoder import TelemetryDecoder
from ground.errors import OperationFailed, UsageError
from ground.keys import DEFAULT_VEHICLE
from schemas import model

__all__ = ["register_sil", "register_scenario", "register_demo"]


def _time_warp(text: str) -> int:
    """argparse type: a time warp the firmware takes (SET_TIME_WARP's range, 1..10000)."""
    from .scenarios import MAX_WARP

    value = int(positive_int(text))
    if value > MAX_WARP:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_WARP}")
    return value


def _board_options(p: argparse.ArgumentParser, time_warp: int | None, seed: int | None) -> None:
    """--time-warp and --seed; None as default leaves the firmware's own (1 and 1)."""
    p.add_argument(
        "--time-warp",
        type=_time_warp,
        default=time_warp,
        metavar="N",
        help=f"run simulated time N times faster than real time, up to 10000 "
        f"(default {time_warp or 1})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=seed,
        help=f"seed of the simulation's noise (default {seed or 1})",
    )


def register_sil(sub: Any) -> None:
    p = sub.add_parser(
        "sil", help="start a virtual board (the firmware on the MicroPython VM behind a pty)"
    )
    _board_options(p, time_warp=None, seed=None)
    p.add_argument("--vehicle", default=DEFAULT_VEHICLE, metavar="ID", help="the vehicle's id")
    p.add_argument(
        "--flash",
        type=Path,
        metavar="DIR",
        help="folder holding the board's flash (default: $LANDER_BOARDS/ID, else "
        "$XDG_DATA_HOME/lander/boards/ID, i.e. ~/.local/share/lander/boards/ID)",
    )
    p.add_argument(
        "--idle", action="store_true", help="boot idle instead of starting the descent at once"
    )
    p.add_argument(
        "--scenario", metavar="NAME", help="fly a named scenario (lander scenario --list)"
    )
    p.add_argument(
        "--broker",
        metavar="URL",
        help="also publish itself on an MQTT broker, as a Pico W does: "
        "mqtt://[user:password@]host:port, or mqtts://...?ca=FILE over TLS "
        "(telemetry on lander/ID/tm, commands from lander/ID/tc)",
    )
    p.add_argument(
        "--silicon",
        action="store_true",
        help="a silicon board instead: MicroPython's rp2 port on an emulated RP2040, flash in "
        "the file --flash (default: the boards folder's silicon/ID.flash); "
        "`lander flash --port` puts the firmware on it",
    )
    p.set_defaults(func=run_sil)


def register_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="start a virtual board and watch its telemetry")
    _board_options(p, time_warp=20, seed=1)
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
    """The options the board's config.json gets (those not given keep the firmware's
    defaults)."""
    options = {"vehicle": args.vehicle, "autostart": "0" if args.idle else "1"}
    if args.time_warp is not None:
        options["time_warp"] = str(args.time_warp)
    if args.seed is not None:
        options["seed"] = str(args.seed)
    if args.scenario:
        options["scenario"] = args.scenario
    if args.broker:
        options["broker"] = args.broker
    return options


def _given(args: argparse.Namespace) -> list[str]:
    """The options that would change a board's config.json."""
    given = [("--time-warp", args.time_warp is not None), ("--seed", args.seed is not None)]
    given += [("--idle", args.idle), ("--scenario", bool(args.scenario))]
    given += [("--broker", bool(args.broker))]
    return [name for name, present in given if present]


def run_sil(args: argparse.Namespace) -> int:
    if args.silicon:
        return run_silicon(args)
    from ground.links import LinkError
    from ground.mqtt.address import parse

    from .board import BoardError, VirtualBoard
    from .firmware import boards_dir, was_flashed
    from .link import provision_virtual_board

    flash: Path = args.flash or boards_dir() / args.vehicle
    if flash.exists() and not flash.is_dir():
        raise UsageError(f"--flash {flash}: not a folder; give the folder that holds the flash")
    if was_flashed(flash):
        if given := _given(args):
            raise UsageError(
                f"the board in {flash} was flashed by `lander flash` and starts as flashed; "
                f"drop {' '.join(given)}, or flash it again with the settings it should have "
                "(e.g. --set time_warp=N)"
            )
        how = "as flashed"
    else:
        try:
            provision_virtual_board(flash, _sil_options(args))
        except OSError as exc:
            raise UsageError(f"cannot write the board's flash in {flash}: {exc.strerror}") from None
        except LinkError as exc:
            raise UsageError(str(exc)) from None
        how = "from the firmware's sources"
    try:
        board = VirtualBoard(flash)
        board.start()
    except (BoardError, OSError, TimeoutError) as exc:
        raise OperationFailed(f"the virtual board did not start: {exc}") from None
    try:
        print(board.port, flush=True)
        warp = f"time warp {args.time_warp}; " if args.time_warp else ""
        if args.broker:
            warp += f"publishing on {parse(args.broker).url}; "
        print(
            f"virtual board {args.vehicle} running {how}, flash {flash} "
            f"(heap {model.load().heapsize}, {warp}Ctrl-C stops it)",
            file=sys.stderr,
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return 0


def run_silicon(args: argparse.Namespace) -> int:
    """`lander sil --silicon`: a Pico on the emulated RP2040 until Ctrl-C."""
    from .firmware import boards_dir
    from .silicon import ImageError, SiliconBoard, SiliconError

    if given := _given(args):
        raise UsageError(
            f"a silicon board runs what its flash holds: drop {' '.join(given)} and flash the "
            "settings with `lander flash --port PORT --set KEY=VALUE`"
        )
    flash: Path = args.flash or boards_dir() / "silicon" / f"{args.vehicle}.flash"
    if flash.is_dir():
        raise UsageError(f"--flash {flash}: a folder; a silicon board's flash is a file")
    new = not flash.exists()
    try:
        board = SiliconBoard(flash, tcp=True).start()
    except (SiliconError, ImageError, OSError, TimeoutError) as exc:
        raise OperationFailed(f"the silicon board did not start: {exc}") from None
    try:
        print(board.port, flush=True)
        state = "MicroPython installed, empty filesystem" if new else "as its flash was left"
        print(
            f"silicon board {args.vehicle}: rp2 MicroPython on an emulated RP2040, {state}; "
            f"flash {flash}, also {board.url}; `lander flash --port {board.port}` puts the "
            "firmware on it (Ctrl-C stops it)",
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
    for event in result["events"]:
        print(events.line(event))
    td = result["touchdown"]
    line = f"{args.name}: {result['phase']}"
    if td:
        line += f" at {td['time']:.1f} s: {td['event'].detail}"
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
