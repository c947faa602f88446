"""Driving the console headless with Textual's Pilot: waiting for what a user would see."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable

from textual.pilot import Pilot

_KEYS = {" ": "space", "=": "equals_sign", ".": "full_stop", "_": "underscore", "-": "minus"}


def screen_text(app) -> str:
    """The screen as plain text (from the same SVG a screenshot saves)."""
    svg = app.export_screenshot()
    text = re.sub(r"</text>", "\n", svg)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).replace("\xa0", " ")


async def wait_for(pilot: Pilot, done: Callable[[], object], timeout: float = 30.0, what=""):
    """Let the app run until ``done()`` is true; AssertionError after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, f"gave up waiting for {what or done}"
        await pilot.pause(0.05)
    await pilot.pause()


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*(_KEYS.get(c, c) for c in text))


def run(coro) -> None:
    asyncio.run(coro)
