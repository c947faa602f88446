"""``lander archive ...``: sessions, parameters, events, commands, exports and plots."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..archive import ArchiveWriter, open_archive
from ..archive.export import export_session, plot_parameters
from ..archive.store import Archive, ArchiveError
from ..archive.writer import BusRecorder
from ..bus import TelemetryBus
from ..decoder import TelemetryDecoder
from ..errors import UsageError
from ..links import LinkClosed, open_link

__all__ = ["register", "add_archive_option", "archive_off", "archive_recorder_for"]

_SEVERITIES = ("INFO", "WARNING", "ERROR", "CRITICAL")


def _time(text: str) -> float:
    """A time as ISO 8601 (UTC unless it says otherwise) or as seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: give ISO 8601 (2026-11-30T10:00:00) or seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _utc(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def add_archive_option(p: argparse.ArgumentParser) -> None:
    """``--archive LOCATION`` and ``--no-archive`` for every tool that owns a link."""
    p.add_argument(
        "--archive",
        metavar="LOCATION",
        help="archive file or postgresql:// URL (default $LANDER_ARCHIVE or "
        "~/.local/share/lander/archive.sqlite; off, or $LANDER_ARCHIVE=off, turns it off)",
    )
    p.add_argument("--no-archive", action="store_true", help="do not archive what is received")


def archive_recorder_for(args: argparse.Namespace, bus: TelemetryBus) -> BusRecorder | None:
    """What a tool that owns a vehicle's link archives it with, from when the link is up,
    with a one-line notice of where; None when turned off, or for a capture or an archive
    replayed (already recorded)."""
    if getattr(args, "no_archive", False) or not _live(bus.url) or archive_off(args.archive):
        return None
    from schemas.fingerprint import dictionary_hash

    def say(line: str) -> None:
        print(f"lander {args.command}: {line}", file=sys.stderr, flush=True)

    return BusRecorder(
        bus,
        args.archive,
        dictionary=dictionary_hash(),
        vehicle=getattr(args, "vehicle", None) or "?",
        notice=lambda line: print(line, file=sys.stderr, flush=True),
        on_error=say,
    )


def archive_off(location: str | None) -> bool:
    """``LANDER_ARCHIVE=off`` turns archiving off for every tool, like --no-archive."""
    return (location or os.environ.get("LANDER_ARCHIVE", "")).lower() == "off"


def _live(link: str) -> bool:
    scheme = link.split("://", 1)[0] if "://" in link else ""
    return scheme not in ("", "file", "archive") and link != "-"


def register(sub: Any) -> None:
    p = sub.add_parser("archive", help="what the ground archived: sessions, parameters, exports")
    p.add_argument("--archive", metavar="LOCATION", help="archive file or postgresql:// URL")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    v = verbs.add_parser("list", help="sessions: vehicle, boot, link, span, counts, errors")
    v.add_argument("--vehicle", metavar="ID")
    v.set_defaults(func=run_list)

    v = verbs.add_parser("query", help="parameters over a time range, with limit states")
    v.add_argument("names", nargs="+", metavar="PACKET.field")
    v.add_argument("--vehicle", metavar="ID")
    v.add_argument("--session", metavar="ID", help="a session id or last")
    v.add_argument("--from", dest="start", type=_time, metavar="TIME")
    v.add_argument("--to", dest="stop", type=_time, metavar="TIME")
    v.add_argument(
        "--by",
        choices=("ground", "vehicle"),
        default="ground",
        help="which clock --from/--to are on (vehicle time needs --session)",
    )
    v.add_argument("--format", choices=("table", "jsonl", "csv"), default="table")
    v.set_defaults(func=run_query)

    v = verbs.add_parser("events", help="decoded events across sessions")
    v.add_argument("--severity", choices=_SEVERITIES, default="INFO", help="this and worse")
    v.add_argument("--vehicle", metavar="ID")
    v.add_argument("--session", metavar="ID")
    v.set_defaults(func=run_events)

    v = verbs.add_parser("commands", help="who sent what, when, every verification stage")
    v.add_argument("--vehicle", metavar="ID")
    v.set_defaults(func=run_commands)

    v = verbs.add_parser("export", help="a session as CSV or Parquet, a file per packet")
    v.add_argument("session", metavar="SESSION", help="a session id or last")
    v.add_argument("--format", choices=("csv", "parquet"), default="csv")
    v.add_argument("--out", type=Path, required=True, metavar="DIR")
    v.set_defaults(func=run_export)

    v = verbs.add_parser("plot", help="parameters of a session over vehicle time, to PNG")
    v.add_argument("names", nargs="+", metavar="PACKET.field")
    v.add_argument("--session", default="last", metavar="ID")
    v.add_argument("--out", type=Path, required=True, metavar="FILE.png")
    v.set_defaults(func=run_plot)

    v = verbs.add_parser("import", help="archive a raw capture (lander capture, or - for stdin)")
    v.add_argument("file", metavar="FILE")
    v.add_argument("--vehicle", default="LANDER-1", metavar="ID")
    v.set_defaults(func=run_import)


def _open(args: argparse.Namespace) -> Archive:
    return open_archive(args.archive)


def run_list(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        sessions = archive.sessions(args.vehicle)
        if not sessions:
            print(f"no session in {archive.location}", file=sys.stderr)
            return 0
        print(
            f"{'id':>4}  {'vehicle':<10} {'boot':>4}  {'started (UTC)':<19}  {'ended':<8}  "
            f"{'vehicle time':<17} {'packets':>8} {'crc':>4} {'gaps':>4}  link"
        )
        for s in sessions:
            span = (
                f"{s.first_vehicle_time:7.1f}-{s.last_vehicle_time:<7.1f} s"
                if s.first_vehicle_time is not None
                else "-"
            )
            ended = _utc(s.ended)[11:] if s.ended else "open"
            boot = "?" if s.boot is None else s.boot
            print(
                f"{s.id:>4}  {s.vehicle:<10} {boot:>4}  {_utc(s.started):<19}  {ended:<8}  "
                f"{span:<17} {s.packets:>8} {s.stats.get('crc_errors', 0):>4} "
                f"{s.stats.get('gaps', 0):>4}  {s.link}"
            )
    return 0


def run_query(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        session = archive.session(args.session).id if args.session else None
        if args.by == "vehicle" and session is None:
            raise UsageError("--by vehicle needs --session: vehicle time restarts at each boot")
        series = {
            name: archive.parameter(
                name, args.start, args.stop, session=session, vehicle=args.vehicle, by=args.by
            )
            for name in args.names
        }
    rows = sorted(
        (r.ground_time, r.vehicle_time, name, r.value, r.state)
        for name, samples in series.items()
        for r in samples
    )
    if not rows:
        print("no sample in that range", file=sys.stderr)
        return 1
    out = sys.stdout
    if args.format == "jsonl":
        for g, v, name, value, state in rows:
            out.write(
                json.dumps(
                    {"parameter": name, "ground_time": g, "vehicle_time": v, "value": value}
                    | ({"limit": state} if state else {})
                )
                + "\n"
            )
    elif args.format == "csv":
        out.write("ground_time,vehicle_time,parameter,value,limit\n")
        for g, v, name, value, state in rows:
            out.write(f"{g:.6f},{v:.6f},{name},{value},{state}\n")
    else:
        for g, v, name, value, state in rows:
            shown = f"{value:.6g}" if isinstance(value, float) else str(value)
            out.write(f"{_utc(g)}  {v:10.2f} s  {name:<24} {shown:>12}  {state}\n")
    return 0


def run_events(args: argparse.Namespace) -> int:
    floor = _SEVERITIES.index(args.severity)
    with _open(args) as archive:
        event = archive.dictionary["EVENT"]
        session = archive.session(args.session).id if args.session else None
        decoder = TelemetryDecoder(archive.dictionary)
        count = 0
        for row in archive.packets(session=session, apid=event.apid, vehicle=args.vehicle):
            packet = decoder.feed_packet(row.data)
            if packet is None:
                continue
            if _SEVERITIES.index(str(packet.values["severity"])) < floor:
                continue
            count += 1
            when = f"{_utc(row.ground_time)}  s{row.session:<3} {row.vehicle_time:9.1f} s"
            print(f"{when}  {_sentence(packet)}")
    if not count:
        print(f"no event of severity {args.severity} or worse", file=sys.stderr)
    return 0


def _sentence(packet: Any) -> str:
    event = packet.event
    return f"{event.severity:<8} {event.sentence}" if event is not None else repr(packet)


def run_commands(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        records = archive.commands(args.vehicle)
    if not records:
        print("no command archived", file=sys.stderr)
        return 0
    for c in records:
        arguments = " ".join(f"{k}={v}" for k, v in c.args.items())
        counter = "" if c.counter is None else f"  counter {c.counter}"
        print(f"{_utc(c.sent)}  {c.vehicle:<10} {c.requester:<12} {c.name} {arguments}{counter}")
        for stage, reason, at in c.stages:
            print(f"    {stage:<10} +{at - c.sent:.3f} s  {reason}".rstrip())
    return 0


def run_export(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        session = archive.session(args.session)
        paths = export_session(archive, session.id, args.format, args.out)
    for path in paths:
        print(path)
    if not paths:
        raise ArchiveError(f"session {session.id} holds no packet")
    return 0


def run_plot(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        session = archive.session(args.session)
        print(plot_parameters(archive, session.id, args.names, args.out))
    return 0


def run_import(args: argparse.Namespace) -> int:
    source = args.file
    url = source if source == "-" or "://" in source else f"file://{source}"
    link = open_link(url)
    decoder = TelemetryDecoder()
    from schemas.fingerprint import dictionary_hash

    writer = ArchiveWriter(
        args.archive,
        vehicle=args.vehicle,
        link=url,
        dictionary=dictionary_hash(),
        on_error=lambda line: print(f"lander archive: {line}", file=sys.stderr),
    )
    try:
        while True:
            try:
                data = link.read()
            except LinkClosed:
                break
            for packet in decoder.feed(data):
                writer.add_packet(packet)
        for packet in decoder.close():
            writer.add_packet(packet)
    finally:
        link.close()
        writer.update_stats(decoder.stats.as_dict())
        writer.close()
    print(
        f"archived {writer.written} packets of {source} as session {writer.session} "
        f"in {writer.location}",
        file=sys.stderr,
    )
    return 1 if writer.error else 0
