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

from .decoder import LinkStats, Packet
from .display import format_value
from .events import EventLog
from .limits import limit_state

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

    def update(self, packets: list[Packet]) -> None:
        for p in packets:
            event = p.event
            if event is not None:
                self.events.extend((event,))
            else:
                self.latest[p.name] = p
            self.counts[p.name] = self.counts.get(p.name, 0) + 1

    def rows(self) -> list[Row]:
        rows = []
        for name in sorted(self.latest):
            packet = self.latest[name]
            for f, value in zip(packet.definition.fields, packet.values.values(), strict=True):
                rows.append(Row(name, f.name, value, f.unit, limit_state(f, value)))
        return rows


def render_table(view: TelemetryView, stats: LinkStats, colour: bool) -> str:
    lines = []
    header = (
        f"bytes {stats.bytes}  packets {stats.packets}  crc errors {stats.crc_errors}  "
        f"undecodable {stats.undecodable}  unknown apid {stats.unknown_apid}  gaps {stats.gaps}"
    )
    lines.append(header)
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
    link: Any, decoder: Any, *, duration: float | None, out: TextIO = sys.stdout
) -> int:
    """Read the link, refresh the table twice a second; return when done or at the end."""
    from .links import LinkClosed

    view = TelemetryView()
    tty = out.isatty()
    end = None if duration is None else time.monotonic() + duration
    next_draw = 0.0
    try:
        while end is None or time.monotonic() < end:
            try:
                data = link.read(0.1)
            except LinkClosed as exc:
                view.update(decoder.close())
                out.write(render_table(view, decoder.stats, tty) + "\n")
                print(f"link closed: {exc}", file=sys.stderr)
                # The end of a capture is the natural end; a vehicle going away is not.
                return 0 if link.url.startswith("file:") else 1
            view.update(decoder.feed(data))
            now = time.monotonic()
            if now >= next_draw:
                next_draw = now + 0.5
                table = render_table(view, decoder.stats, tty)
                out.write(("\x1b[H\x1b[2J" + table) if tty else table + "\n\n")
                out.flush()
    except KeyboardInterrupt:
        pass
    out.write(("\n" if tty else "") + render_table(view, decoder.stats, False) + "\n")
    return 0
