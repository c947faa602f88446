"""``lander cmd NAME ARG=VALUE ...``: sign, send and verify one telecommand."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from schemas import commands

from ..archive import ArchiveWriter
from ..archive.writer import BusRecorder
from ..bus import TelemetryBus
from ..commander import Commander, CommanderCore, CommandError, KeyMismatch
from ..decoder import Packet
from ..errors import UsageError
from ..history import CommandHistory, operator
from ..keys import DEFAULT_VEHICLE, CounterExhausted, CounterFile, key_dir, load_key
from ..links import open_link
from ..mqtt.address import is_mqtt
from ..mqtt.address import parse as parse_broker
from ..verifier import StageReport, StageTimeouts, Verification
from .archive import add_archive_option, archive_recorder_for
from .arguments import positive_float

__all__ = ["register", "run", "render_command_list"]

HK_WAIT = 5.0  # s: for the HK that tells the vehicle's key id and counter (HK is 1 Hz)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "cmd",
        help="send a telecommand and show its verification stages",
        description="Send a signed telecommand, e.g. `lander cmd --link sil:// SET_TM_RATE "
        "packet=NAV hz=20`, and print its verification stages as they come.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="command name (see --list)")
    p.add_argument("args", nargs="*", metavar="ARG=VALUE", help="the command's arguments")
    p.add_argument("--list", action="store_true", help="list the commands and their arguments")
    p.add_argument(
        "--link",
        metavar="URL",
        help="serial://, tcp://, sil://, or mqtt://host:port/VEHICLE (a request to the "
        "ground's command gateway, which signs it)",
    )
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
        type=positive_float,
        metavar="S",
        help="window of each verification stage (default 2 s accepted, 2 s started, 5 s done)",
    )
    p.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="command history (default $LANDER_HISTORY or ~/.local/share/lander/history.jsonl)",
    )
    add_archive_option(p)
    p.set_defaults(func=run)


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
            return str(options["vehicle"][-1])
    return DEFAULT_VEHICLE


def _port_option(url: str) -> str:
    """`` --port PATH`` for a serial link's device (lander flash finds a Pico by itself)."""
    parts = urlsplit(url)
    return f" --port {unquote(parts.netloc + parts.path)}" if parts.scheme == "serial" else ""


def _is_capture(url: str) -> bool:
    """Whether ``url`` names a capture file (`file://`, a bare path to a file, `-`)."""
    if "://" in url:
        return urlsplit(url).scheme == "file"
    return url == "-" or os.path.isfile(url)


def run(args: argparse.Namespace) -> int:
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
    if _is_capture(args.link):
        raise UsageError(
            f"--link {args.link}: a capture file is read-only; commands need a live link "
            "(serial://, tcp:// or sil://)"
        )
    if is_mqtt(args.link):
        return _request(args, command)
    vehicle = _vehicle(args)
    key = load_key(vehicle, args.key_file)
    counter = CounterFile(
        args.key_file.with_suffix(".counter") if args.key_file else key_dir() / f"{vehicle}.counter"
    )
    counter.last  # noqa: B018 (a malformed counter file is one line, before anything is sent)
    if not _confirmed(args, command, vehicle):
        print(f"{command.name} not sent", file=sys.stderr)
        return 1
    timeouts = StageTimeouts(*(3 * [args.timeout])) if args.timeout else StageTimeouts()
    core = CommanderCore(key, counter, dictionary=dictionary, timeouts=timeouts)
    history = CommandHistory(args.history)
    bus = TelemetryBus(open_link(args.link), reconnect=False)
    recorder = archive_recorder_for(args, bus)
    try:
        return asyncio.run(_send_and_show(bus, core, history, command.name, given, recorder))
    finally:
        bus.close()
        if recorder is not None:
            recorder.close()


def archive_command(
    writer: ArchiveWriter, verification: Verification, clock: Callable[[], float]
) -> None:
    """Keep a command and its stages in the archive, beside the telemetry around it."""
    tc = verification.telecommand
    offset = time.time() - clock()  # stage times are on the commander's clock
    writer.record_command(
        f"{tc.key_id}:{tc.counter}",
        requester=operator(),
        name=tc.name,
        args=dict(tc.args),
        counter=tc.counter,
        sent=verification.released + offset,
        stages=[(s.stage, s.why or s.reason, s.at + offset) for s in verification.stages],
    )


async def _send_and_show(
    bus: TelemetryBus,
    core: CommanderCore,
    history: CommandHistory,
    name: str,
    given: dict[str, str],
    recorder: BusRecorder | None = None,
) -> int:
    echoed: list[int] = []  # PONG tokens, shown in order with the stages

    def show(verification: Verification, report: StageReport) -> None:
        if report.final:
            for token in echoed:
                print(f"  {'PONG':<10} token={token}", flush=True)
            echoed.clear()
        reason = f"  {report.why}" if report.stage in ("FAILED", "TIMEOUT") else ""
        print(f"  {report.stage:<10} +{report.after:.3f} s{reason}", flush=True)

    def pong(packet: Packet) -> None:
        if packet.name == "PONG" and name == "PING":
            echoed.append(packet.raw_values["token"])

    bus.start()
    async with Commander(bus, core, history=history) as commander:
        await commander.wait_for_telemetry(timeout=10.0)
        if not await commander.learn_vehicle(HK_WAIT):
            print(
                f"lander cmd: no HK from {bus.url} within {HK_WAIT:g} s: signing with this "
                "ground's counter",
                file=sys.stderr,
            )
        try:
            tc = core.prepare(name, given, confirm=True)
        except KeyMismatch as exc:
            raise UsageError(str(exc)) from None
        except CounterExhausted:
            vehicle = core.key.vehicle
            raise UsageError(
                f"every anti-replay counter of {vehicle}'s key (id {core.key.key_id}) is spent: "
                f"put a new key on it with `lander flash{_port_option(bus.url)} --vehicle "
                f"{vehicle} --new-key`; both counters then start again"
            ) from None
        commander.subscribe(pong)
        print(f"{tc.describe()}  -> {core.key.vehicle} (counter {tc.counter})", flush=True)
        verification: Verification | None
        try:
            verification = await commander.send_telecommand(tc, on_stage=show)
        except CommandError as exc:
            print(f"lander cmd: {exc}", file=sys.stderr)
            verification, status = exc.verification, 1
        else:
            status = 0
        if recorder is not None and recorder.writer is not None and verification is not None:
            archive_command(recorder.writer, verification, commander.clock)
        if commander.history_error is not None:
            ended = "completed" if status == 0 else "ended"
            lost = commander.history_error
            print(f"lander cmd: {tc.name} {ended} but was not recorded: {lost}", file=sys.stderr)
            status = 1
    return status


def _request(args: argparse.Namespace, command: commands.CommandDef) -> int:
    """Through the ground segment: the gateway checks, signs, sends and verifies."""
    address = parse_broker(args.link, need_vehicle=True)
    if not _confirmed(args, command, address.vehicle):
        print(f"{command.name} not sent", file=sys.stderr)
        return 1
    given = _parse_assignments(command.name, args.args)
    return asyncio.run(_request_and_show(args.link, command.name, given, command.critical))


async def _request_and_show(url: str, name: str, given: dict[str, str], confirm: bool) -> int:
    from ..mqtt.requester import RemoteCommander, RemoteVerification

    def show(verification: RemoteVerification, report: dict[str, Any]) -> None:
        stage = str(report["stage"])
        if stage == "SENT":
            print(
                f"{verification.describe}  -> {verification.vehicle} "
                f"(counter {verification.counter}, by the gateway)",
                flush=True,
            )
            return
        if stage == "REFUSED":
            return
        why = report.get("reason", "")
        if report.get("context"):
            why = f"{why} {report['context']}"
        reason = f"  {why}" if stage in ("FAILED", "TIMEOUT") else ""
        print(f"  {stage:<10} +{float(report.get('after_s', 0)):.3f} s{reason}", flush=True)

    async with RemoteCommander(url) as commander:
        try:
            await commander.send(name, confirm=confirm, on_stage=show, **given)
        except CommandError as exc:
            print(f"lander cmd: {exc}", file=sys.stderr)
            return 1
    return 0
