"""``lander decode FILE|-``: a capture as a table or as JSON lines, statistics last."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import IO, Any

from ..decoder import Packet, TelemetryDecoder
from ..display import format_value
from ..identity import Identity, IdentityWatch
from ..links import LinkClosed, open_link

__all__ = ["register", "run", "print_packet", "packet_record"]


def register(sub: Any) -> None:
    p = sub.add_parser("decode", help="decode a raw serial capture")
    p.add_argument("file", metavar="FILE", help="capture file, or - for standard input")
    p.add_argument("--format", choices=("table", "jsonl"), default="table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = args.file
    link = open_link(source if source == "-" or "://" in source else f"file://{source}")
    decoder = TelemetryDecoder()
    out = sys.stdout
    count = 0
    stamp = IdentityWatch()  # per packet: which boot each one belongs to
    try:
        while True:
            try:
                data = link.read()
            except LinkClosed:
                break
            for packet in decoder.feed(data):
                count += 1
                stamp.observe((packet,))
                print_packet(packet, args.format, out, stamp.current)
            _warn(decoder)
        for packet in decoder.close():
            count += 1
            stamp.observe((packet,))
            print_packet(packet, args.format, out, stamp.current)
        _warn(decoder)
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


def _warn(decoder: TelemetryDecoder) -> None:
    for warning in decoder.identity.take_warnings():
        print(f"lander decode: warning: {warning}", file=sys.stderr)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def packet_record(packet: Packet, identity: Identity | None = None) -> dict[str, Any]:
    """One packet as ``--format jsonl`` writes it (and the ground segment publishes it on
    ``packet/<NAME>``), with the identity of the boot it came from once an IDENT was seen."""
    record = packet.to_dict()
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
