"""Argument types shared by the subcommands: a bad value is one line from argparse."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["positive_float", "positive_int"]


def _positive(cast: type[int] | type[float]) -> Callable[[str], Any]:
    """argparse type: a number of ``cast`` greater than 0, or a one-line usage error."""
    kind = "a whole number" if cast is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError("must be greater than 0")
        return value

    return parse


positive_float = _positive(float)
positive_int = _positive(int)
