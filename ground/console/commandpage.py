"""The command history: every command typed this session with its verification stages as
they arrive, after the ones the history file already holds."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from .palette import clock
from .state import CommandRecord, ConsoleState

__all__ = ["CommandsPage", "stage_text"]

#: widths of the time, command and status columns; the stages take what is left
_WIDTHS = (10, 20, 10)

_OUTCOME_STYLE = {
    "COMPLETED": "bold green",
    "FAILED": "bold red",
    "TIMEOUT": "bold red",
    "NOT SENT": "bold yellow",
    "REFUSED": "bold red",
}


def stage_text(record: CommandRecord) -> Text:
    if record.refused:
        return Text(record.refused, style="yellow")
    text = Text()
    for s in record.stages:
        style = "red" if s.stage in ("FAILED", "TIMEOUT") else "green"
        reason = f" {s.why}" if s.stage in ("FAILED", "TIMEOUT") else ""
        text.append(f"{s.stage}{reason} +{s.after:.2f}s", style=style)
        text.append("  ")
    return text


class CommandsPage(DataTable[Any]):
    def __init__(self, past: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.past = past
        self._shown: tuple[int, int, int] | None = None

    def on_mount(self) -> None:
        self._columns(self.size.width)

    def _columns(self, width: int) -> None:
        """Fixed widths, the stages taking the rest and wrapping onto more lines: at 80
        columns every stage and reason stays in view, none scrolled off to the right."""
        stages = max(20, width - sum(_WIDTHS) - 2 * (len(_WIDTHS) + 1) - 1)
        self.clear(columns=True)
        for label, w in zip(("UTC", "Command", "Status"), _WIDTHS, strict=True):
            self.add_column(label, width=w)
        self.add_column("Stages", width=stages)
        self._width = width
        self._shown = None

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._columns(self.size.width)

    _width = 0

    def show(self, state: ConsoleState, now: float) -> None:
        key = (len(state.commands), sum(len(r.stages) for r in state.commands), self._width)
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        for entry in self.past:
            args = " ".join(f"{k}={v}" for k, v in entry.get("args", {}).items())
            stages = "  ".join(s["stage"] for s in entry.get("stages", []))
            self.add_row(
                Text(entry.get("time", "")[11:21], style="dim"),
                Text(f"{entry.get('command', '')} {args}".strip(), style="dim"),
                Text(entry.get("outcome", ""), style="dim"),
                Text(stages, style="dim"),
                height=None,
            )
        for record in state.commands:
            status = record.status
            self.add_row(
                clock(record.at),
                record.text,
                Text(status, style=_OUTCOME_STYLE.get(status, "bold cyan")),
                stage_text(record),
                height=None,
            )
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
