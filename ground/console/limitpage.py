"""The limits panel: what is out of limits now, and everything that has been since the
start, with thresholds and acknowledgement (``a`` acknowledges)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from .limits import LimitEntry
from .palette import STATE_STYLE, ago, clock
from .parameters import format_value
from .state import ConsoleState

__all__ = ["LimitsPage"]


def _value(entry: LimitEntry, value: Any) -> str:
    unit = entry.unit
    return format_value(value, unit) if value is not None else "—"


class LimitsPage(Vertical):
    DEFAULT_CSS = """
    LimitsPage Label { height: 1; padding: 0 1; background: $boost; width: 1fr; }
    LimitsPage #limits-now { height: 1fr; }
    LimitsPage #limits-all { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Out of limits now  (F7 acknowledges)", id="limits-now-title")
        now: DataTable[Text | str] = DataTable(id="limits-now", cursor_type="row")
        now.add_columns("Parameter", "State", "Value", "Limits", "For", "Ack")
        yield now
        yield Label("Since start", id="limits-all-title")
        since: DataTable[Text | str] = DataTable(id="limits-all", cursor_type="row")
        since.add_columns("Parameter", "Worst", "Worst value", "Now", "First", "Times")
        yield since

    def show(self, state: ConsoleState, now: float) -> None:
        table: DataTable[Text | str] = self.query_one("#limits-now", DataTable)
        table.clear()
        for e in state.limits.now():
            ack = Text("ack", style="dim") if e.acknowledged else Text("NEW", style="bold red")
            table.add_row(
                Text(e.name, style="bold"),
                Text(e.state, style=STATE_STYLE[e.state]),
                _value(e, e.value),
                e.thresholds,
                ago(now - e.changed),
                ack,
            )
        since: DataTable[Text | str] = self.query_one("#limits-all", DataTable)
        since.clear()
        for e in state.limits.since_start():
            since.add_row(
                e.name,
                Text(e.worst, style=STATE_STYLE[e.worst]),
                _value(e, e.worst_value),
                Text(e.state, style=STATE_STYLE[e.state]),
                clock(e.first),
                str(e.violations),
            )
