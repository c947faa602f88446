"""The ``lander`` command: one entry point, a subcommand per thing a user does.

Each subcommand is a thin layer over the same objects the other tools use (the decoder,
the links, the virtual board). A user's mistake gets one line that says what to do and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from schemas import commands

from .commander import Commander, CommanderCore, CommandError
from .decoder import TelemetryDecoder
from .flash.command import add_arguments as add_flash_arguments
from .history import CommandHistory
from .keys import DEFAULT_VEHICLE, CounterFile, KeyFileError, key_dir, load_key
from .links import Link, LinkClosed, LinkError, open_link
from .verifier import StageReport, StageTimeouts, Verification

__all__ = ["main"]


class UsageError(Exception):
    """A command-line mistake; printed as one line."""


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def cmd_decode(args: argparse.Namespace) -> int:
    source = args.file
    link = open_link(source if source == "-" or "://" in source else f"file://{source}")
    decoder = TelemetryDecoder()
    out = sys.stdout
    count = 0
    try:
        while True:
            try:
                data = link.read()
            except LinkClosed:
                break
            for packet in decoder.feed(data):
                count += 1
                _print_packet(packet, args.format, out)
        for packet in decoder.close():
            count += 1
            _print_packet(packet, args.format, out)
    finally:
        link.close()
    stats = decoder.stats.as_dict()
    if args.format == "jsonl":
        out.write(json.dumps({"stats": stats}) + "\n")
    else:
        out.write("-- " + "  ".join(f"{k} {v}" for k, v in stats.items()) + "\n")
    if count == 0:
        print(f"lander decode: no telemetry packet in {source}", file=sys.stderr)
        return 1
    return 0


def _print_packet(packet: Any, fmt: str, out: Any) -> None:
    if fmt == "jsonl":
        record = packet.to_dict()
        record["values"] = {k: _json_value(v) for k, v in record["values"].items()}
        out.write(json.dumps(record) + "\n")
        return
    values = "  ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in packet.values.items()
    )
    out.write(f"{packet.time:12.3f}  {packet.name:<9} {packet.seq:5d}  {values}\n")


def cmd_monitor(args: argparse.Namespace) -> int:
    from .monitor import run_monitor

    link = open_link(args.link)
    try:
        return run_monitor(link, TelemetryDecoder(), duration=args.duration)
    finally:
        link.close()


def cmd_capture(args: argparse.Namespace) -> int:
    link = open_link(args.link)
    total = 0
    end = None if args.duration is None else time.monotonic() + args.duration
    try:
        with open(args.out, "wb") as f:
            while end is None or time.monotonic() < end:
                try:
                    data = link.read(0.1)
                except LinkClosed:
                    break
                f.write(data)
                total += len(data)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    finally:
        link.close()
    print(f"captured {total} bytes to {args.out}", file=sys.stderr)
    return 0


def _sil_options(args: argparse.Namespace) -> dict[str, str]:
    options = {"time_warp": str(args.time_warp), "seed": str(args.seed)}
    options["autostart"] = "0" if args.idle else "1"
    if args.scenario:
        options["scenario"] = args.scenario
    return options


def cmd_sil(args: argparse.Namespace) -> int:
    from sil.board import VirtualBoard

    from .links import provision_virtual_board

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


def cmd_scenario(args: argparse.Namespace) -> int:
    from sil import BoardError, scenarios

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
        raise UsageError(str(exc)) from None
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


def cmd_demo(args: argparse.Namespace) -> int:
    from .monitor import run_monitor

    url = f"sil://?time_warp={args.time_warp}&seed={args.seed}"
    print(f"starting a virtual board ({url}) and decoding its telemetry...", file=sys.stderr)
    link = open_link(url)
    decoder = TelemetryDecoder()
    try:
        run_monitor(link, decoder, duration=args.duration)
    finally:
        link.close()
    s = decoder.stats
    print(
        f"demo: {s.packets} packets decoded, {s.crc_errors} CRC errors, "
        f"{s.gaps} sequence gaps over {args.duration:g} s",
        file=sys.stderr,
    )
    return 0 if s.packets and not s.bad_frames and not s.gaps else 1


def render_command_list(dictionary: commands.CommandDictionary) -> str:
    """``lander cmd --list``: every command, its arguments with type, range and help."""
    lines = []
    for c in dictionary:
        flags = "  CRITICAL" if c.critical else ""
        if c.modes:
            flags += "  modes " + ",".join(c.modes.values())
        lines.append(f"{c.name:<14} {c.code:#06x}{flags}")
        lines.append(f"    {c.description}")
        for a in c.args:
            lines.append(f"    {a.name + '=':<12} {a.type:<4} {a.allowed():<26} {a.description}")
    return "\n".join(lines)


def _parse_assignments(command: str, words: Sequence[str]) -> dict[str, str]:
    given: dict[str, str] = {}
    for word in words:
        name, eq, value = word.partition("=")
        if not eq or not name:
            raise UsageError(f"{command}: {word!r} is not NAME=VALUE")
        given[name] = value
    return given


def _confirmed(args: argparse.Namespace, command: commands.CommandDef, vehicle: str) -> bool:
    """Critical commands go only with --confirm, or a yes typed at a terminal."""
    if not command.critical or args.confirm:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{command.name} is critical: add --confirm to send it")
    print(f"{command.name} is critical: {command.description}.", file=sys.stderr)
    try:
        answer = input(f"Send {command.name} to {vehicle}? [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def _vehicle(args: argparse.Namespace) -> str:
    if args.vehicle:
        return str(args.vehicle)
    if args.link.startswith("sil:"):
        options = parse_qs(urlsplit(args.link).query)
        if "vehicle" in options:
            return options["vehicle"][-1]
    return DEFAULT_VEHICLE


def cmd_cmd(args: argparse.Namespace) -> int:
    dictionary = commands.load()
    if args.list:
        print(render_command_list(dictionary))
        return 0
    if not args.name:
        raise UsageError("name a command (lander cmd --list shows them)")
    if not args.link:
        raise UsageError("--link URL is needed to send a command")
    given = _parse_assignments(args.name.upper(), args.args)
    try:
        command = dictionary[args.name]
        command.raw_values(given)
    except commands.ArgumentError as exc:
        raise UsageError(str(exc)) from None
    vehicle = _vehicle(args)
    if not _confirmed(args, command, vehicle):
        print(f"{command.name} not sent", file=sys.stderr)
        return 1
    key = load_key(vehicle, args.key_file)
    counter = CounterFile(
        args.key_file.with_suffix(".counter") if args.key_file else key_dir() / f"{vehicle}.counter"
    )
    timeouts = StageTimeouts(*(3 * [args.timeout])) if args.timeout else StageTimeouts()
    core = CommanderCore(key, counter, dictionary=dictionary, timeouts=timeouts)
    history = CommandHistory(args.history)
    link = open_link(args.link)
    try:
        return asyncio.run(_send_and_show(link, core, history, command.name, given))
    finally:
        link.close()


async def _send_and_show(
    link: Link, core: CommanderCore, history: CommandHistory, name: str, given: dict[str, str]
) -> int:
    def show(verification: Verification, report: StageReport) -> None:
        reason = f"  {report.reason}" if report.stage in ("FAILED", "TIMEOUT") else ""
        print(f"  {report.stage:<10} +{report.after:.3f} s{reason}", flush=True)

    async with Commander(link, core, history=history) as commander:
        await commander.wait_for_telemetry(timeout=10.0)
        tc = core.prepare(name, given, confirm=True)
        print(f"{tc.describe()}  -> {core.key.vehicle} (counter {tc.counter})", flush=True)
        try:
            await commander.send_telecommand(tc, on_stage=show)
        except CommandError as exc:
            print(f"lander cmd: {exc}", file=sys.stderr)
            return 1
    return 0


def _positive(cast: type[int] | type[float]) -> Callable[[str], Any]:
    """argparse type: a number of ``cast`` greater than 0, or a one-line usage error."""
    kind = "a whole number" if cast is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError("must be greater than 0")
        return value

    return parse


_positive_float = _positive(float)
_positive_int = _positive(int)


def cmd_flash(args: argparse.Namespace) -> int:
    from .flash.command import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lander", description="Ground station and testbed for a MicroPython lunar lander."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("decode", help="decode a raw serial capture")
    p.add_argument("file", metavar="FILE", help="capture file, or - for standard input")
    p.add_argument("--format", choices=("table", "jsonl"), default="table")
    p.set_defaults(func=cmd_decode)

    p = sub.add_parser("monitor", help="show live decoded telemetry from a link")
    p.add_argument(
        "--link", required=True, metavar="URL", help="serial://, tcp://, file:// or sil://"
    )
    p.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("capture", help="record a link's raw bytes to a file")
    p.add_argument("--link", required=True, metavar="URL")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--duration", type=_positive_float, metavar="S")
    p.set_defaults(func=cmd_capture)

    p = sub.add_parser(
        "cmd",
        help="send a telecommand and show its verification stages",
        description="Send a signed telecommand, e.g. `lander cmd --link sil:// SET_TM_RATE "
        "packet=NAV hz=20`, and print its verification stages as they come.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="command name (see --list)")
    p.add_argument("args", nargs="*", metavar="ARG=VALUE", help="the command's arguments")
    p.add_argument("--list", action="store_true", help="list the commands and their arguments")
    p.add_argument("--link", metavar="URL", help="serial://, tcp:// or sil://")
    p.add_argument("--confirm", action="store_true", help="send a critical command without asking")
    p.add_argument(
        "--vehicle", metavar="NAME", help="whose key signs it (default LANDER-1, or sil:// 's)"
    )
    p.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="the vehicle's key file (default $LANDER_KEY_DIR or ~/.config/lander/keys/NAME.key)",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="S",
        help="window of each verification stage (default 2 s accepted, 2 s started, 5 s done)",
    )
    p.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="command history (default $LANDER_HISTORY or ~/.local/share/lander/history.jsonl)",
    )
    p.set_defaults(func=cmd_cmd)

    p = sub.add_parser("flash", help="put the firmware on a board (mpy-cross, mpremote)")
    add_flash_arguments(p)
    p.set_defaults(func=cmd_flash)

    for name, helptext in (
        ("sil", "start a virtual board (the firmware on the MicroPython VM behind a pty)"),
        ("demo", "start a virtual board and watch its telemetry"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument(
            "--time-warp",
            type=_positive_int,
            default=1 if name == "sil" else 20,
            metavar="N",
            help="run simulated time N times faster than real time",
        )
        p.add_argument("--seed", type=int, default=1, help="seed of the simulation's noise")
        if name == "sil":
            p.add_argument(
                "--flash",
                default=".vboard",
                metavar="DIR",
                help="folder holding the board's flash (default .vboard)",
            )
            p.add_argument(
                "--idle",
                action="store_true",
                help="boot idle instead of starting the descent at once",
            )
            p.add_argument(
                "--scenario", metavar="NAME", help="fly a named scenario (lander scenario --list)"
            )
            p.set_defaults(func=cmd_sil)
        else:
            p.add_argument("--duration", type=_positive_float, default=30.0, metavar="S")
            p.set_defaults(func=cmd_demo)
    p = sub.add_parser(
        "scenario", help="fly a named scenario headless in the MicroPython VM, as fast as it runs"
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="scenario to fly (omit to list them)")
    p.add_argument("--list", action="store_true", help="list the scenarios")
    p.add_argument("--seed", type=int, default=1, help="seed of the simulation's noise")
    p.add_argument("--out", metavar="FILE", help="also write the telemetry to FILE")
    p.set_defaults(func=cmd_scenario)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (LinkError, UsageError, KeyFileError, CommandError) as exc:
        print(f"lander {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
