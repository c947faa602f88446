"""`lander flash`: its options, and the one line a failure gets."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from ground import keys
from ground.firmware import firmware_files, source_dir

from .build import Build
from .errors import FlashError
from .ports import PICO_PID, PICO_VID, find_pico, why_unavailable
from .progress import Progress, size_text
from .provision import DEFAULT_VEHICLE, Provision, vehicle_key

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--port",
        metavar="PORT",
        help=f"the board's serial port (default: the Pico plugged in, USB {PICO_VID:04X}:"
        f"{PICO_PID:04X}); a virtual board's is the /dev/pts/N that `lander sil` prints",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    p.add_argument("--vehicle", default=DEFAULT_VEHICLE, metavar="ID", help="the vehicle's id")
    p.add_argument(
        "--rate",
        type=_rate,
        action="append",
        default=[],
        metavar="PACKET=HZ",
        help="telemetry rate of a packet (repeatable), e.g. NAV=20; 0 stops it",
    )
    p.add_argument(
        "--set",
        type=_setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another config.json setting (repeatable; VALUE is JSON or text), e.g. time_warp=10",
    )
    p.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="the vehicle's telecommand key file (default: the ground's key for the vehicle)",
    )
    p.add_argument(
        "--new-key",
        action="store_true",
        help="replace the ground's key for the vehicle with a new one (a new key id; the old "
        "is kept as NAME.key.old) and flash it: both anti-replay counters start again",
    )
    p.add_argument(
        "--firmware",
        type=Path,
        metavar="DIR",
        help="the firmware's sources (default: the firmware installed with lander)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where the build and its manifest go (default: $XDG_CACHE_HOME/lander/firmware, "
        "i.e. ~/.cache/lander/firmware)",
    )
    p.add_argument(
        "--build-only", action="store_true", help="compile and write the manifest; no board"
    )
    p.add_argument(
        "--uf2",
        type=Path,
        metavar="FILE",
        help="install MicroPython: copy FILE (from micropython.org/download/RPI_PICO) "
        "to a Pico in BOOTSEL mode",
    )
    p.add_argument(
        "--uf2-drive",
        type=Path,
        metavar="PATH",
        help="the BOOTSEL drive (default: the RPI-RP2 drive under /media or /run/media)",
    )


def run(args: argparse.Namespace) -> int:
    from .deploy import flash
    from .uf2 import find_drive, install_uf2

    progress = Progress()
    started = time.monotonic()
    try:
        if args.uf2 is not None:
            install_uf2(args.uf2, find_drive(args.uf2_drive), progress)
            return 0
        if args.build_only:
            _build(args, progress)
            return 0
        provision = Provision(args.vehicle, dict(args.rate), dict(args.set))  # checks them
        port = args.port or find_pico()
        if "://" not in port and not os.path.exists(port):
            raise FlashError(why_unavailable(port))  # before a key is made for nothing
        if args.new_key:
            if args.key_file or args.dry_run:
                raise FlashError("--new-key makes a key: not with --key-file or --dry-run")
            try:
                made = keys.new_key(args.vehicle)
            except keys.KeyFileError as exc:
                raise FlashError(str(exc)) from None
            progress.say(f"new key for {args.vehicle}: key id {made.key_id}")
        provision = replace(provision, key_source=lambda: vehicle_key(args.vehicle, args.key_file))
        sources, build = _build(args, progress)
        result = flash(port, sources, provision, progress, build=build, dry_run=args.dry_run)
    except FlashError as exc:
        progress.finish()
        print(f"lander flash: {exc}", file=sys.stderr)
        return 1
    if not args.dry_run:
        plan = result.plan
        telemetry = (
            f"telemetry flows ({', '.join(result.telemetry)})"
            if result.telemetry
            else "telemetry not checked (it goes to a UART)"
        )
        progress.say(
            f"flashed {args.vehicle} on {port} in {time.monotonic() - started:.1f} s: "
            f"{len(plan.copy)} copied, {len(plan.unchanged)} unchanged, "
            f"{len(plan.remove) + len(plan.stale)} removed; {telemetry}"
        )
    return 0


def default_out() -> Path:
    """$XDG_CACHE_HOME/lander/firmware (~/.cache/...): a build is remade from the sources at
    will, and never goes beside an installed package's files."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "lander" / "firmware"


def _build(args: argparse.Namespace, progress: Progress) -> tuple[list[Path], Build]:
    """Compile the firmware (--firmware, else the installed one) and write it, with its
    manifest, to --out."""
    from .build import build_firmware

    firmware = args.firmware if args.firmware is not None else source_dir()
    sources = firmware_files(firmware)
    if not sources:
        raise FlashError(f"no firmware in {firmware}: it holds no .py files")
    build = build_firmware(sources)
    out = args.out if args.out is not None else default_out()
    try:
        manifest = build.write(out)
    except OSError as exc:
        raise FlashError(f"cannot write the build to {out}: {exc.strerror}") from None
    size = size_text(sum(map(len, build.files.values())))
    progress.say(
        f"build: {len(build.files)} files, {size}, {build.compiler_name} -march={build.march}"
        f", manifest {manifest}"
    )
    return sources, build


def _rate(text: str) -> tuple[str, float]:
    name, sep, hz = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return name.strip().upper(), float(hz)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give PACKET=HZ, e.g. NAV=20") from None


def _setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: give KEY=VALUE, e.g. time_warp=10")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value
