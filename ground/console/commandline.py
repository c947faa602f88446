"""The console's command line: parsing and completion from the command dictionary.

``SET_TM_RATE packet=NAV hz=20`` or, arguments in their order, ``SET_TM_RATE NAV 20``.
Completion offers command names, then argument names, then an argument's states; the hint
says what the argument at the cursor allows (type, range, unit, description).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.commands import Argument, ArgumentError, CommandDef, CommandDictionary

__all__ = ["Completion", "parse", "complete", "ArgumentError"]


def parse(text: str, dictionary: CommandDictionary) -> tuple[CommandDef, dict[str, str]]:
    """The command and its arguments by name, checked; ArgumentError says what is wrong."""
    words = text.split()
    if not words:
        raise ArgumentError("type a command (Tab completes; `?` lists them)")
    command = dictionary[words[0]]
    given: dict[str, str] = {}
    positional = iter(command.args)
    for word in words[1:]:
        name, eq, value = word.partition("=")
        if eq:
            command.arg(name)
            given[name] = value
            continue
        for a in positional:
            if a.name not in given:
                given[a.name] = word
                break
        else:
            raise ArgumentError(f"{command.name}: {word!r} is one argument too many")
    command.raw_values(given)
    return command, given


@dataclass(frozen=True)
class Completion:
    """Whole lines the text may become, and a hint about what comes next."""

    candidates: list[str]
    hint: str


def _help(a: Argument) -> str:
    return f"{a.name}: {a.type} {a.allowed()}  {a.description}"


def complete(text: str, dictionary: CommandDictionary) -> Completion:
    words = text.split()
    if not words or (len(words) == 1 and not text.endswith(" ")):
        prefix = words[0].upper() if words else ""
        names = [c for c in dictionary if c.name.startswith(prefix)]
        if len(names) == 1 or any(c.name == prefix for c in names):
            c = (
                next(c for c in names if c.name == prefix)
                if prefix in {c.name for c in names}
                else names[0]
            )
            critical = "  CRITICAL" if c.critical else ""
            return Completion(
                [c.name + (" " if c.args else "")] if c.name != prefix else [],
                f"{c.signature()}{critical}  {c.description}",
            )
        return Completion([c.name for c in names], " ".join(c.name for c in names) or "no such")
    try:
        command = dictionary[words[0]]
    except ArgumentError as exc:
        return Completion([], str(exc))
    done = words if text.endswith(" ") else words[:-1]
    partial = "" if text.endswith(" ") else words[-1]
    head = " ".join(done) + " "
    given = {w.partition("=")[0] for w in done[1:] if "=" in w}
    positional = [w for w in done[1:] if "=" not in w]
    open_args = [a for a in command.args if a.name not in given][len(positional) :]
    if "=" in partial:
        name, _, value = partial.partition("=")
        try:
            a = command.arg(name)
        except ArgumentError as exc:
            return Completion([], str(exc))
        states = [s for s in a.states.values() if s.startswith(value.upper())]
        return Completion([f"{head}{name}={s} " for s in states], _help(a))
    if not open_args:
        return Completion([], "Enter sends " + command.signature())
    candidates = [f"{head}{a.name}=" for a in open_args if a.name.startswith(partial)]
    nxt = open_args[0]
    candidates += [
        f"{head}{s} " for s in nxt.states.values() if partial and s.startswith(partial.upper())
    ]
    return Completion(candidates, _help(nxt))
