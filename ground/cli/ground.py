"""``lander ground``: own vehicle links, publish their telemetry, gate their commands."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..history import CommandHistory
from ..keys import load_key
from ..verifier import StageTimeouts, Verification
from .archive import add_archive_option, archive_recorder_for
from .arguments import positive_float, positive_int

__all__ = ["register", "run", "default_state"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ground",
        help="run the ground segment: own links, publish telemetry on MQTT, gate commands",
        description="Own each vehicle's link, publish decoded telemetry under lander/<vehicle>/ "
        "and be the only command gateway (keys and counters stay here). Without --broker an "
        "embedded broker listens on 127.0.0.1.",
    )
    p.add_argument(
        "--link", action="append", default=[], metavar="URL", help="a vehicle's link (repeat)"
    )
    p.add_argument(
        "--vehicle-tm",
        action="store_true",
        help="also take lander/+/tm of vehicles that publish themselves (bridges, Pico Ws)",
    )
    p.add_argument(
        "--broker", metavar="URL", help="mqtt://user:password@host:port of a broker to use"
    )
    p.add_argument(
        "--listen",
        type=positive_int,
        default=1883,
        metavar="PORT",
        help="port of the embedded broker (default 1883)",
    )
    p.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="the gateway's pending verifications (default $XDG_STATE_HOME/lander/gateway.json)",
    )
    p.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="command history (default $LANDER_HISTORY or ~/.local/share/lander/history.jsonl)",
    )
    p.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        help="window of each verification stage (default 2 s accepted, 2 s started, 5 s done)",
    )
    add_archive_option(p)
    p.set_defaults(func=run)


def default_state() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "lander" / "gateway.json"


def run(args: argparse.Namespace) -> int:
    from ..mqtt.address import parse
    from ..mqtt.broker import EmbeddedBroker
    from ..mqtt.gateway import CommandGateway, GatewayState, Request
    from ..mqtt.station import GroundStation

    if not args.link and not args.vehicle_tm:
        raise UsageError("give --link URL (a vehicle's link) or --vehicle-tm, or both")
    embedded = None
    if args.broker:
        broker = parse(args.broker)
        if broker.vehicle:
            raise UsageError(f"--broker {args.broker}: name the broker only, no vehicle")
    else:
        embedded = EmbeddedBroker("127.0.0.1", args.listen).start()
        print(
            f"lander ground: embedded MQTT broker on {embedded.url} (loopback only; "
            "--broker mqtt://host:port for mosquitto)",
            file=sys.stderr,
            flush=True,
        )
        broker = parse(embedded.url)
    timeouts = StageTimeouts(*(3 * [args.timeout])) if args.timeout else StageTimeouts()
    gateway = CommandGateway(
        keys=lambda vehicle: load_key(vehicle, create=False),
        state=GatewayState.load(args.state or default_state()),
        history=CommandHistory(args.history),
        timeouts=timeouts,
    )
    station = GroundStation(broker, gateway, links=args.link, vehicle_tm=args.vehicle_tm)
    recorders = {bus.url: archive_recorder_for(args, bus) for bus in station.buses}

    def archive(verification: Verification, request: Request, link: str) -> None:
        recorder = recorders.get(link)
        if recorder is None or recorder.writer is None:
            return
        tc = verification.telecommand
        recorder.writer.record_command(
            f"{tc.key_id}:{tc.counter}",
            requester=request.requester,
            name=tc.name,
            args=dict(tc.args),
            counter=tc.counter,
            sent=verification.released,  # the gateway's clock is the wall clock
            stages=[(s.stage, s.why or s.reason, s.at) for s in verification.stages],
        )

    gateway.on_done = archive
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        station.start()
        owned = ", ".join(args.link) or "none"
        tm = "; taking lander/+/tm" if args.vehicle_tm else ""
        print(
            f"lander ground: links {owned}{tm}; publishing under lander/<vehicle>/ on {broker.url}",
            file=sys.stderr,
            flush=True,
        )
        station.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        station.close()
        for recorder in recorders.values():
            if recorder is not None:
                recorder.close()
        if embedded is not None:
            embedded.stop()
    return 0
