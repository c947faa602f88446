"""The command history: every command typed this session with its verification stages as
they arrive, after the ones the history file already holds."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from .palette import clock
from .state import CommandRecord, ConsoleState

__all__ = ["CommandsPage", "stage_text"]

_OUTCOME_STYLE = {
    "COMPLETED": "bold green",
    "FAILED": "bold red",
    "TIMEOUT": "bold red",
    "NOT SENT": "bold yellow",
}


def stage_text(record: CommandRecord) -> Text:
    if record.refused:
        return Text(record.refused, style="yellow")
    text = Text()
    for s in record.stages:
        style = "red" if s.stage in ("FAILED", "TIMEOUT") else "green"
        reason = f" {s.reason}" if s.stage in ("FAILED", "TIMEOUT") else ""
        text.append(f"{s.stage}{reason} +{s.after:.2f}s  ", style=style)
    return text


class CommandsPage(DataTable[Any]):
    def __init__(self, past: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.past = past
        self._shown: tuple[int, int] | None = None

    def on_mount(self) -> None:
        self.add_columns("UTC", "Command", "Status", "Stages")

    def show(self, state: ConsoleState, now: float) -> None:
        key = (len(state.commands), sum(len(r.stages) for r in state.commands))
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
            )
        for record in state.commands:
            status = record.status
            self.add_row(
                clock(record.at),
                record.text,
                Text(status, style=_OUTCOME_STYLE.get(status, "bold cyan")),
                stage_text(record),
            )
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
