"""The command line at the bottom of every page: completion (Tab), recall (Up/Down) and a
hint of what the argument at the cursor allows."""

from __future__ import annotations

import os

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Static

from schemas.commands import CommandDictionary

from .commandline import complete

__all__ = ["CommandBar", "CommandInput"]


class _DictionarySuggester(Suggester):
    def __init__(self, dictionary: CommandDictionary) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.dictionary = dictionary

    async def get_suggestion(self, value: str) -> str | None:
        candidates = complete(value, self.dictionary).candidates
        if len(candidates) == 1 and candidates[0].lower().startswith(value.lower()):
            return value + candidates[0][len(value) :]
        return None


class CommandInput(Input):
    BINDINGS = [
        Binding("tab", "complete", "Complete", show=False, priority=True),
        Binding("up", "recall(-1)", show=False),
        Binding("down", "recall(1)", show=False),
    ]

    def __init__(self, dictionary: CommandDictionary, **kwargs: object) -> None:
        super().__init__(
            placeholder="command, e.g. SET_TM_RATE NAV 20  (Tab completes)",
            suggester=_DictionarySuggester(dictionary),
            **kwargs,  # type: ignore[arg-type]
        )
        self.dictionary = dictionary
        self.history: list[str] = []
        self._recall = 0

    def action_complete(self) -> None:
        candidates = complete(self.value, self.dictionary).candidates
        if not candidates:
            return
        common = os.path.commonprefix([c.upper() for c in candidates])
        target = candidates[0] if len(candidates) == 1 else candidates[0][: len(common)]
        if len(target) > len(self.value):
            self.value = target
            self.cursor_position = len(target)

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._recall = len(self.history)

    def action_recall(self, step: int) -> None:
        if not self.history:
            return
        self._recall = max(0, min(len(self.history), self._recall + step))
        self.value = self.history[self._recall] if self._recall < len(self.history) else ""
        self.cursor_position = len(self.value)


class CommandBar(Vertical):
    DEFAULT_CSS = """
    CommandBar { height: 2; }
    CommandBar CommandInput { height: 1; border: none; padding: 0 1; background: $boost; }
    CommandBar #command-hint { height: 1; padding: 0 1; color: $text-muted; }
    CommandBar #command-hint.error { color: $error; text-style: bold; }
    """

    def __init__(self, dictionary: CommandDictionary) -> None:
        super().__init__()
        self.dictionary = dictionary

    def compose(self) -> ComposeResult:
        yield CommandInput(self.dictionary, id="command", classes="line")
        yield Static("", id="command-hint")

    def on_input_changed(self, event: Input.Changed) -> None:
        # An empty line keeps the last word (what became of the command just sent).
        if event.input.id == "command" and event.value:
            self.hint(complete(event.value, self.dictionary).hint)

    def hint(self, text: str, error: bool = False) -> None:
        hint = self.query_one("#command-hint", Static)
        hint.update(text)
        hint.set_class(error, "error")
