"""The one error of flashing: a user's mistake or a board problem, said in one line."""

from __future__ import annotations

from ..errors import OperationFailed

__all__ = ["FlashError", "BoardLost", "NoSpace"]


class FlashError(OperationFailed):
    """Flashing cannot go on; the message is one line that says what to do."""


class BoardLost(FlashError):
    """The board went away or stopped answering in the middle of a step."""


class NoSpace(FlashError):
    """The board's filesystem is full."""
