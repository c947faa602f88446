"""The flight director page: the descent on one screen, usable at 80x24.

Phase and mode, altitude (navigation and rangefinder), velocities, propellant, throttle,
attitude, fault-protection rows by name, vehicle time and UTC, link health and the latest
events. Panels flow into more columns when the terminal is wider.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ..limits import limit_state
from .palette import LINK_STYLE, SEVERITY_STYLE, STATE_STYLE, ago, clock
from .parameters import format_value
from .plotpage import draw
from .state import ConsoleState

__all__ = ["FlightDirector", "attitude"]


def attitude(q_w: float, q_x: float, q_y: float, q_z: float) -> tuple[float, float, float]:
    """Roll, pitch and yaw in degrees (Z-Y-X) of a body-to-local-vertical quaternion."""
    roll = math.atan2(2 * (q_w * q_x + q_y * q_z), 1 - 2 * (q_x * q_x + q_y * q_y))
    s = max(-1.0, min(1.0, 2 * (q_w * q_y - q_z * q_x)))
    pitch = math.asin(s)
    yaw = math.atan2(2 * (q_w * q_z + q_x * q_y), 1 - 2 * (q_y * q_y + q_z * q_z))
    return math.degrees(roll), math.degrees(pitch), math.degrees(yaw)


class _Panel(Static):
    DEFAULT_CSS = """
    _Panel { border: round $primary-darken-2; padding: 0 1; height: auto; }
    """

    def __init__(self, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = title


class FlightDirector(Grid):
    """The flight director page."""

    DEFAULT_CSS = """
    FlightDirector { grid-size: 2; grid-columns: 1fr 43; grid-rows: auto 1fr; height: 1fr; }
    FlightDirector.tall { grid-rows: auto 1fr 2fr; }
    FlightDirector.wide { grid-size: 3; grid-columns: 1fr 43 1fr; grid-rows: auto 1fr; }
    FlightDirector #fd-vehicle, FlightDirector #fd-fdir { height: 13; }
    FlightDirector #fd-events { column-span: 2; height: 1fr; }
    FlightDirector.wide #fd-events { column-span: 1; row-span: 2; }
    FlightDirector #fd-plot { display: none; column-span: 2; height: 1fr; }
    FlightDirector.tall #fd-plot { display: block; }
    """

    _plotted = 0.0

    def replot(self) -> None:
        """Draw the plot at the next redraw (its points changed beyond the live ones)."""
        self._plotted = 0.0

    def compose(self) -> ComposeResult:
        yield _Panel("Vehicle", id="fd-vehicle")
        yield _Panel("Fault protection · link", id="fd-fdir")
        yield _Panel("Events", id="fd-events")
        yield PlotextPlot(id="fd-plot")

    def on_resize(self) -> None:
        """A larger terminal: events beside the panels, and a plot below them."""
        self.set_class(self.size.width >= 120, "wide")
        self.set_class(self.size.height >= 34, "tall")

    def show(self, state: ConsoleState, now: float) -> None:
        # Every panel has a fixed size: new content needs no layout of the screen.
        self.query_one("#fd-vehicle", Static).update(vehicle_table(state, now), layout=False)
        self.query_one("#fd-fdir", Static).update(fdir_and_link(state, now), layout=False)
        events = self.query_one("#fd-events", Static)
        rows = max(1, events.content_size.height or 4)
        events.update(recent_events(state, rows), layout=False)
        if self.has_class("tall") and state.plots.series and now - self._plotted >= 0.5:
            self._plotted = now  # plotext is slow: at most twice a second
            draw(self.query_one("#fd-plot", PlotextPlot), state.plots.series[0], now)


def _cell(state: ConsoleState, now: float, packet: str, name: str, unit: bool = True) -> Text:
    """A value coloured by its limit state, magenta when its packet is stale."""
    status = state.parameters.packets[packet]
    if not status.count:
        return Text("—", style="dim")
    f = status.definition.field(name)
    value = status.values[name]
    colour = limit_state(f, value)
    if colour in ("", "GREEN") and status.stale(now):
        colour = "STALE"
    return Text(format_value(value, f.unit if unit else ""), style=STATE_STYLE.get(colour, ""))


def vehicle_table(state: ConsoleState, now: float) -> Group:
    t = Table.grid(padding=(0, 1))
    for style in ("bold cyan", "", "bold cyan", ""):
        t.add_column(style=style, no_wrap=True)

    def cell(packet: str, name: str) -> Text:
        return _cell(state, now, packet, name)

    t.add_row("Phase", cell("HK", "phase"), "Mode", cell("HK", "mode"))
    t.add_row("Guid", cell("NAV", "guidance_mode"), "Nav", cell("NAV", "nav_mode"))
    t.add_row("Alt", cell("NAV", "altitude"), "±1σ", cell("NAV", "alt_sigma"))
    t.add_row("LRF", cell("NAV", "lrf_range"), "LRF", cell("NAV", "lrf_valid"))
    t.add_row("Vz", cell("NAV", "vel_vertical"), "Vx", cell("NAV", "vel_horizontal"))
    t.add_row("Prop", cell("PROP", "propellant_mass"), "Eng", cell("PROP", "engine"))
    t.add_row("Thr", cell("PROP", "throttle"), "F", cell("PROP", "thrust"))
    t.add_row("Batt", cell("POWER", "battery_voltage"), "SoC", cell("POWER", "state_of_charge"))
    t.add_row("Tank", cell("PROP", "fuel_pressure"), "He", cell("PROP", "pressurant_pressure"))
    motion = Table.grid(padding=(0, 1))
    motion.add_column(style="bold cyan", no_wrap=True, min_width=4)
    motion.add_column(no_wrap=True, overflow="ellipsis")
    nav = state.parameters.packets["NAV"]
    if nav.count:
        v = nav.values
        roll, pitch, yaw = attitude(v["q_w"], v["q_x"], v["q_y"], v["q_z"])
        att = Text(f"R{roll:+.1f} P{pitch:+.1f} Y{yaw:+.1f} °")
    else:
        att = Text("—", style="dim")
    rates = Text()
    for axis in ("rate_x", "rate_y", "rate_z"):
        rates.append_text(_cell(state, now, "NAV", axis, unit=False))
        rates.append(" ")
    rates.append("°/s")
    motion.add_row("Att ", att)
    motion.add_row("Rate", rates)
    return Group(t, motion)


def fdir_and_link(state: ConsoleState, now: float) -> Group:
    hk = state.parameters.packets["HK"]
    f = hk.definition.field("fdir_flags")
    flags = int(hk.raw.get("fdir_flags", 0)) if hk.count else 0
    rows = Table.grid(padding=(0, 1))
    rows.add_column(no_wrap=True)
    rows.add_column(no_wrap=True)
    names = list(f.bits.items())
    half = (len(names) + 1) // 2
    for left, right in zip(names[:half], names[half:] + [(-1, "")], strict=False):
        cells = []
        for bit, name in (left, right):
            if bit < 0:
                cells.append(Text(""))
                continue
            latched = bool(flags >> bit & 1)
            style = STATE_STYLE[limit_state(f, (name,))] if latched else "dim"
            cells.append(Text(name, style=style))
        rows.add_row(*cells)
    link = state.link
    times = Table.grid(padding=(0, 1))
    times.add_column(style="bold cyan", no_wrap=True)
    times.add_column(no_wrap=True)
    vt = f"{hk.vehicle_time:.1f} s" if hk.count else "—"
    identity = state.identity.current
    ident = Text("—", style="dim")
    if identity is not None:
        ident = Text(f"{identity.vehicle} boot {identity.boot} dict {identity.dictionary}")
        if identity.dictionary != state.identity.own_dictionary:
            ident.stylize(STATE_STYLE["YELLOW"])
    times.add_row("Vehicle", ident)
    times.add_row("Time", Text(vt))
    times.add_row("UTC", Text(clock(now)))
    health = Text(link.state.upper(), style=LINK_STYLE.get(link.state, ""))
    if link.down and link.since:
        health.append(f" {ago(now - link.since)}", style="bold")
    if link.silent:
        health.append(" NO TM", style=LINK_STYLE["lost"])
        health.append(f" {ago(now - link.heard)}", style="bold")
    health.append(f"  {link.rate:.0f} pkt/s")
    times.add_row("Link", health)
    s = link.stats
    bad = s.get("crc_errors", 0) + s.get("undecodable", 0) + s.get("unknown_apid", 0)
    last = ago(now - link.last_packet) if link.last_packet else "—"
    times.add_row(
        "Frames",
        Text(f"bad {bad} gaps {s.get('gaps', 0)} last {last}", style="red" if bad else ""),
    )
    return Group(rows, Text(""), times)


def recent_events(state: ConsoleState, count: int) -> Table:
    t = Table.grid(padding=(0, 1))
    t.add_column(no_wrap=True, style="dim", min_width=7)
    t.add_column(no_wrap=True, min_width=4)
    t.add_column(overflow="ellipsis", no_wrap=True)
    entries = list(state.events.entries)[-count:]
    for e in entries:
        style = SEVERITY_STYLE.get(e.severity, "")
        t.add_row(f"{e.vehicle_time:8.1f}", Text(e.severity[:4], style=style), Text(e.text))
    if not entries:
        t.add_row("", "", Text("no events yet", style="dim"))
    return t
