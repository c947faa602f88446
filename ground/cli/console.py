"""``lander console --link URL``: the operator console, full screen; ``--web`` serves it to
browsers (each browser session runs its own console on the same link URL)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .archive import add_archive_option, archive_off, archive_recorder_for
from .arguments import positive_float, positive_int

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "console",
        help="operator console: flight director, parameters, limits, events, plots, commanding",
        description="A full-screen console for one vehicle. F1-F6 pages, F7 acknowledges, "
        "the command line at the bottom sends commands (Tab completes), Ctrl+Q quits.",
    )
    p.add_argument(
        "--link",
        required=True,
        metavar="URL",
        help="serial://, tcp://, sil://, mqtt://host:port/VEHICLE (the ground segment: commands "
        "go to its gateway, which signs them), or a replay: file:// or archive://SESSION",
    )
    p.add_argument("--vehicle", metavar="NAME", help="whose key signs commands (default LANDER-1)")
    p.add_argument("--key-file", type=Path, metavar="FILE", help="the vehicle's key file")
    p.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="command history (default $LANDER_HISTORY or ~/.local/share/lander/history.jsonl)",
    )
    p.add_argument(
        "--plot",
        action="append",
        metavar="PACKET.field",
        help="plot this parameter (repeat for several; default altitude, vertical velocity, "
        "propellant, roll rate)",
    )
    p.add_argument(
        "--refresh",
        type=positive_float,
        default=5.0,
        metavar="HZ",
        help="redraws per second (default 5; input is never throttled)",
    )
    add_archive_option(p)
    p.add_argument("--web", action="store_true", help="serve the console to a browser instead")
    p.add_argument("--host", default="127.0.0.1", help="address --web listens on (127.0.0.1)")
    p.add_argument("--port", type=positive_int, default=8000, help="port --web listens on (8000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from schemas import model

    from ..console.series import parse_parameter

    dictionary = model.load()
    plots = tuple(args.plot) if args.plot else None
    for name in plots or ():
        try:
            parse_parameter(dictionary, name)
        except KeyError as exc:
            raise UsageError(f"--plot {exc.args[0]}") from None
    if args.web:
        return _serve(args)
    from ..console.app import DEFAULT_PLOTS, ConsoleApp
    from ..console.backfill import ArchiveHistory
    from ..console.source import TelemetryBus
    from ..history import CommandHistory
    from ..mqtt.address import is_mqtt
    from ..mqtt.address import parse as address
    from .cmd import _vehicle

    bus = TelemetryBus(args.link)
    vehicle = (
        address(args.link, need_vehicle=True).vehicle if is_mqtt(args.link) else _vehicle(args)
    )
    history = None if archive_off(args.archive) else ArchiveHistory(args.archive, vehicle)
    app = ConsoleApp(
        bus,
        vehicle=vehicle,
        key_file=args.key_file,
        history=CommandHistory(args.history),
        plots=plots or DEFAULT_PLOTS,
        refresh_hz=args.refresh,
        archive_history=history,
    )
    recorder = archive_recorder_for(args, bus)
    bus.start()
    try:
        app.run()
    finally:
        bus.close()
        if recorder is not None:
            recorder.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    """textual-serve: every browser that connects gets a console process of its own."""
    from textual_serve.server import Server

    argv = [sys.executable, "-m", "ground.cli", "console", "--link", args.link]
    for option in ("vehicle", "key_file", "history", "archive"):
        value = getattr(args, option)
        if value is not None:
            argv += [f"--{option.replace('_', '-')}", str(value)]
    if args.no_archive:
        argv.append("--no-archive")
    for name in args.plot or ():
        argv += ["--plot", name]
    argv += ["--refresh", str(args.refresh)]
    command = shlex.join(argv)
    server = Server(command, host=args.host, port=args.port, title="lander console")
    print(f"lander console: serving on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    server.serve()
    return 0
