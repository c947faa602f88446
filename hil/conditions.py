"""Waiting for what a vehicle or a tool does: poll a condition, never sleep a fixed time.

A fixed sleep is too short on a loaded machine and wasted on an idle one; a condition
returns as soon as it holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["wait_for"]


def wait_for(condition: Callable[[], object], timeout: float = 30, what: str = "") -> None:
    """Poll ``condition`` until it holds; AssertionError after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what or condition}"
        time.sleep(0.02)
