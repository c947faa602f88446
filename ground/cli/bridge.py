"""``lander bridge --link serial://... --broker mqtt://host:port``: a bench board on the bus."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from ..bridge import Bridge
from ..errors import UsageError
from ..keys import DEFAULT_VEHICLE
from ..links import LinkError
from ..mqtt.address import parse
from .arguments import positive_float, positive_int

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bridge",
        help="move a board's raw packets between its serial port and an MQTT broker",
        description="Publish every telemetry packet the port delivers on lander/ID/tm and "
        "write every telecommand from lander/ID/tc to the port. Holds no key.",
    )
    p.add_argument("--link", required=True, metavar="URL", help="the board's serial port")
    p.add_argument(
        "--broker",
        required=True,
        metavar="URL",
        help="mqtt://[user:password@]host[:port], or mqtts://...[?ca=FILE] over TLS",
    )
    p.add_argument(
        "--vehicle", default=DEFAULT_VEHICLE, metavar="ID", help=f"default {DEFAULT_VEHICLE}"
    )
    p.add_argument(
        "--qos",
        type=int,
        choices=(0, 1),
        default=1,
        help="1 (default): every queued packet reaches the broker; 0: fire and forget",
    )
    p.add_argument(
        "--buffer",
        type=positive_int,
        default=10000,
        metavar="N",
        help="packets kept while the broker is away; the oldest beyond are dropped (default 10000)",
    )
    p.add_argument("--duration", type=positive_float, metavar="S", help="stop after S seconds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        broker = parse(args.broker)
    except LinkError as exc:
        raise UsageError(f"--broker: {exc}") from None
    if broker.vehicle:
        raise UsageError(
            f"--broker {broker.url}: give the broker alone; the vehicle is "
            f"--vehicle {broker.vehicle}"
        )
    if broker.ca is not None and not os.path.isfile(broker.ca):
        raise UsageError(f"--broker {broker.url}: no CA file {broker.ca}")

    def notice(line: str) -> None:
        print(f"lander bridge: {line}", file=sys.stderr, flush=True)

    bridge = Bridge(
        args.link, broker, args.vehicle, qos=args.qos, buffer=args.buffer, notice=notice
    ).start()
    end = None if args.duration is None else time.monotonic() + args.duration
    try:
        while end is None or time.monotonic() < end:
            time.sleep(0.2)
            if bridge.bus.state == "closed":
                notice(
                    f"{args.link} closed" + (f": {bridge.bus.reason}" if bridge.bus.reason else "")
                )
                break
    except KeyboardInterrupt:
        pass
    bridge.close()
    s = bridge.stats
    notice(
        f"{s.received} packets from the port, {s.published} published, {s.dropped} dropped "
        f"when the broker was away too long, {s.queued} unsent; {s.commands} telecommands "
        f"to the port, {s.commands_lost} lost"
    )
    return 0
