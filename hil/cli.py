"""``lander hil``: run the mission campaign (or a team's own procedures) and write the report.

Registered through the ``lander.commands`` entry point group. It runs pytest with the
harness's plugin on ``hil/campaign`` (or the files given), on virtual boards by default,
in parallel on ``--workers`` pytest-xdist workers, and writes ``--report`` (./hil-report).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ground.cli.arguments import positive_int
from ground.errors import OperationFailed, UsageError

from .options import add_options

__all__ = ["register_hil", "run_hil"]

CAMPAIGN = Path(__file__).resolve().parent / "campaign"


def register_hil(sub: Any) -> None:
    p = sub.add_parser(
        "hil",
        help="run the HIL mission campaign against virtual boards or a Pico, with a report",
        description="Run the mission campaign (or the procedure files given) with the HIL "
        "harness, e.g. `lander hil -k crater --seed 7`; writes JUnit XML and an HTML report.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="FILE",
        help="procedure files or folders (default: the mission campaign)",
    )
    add_options(p.add_argument, report="hil-report")
    p.add_argument("-k", metavar="EXPR", help="only the tests whose names match EXPR")
    p.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="virtual boards in parallel (default: one per CPU, at most 4; 1 on a board)",
    )
    p.set_defaults(func=run_hil)


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest command line ``lander hil`` runs."""
    from .plugin import check_board
    from .target import check_target

    paths = list(args.paths) or [str(CAMPAIGN)]
    for path in paths:
        if not Path(path).exists():
            raise UsageError(f"no such procedure file or folder: {path}")
    kind = check_target(args.target, flash=args.flash)
    # a board, or one silicon board kept in its flash file, takes one worker
    board = kind == "serial" or (kind == "silicon" and "flash=" in (args.target or ""))
    workers = args.workers or (1 if board else min(4, os.cpu_count() or 1))
    if board and workers > 1:
        raise UsageError("one board takes one worker: leave out --workers with --target")
    check_board(args.target, args.flash)
    out = [*paths, "-p", "no:cacheprovider", "-q", "-rfE", "--report", args.report]
    out += ["--seed", str(args.seed)]
    if not args.paths:
        out += ["-m", "campaign"]
    if args.target:
        out += ["--target", args.target]
    if args.flash:
        out.append("--flash")
    if args.time_warp:
        out += ["--time-warp", str(args.time_warp)]
    if args.k:
        out += ["-k", args.k]
    if workers > 1:
        out += ["-n", str(workers)]
    return out


def run_hil(args: argparse.Namespace) -> int:
    import pytest

    code = pytest.main(pytest_args(args))
    page = Path(args.report) / "index.html"
    if code == pytest.ExitCode.OK:
        print(f"report: {page}", file=sys.stderr)
        return 0
    if code == pytest.ExitCode.TESTS_FAILED:
        raise OperationFailed(f"procedures failed; report: {page}")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise UsageError("no procedure matched" + (f" -k {args.k}" if args.k else ""))
    if code == pytest.ExitCode.USAGE_ERROR:
        raise UsageError("see the line above")
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    raise OperationFailed(f"the campaign stopped with an internal error (pytest exit {int(code)})")
