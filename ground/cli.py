"""The ``lander`` command: one entry point, a subcommand per thing a user does.

Each subcommand is a thin layer over the same objects the other tools use (the decoder,
the links, the virtual board). A user's mistake gets one line that says what to do and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .decoder import TelemetryDecoder
from .links import LinkClosed, LinkError, open_link

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
    return options


def cmd_sil(args: argparse.Namespace) -> int:
    from sil.board import VirtualBoard
    from sil.firmware import install_sources

    from .links import sil_config

    flash = Path(args.flash)
    install_sources(flash, sil_config(_sil_options(args)))
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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


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
            p.set_defaults(func=cmd_sil)
        else:
            p.add_argument("--duration", type=_positive_float, default=30.0, metavar="S")
            p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (LinkError, UsageError) as exc:
        print(f"lander {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
