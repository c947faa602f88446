"""The console application: pages over one :class:`ConsoleState`, fed by the telemetry bus.

The bus reads the link on its own thread and appends events to a deque; the app drains it
20 times a second into the state (cheap: no drawing), announces what must be announced at
once (a red limit rings the bell, a lost link turns the status bar red), and redraws only
the page in view at ``refresh_hz``. Drawing that falls behind skips frames; packets are
never dropped. ``metrics`` records, for each redraw, how long the oldest and newest packet
it shows waited since the ground received them (``make bench`` reports it).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import Footer, Input, TabbedContent, TabPane

from schemas import commands

from ..commander import CommanderCore, CommandError, CommandFailed, CommandTimeout
from ..errors import LanderError
from ..history import CommandHistory
from ..keys import CounterFile, key_dir, load_key
from ..links import LinkClosed
from ..mqtt import topics
from ..mqtt.address import connect, is_mqtt
from ..mqtt.requester import CommandRefused, RemoteCommander, RemoteVerification
from ..verifier import StageReport, Verification
from .backfill import EVENTS_BACK, ArchiveHistory
from .commandbar import CommandBar, CommandInput
from .commandline import ArgumentError, parse
from .commandpage import CommandsPage
from .confirm import ConfirmCommand
from .director import FlightDirector
from .eventpage import EventsPage
from .limitpage import LimitsPage
from .parameterpage import ParametersPage
from .plotpage import PlotsPage
from .series import Series
from .source import Event, TelemetryBus
from .state import SILENCE, Applied, CommandRecord, ConsoleState
from .statusbar import StatusBar
from .teamcommands import TeamCommands, stage_report

__all__ = ["ConsoleApp", "Metrics", "DEFAULT_PLOTS"]

_T = TypeVar("_T")

DEFAULT_PLOTS = ("NAV.altitude", "NAV.vel_vertical", "PROP.propellant_mass", "NAV.rate_x")
_TITLES = ("Flight F1", "Params F2", "Limits F3", "Events F4", "Plots F5", "Cmds F6")


@dataclass
class Metrics:
    """Input against drawing, for the benchmark: packets taken in, redraws done, and per
    redraw the wait of the oldest and newest packet it shows (seconds)."""

    packets: int = 0
    redraws: int = 0
    oldest_wait: deque[float] = field(default_factory=lambda: deque(maxlen=100000))
    newest_wait: deque[float] = field(default_factory=lambda: deque(maxlen=100000))


class ConsoleApp(App[int]):
    TITLE = "lander console"
    CSS = """
    Screen { layout: vertical; }
    TabbedContent { height: 1fr; }
    TabPane { padding: 0; }
    Input.line { height: 1; border: none; padding: 0 1; background: $boost; }
    Input.line:focus { border: none; background: $primary 30%; }
    """
    BINDINGS = [
        Binding("f1", "page('flight')", "Flight"),
        Binding("f2", "page('parameters')", "Params"),
        Binding("f3", "page('limits')", "Limits"),
        Binding("f4", "page('events')", "Events"),
        Binding("f5", "page('plots')", "Plots"),
        Binding("f6", "page('commands')", "Cmds"),
        Binding("f7", "acknowledge", "Ack"),
        Binding("f8", "raw", "Raw", show=False),
        Binding("colon", "focus_command", "Cmd line", show=False),
        Binding("escape", "leave_input", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        bus: TelemetryBus,
        *,
        vehicle: str,
        key_file: Path | None = None,
        history: CommandHistory | None = None,
        plots: tuple[str, ...] = DEFAULT_PLOTS,
        refresh_hz: float = 5.0,
        clock: Any = time.time,
        archive_history: ArchiveHistory | None = None,
    ) -> None:
        super().__init__()
        self.bus = bus
        self.vehicle = vehicle
        self.clock = clock
        self.refresh_hz = refresh_hz
        self.state = ConsoleState(bus.url, plots=plots)
        self.command_dictionary = commands.load(telemetry=self.state.dictionary)
        self.history = history if history is not None else CommandHistory()
        self.metrics = Metrics()
        #: where the plots' recent past comes from (None: they start empty)
        self.archive_history = None if self.state.link.replay else archive_history
        self._pending: deque[Event] = deque()
        self._unsubscribe = bus.subscribe(self.receive)
        self._undrawn: tuple[float, float] | None = None
        self._records: dict[Verification, CommandRecord] = {}
        self._commander: CommanderCore | None = None
        self._gateway: RemoteCommander | None = None
        #: over the ground segment, the other operators' commands (and their acks queued)
        self.team = TeamCommands()
        self._team_acks: deque[bytes] = deque()
        self._team_client: Any = None
        self._commander_error = ""
        self._open_commander(key_file)
        # The widgets, kept: a dialog on top is another screen, which queries would search.
        self.status_bar = StatusBar(id="status")
        self.tabs = TabbedContent(initial="flight", id="pages")
        self.pages: dict[str, Any] = {
            "flight": FlightDirector(id="page-flight"),
            "parameters": ParametersPage(id="page-parameters"),
            "limits": LimitsPage(id="page-limits"),
            "events": EventsPage(id="page-events"),
            "plots": PlotsPage(id="page-plots"),
            "commands": CommandsPage(self._past_commands(), id="page-commands"),
        }
        self.command_bar = CommandBar(self.command_dictionary)

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.status_bar
        with self.tabs:
            for title, page in zip(_TITLES, self.pages.values(), strict=True):
                with TabPane(title, id=page.id.removeprefix("page-") if page.id else None):
                    yield page
        yield self.command_bar
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(0.05, self.drain)
        self.set_interval(1.0 / self.refresh_hz, self.redraw)
        self.command_bar.query_one(CommandInput).focus()
        for series in self.state.plots.series:
            self.backfill(series)
        self._backfill_events()
        if self._gateway is not None:
            self._listen_to_team(self._gateway)
        self.redraw()

    async def on_unmount(self) -> None:
        self._unsubscribe()
        if self._gateway is not None:
            await self._gateway.close()
        client, self._team_client = self._team_client, None
        if client is not None:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)

    # --- input: the bus -----------------------------------------------------------------

    def receive(self, event: Event) -> None:
        """An event from the bus (on its thread): queued for the next :meth:`drain`."""
        self._pending.append(event)

    def drain(self) -> None:
        """Take every event the bus queued into the state; announce what must be."""
        pending = self._pending
        batch = [pending.popleft() for _ in range(len(pending))]
        applied = self.state.apply(batch, self.clock())
        if applied.packets:
            self.metrics.packets += len(applied.packets)
            oldest = self._undrawn[0] if self._undrawn else applied.oldest
            self._undrawn = (oldest, applied.newest)
        self._verify(applied)
        self._announce(applied)
        if self._team_acks:
            self._team_heard()

    def _announce(self, applied: Applied) -> None:
        for warning in applied.warnings:
            self.notify(warning, title="Dictionary", severity="warning", timeout=20)
        for transition in applied.new_red:
            entry = transition.entry
            text = f"{entry.name} RED: {entry.value!s:.12} ({entry.thresholds})"
            self._alarm(text, "Limit violation")
        for change in applied.link:
            if change.state == "lost":
                self.notify(f"link lost: {change.reason}", severity="error", timeout=10)
            elif change.state == "back":
                self.notify("link back", timeout=5)
            elif change.state == "closed" and change.reason:
                replay = self.state.link.replay
                self.notify(
                    f"{'replay ended' if replay else 'link lost'}: {change.reason}",
                    severity="warning" if replay else "error",
                    timeout=10,
                )
        if applied.silence:
            text = f"no telemetry for {SILENCE:g} s while the link is up: the vehicle is silent"
            self._alarm(text, "Telemetry")
        elif applied.silence is False:
            self.notify("telemetry again", timeout=5)
        if applied.link or applied.new_red or applied.silence is not None:
            self.status_bar.show(self.state, self.clock(), self.vehicle)

    def _alarm(self, text: str, title: str) -> None:
        """What must not be missed: the bell, and a red notice that stays a while."""
        self.bell()
        self.notify(text, title=title, severity="error", timeout=10)

    # --- output: drawing ----------------------------------------------------------------

    def redraw(self) -> None:
        """Draw the page in view (and the status bar) from the state as it is now."""
        now = self.clock()
        state = self.state
        try:
            self.status_bar.show(state, now, self.vehicle)
            page = self.pages.get(self.tabs.active)
            if page is not None:
                page.show(state, now)
        except NoMatches:  # the app is closing: its widgets are going
            return
        self.metrics.redraws += 1
        if self._undrawn is not None:
            oldest, newest = self._undrawn
            self._undrawn = None
            self.call_after_refresh(self._drawn, oldest, newest)

    def _drawn(self, oldest: float, newest: float) -> None:
        now = self.clock()
        self.metrics.oldest_wait.append(now - oldest)
        self.metrics.newest_wait.append(now - newest)

    # --- actions ------------------------------------------------------------------------

    def action_page(self, page: str) -> None:
        # Focus left inside the page going away would bring it back: the command line has it.
        self.command_bar.query_one(CommandInput).focus()
        self.tabs.active = page
        self.redraw()

    def on_tabbed_content_tab_activated(self) -> None:
        self.redraw()

    def action_acknowledge(self) -> None:
        count = self.state.acknowledge()
        self.notify(f"{count} acknowledged" if count else "nothing to acknowledge", timeout=3)
        self.redraw()

    def action_raw(self) -> None:
        self.pages["parameters"].toggle_raw()
        self.redraw()

    def action_focus_command(self) -> None:
        self.command_bar.query_one(CommandInput).focus()

    def action_leave_input(self) -> None:
        self.set_focus(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("param-search", "event-filter"):
            self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "command":
            self.submit(event.value)
        elif event.input.id == "plot-choose":
            self._choose_plot(event.input)

    def _choose_plot(self, box: Input) -> None:
        text = box.value.strip()
        try:
            if text.startswith("-"):
                self.state.plots.remove(text[1:])
            else:
                self.backfill(self.state.plots.choose(text))
        except KeyError as exc:
            self.notify(str(exc.args[0]), severity="warning")
            return
        box.value = ""
        self.redraw()

    def backfill(self, series: Series) -> None:
        """Fill a plot's window with what the archive holds."""
        name = f"{series.packet}.{series.field.name}"
        stop = self.clock()
        self._from_archive(
            "plots",
            lambda history: history.recent(name, stop - series.window, stop),
            lambda points: self._backfilled(series, points),
        )

    def _backfill_events(self) -> None:
        """List the last half hour's events from the archive."""
        stop = self.clock()
        self._from_archive(
            "events",
            lambda history: history.events(stop - EVENTS_BACK, stop),
            self._events_backfilled,
        )

    def _from_archive(
        self, what: str, query: Callable[[ArchiveHistory], _T], done: Callable[[_T], None]
    ) -> None:
        """Run ``query`` on a worker thread (an archive may be large or remote), then
        ``done`` with its answer here; a broken archive is one line."""
        history = self.archive_history
        if history is None:
            return

        def work() -> None:
            try:
                answer = query(history)
            except (LanderError, sqlite3.Error) as exc:
                message = f"{what} not back-filled from the archive: {exc}"
                self.call_from_thread(self.notify, message, severity="warning", timeout=10)
                return
            self.call_from_thread(done, answer)

        self.run_worker(work, thread=True, group="backfill", exit_on_error=False)

    def _events_backfilled(self, events: list[tuple[Any, float]]) -> None:
        if self.state.events.backfill(events):
            self.redraw()

    def _backfilled(self, series: Series, points: list[tuple[float, float]]) -> None:
        if series.backfill(points):
            self.pages["plots"].replot()
            self.pages["flight"].replot()
            self.redraw()

    # --- commanding ---------------------------------------------------------------------

    def _open_commander(self, key_file: Path | None) -> None:
        if self.state.link.replay:
            self._commander_error = "a replay takes no commands: they need a live link"
            return
        if is_mqtt(self.bus.url):
            # The ground segment's gateway holds the key and the counter: requests only.
            self._gateway = RemoteCommander(self.bus.url)
            self.team = TeamCommands()
            return
        try:
            key = load_key(self.vehicle, key_file, create=False)
        except LanderError as exc:
            self._commander_error = str(exc)
            return
        path = (
            key_file.with_suffix(".counter") if key_file else key_dir() / f"{key.vehicle}.counter"
        )
        self._commander = CommanderCore(key, CounterFile(path), dictionary=self.command_dictionary)

    def submit(self, text: str) -> None:
        """A command typed and Enter pressed: check it, confirm it if critical, send it."""
        bar = self.command_bar
        box = bar.query_one(CommandInput)
        if text.strip() in ("?", "help"):
            bar.hint(" ".join(c.name for c in self.command_dictionary))
            return
        try:
            command, args = parse(text, self.command_dictionary)
        except ArgumentError as exc:
            bar.hint(str(exc), error=True)
            return
        box.remember(text)
        box.value = ""
        if not command.critical:
            self.send(text, command.name, args)
            return

        def answered(send: bool | None) -> None:
            if send:
                self.send(text, command.name, args)
            else:
                self._refused(text, "not confirmed")
                bar.hint(f"{command.name} not sent", error=True)
            box.focus()

        self.push_screen(ConfirmCommand(text, command.description, self.vehicle), answered)

    def send(self, text: str, name: str, args: dict[str, str]) -> CommandRecord:
        if self._gateway is not None:
            return self._request(text, name, args, self._gateway)
        bar = self.command_bar
        core = self._commander
        if core is None:
            record = self._refused(text, self._commander_error)
            bar.hint(f"not sent: {self._commander_error}", error=True)
            return record
        record = CommandRecord(text, self.clock())
        try:
            tc = core.prepare(name, args, confirm=True)
            self.bus.write(tc.frame)
        except (LanderError, ArgumentError, LinkClosed, OSError) as exc:
            record.refused = str(exc)
            bar.hint(f"not sent: {exc}", error=True)
        else:
            record.verification = core.release(tc, time.monotonic())
            self._records[record.verification] = record
            bar.hint(f"sent {tc.describe()} (counter {tc.counter})")
        self.state.commands.append(record)
        self.redraw()
        return record

    def _request(
        self, text: str, name: str, args: dict[str, str], gateway: RemoteCommander
    ) -> CommandRecord:
        """Ask the gateway to send a command (confirmed here if critical); its stages are
        shown as it publishes them."""
        record = CommandRecord(text, self.clock(), gateway=True)
        self.state.commands.append(record)
        self.command_bar.hint(f"{text}: requested from the gateway on {gateway.url}")

        def on_stage(verification: RemoteVerification, report: dict[str, Any]) -> None:
            record.counter = verification.counter
            stage = str(report.get("stage", ""))
            if stage == "REFUSED":
                return  # said once, with the gateway's message, when the request ends
            if stage == "SENT":
                self.command_bar.hint(
                    f"sent {verification.describe} (counter {verification.counter}, "
                    "signed by the gateway)"
                )
            else:
                step = stage_report(report, self.clock())
                record.gateway_stages.append(step)
                self._show_stage(record, step)
            self.redraw()

        request_id = uuid.uuid4().hex
        self.team.own.add(request_id)

        async def request() -> None:
            try:
                done = await gateway.send(
                    name, confirm=True, on_stage=on_stage, request_id=request_id, **args
                )
            except CommandRefused as exc:
                record.gateway_outcome = "REFUSED"
                record.refused = str(exc).removeprefix("the gateway refused ")
                self.command_bar.hint(f"{text}: REFUSED {record.refused}", error=True)
                self.notify(str(exc), title="Gateway", severity="error", timeout=10)
            except (CommandFailed, CommandTimeout) as exc:
                record.gateway_outcome = (
                    record.gateway_stages[-1].stage if record.gateway_stages else "TIMEOUT"
                )
                if not record.gateway_stages:  # no answer at all: nothing was sent
                    record.refused = str(exc)
                self.notify(str(exc), severity="error", timeout=8)
            except (CommandError, LanderError, OSError) as exc:
                record.refused = str(exc)
                self.command_bar.hint(f"not sent: {exc}", error=True)
            else:
                record.gateway_outcome = done.outcome
                self.state.command_done(name, args, str(done.outcome))
            self.redraw()

        self.run_worker(request(), group="commands", exit_on_error=False)
        self.redraw()
        return record

    def _listen_to_team(self, gateway: RemoteCommander) -> None:
        """Hear every acknowledgement the gateway publishes for the vehicle (a thread of
        paho's queues them; :meth:`drain` takes them)."""
        topic = topics.cmd_ack(gateway.vehicle, "+")

        def listen() -> None:
            try:
                self._team_client = connect(
                    gateway.address,
                    "console",
                    on_connect=lambda client: client.subscribe(topic, qos=1),
                    on_message=lambda client, data, message: self._team_acks.append(
                        message.payload
                    ),
                )
            except LanderError as exc:
                message = f"the team's commands are not shown: {exc}"
                self.call_from_thread(self.notify, message, severity="warning", timeout=10)

        self.run_worker(listen, thread=True, group="team", exit_on_error=False)

    def _team_heard(self) -> None:
        now = self.clock()
        acks = self._team_acks
        for payload in [acks.popleft() for _ in range(len(acks))]:
            try:
                body = json.loads(payload)
            except ValueError:
                continue
            heard = self.team.ack(body, now) if isinstance(body, dict) else None
            if heard is None:
                continue
            record, new = heard
            if new:
                self.state.commands.append(record)
            if record.gateway_outcome in ("FAILED", "TIMEOUT"):
                self.notify(f"{record.text}: {record.status}", severity="warning", timeout=8)
        self.redraw()

    def _refused(self, text: str, why: str) -> CommandRecord:
        record = CommandRecord(text, self.clock(), refused=why)
        self.state.commands.append(record)
        return record

    def _verify(self, applied: Applied) -> None:
        core = self._commander
        if core is None:
            return
        now = time.monotonic()
        updates = core.receive(applied.packets, now) + core.expire(now)
        for verification, report in updates:
            record = self._records.get(verification)
            if record is None:
                continue
            self._stage(record, report)

    def _show_stage(self, record: CommandRecord, report: StageReport) -> None:
        failed = report.stage in ("FAILED", "TIMEOUT")
        reason = f" {report.why}" if failed else ""
        self.command_bar.hint(
            f"{record.text}: {report.stage}{reason} +{report.after:.2f} s", error=failed
        )
        if failed and report.final:
            self.notify(f"{record.text}: {report.stage}{reason}", severity="error", timeout=8)

    def _stage(self, record: CommandRecord, report: StageReport) -> None:
        self._show_stage(record, report)
        if not report.final:
            return
        verification = record.verification
        assert verification is not None
        self._records.pop(verification, None)
        tc = verification.telecommand
        self.state.command_done(tc.name, dict(tc.args), str(verification.outcome))
        try:
            assert self._commander is not None
            self.history.record(
                verification,
                link=self.bus.url,
                vehicle=self._commander.key.vehicle,
                released_ago=time.monotonic() - verification.released,
            )
        except OSError as exc:
            self.notify(f"command history not written: {exc}", severity="warning")

    def _past_commands(self) -> list[dict[str, Any]]:
        try:
            return self.history.records()[-20:]
        except (OSError, ValueError):
            return []
