"""How states look on every page: one colour per limit state and event severity."""

from __future__ import annotations

from rich.text import Text

__all__ = ["STATE_STYLE", "SEVERITY_STYLE", "state_text", "clock", "ago"]

STATE_STYLE = {
    "RED": "bold white on red3",
    "YELLOW": "bold black on yellow",
    "GREEN": "green",
    "STALE": "bold magenta",
    "": "",
}
SEVERITY_STYLE = {
    "INFO": "",
    "WARNING": "bold yellow",
    "ERROR": "bold red",
    "CRITICAL": "bold white on red3",
}
LINK_STYLE = {
    "up": "bold green",
    "back": "bold green",
    "connecting": "yellow",
    "lost": "bold white on red3",
    "closed": "bold black on yellow",
}


def state_text(text: str, state: str) -> Text:
    return Text(text, style=STATE_STYLE.get(state, ""))


def clock(ground_time: float) -> str:
    """UTC time of day, to the tenth of a second."""
    import time

    seconds = ground_time % 86400
    return time.strftime("%H:%M:%S", time.gmtime(ground_time)) + f".{int(seconds * 10) % 10}"


def ago(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 600:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f}m"
