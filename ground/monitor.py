"""Live view of decoded telemetry on a terminal: the latest value of every field, limits
coloured, and the recent events as sentences.

A plain refreshing table: the operator console (Textual) is built on the same
:class:`TelemetryView`, which is sans-I/O: it takes packets and returns rows and event lines.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from .bus import LinkState, Received, TelemetryBus
from .decoder import LinkStats, Packet
from .display import format_value
from .events import EventLog
from .identity import IdentityWatch
from .limits import RateWatch, limit_state

__all__ = ["TelemetryView", "Row", "render_table", "limit_state"]

_COLOURS = {"RED": "\x1b[31;1m", "YELLOW": "\x1b[33;1m", "GREEN": ""}
_RESET = "\x1b[0m"


@dataclass
class Row:
    packet: str
    name: str
    value: Any
    unit: str
    state: str  # GREEN, YELLOW, RED, or "" when the field has no limits


@dataclass
class TelemetryView:
    """Latest packet per name, the rows a screen shows for them, and the recent events
    (events are shown as sentences in their log, not as rows of raw arguments)."""

    latest: dict[str, Packet] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    events: EventLog = field(default_factory=EventLog)
    identity: IdentityWatch = field(default_factory=IdentityWatch)
    #: the dictionary warning, kept on screen once given
    warnings: list[str] = field(default_factory=list)
    #: rate limits: the latest (state, slope) of each rate-limited field
    rates: RateWatch = field(default_factory=RateWatch)
    rate_states: dict[tuple[str, str], tuple[str, float | None]] = field(default_factory=dict)

    def update(self, packets: list[Packet]) -> None:
        self.identity.observe(packets)
        self.warnings.extend(self.identity.take_warnings())
        for p in packets:
            event = p.event
            if event is not None:
                self.events.extend((event,))
            else:
                self.latest[p.name] = p
                self._rates(p)
            self.counts[p.name] = self.counts.get(p.name, 0) + 1

    def _rates(self, packet: Packet) -> None:
        for f in packet.definition.fields:
            if f.rate_limit is not None:
                state, slope = self.rates.check(packet.name, f, packet.values, packet.time)
                if state:
                    self.rate_states[(packet.name, f.name)] = (state, slope)

    def rows(self) -> list[Row]:
        rows = []
        for name in sorted(self.latest):
            packet = self.latest[name]
            for f, value in zip(packet.definition.fields, packet.values.values(), strict=True):
                rows.append(Row(name, f.name, value, f.unit, limit_state(f, value)))
                rate = self.rate_states.get((name, f.name))
                if rate is not None:
                    state, slope = rate
                    shown = "-" if slope is None else slope  # not applying now
                    rows.append(Row(name, f"{f.name} rate", shown, f.rate_unit, state))
        return rows


def render_table(view: TelemetryView, stats: LinkStats, colour: bool) -> str:
    lines = []
    header = (
        f"bytes {stats.bytes}  packets {stats.packets}  crc errors {stats.crc_errors}  "
        f"undecodable {stats.undecodable}  unknown apid {stats.unknown_apid}  gaps {stats.gaps}"
    )
    lines.append(header)
    if view.identity.current is not None:
        lines.append(f"vehicle {view.identity.current}")
    lines.extend(f"warning: {w}" for w in view.warnings)
    lines.append("")
    rows = view.rows()
    width = max((len(row.name) for row in rows), default=0) + 2
    for row in rows:
        value = format_value(row.value)
        text = f"{row.packet:<10}{row.name:<{width}}{value:>16} {row.unit:<7}{row.state}"
        if colour and row.state in ("RED", "YELLOW"):
            text = _COLOURS[row.state] + text + _RESET
        lines.append(text)
    lines.append("")
    lines.append(f"events (last {len(view.events)}):" if len(view.events) else "events: none yet")
    for event, text in zip(view.events, view.events.lines(), strict=True):
        if colour and event.alarm in ("RED", "YELLOW"):
            text = _COLOURS[event.alarm] + text + _RESET
        lines.append(text)
    return "\n".join(lines)


def run_monitor(
    bus: TelemetryBus,
    *,
    duration: float | None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Follow the bus, refresh the table twice a second; return when done or at the end.

    A board that goes away is waited for (one line says so, one more when it is back); the
    end of a capture ends the monitor (status 0), a link that cannot come back too (1)."""
    view = TelemetryView()
    tty = out.isatty()
    events = bus.queue()
    end = None if duration is None else time.monotonic() + duration
    next_draw = 0.0
    status = 0
    try:
        bus.start()
        while end is None or time.monotonic() < end:
            now = time.monotonic()
            if now >= next_draw:
                next_draw = now + 0.5
                table = render_table(view, bus.stats, tty)
                out.write(("\x1b[H\x1b[2J" + table) if tty else table + "\n\n")
                out.flush()
            wait = next_draw - now if end is None else min(next_draw, end) - now
            event = events.get(max(wait, 0.0))
            if isinstance(event, Received):
                view.update([event.packet])
            elif isinstance(event, LinkState) and event.state == "lost":
                print(f"link lost: {event.reason}; waiting for it to come back", file=err)
            elif isinstance(event, LinkState) and event.state == "back":
                print("link back", file=err)
            elif isinstance(event, LinkState) and event.state == "closed":
                # The end of a capture is the natural end; a vehicle going away is not.
                if not bus.url.startswith(("file:", "archive:")):
                    print(f"link closed: {event.reason}", file=err)
                    status = 1
                break
    except KeyboardInterrupt:
        pass
    finally:
        bus.close()
    while (late := events.get(0)) is not None:  # what came before the end
        if isinstance(late, Received):
            view.update([late.packet])
    out.write(("\n" if tty else "") + render_table(view, bus.stats, False) + "\n")
    return status
