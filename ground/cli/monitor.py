"""``lander monitor --link URL``: live decoded values, limits coloured."""

from __future__ import annotations

import argparse
from typing import Any

from ..bus import TelemetryBus
from .archive import add_archive_option, archive_recorder_for
from .arguments import positive_float

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser("monitor", help="show live decoded telemetry from a link")
    p.add_argument(
        "--link",
        required=True,
        metavar="URL",
        help="serial://, tcp://, file://, sil:// or archive://SESSION",
    )
    p.add_argument("--duration", type=positive_float, metavar="S", help="stop after S seconds")
    add_archive_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..monitor import run_monitor

    bus = TelemetryBus(args.link)
    recorder = archive_recorder_for(args, bus)
    try:
        return run_monitor(bus, duration=args.duration)
    finally:
        if recorder is not None:
            recorder.close()
