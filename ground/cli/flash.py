"""``lander flash``: the firmware onto a board (its options live with the flasher)."""

from __future__ import annotations

import argparse
from typing import Any

from ..flash.command import add_arguments

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("flash", help="put the firmware on a board (mpy-cross, mpremote)")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..flash.command import run as flash

    return flash(args)
