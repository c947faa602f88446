"""``lander decode FILE|-``: a capture as a table or as JSON lines, statistics last."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import IO, Any

from ..bus import Event, LinkState, Received, TelemetryBus
from ..decoder import Packet, TelemetryDecoder
from ..display import format_value
from ..identity import Identity, IdentityWatch
from ..links import FileLink, open_link

__all__ = ["register", "run", "print_packet", "packet_record"]


def register(sub: Any) -> None:
    p = sub.add_parser("decode", help="decode a raw serial capture")
    p.add_argument("file", metavar="FILE", help="capture file, or - for standard input")
    p.add_argument("--format", choices=("table", "jsonl"), default="table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = args.file
    # A bare path is a path, whatever it holds ("cap?x.bin", "run#2.bin"); "-" is stdin.
    link = open_link(source) if "://" in source else FileLink(f"file://{source}", source)
    bus = TelemetryBus(link, reconnect=False)
    printer = _Printer(args.format, sys.stdout, bus.decoder)
    bus.subscribe(printer)
    try:
        events = bus.queue(maxsize=1)
        bus.start()
        while not (isinstance(e := events.get(), LinkState) and e.state == "closed"):
            pass
    finally:
        bus.close()
        link.close()
    if printer.broken:
        return 0
    stats = bus.stats.as_dict()
    if args.format == "jsonl":
        sys.stdout.write(json.dumps({"stats": stats}) + "\n")
    else:
        sys.stdout.write("-- " + "  ".join(f"{k} {v}" for k, v in stats.items()) + "\n")
    if printer.count == 0:
        print(f"lander decode: no telemetry packet in {source}", file=sys.stderr)
        return 1
    return 0


class _Printer:
    """Prints each packet as the bus receives it (in order, on the bus's reader thread),
    stamped with the identity of the boot it came from."""

    def __init__(self, fmt: str, out: IO[str], decoder: TelemetryDecoder) -> None:
        self.fmt, self.out = fmt, out
        self.decoder = decoder
        self.stamp = IdentityWatch()  # per packet: which boot each one belongs to
        self.count = 0
        self.broken = False  # the reader of our output went away (| head)

    def __call__(self, event: Event) -> None:
        if not isinstance(event, Received) or self.broken:
            return
        self.count += 1
        self.stamp.observe((event.packet,))
        try:
            print_packet(event.packet, self.fmt, self.out, self.stamp.current)
        except BrokenPipeError:
            self.broken = True
        for warning in self.decoder.identity.take_warnings():
            print(f"lander decode: warning: {warning}", file=sys.stderr)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def packet_record(
    packet: Packet, identity: Identity | None = None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One packet as ``--format jsonl`` writes it (and the ground segment publishes it on
    ``packet/<NAME>``), with the identity of the boot it came from once an IDENT was seen.
    ``values``: the packet's values when the caller has them already."""
    record = packet.to_dict(values)
    record["values"] = {k: _json_value(v) for k, v in record["values"].items()}
    if identity is not None:
        record["identity"] = identity.to_dict()
    return record


def print_packet(packet: Packet, fmt: str, out: IO[str], identity: Identity | None = None) -> None:
    """One packet as a JSON object (``jsonl``) or a table line."""
    if fmt == "jsonl":
        out.write(json.dumps(packet_record(packet, identity)) + "\n")
        return
    event = packet.event
    if event is not None:
        text = f"{event.severity:<8} {event.sentence}"
    else:
        text = "  ".join(f"{k}={format_value(v, '.4g')}" for k, v in packet.values.items())
    out.write(f"{packet.time:12.3f}  {packet.name:<9} {packet.seq:5d}  {text}\n")
