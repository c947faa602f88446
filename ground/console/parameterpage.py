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
    _shown: dict[tuple[str, int], object] = {}

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
            self._shown = {}
        # Only the rows in view are brought up to date (the others when scrolled to), and
        # only the cells whose text or colour changed: drawing costs per cell.
        first = int(table.scroll_y)
        last = first + table.size.height
        previous_group = ""
        for index, (key, r) in enumerate(zip(keys, rows, strict=True)):
            if not rebuild and not first - 1 <= index <= last + 1:
                previous_group = r.subsystem
                continue
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
                for column in range(3, len(cells)):
                    cell = cells[column]
                    look = _look(cell)
                    if self._shown.get((key, column)) == look:
                        continue
                    self._shown[(key, column)] = look
                    table.update_cell(key, table.ordered_columns[column].key, cell)


def _state_cell(state: str, stale: bool) -> Text:
    """The limit state, and STALE beside it when the packet is overdue."""
    text = Text(state or "-", style=STATE_STYLE.get(state, "dim"))
    if stale:
        text.append(" STALE", style=STATE_STYLE["STALE"])
    return text


def _look(cell: Text | str) -> object:
    """What a cell shows: its text and styles (Rich's ``==`` ignores a Text's own style)."""
    if isinstance(cell, str):
        return cell
    return (cell.plain, str(cell.style), tuple(cell.spans))
