"""The events log: every event as a sentence, severity in colour, filterable by words and
by the lowest severity shown (``sev:WARNING`` in the filter); ``a`` acknowledges."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input

from .eventlog import SEVERITIES
from .palette import SEVERITY_STYLE, clock
from .state import ConsoleState

__all__ = ["EventsPage", "parse_filter"]


def parse_filter(text: str) -> tuple[str, str]:
    """(words, lowest severity) from ``sev:WARNING leak``."""
    words = []
    floor = "INFO"
    for word in text.split():
        key, colon, value = word.partition(":")
        if colon and key.lower() in ("sev", "severity"):
            wanted = value.upper()
            floor = (
                next((s for s in SEVERITIES if s.startswith(wanted)), "INFO") if wanted else floor
            )
        else:
            words.append(word)
    return " ".join(words), floor


class EventsPage(Vertical):
    DEFAULT_CSS = """
    EventsPage Input { height: 1; border: none; padding: 0 1; background: $boost; }
    EventsPage DataTable { height: 1fr; }
    """

    _shown: tuple[str, int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="filter events: words, sev:WARNING", id="event-filter", classes="line"
        )
        table: DataTable[Text | str] = DataTable(id="event-table", cursor_type="row")
        table.add_columns("UTC", "Vehicle s", "Severity", "Event")
        yield table

    def show(self, state: ConsoleState, now: float) -> None:
        text = self.query_one("#event-filter", Input).value
        log = state.events
        key = (text, log.total, state.events.unacknowledged)
        if key == self._shown:
            return
        self._shown = key
        words, floor = parse_filter(text)
        table: DataTable[Text | str] = self.query_one("#event-table", DataTable)
        table.clear()
        for e in log.filtered(words, floor):
            style = SEVERITY_STYLE.get(e.severity, "")
            mark = "" if not e.needs_ack else " *"
            table.add_row(
                clock(e.ground_time),
                f"{e.vehicle_time:.1f}",
                Text(e.severity + mark, style=style),
                Text(e.text, style=style if e.level >= 2 else ""),
            )
        table.move_cursor(row=table.row_count - 1)
