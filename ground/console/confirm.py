"""The dialog that stands between an operator and a critical command."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

__all__ = ["ConfirmCommand"]


class ConfirmCommand(ModalScreen[bool]):
    """``y`` or the Send button sends; ``n``, Escape or Cancel does not."""

    BINDINGS = [("y", "answer(True)", "Send"), ("n,escape", "answer(False)", "Cancel")]
    DEFAULT_CSS = """
    ConfirmCommand { align: center middle; }
    ConfirmCommand > Vertical {
        width: 64; height: auto; border: thick $error; background: $surface; padding: 1 2;
    }
    ConfirmCommand Label { width: 1fr; margin-bottom: 1; }
    ConfirmCommand Horizontal { height: auto; align: center middle; }
    ConfirmCommand Button { margin: 0 2; }
    """

    def __init__(self, text: str, description: str, vehicle: str) -> None:
        super().__init__()
        self.text = text
        self.description = description
        self.vehicle = vehicle

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.text}[/b] is CRITICAL", id="confirm-title")
            yield Label(self.description)
            yield Label(f"Send it to {self.vehicle}?  (y / n)")
            with Horizontal():
                yield Button("Send (y)", variant="error", id="confirm-send")
                yield Button("Cancel (n)", variant="primary", id="confirm-cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-send")

    def action_answer(self, send: bool) -> None:
        self.dismiss(send)
