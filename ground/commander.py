"""Commanding: sign telecommands, send them, and follow their verification.

Two layers, as for telemetry:

* :class:`CommanderCore` is sans-I/O. It checks a command against the dictionary, enforces
  confirmation of critical commands, takes an anti-replay counter, signs the packet, and
  follows its verification (:class:`~ground.verifier.Verifier`) from decoded packets and the
  ``now`` the caller passes in. It also learns the vehicle's last accepted counter from HK so
  that the ground never signs with a counter the vehicle would call a replay.
* :class:`Commander` runs it with asyncio over the link's :class:`~ground.bus.TelemetryBus`,
  whose one reader decodes for every user of the link: a task hands each packet to the core
  and to any subscriber (a console, the HIL API), so a single link serves telemetry and
  commanding. ``await commander.send("SET_TM_RATE", packet="NAV", hz=20)``
  returns the :class:`~ground.verifier.Verification` when the command completes and raises
  :class:`CommandFailed` or :class:`CommandTimeout` (both :class:`CommandError`) otherwise.

>>> core = CommanderCore(VehicleKey("V", 1, bytes(32)), MemoryCounter())
>>> tc = core.prepare("NOOP", {})
>>> core.release(tc, now=0.0).awaiting.name
'ACCEPTED'
>>> [report.stage for _, report in core.expire(now=2.5)]
['TIMEOUT']
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from schemas import commands
from schemas.commands import ArgumentError

from .bus import AsyncSubscription, LinkState, Received, TelemetryBus
from .decoder import Packet, TelemetryDecoder
from .errors import OperationFailed
from .history import CommandHistory, HistoryError
from .keys import CounterSource, MemoryCounter, VehicleKey  # noqa: F401 (doctest)
from .links import Link, LinkClosed
from .telecommand import Telecommand, build
from .verifier import StageReport, StageTimeouts, Update, Verification, Verifier

__all__ = [
    "ArgumentError",
    "CommandError",
    "CommandFailed",
    "CommandTimeout",
    "ConfirmationRequired",
    "KeyMismatch",
    "CommanderCore",
    "Commander",
]


class CommandError(OperationFailed):
    """A command was not completed; the message is one line for the operator."""

    def __init__(self, message: str, verification: Verification | None = None) -> None:
        super().__init__(message)
        self.verification = verification


class ConfirmationRequired(CommandError):
    """A critical command was sent without ``confirm=True`` (COSMOS calls it hazardous)."""


class KeyMismatch(CommandError):
    """HK says the vehicle holds another key than the one this ground signs with."""


class CommandFailed(CommandError):
    """The vehicle refused the command or reported it failed (the reason is in the message)."""


class CommandTimeout(CommandError):
    """A verification stage did not come within its window."""


def outcome_error(verification: Verification, where: str = "") -> CommandError | None:
    """The error an unsuccessful verification means (None when it completed)."""
    tc = verification.telecommand
    if verification.outcome == "FAILED":
        stages = [s.stage for s in verification.stages[:-1]]
        when = f"after {stages[-1]}" if stages else "refused"
        return CommandFailed(
            f"{tc.name} failed: {verification.why} ({when}, counter {tc.counter})",
            verification,
        )
    if verification.outcome == "TIMEOUT":
        awaited = verification.reason
        since = "release" if awaited == "ACCEPTED" else verification.stages[-2].stage
        hint = f" (is the vehicle receiving commands on {where}?)" if where else ""
        return CommandTimeout(
            f"{tc.name}: no {awaited} within {verification.window():g} s of {since}{hint}",
            verification,
        )
    return None


class CommanderCore:
    """Sans-I/O commanding: build and sign telecommands, follow their verification."""

    def __init__(
        self,
        key: VehicleKey,
        counter: CounterSource,
        *,
        dictionary: commands.CommandDictionary | None = None,
        timeouts: StageTimeouts | None = None,
    ) -> None:
        self.key = key
        self.counter = counter
        self.dictionary = dictionary if dictionary is not None else commands.load()
        self.verifier = Verifier(timeouts)
        #: the vehicle's last accepted counter, from HK (None until an HK is seen)
        self.vehicle_counter: int | None = None
        #: the id of the key the vehicle holds, from HK (None until an HK is seen)
        self.vehicle_key_id: int | None = None

    def check(self, name: str, args: Mapping[str, Any]) -> commands.CommandDef:
        """The command's definition if ``args`` fit it; ArgumentError says what does not."""
        command = self.dictionary[name]
        command.raw_values(args)
        return command

    def prepare(self, name: str, args: Mapping[str, Any], *, confirm: bool = False) -> Telecommand:
        """Check, confirm and sign a command with the next counter (nothing is sent)."""
        command = self.check(name, args)
        if command.critical and not confirm:
            raise ConfirmationRequired(
                f"{command.name} is critical ({command.description}): confirm to send it"
            )
        if self.vehicle_key_id is not None and self.vehicle_key_id != self.key.key_id:
            holds = f"holds key id {self.vehicle_key_id}" if self.vehicle_key_id else "holds no key"
            raise KeyMismatch(
                f"{self.key.vehicle} {holds} and this ground signs with key id "
                f"{self.key.key_id}: put this key on the vehicle (lander flash) or sign with "
                "the vehicle's key (--key-file)"
            )
        return build(self.dictionary, name, args, key=self.key, counter=self.counter.reserve())

    def release(
        self, tc: Telecommand, now: float, timeouts: StageTimeouts | None = None
    ) -> Verification:
        """``tc.frame`` is being written at ``now``: follow its verification from here."""
        return self.verifier.track(tc, now, timeouts)

    def receive(self, packets: Iterable[Packet], now: float) -> list[Update]:
        """Decoded packets received at ``now``; returns the verification steps they make."""
        packets = list(packets)
        for packet in packets:
            if packet.name == "HK":
                raw = packet.raw_values
                self.vehicle_key_id = raw.get("tc_key_id", self.key.key_id)
                if self.vehicle_key_id != self.key.key_id:
                    continue  # its counter belongs to another key
                board = raw["tc_counter"]
                if self.vehicle_counter is None or board != self.vehicle_counter:
                    self.vehicle_counter = board
                    self.counter.observe(board)
        return self.verifier.receive(packets, now)

    def expire(self, now: float) -> list[Update]:
        return self.verifier.expire(now)

    def next_deadline(self) -> float | None:
        return self.verifier.next_deadline()


StageCallback = Callable[[Verification, StageReport], None]


class Commander:
    """Commanding over a link with asyncio; use as ``async with Commander(link, core):``.

    ``link`` is a :class:`~ground.bus.TelemetryBus` shared with other users of the link, or
    a :class:`~ground.links.Link` (the commander then reads it through a bus of its own).
    ``subscribe(callback)`` gives every decoded packet to another user of the link.
    ``history`` (a :class:`~ground.history.CommandHistory`) records each command with all its
    stages when its verification ends; when it cannot, the command's outcome still comes and
    ``history_error`` holds the last :class:`~ground.history.HistoryError`.
    """

    def __init__(
        self,
        link: Link | TelemetryBus,
        core: CommanderCore,
        *,
        decoder: TelemetryDecoder | None = None,
        history: CommandHistory | None = None,
        poll: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        hk_timeout: float = 5.0,
    ) -> None:
        self._own_bus = not isinstance(link, TelemetryBus)
        self.bus = (
            link
            if isinstance(link, TelemetryBus)
            else TelemetryBus(link, decoder=decoder, reconnect=False)
        )
        self.core = core
        self.decoder = self.bus.decoder
        self.history = history
        self.poll = poll
        self.clock = clock
        self._subscribers: list[Callable[[Packet], None]] = []
        self._waiters: dict[
            Verification, tuple[asyncio.Future[Verification], StageCallback | None]
        ] = {}
        self._reader: asyncio.Task[None] | None = None
        self._events: AsyncSubscription | None = None
        self._closed: str | None = None
        self._telemetry = asyncio.Event()
        self._hk = asyncio.Event()
        self.history_error: HistoryError | None = None
        #: how long the first send() waits for the HK that tells the vehicle's counter
        self.hk_timeout = hk_timeout
        self._hk_awaited = False

    @property
    def url(self) -> str:
        return self.bus.url

    async def __aenter__(self) -> Commander:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def start(self) -> None:
        if self._reader is None:
            self._events = self.bus.async_queue()
            if self._own_bus:
                self.bus.start()
            self._reader = asyncio.get_running_loop().create_task(self._follow(self._events))

    async def close(self) -> None:
        """Stop following the link (a link passed in stays open: its owner closes it)."""
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
            self._reader = None
        if self._events is not None:
            self._events.close()
            self._events = None
        if self._own_bus:
            await asyncio.to_thread(self.bus.close)
        self._abandon(CommandError("the commander was closed before the command was verified"))

    def subscribe(self, callback: Callable[[Packet], None]) -> Callable[[], None]:
        """Call ``callback`` with every decoded packet; returns the unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    async def wait_for_telemetry(self, timeout: float) -> None:
        """Return once any telemetry has arrived; CommandError after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._telemetry.wait(), timeout)
        except TimeoutError:
            raise CommandError(
                f"no telemetry from {self.url} within {timeout:g} s: is the firmware running?"
            ) from None

    async def learn_vehicle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for an HK (the vehicle's key id and counter); whether one
        came. Without one the ground signs with its own counter, which a vehicle that took
        later ones refuses as REPLAY."""
        self.start()
        try:
            await asyncio.wait_for(self._hk.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def send(
        self,
        name: str,
        /,
        *,
        confirm: bool = False,
        on_stage: StageCallback | None = None,
        timeouts: StageTimeouts | None = None,
        **args: Any,
    ) -> Verification:
        """Send a command and await its verification; CommandError if it does not complete.
        The first waits for an HK (up to ``hk_timeout`` s) so that it is signed above the
        vehicle's counter."""
        self.core.check(name, args)
        if not self._hk_awaited:  # once: a link without HK costs one wait, not one a command
            self._hk_awaited = True
            await self.learn_vehicle(self.hk_timeout)
        return await self.send_telecommand(
            self.core.prepare(name, args, confirm=confirm), on_stage=on_stage, timeouts=timeouts
        )

    async def send_telecommand(
        self,
        tc: Telecommand,
        *,
        on_stage: StageCallback | None = None,
        timeouts: StageTimeouts | None = None,
    ) -> Verification:
        """Send an already signed telecommand and await its verification."""
        self.start()
        if self._closed is not None:
            raise CommandError(f"link closed: {self._closed}")
        verification = self.core.release(tc, self.clock(), timeouts)
        future: asyncio.Future[Verification] = asyncio.get_running_loop().create_future()
        self._waiters[verification] = (future, on_stage)
        try:
            self.bus.write(tc.frame)
        except LinkClosed as exc:
            self._waiters.pop(verification, None)
            raise CommandError(f"link closed: {exc}") from None
        return await future

    async def _follow(self, events: AsyncSubscription) -> None:
        """The bus's packets to the core and the subscribers; deadlines checked as time goes."""
        while True:
            event = await events.get_within(self.poll)
            now = self.clock()
            packets: list[Packet] = []
            if isinstance(event, Received):
                packets.append(event.packet)
                self._telemetry.set()
                if event.packet.name == "HK":
                    self._hk.set()
                for callback in list(self._subscribers):
                    callback(event.packet)
            elif isinstance(event, LinkState) and event.state == "closed":
                self._closed = event.reason or "closed"
                self._abandon(CommandError(f"link closed: {self._closed}"))
                return
            self._deliver(self.core.receive(packets, now) + self.core.expire(now))

    def _deliver(self, updates: list[Update]) -> None:
        for verification, report in updates:
            future, on_stage = self._waiters.get(verification, (None, None))
            if on_stage is not None:
                on_stage(verification, report)
            if not report.final:
                continue
            self._record(verification)
            self._waiters.pop(verification, None)
            if future is None or future.done():
                continue
            error = outcome_error(verification, self.url)
            if error is None:
                future.set_result(verification)
            else:
                future.set_exception(error)

    def _abandon(self, error: CommandError) -> None:
        for verification, (future, _) in list(self._waiters.items()):
            self._record(verification)
            if not future.done():
                future.set_exception(CommandError(str(error), verification))
        self._waiters.clear()

    def _record(self, verification: Verification) -> None:
        if self.history is not None:
            try:
                self.history.record(
                    verification,
                    link=self.url,
                    vehicle=self.core.key.vehicle,
                    released_ago=self.clock() - verification.released,
                )
            except HistoryError as exc:  # the outcome matters more: it still comes
                self.history_error = exc
