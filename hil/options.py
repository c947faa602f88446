"""The harness's options, defined once: the pytest plugin adds them to pytest's command line
and ``lander hil`` to its own, so that both say the same and check values the same way
(``add`` is pytest's ``group.addoption`` or argparse's ``add_argument``, which take the same
keywords)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ground.cli.arguments import positive_float

__all__ = ["add_options"]

OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--target",
        {
            "metavar": "URL",
            "default": None,
            "help": "the vehicle to test: sil:// (a virtual board per worker, the default), "
            "silicon:// (an emulated Pico per worker) or serial:///dev/ttyACM0 (a board)",
        },
    ),
    (
        "--flash",
        {
            "action": "store_true",
            "default": False,
            "help": "put the firmware (and each test's config.json) on the --target board first",
        },
    ),
    (
        "--time-warp",
        {
            "type": positive_float,
            "default": None,
            "metavar": "N",
            "help": "simulated seconds per real second (default: 10000 on a virtual board, "
            "as fast as it runs; 1 on a board)",
        },
    ),
    (
        "--seed",
        {"type": int, "default": 1, "metavar": "N", "help": "seed of the simulation's noise"},
    ),
    (
        "--report",
        {
            "metavar": "DIR",
            "default": None,
            "help": "write DIR/junit.xml and DIR/index.html (plots, commands, events, raw "
            "telemetry)",
        },
    ),
)


def add_options(add: Callable[..., Any], *, report: str | None = None) -> None:
    """Add the options with ``add``; ``report`` is the default report folder, if any."""
    for flag, kwargs in OPTIONS:
        if flag == "--report" and report is not None:
            kwargs = {**kwargs, "default": report, "help": f"{kwargs['help']}; default {report}"}
        add(flag, **kwargs)
