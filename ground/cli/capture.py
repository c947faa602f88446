"""``lander capture --link URL --out FILE``: a link's raw bytes, to decode later."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..errors import UsageError
from ..links import LinkClosed, open_link
from .arguments import positive_float

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser("capture", help="record a link's raw bytes to a file")
    p.add_argument("--link", required=True, metavar="URL")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--duration", type=positive_float, metavar="S")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
