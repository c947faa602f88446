"""Packets and parameters: every latest value with unit, age and limit state, searchable,
grouped by subsystem, in engineering or raw view (``r``)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input

from .palette import STATE_STYLE, ago
from .parameters import format_value
from .state import ConsoleState

__all__ = ["ParametersPage"]

_COLUMNS = ("Subsystem", "Packet", "Parameter", "Value", "Unit", "State", "Age")


class ParametersPage(Vertical):
    DEFAULT_CSS = """
    ParametersPage Input { height: 1; border: none; padding: 0 1; background: $boost; }
    ParametersPage DataTable { height: 1fr; }
    """

    raw = False
    _keys: list[str] | None = None

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="search parameters  (F8: raw/engineering)",
            id="param-search",
            classes="line",
        )
        table: DataTable[Text | str] = DataTable(id="param-table", cursor_type="row")
        table.add_columns(*_COLUMNS)
        yield table

    def toggle_raw(self) -> None:
        self.raw = not self.raw

    def show(self, state: ConsoleState, now: float) -> None:
        query = self.query_one("#param-search", Input).value
        rows = state.parameters.rows(now, query)
        table: DataTable[Text | str] = self.query_one("#param-table", DataTable)
        keys = [f"{r.packet}.{r.name}" for r in rows]
        rebuild = keys != self._keys
        self._keys = keys
        if rebuild:
            table.clear()
        previous_group = ""
        for key, r in zip(keys, rows, strict=True):
            colour = r.state if r.state not in ("", "GREEN") or not r.stale else "STALE"
            value = r.raw if self.raw else r.value
            cells = (
                Text(r.subsystem if r.subsystem != previous_group else "", style="bold cyan"),
                r.packet,
                r.name,
                Text(format_value(value), style=STATE_STYLE.get(colour, ""), justify="right"),
                "raw" if self.raw and r.unit else r.unit,
                _state_cell(r.state, r.stale),
                Text(ago(r.age), style="bold magenta" if r.stale else "dim"),
            )
            previous_group = r.subsystem
            if rebuild:
                table.add_row(*cells, key=key)
            else:
                for index in range(3, len(cells)):
                    table.update_cell(key, table.ordered_columns[index].key, cells[index])


def _state_cell(state: str, stale: bool) -> Text:
    """The limit state, and STALE beside it when the packet is overdue."""
    text = Text(state or "-", style=STATE_STYLE.get(state, "dim"))
    if stale:
        text.append(" STALE", style=STATE_STYLE["STALE"])
    return text
