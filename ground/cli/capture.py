"""``lander capture --link URL --out FILE``: a link's raw bytes, to decode later.

The bytes are written as the link's one reader (the telemetry bus) reads them, and
everything read is on disk when the capture ends, by Ctrl-C, SIGTERM or ``--duration``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from ..bus import LinkState, TelemetryBus
from ..errors import UsageError
from ..links import LinkError
from .arguments import positive_float

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser("capture", help="record a link's raw bytes to a file")
    p.add_argument("--link", required=True, metavar="URL")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--duration", type=positive_float, metavar="S")
    p.set_defaults(func=run)


class _Recorder:
    """Writes the bus's bytes to the file; remembers a write error for the main thread."""

    def __init__(self, file: Any) -> None:
        self.file = file
        self.total = 0
        self.error: OSError | None = None

    def __call__(self, data: bytes, ground_time: float) -> None:
        if self.error is None:
            try:
                self.file.write(data)
                self.total += len(data)
            except OSError as exc:
                self.error = exc


def run(args: argparse.Namespace) -> int:
    bus = TelemetryBus(args.link)
    created = not os.path.exists(args.out)
    try:
        file = open(args.out, "wb")
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    recorder = _Recorder(file)
    end = None if args.duration is None else time.monotonic() + args.duration
    bus.subscribe_bytes(recorder)
    events = bus.queue()
    try:
        bus.start()
    except LinkError:
        file.close()
        if created:
            os.unlink(args.out)
        raise
    try:
        while recorder.error is None and (end is None or time.monotonic() < end):
            event = events.get(0.1 if end is None else max(0.0, min(0.1, end - time.monotonic())))
            if isinstance(event, LinkState) and event.state == "lost":
                print(f"link lost: {event.reason}; waiting for it to come back", file=sys.stderr)
            elif isinstance(event, LinkState) and event.state == "back":
                print("link back", file=sys.stderr)
            elif isinstance(event, LinkState) and event.state == "closed":
                break
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the end of the capture
        pass
    finally:
        bus.close()  # the reader has stopped: every byte it read is written
        try:
            file.close()
        except OSError as exc:
            recorder.error = recorder.error or exc
    if recorder.error is not None:
        raise UsageError(f"cannot write {args.out}: {recorder.error.strerror}")
    print(f"captured {recorder.total} bytes to {args.out}", file=sys.stderr)
    return 0
