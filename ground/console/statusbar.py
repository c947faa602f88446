"""The line at the top of every page: vehicle, link, phase, times, limits and warnings."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..limits import limit_state
from .palette import LINK_STYLE, STATE_STYLE, ago, clock
from .state import ConsoleState

__all__ = ["StatusBar"]


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    StatusBar.alarm { background: $error; }
    """

    def show(self, state: ConsoleState, now: float, vehicle: str) -> None:
        link = state.link
        identity = state.identity.current
        name = identity.vehicle if identity is not None and identity.vehicle else vehicle
        line = Text(f" {name} ", style="bold reverse")
        line.append(" ")
        label = _label(link.state, link.reason, link.replay)
        if link.silent:
            line.append(" NO TM ", style=LINK_STYLE["lost"])
            line.append(f" {ago(now - link.heard)}", style="bold")
        else:
            line.append(f" {label} ", style=LINK_STYLE.get(link.state, ""))
            if link.down and link.since:
                line.append(f" {ago(now - link.since)}", style="bold")
            else:
                line.append(f" {link.rate:.0f}/s")
        hk = state.parameters.packets["HK"]
        if hk.count:
            for name in ("phase", "mode"):
                value = str(hk.values[name])
                line.append("  ")
                alarm = limit_state(hk.definition.field(name), value)
                line.append(value, style=STATE_STYLE.get(alarm, "") if alarm != "GREEN" else "bold")
            line.append(f"  T+{hk.vehicle_time:.1f}s")
        line.append(f"  {clock(now)}Z ")
        active = state.limits.now()
        reds = sum(1 for e in active if e.state == "RED")
        yellows = len(active) - reds
        if reds:
            line.append(f" {reds} RED ", style=STATE_STYLE["RED"])
        if yellows:
            line.append(f" {yellows} YEL ", style=STATE_STYLE["YELLOW"])
        unack = state.unacknowledged
        if unack:
            line.append(f" {unack} unack", style="bold")
        self.update(line, layout=False)
        self.set_class((link.down and not link.replay) or link.silent or reds > 0, "alarm")


def _label(state: str, reason: str, replay: bool) -> str:
    """What the operator reads: a link that went away is lost, a replay that ended ended."""
    if state == "closed":
        if replay:
            return "REPLAY END"
        return "LINK LOST" if reason else "LINK CLOSED"
    return {"lost": "LINK LOST"}.get(state, state.upper())
