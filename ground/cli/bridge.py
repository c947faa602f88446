"""``lander bridge --link serial://... --broker mqtt://host:port``: a bench board on the bus."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from ..bridge import Bridge
from ..errors import UsageError
from ..keys import DEFAULT_VEHICLE
from ..mqtt.broker import PASSWORD_ENV, parse_broker
from .arguments import positive_float, positive_int

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bridge",
        help="move a board's raw packets between its serial port and an MQTT broker",
        description="Publish every telemetry packet the port delivers on lander/ID/tm and "
        "write every telecommand from lander/ID/tc to the port. Holds no key. "
        f"A password may come from ${PASSWORD_ENV} instead of the URL.",
    )
    p.add_argument("--link", required=True, metavar="URL", help="the board's serial port")
    p.add_argument(
        "--broker",
        required=True,
        metavar="URL",
        help="mqtt://[user[:password]@]host[:port] or mqtts://...[?ca=FILE]",
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
    broker = parse_broker(args.broker)
    if broker.path:
        raise UsageError(
            f"--broker {broker.url}/{broker.path}: give the broker alone; "
            f"the vehicle is --vehicle {broker.path}"
        )

    def notice(line: str) -> None:
        print(f"lander bridge: {line}", file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, _interrupt)
    bridge = Bridge(
        args.link, broker, args.vehicle, qos=args.qos, buffer=args.buffer, notice=notice
    ).start()
    end = None if args.duration is None else time.monotonic() + args.duration
    try:
        while end is None or time.monotonic() < end:
            time.sleep(0.2)
            if bridge.refused and not bridge.connected:
                bridge.close()
                raise UsageError(
                    f"{broker.url} refused the login ({bridge.refused}): check the account "
                    "and password it was given"
                )
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


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
