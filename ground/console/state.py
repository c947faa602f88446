"""The console's state, fed by telemetry bus events: sans-I/O, tested without Textual.

:class:`ConsoleState` takes events (packets with their ground receive time, link state,
link statistics) in batches and keeps everything the pages show: the latest packets, the
limit violations, the event log, the plotted series, link health and the commands sent.
It never reads a clock: the caller passes ``now``; the widgets only read it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas import model

from ..decoder import Packet
from ..identity import IDENT, IdentityWatch
from ..verifier import StageReport, Verification
from .eventlog import EventEntry, EventLog
from .limits import LimitMonitor, Transition
from .parameters import ParameterTable
from .series import PlotSet
from .source import Event, LinkState, LinkStatistics, Received

__all__ = ["ConsoleState", "LinkHealth", "CommandRecord", "Applied", "is_replay", "SILENCE"]

#: s without a packet on a link that is up before the console says the vehicle went silent:
#: a hung flight computer, or a vehicle the ground segment lost, keeps the link itself up.
#: HK comes at 1 Hz at least: three missed in a row are no accident.
SILENCE = 3.0


def is_replay(url: str) -> bool:
    """Whether a link replays what was recorded (a capture, an archived session): it ends,
    it is not lost, and it takes no commands."""
    if "://" not in url:
        return url == "-" or os.path.isfile(url)
    return url.split("://", 1)[0] in ("file", "archive")


@dataclass
class LinkHealth:
    url: str
    state: str = "connecting"  # up, lost, back, closed (as the bus says)
    reason: str = ""
    since: float = 0.0  # ground time of the last change of state
    drops: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    last_packet: float = 0.0  # ground time
    rate: float = 0.0  # packets per second, over about the last second
    #: the link is up but no packet came for SILENCE seconds
    silent: bool = False
    _window: deque[tuple[float, int]] = field(default_factory=deque)

    @property
    def replay(self) -> bool:
        return is_replay(self.url)

    @property
    def down(self) -> bool:
        return self.state in ("lost", "closed")

    @property
    def heard(self) -> float:
        """Ground time of the last packet, or of the link coming up when none came since."""
        return max(self.last_packet, self.since)

    def listen(self, now: float) -> bool | None:
        """Whether the link went silent (True) or was heard again (False) as of ``now``;
        None when nothing changed."""
        silent = self.state in ("up", "back") and now - self.heard > SILENCE
        if silent == self.silent:
            return None
        self.silent = silent
        return silent

    def count(self, now: float, total: int) -> None:
        window = self._window
        window.append((now, total))
        while len(window) > 2 and now - window[1][0] >= 1.0:
            window.popleft()
        t0, n0 = window[0]
        if now - t0 > 0:
            self.rate = (total - n0) / (now - t0)


@dataclass
class CommandRecord:
    """A command an operator typed: sent (with its verification), refused on the ground, or
    requested from the ground segment's command gateway (which signs, sends and verifies it,
    and publishes each stage)."""

    text: str
    at: float  # ground time typed
    verification: Verification | None = None
    refused: str = ""  # why the ground (or the gateway) did not send it
    #: through the gateway: its stages as published, and its outcome once over
    gateway: bool = False
    gateway_stages: list[StageReport] = field(default_factory=list)
    gateway_outcome: str | None = None  # COMPLETED, FAILED, TIMEOUT or REFUSED
    counter: int | None = None  # the anti-replay counter the gateway spent

    @property
    def stages(self) -> list[StageReport]:
        return self.verification.stages if self.verification else self.gateway_stages

    @property
    def status(self) -> str:
        if self.gateway_outcome:
            return self.gateway_outcome
        if self.refused:
            return "NOT SENT"
        if self.gateway:
            return f"at {self.gateway_stages[-1].stage}" if self.gateway_stages else "REQUESTED"
        v = self.verification
        if v is None:
            return "SENDING"
        if v.outcome:
            return v.outcome
        return f"awaiting {v.awaiting.name}"


@dataclass
class Applied:
    """What a batch of events changed that the console announces at once."""

    packets: list[Packet] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    events: list[EventEntry] = field(default_factory=list)
    link: list[LinkState] = field(default_factory=list)
    #: one-line warnings to show once (a vehicle on another dictionary)
    warnings: list[str] = field(default_factory=list)
    #: the link went silent (True) or was heard again (False)
    silence: bool | None = None
    newest: float = 0.0  # ground time of the newest packet in the batch
    oldest: float = 0.0  # ... and of the oldest

    @property
    def new_red(self) -> list[Transition]:
        return [t for t in self.transitions if t.new == "RED" and t.worsened]


class ConsoleState:
    """Everything the console shows, from the bus's events."""

    def __init__(
        self,
        url: str,
        dictionary: model.Dictionary | None = None,
        *,
        plots: Iterable[str] = (),
        window: float = 60.0,
    ) -> None:
        self.dictionary = dictionary if dictionary is not None else model.load()
        self.parameters = ParameterTable(self.dictionary)
        self.limits = LimitMonitor(self.dictionary)
        self.events = EventLog()
        self.plots = PlotSet(self.dictionary, window)
        for name in plots:
            self.plots.choose(name)
        self.link = LinkHealth(url)
        self.commands: list[CommandRecord] = []
        self.received = 0
        #: which vehicle, boot, firmware and dictionary the telemetry comes from
        self.identity = IdentityWatch()

    def apply(self, events: Iterable[Event], now: float) -> Applied:
        """A batch of bus events; returns what in it must be announced."""
        applied = Applied()
        for event in events:
            if isinstance(event, Received):
                self._packet(event.packet, event.ground_time, applied)
            elif isinstance(event, LinkState):
                self._link_state(event)
                applied.link.append(event)
            elif isinstance(event, LinkStatistics):
                self.link.stats = event.stats
        self.link.count(now, self.received)
        applied.silence = self.link.listen(now)
        return applied

    def _packet(self, packet: Packet, ground_time: float, applied: Applied) -> None:
        self.received += 1
        if not applied.packets:
            applied.oldest = ground_time
        applied.newest = ground_time
        applied.packets.append(packet)
        status = self.parameters.update(packet, ground_time)
        self.link.last_packet = ground_time
        values = status.values
        applied.transitions += self.limits.observe(packet.name, values, ground_time, packet.time)
        self.plots.add(packet.name, values, ground_time)
        if packet.name == "EVENT":
            applied.events.append(self.events.add(packet, ground_time))
        elif packet.name == IDENT:
            self.identity.observe([packet])
            applied.warnings += self.identity.take_warnings()

    def _link_state(self, event: LinkState) -> None:
        link = self.link
        if event.state == "lost":
            link.drops += 1
        link.state = event.state
        link.reason = event.reason
        link.since = event.ground_time

    def command_done(self, name: str, args: dict[str, Any], outcome: str) -> None:
        """A command ended: what it changed that the console keeps (telemetry rates)."""
        if outcome == "COMPLETED" and name == "SET_TM_RATE":
            self.parameters.set_rate(str(args["packet"]).upper(), float(args["hz"]))

    def acknowledge(self) -> int:
        """Acknowledge every limit violation and warning shown now."""
        return self.limits.acknowledge() + self.events.acknowledge()

    @property
    def unacknowledged(self) -> int:
        return self.events.unacknowledged + sum(1 for _ in self.limits.unacknowledged())
