"""The ``lander`` command: one entry point, a subcommand per thing a user does.

Each subcommand is a module with ``register(subparsers)`` that adds its parser and sets
``func``; the ground's own live here, and other packages add theirs through the
``lander.commands`` entry point group (the virtual board's ``sil``, ``scenario`` and
``demo`` come from :mod:`sil.cli`), so ``ground`` never imports ``sil``.

Every failure is a :class:`~ground.errors.LanderError`: printed as one line after the
subcommand's name, with the exit status of its kind, never a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import NoReturn

from ..errors import LanderError
from . import archive, bridge, capture, cmd, console, decode, flash, ground, monitor

__all__ = ["main", "build_parser"]

_GROUND_COMMANDS = (decode, monitor, console, capture, cmd, flash, archive, bridge, ground)


class _Parser(argparse.ArgumentParser):
    """A wrong option is one line that says what to do, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (`{self.prog} --help` shows the options)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lander", description="Ground station and testbed for a MicroPython lunar lander."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _GROUND_COMMANDS:
        module.register(sub)
    for entry in sorted(entry_points(group="lander.commands"), key=lambda e: e.name):
        entry.load()(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop as for Ctrl-C, so that every ``finally`` runs (files flushed, virtual
    boards stopped, their temporary flash with its key removed)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args))
    except LanderError as exc:
        print(f"lander {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except Terminated:
        return 143
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
