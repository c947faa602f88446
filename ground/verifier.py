"""Command verification: matches TC_VERIFY telemetry to the commands sent, stage by stage.

A sans-I/O state machine, like the decoder: it is told when a command is released and given
decoded packets, each with the ground time ``now`` the caller read from its own clock; it
returns what changed. It never sleeps or reads a clock, so a test drives it with any times.

Theory of operation (Yamcs-style verifiers). A command passes through ACCEPTED, STARTED and
COMPLETED, or ends in FAILED with a reason code. Each stage has its own window, counted from
the previous stage (from the release for ACCEPTED); a stage that does not come within its
window ends the verification as TIMEOUT. The vehicle echoes each command's code, sequence
count and anti-replay counter in TC_VERIFY, and those three identify the command. A frame
the vehicle could not read (BAD_CRC, BAD_LENGTH) may echo garbage: such a refusal matches
the command with the same sequence count that has heard nothing yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from .decoder import Packet
from .telecommand import Telecommand

__all__ = ["Stage", "StageTimeouts", "StageReport", "Verification", "Verifier", "Update"]

#: Reasons given when the vehicle could not read the frame, so the echo may be garbage.
_UNREADABLE = ("BAD_CRC", "BAD_LENGTH")


class Stage(IntEnum):
    """TC_VERIFY stages (the raw values of TC_VERIFY.stage)."""

    ACCEPTED = 1
    STARTED = 2
    COMPLETED = 3
    FAILED = 4


@dataclass(frozen=True)
class StageTimeouts:
    """Seconds each stage may take, counted from the stage before it (ACCEPTED: release)."""

    accepted: float = 2.0
    started: float = 2.0
    completed: float = 5.0

    def after(self, stage: Stage | None) -> tuple[Stage, float]:
        """The stage awaited after ``stage`` (None: after release) and its window."""
        if stage is None:
            return Stage.ACCEPTED, self.accepted
        if stage is Stage.ACCEPTED:
            return Stage.STARTED, self.started
        return Stage.COMPLETED, self.completed


@dataclass(frozen=True)
class StageReport:
    """One step of a verification: a stage the vehicle reported, or a timeout."""

    stage: str  # ACCEPTED, STARTED, COMPLETED, FAILED or TIMEOUT
    reason: str  # the vehicle's reason code name; for TIMEOUT, what was awaited
    at: float  # ground time (the caller's clock)
    after: float  # seconds since release
    vehicle_time: float | None = None  # the TC_VERIFY packet's time code
    #: for NOT_ALLOWED, what it was refused in: "in phase IDLE, mode NOMINAL"
    context: str = ""

    @property
    def final(self) -> bool:
        """Whether this step ends the verification."""
        return self.stage in ("COMPLETED", "FAILED", "TIMEOUT")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "stage": self.stage,
            "reason": self.reason,
            "after_s": round(self.after, 6),
            "vehicle_time": self.vehicle_time,
        }
        if self.context:
            out["context"] = self.context
        return out

    @property
    def why(self) -> str:
        """The reason with its context, for the operator."""
        return f"{self.reason} {self.context}" if self.context else self.reason


@dataclass(eq=False)
class Verification:
    """What is known of one released command: its stages so far and, once over, the outcome."""

    telecommand: Telecommand
    released: float
    timeouts: StageTimeouts
    stages: list[StageReport] = field(default_factory=list)
    #: COMPLETED, FAILED or TIMEOUT once over; None while pending
    outcome: str | None = None
    awaiting: Stage = Stage.ACCEPTED
    deadline: float = 0.0

    def __post_init__(self) -> None:
        self.awaiting, window = self.timeouts.after(None)
        self.deadline = self.released + window

    @property
    def done(self) -> bool:
        return self.outcome is not None

    @property
    def reason(self) -> str:
        """Why it did not complete (a reason code name, or the stage a timeout awaited)."""
        return self.stages[-1].reason if self.stages and self.outcome != "COMPLETED" else ""

    @property
    def why(self) -> str:
        """The reason with what the vehicle said of it (NOT_ALLOWED: its phase and mode)."""
        return self.stages[-1].why if self.stages and self.outcome != "COMPLETED" else ""

    def _report(
        self, stage: Stage, reason: str, now: float, vehicle_time: float, context: str = ""
    ) -> StageReport:
        report = StageReport(stage.name, reason, now, now - self.released, vehicle_time, context)
        self.stages.append(report)
        if stage in (Stage.COMPLETED, Stage.FAILED):
            self.outcome = stage.name
        else:
            self.awaiting, window = self.timeouts.after(stage)
            self.deadline = now + window
        return report

    def _timeout(self, now: float) -> StageReport:
        report = StageReport("TIMEOUT", self.awaiting.name, now, now - self.released)
        self.stages.append(report)
        self.outcome = "TIMEOUT"
        return report

    def window(self) -> float:
        """The window of the stage being awaited (for messages)."""
        previous = None if self.awaiting is Stage.ACCEPTED else Stage(self.awaiting - 1)
        return self.timeouts.after(previous)[1]


#: What the verifier returns: a verification and the step it just took.
Update = tuple[Verification, StageReport]


class Verifier:
    """Follows every released command until it completes, fails or times out."""

    def __init__(self, timeouts: StageTimeouts | None = None) -> None:
        self.timeouts = timeouts or StageTimeouts()
        self._pending: dict[tuple[int, int, int], Verification] = {}
        #: TC_VERIFY packets that matched no pending command (another ground's, or late)
        self.unmatched = 0

    def track(
        self, tc: Telecommand, now: float, timeouts: StageTimeouts | None = None
    ) -> Verification:
        """A command is released at ``now``: start waiting for its stages."""
        verification = Verification(tc, now, timeouts or self.timeouts)
        self._pending[tc.ident] = verification
        return verification

    @property
    def pending(self) -> list[Verification]:
        return list(self._pending.values())

    def receive(self, packets: Iterable[Packet], now: float) -> list[Update]:
        """Decoded telemetry (any packets; TC_VERIFY is used) received at ``now``."""
        updates: list[Update] = []
        for packet in packets:
            if packet.name != "TC_VERIFY":
                continue
            raw = packet.raw_values
            values = packet.values
            verification = self._match(raw["cmd_code"], raw["tc_seq"], raw["counter"], values)
            if verification is None:
                self.unmatched += 1
                continue
            try:
                stage = Stage(raw["stage"])
            except ValueError:
                self.unmatched += 1
                continue
            reason = str(values["reason"])
            context = ""
            if reason == "NOT_ALLOWED" and "phase" in values:
                context = f"in phase {values['phase']}, mode {values['mode']}"
            report = verification._report(stage, reason, now, packet.time, context)
            if verification.done:
                del self._pending[verification.telecommand.ident]
            updates.append((verification, report))
        return updates

    def expire(self, now: float) -> list[Update]:
        """Time out every stage whose window has closed by ``now``."""
        updates: list[Update] = []
        for ident, verification in list(self._pending.items()):
            if now >= verification.deadline:
                del self._pending[ident]
                updates.append((verification, verification._timeout(now)))
        return updates

    def next_deadline(self) -> float | None:
        """When :meth:`expire` next has something to do (None: nothing pending)."""
        return min((v.deadline for v in self._pending.values()), default=None)

    def _match(
        self, code: int, seq: int, counter: int, values: dict[str, object]
    ) -> Verification | None:
        found = self._pending.get((code, seq, counter))
        if found is not None or values["stage"] != "FAILED" or values["reason"] not in _UNREADABLE:
            return found
        for verification in self._pending.values():
            if verification.telecommand.seq == seq and not verification.stages:
                return verification
        return None
