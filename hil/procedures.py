"""The procedures API: a vehicle under test, driven synchronously so a test reads like a procedure.

In the spirit of F Prime's integration-test API and Yamcs's ``await_acknowledgment``::

    vehicle.send("ARM", confirm=True)
    vehicle.send("START_DESCENT", confirm=True)
    vehicle.await_event("PHASE_CHANGE", to="BRAKING", within=70)
    vehicle.await_telemetry("NAV.altitude", below=50, within=600)
    vehicle.assert_events_in_order(event("PHASE_CHANGE", to="APPROACH"), event("TOUCHDOWN"))

Verbs keep one meaning each: ``send`` returns the command's verification once it is over
(and raises unless it ended as ``expect`` says); ``await_*`` wait and return what matched;
``assert_*`` check what was already seen; ``count``, ``history`` and ``latest`` read it.

Time. ``within`` is in vehicle seconds (the time code of the telemetry), so a procedure means
the same at any time warp: a wait fails when a packet arrives that is later than its window,
or when the link is silent for ``silence`` ground seconds. Commands are verified on the
ground's clock (the verifier's stage windows): how long a command takes to be accepted is a
property of the link and the flight computer, not of the simulation.

Where awaits look. By default from the last command sent (or the start of the test), so an
event that a command caused is never missed because it came before the wait began;
``since="now"`` looks only forward, ``since=vehicle.mark()`` from a point of one's choosing,
``since=packet`` (one an await returned) from just after that packet, its window counted
from the packet's time. Prefer it to "now" for what must follow an event: "now" is as far as
the ground has read, which on a busy host may be seconds of vehicle time past the event.

Failures raise :class:`ProcedureFailed` (an AssertionError) saying what was awaited and what
was seen instead: the events and the last values of the parameter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ground.commander import CommanderCore, outcome_error
from ground.decoder import Packet
from ground.keys import VehicleKey
from ground.links import LinkError
from ground.telecommand import Telecommand, build
from ground.verifier import StageTimeouts, Verification

from .bus import Event, LinkState, Received, TelemetryBus
from .predicates import EventMatch, Predicate, event, from_keywords, predicate

__all__ = ["ProcedureFailed", "Sample", "Vehicle"]

#: ground seconds without any telemetry after which a wait gives up
SILENCE = 10.0
#: ground seconds a wait may take beyond ``within`` (a vehicle slower than real time)
REAL_TIME_SLACK = 30.0
#: verification windows: roomier than an operator's, for a shared CI machine
TIMEOUTS = StageTimeouts(accepted=5.0, started=5.0, completed=10.0)
#: ground seconds a reset vehicle has to send its BOOT event
BOOT_TIMEOUT = 20.0
#: events and values a failure message shows
SHOWN = 12


class ProcedureFailed(AssertionError):
    """A procedure step did not happen as the test expected; the message says what was seen."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One packet as the ground received it."""

    packet: Packet
    ground_time: float  # time.time() when it was read
    vtime: float  # vehicle time, continued across reboots (mission elapsed time)
    boot: int  # which boot of the vehicle sent it (1 = the first seen in this test)


@dataclass
class Plot:
    """A figure the report draws: parameters against vehicle time."""

    specs: tuple[str, ...]
    title: str


@dataclass
class _Telemetry:
    samples: list[Sample] = field(default_factory=list)
    boots: int = 0
    offset: float = 0.0  # added to the packet time of the current boot
    last_vtime: float = 0.0
    last_arrival: float = field(default_factory=time.monotonic)
    closed: str | None = None
    forget_until_boot: bool = False  # reset under way: what comes before BOOT is the past


def _spec(spec: str) -> tuple[str, str]:
    packet, dot, name = spec.partition(".")
    if not dot or not packet or not name:
        raise ValueError(f"{spec!r}: name a parameter as PACKET.field, e.g. NAV.altitude")
    return packet.upper(), name


class Vehicle:
    """A vehicle under test, seen and commanded through a connected ground (a telemetry bus)."""

    def __init__(
        self,
        bus: TelemetryBus,
        core: CommanderCore,
        *,
        silence: float = SILENCE,
        timeouts: StageTimeouts | None = None,
    ) -> None:
        self.bus = bus
        self.core = core
        self.silence = silence
        self.timeouts = timeouts or TIMEOUTS
        #: every command sent, with its verification (stages, outcome)
        self.commands: list[Verification] = []
        #: figures the report draws for this test, besides the default ones
        self.plots: list[Plot] = []
        #: link state changes seen (lost, back, closed)
        self.link_events: list[LinkState] = []
        self._cond = threading.Condition()
        self._tm = _Telemetry()
        self._since_command = 0
        self._unsubscribe = bus.subscribe(self._on_event)

    # --- what came in ------------------------------------------------------------------

    def _on_event(self, item: Event) -> None:
        if isinstance(item, LinkState):
            with self._cond:
                self.link_events.append(item)
                if item.state in ("lost", "closed"):
                    self._tm.closed = item.reason or item.state
                elif item.state == "back":
                    self._tm.closed = None
                self._cond.notify_all()
            return
        if not isinstance(item, Received):
            return
        packet = item.packet
        with self._cond:
            tm = self._tm
            self.core.receive([packet], time.monotonic())
            booted = packet.name == "EVENT" and packet.values["event_id"] == "BOOT"
            if tm.forget_until_boot:
                if not booted:
                    return
                self._tm = tm = _Telemetry()
                self._since_command = 0
            if booted:
                tm.boots += 1
                tm.offset = tm.last_vtime - packet.time if tm.samples else 0.0
            elif tm.samples and packet.time + tm.offset < tm.last_vtime - 1.0:
                tm.offset = tm.last_vtime - packet.time  # the clock went back: keep time running
            vtime = packet.time + tm.offset
            tm.last_vtime = max(tm.last_vtime, vtime)
            tm.last_arrival = time.monotonic()
            tm.samples.append(Sample(packet, item.ground_time, vtime, max(tm.boots, 1)))
            self._cond.notify_all()

    def reset_with(self, reset: Callable[[], None], timeout: float = BOOT_TIMEOUT) -> None:
        """Reset the vehicle with ``reset()``, forget what came before, and wait until it has
        booted and its control cycle runs (its first HK)."""
        with self._cond:
            self._tm.forget_until_boot = True
        reset()

        def running() -> bool:  # booted, and its control cycle sends housekeeping
            return self._tm.boots > 0 and any(x.packet.name == "HK" for x in self._tm.samples)

        with self._cond:
            if not self._cond.wait_for(running, timeout):
                raise ProcedureFailed(
                    f"the vehicle did not boot within {timeout:g} s of its reset "
                    f"(no BOOT event and housekeeping on {self.bus.url})"
                )

    def close(self) -> None:
        """Stop listening (the bus stays with its owner)."""
        self._unsubscribe()

    @property
    def samples(self) -> list[Sample]:
        """Everything received in this test, in order."""
        with self._cond:
            return list(self._tm.samples)

    @property
    def now(self) -> float:
        """The vehicle time of the latest packet (continued across reboots)."""
        with self._cond:
            return self._tm.last_vtime

    @property
    def boots(self) -> int:
        """BOOT events seen in this test."""
        with self._cond:
            return self._tm.boots

    @property
    def key(self) -> VehicleKey:
        """The key the vehicle holds (its id is in every telecommand; a forger's has it too)."""
        return self.core.key

    def mark(self) -> int:
        """A point in what was received, for ``since=`` (awaits look from there on)."""
        with self._cond:
            return len(self._tm.samples)

    # --- commanding --------------------------------------------------------------------

    def sign(
        self,
        name: str,
        /,
        *,
        key: VehicleKey | None = None,
        counter: int | None = None,
        **args: Any,
    ) -> Telecommand:
        """A signed telecommand, not sent: with another key or a chosen counter (a replay)."""
        if key is None and counter is None:
            return self.core.prepare(name, args, confirm=True)
        return build(
            self.core.dictionary,
            name,
            args,
            key=key or self.core.key,
            counter=self.core.counter.reserve() if counter is None else counter,
        )

    def send(
        self,
        name: str,
        /,
        *,
        confirm: bool = False,
        expect: str = "COMPLETED",
        timeouts: StageTimeouts | None = None,
        **args: Any,
    ) -> Verification:
        """Send a command and wait for its verification to end.

        ``confirm`` sends a critical command (ARM, START_DESCENT, ABORT...). Raises
        :class:`ProcedureFailed` unless the outcome is ``expect`` (COMPLETED, FAILED or
        TIMEOUT); returns the verification with its stages and reason.
        """
        tc = self.core.prepare(name, args, confirm=confirm)
        return self.send_telecommand(tc, expect=expect, timeouts=timeouts)

    def send_telecommand(
        self, tc: Telecommand, *, expect: str = "COMPLETED", timeouts: StageTimeouts | None = None
    ) -> Verification:
        """Send an already signed telecommand (see :meth:`sign`) and wait for its verification."""
        with self._cond:
            self._since_command = len(self._tm.samples)
            verification = self.core.release(tc, time.monotonic(), timeouts or self.timeouts)
        self.commands.append(verification)
        try:
            self.bus.write(tc.frame)
        except LinkError as exc:
            raise ProcedureFailed(f"{tc.name} not sent: {exc}") from None
        with self._cond:
            while not verification.done:
                self._cond.wait(0.05)
                self.core.expire(time.monotonic())
        if verification.outcome != expect:
            error = outcome_error(verification, self.bus.url)
            what = str(error) if error else f"{tc.name} completed"
            raise ProcedureFailed(f"{what}; expected {expect}\n{self._seen()}")
        return verification

    # --- waiting -----------------------------------------------------------------------

    def _start(self, since: int | str | Packet | None) -> tuple[int, float]:
        """Where an await looks from, and the vehicle time its window starts at."""
        tm = self._tm
        if isinstance(since, Packet):
            for i in range(len(tm.samples) - 1, -1, -1):
                if tm.samples[i].packet is since:
                    return i + 1, tm.samples[i].vtime
            raise ValueError("since=: a packet this vehicle's awaits returned")
        if since is None:
            return self._since_command, tm.last_vtime
        if since == "now":
            return len(tm.samples), tm.last_vtime
        if isinstance(since, int):
            return since, tm.last_vtime
        raise ValueError(f"since={since!r}: give None, 'now', a vehicle.mark() or a packet")

    def _await(
        self,
        match: Callable[[Sample], bool],
        within: float,
        since: int | str | Packet | None,
        what: str,
        seen: Callable[[], str],
    ) -> Sample:
        with self._cond:
            tm = self._tm
            i, start = self._start(since)
            deadline = start + within
            real_end = time.monotonic() + within + REAL_TIME_SLACK
            while True:
                while i < len(tm.samples):
                    sample = tm.samples[i]
                    i += 1
                    if sample.vtime > deadline:
                        raise ProcedureFailed(
                            f"no {what} within {within:g} vehicle s "
                            f"(from {start:.1f} s to {deadline:.1f} s)\n{seen()}"
                        )
                    if match(sample):
                        return sample
                ground = time.monotonic()
                if tm.closed is not None:
                    raise ProcedureFailed(f"no {what}: the link closed ({tm.closed})\n{seen()}")
                if ground - tm.last_arrival > self.silence:
                    raise ProcedureFailed(
                        f"no {what}: no telemetry for {self.silence:g} s "
                        f"(vehicle time {tm.last_vtime:.1f} s)\n{seen()}"
                    )
                if ground > real_end:
                    raise ProcedureFailed(
                        f"no {what}: {within + REAL_TIME_SLACK:g} s of ground time passed "
                        f"(vehicle time only reached {tm.last_vtime:.1f} s)\n{seen()}"
                    )
                self._cond.wait(0.05)

    def await_event(
        self,
        name: str | EventMatch,
        /,
        *,
        within: float,
        since: int | str | Packet | None = None,
        **args: Any,
    ) -> Packet:
        """Wait for an EVENT (``"PHASE_CHANGE", to="BRAKING"``); returns its packet."""
        match = name if isinstance(name, EventMatch) else event(name, **args)
        sample = self._await(lambda s: match(s.packet), within, since, f"EVENT {match}", self._seen)
        return sample.packet

    def await_telemetry(
        self,
        spec: str,
        condition: Any = None,
        /,
        *,
        within: float,
        since: int | str | Packet | None = None,
        **shorthand: Any,
    ) -> Any:
        """Wait until ``PACKET.field`` satisfies ``condition`` (a predicate or a value, or
        ``below=``, ``above=``, ``between=(lo, hi)``...); returns the value."""
        packet_name, name = _spec(spec)
        test = self._condition(condition, shorthand)

        def match(s: Sample) -> bool:
            return s.packet.name == packet_name and test(s.packet.values[name])

        sample = self._await(match, within, since, f"{spec} {test}", lambda: self._seen(spec))
        return sample.packet.values[name]

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of vehicle time pass."""
        with self._cond:
            until = self._tm.last_vtime + seconds
        self._await(lambda s: s.vtime >= until, seconds + 1, "now", "the time to pass", self._seen)

    @staticmethod
    def _condition(condition: Any, shorthand: dict[str, Any]) -> Predicate:
        if condition is not None and shorthand:
            raise TypeError("give a condition or keywords (below=...), not both")
        if condition is None:
            if not shorthand:
                raise TypeError("give a condition, e.g. below=50")
            return from_keywords(shorthand)
        return predicate(condition)

    # --- what was seen -----------------------------------------------------------------

    def _matching(self, name: str | EventMatch, args: dict[str, Any]) -> list[Sample]:
        match = name if isinstance(name, EventMatch) else event(name, **args)
        return [s for s in self.samples if match(s.packet)]

    def events(self, name: str | EventMatch | None = None, **args: Any) -> list[Packet]:
        """EVENT packets received in this test (those matching, if a name is given)."""
        if name is None:
            return [s.packet for s in self.samples if s.packet.name == "EVENT"]
        return [s.packet for s in self._matching(name, args)]

    def count(self, name: str | EventMatch, /, **args: Any) -> int:
        """How many matching events were received in this test."""
        return len(self._matching(name, args))

    def history(self, spec: str) -> list[tuple[float, Any]]:
        """(vehicle time, value) of a parameter, every sample received in this test."""
        packet_name, name = _spec(spec)
        return [
            (s.vtime, s.packet.values[name]) for s in self.samples if s.packet.name == packet_name
        ]

    def latest(self, spec: str) -> Any:
        """The last value received of a parameter; ProcedureFailed if none came."""
        history = self.history(spec)
        if not history:
            raise ProcedureFailed(f"no {spec} received\n{self._seen()}")
        return history[-1][1]

    def assert_events_in_order(self, *matches: str | EventMatch) -> list[Packet]:
        """Each event after the one before it (others may come between); returns them."""
        wanted = [m if isinstance(m, EventMatch) else event(m) for m in matches]
        found: list[Packet] = []
        events = self.events()
        i = 0
        for match in wanted:
            while i < len(events) and not match(events[i]):
                i += 1
            if i == len(events):
                after = f" after {wanted[len(found) - 1]}" if found else ""
                raise ProcedureFailed(
                    f"events missing or out of order: no {match}{after} "
                    f"(step {len(found) + 1} of {len(wanted)})\n{self._seen()}"
                )
            found.append(events[i])
            i += 1
        return found

    def plot(self, *specs: str, title: str = "") -> None:
        """Draw these parameters (``NAV.altitude``...) against vehicle time in the report."""
        for spec in specs:
            _spec(spec)
        self.plots.append(Plot(specs, title or ", ".join(specs)))

    def _seen(self, spec: str | None = None) -> str:
        """What a failure message shows: the last events, phase and mode, and ``spec``'s
        last values."""
        samples = self.samples
        events = [s for s in samples if s.packet.name == "EVENT"]
        lines = [f"seen: {len(samples)} packets, {len(events)} events, {self.boots} boots"]
        if len(events) > SHOWN:
            lines.append(f"  ... {len(events) - SHOWN} earlier events")
        lines += [f"  {s.vtime:9.1f} s  {_sentence(s.packet)}" for s in events[-SHOWN:]]
        hk = [s.packet.values for s in samples if s.packet.name == "HK"]
        if hk:
            lines.append(f"last HK: phase {hk[-1]['phase']}, mode {hk[-1]['mode']}")
        stats = self.bus.stats
        if stats.gaps or stats.bad_frames:
            lines.append(
                f"link: {stats.missing} packets missing in {stats.gaps} gaps, "
                f"{stats.bad_frames} bad frames"
            )
        if spec is not None:
            packet_name, name = _spec(spec)
            values = [
                (s.vtime, s.packet.values[name]) for s in samples if s.packet.name == packet_name
            ]
            if not values:
                lines.append(f"no {spec} received")
            else:
                shown = ", ".join(f"{_fmt(v)} ({t:.1f} s)" for t, v in values[-6:])
                lines.append(f"last {spec}: {shown}")
                numbers = [v for _, v in values if isinstance(v, int | float)]
                if numbers:
                    lines.append(
                        f"{spec} over {len(values)} samples: min {_fmt(min(numbers))}, "
                        f"max {_fmt(max(numbers))}"
                    )
        return "\n".join(lines)


def _sentence(packet: Packet) -> str:
    event = packet.event
    return event.sentence if event is not None else repr(packet)


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
