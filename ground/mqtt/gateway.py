"""The command gateway's core: requests in, signed telecommands and acknowledgements out.

Sans-I/O, as the commander it is built on: the station hands it requests, decoded packets
and the time, and publishes what it returns. It is the only holder of keys and counters in
the ground segment, and one thread runs it, so two operators never spend one counter.

A request (JSON on ``cmd/request/<account>``)::

    {"id": "5f0c...", "command": "SET_TM_RATE", "args": {"packet": "NAV", "hz": 20},
     "confirm": false}

Every step is published on ``cmd/ack/<id>`` as one JSON object with the stages so far; a
client that reconnected asks again with the same id and gets the latest step again (not
retained messages: the embedded broker hands those to subscribers of other topics)::

    {"id": "5f0c...", "vehicle": "LANDER-1", "requester": "ops", "command": "SET_TM_RATE",
     "stage": "ACCEPTED", "reason": "NONE", "final": false, "counter": 17,
     "describe": "SET_TM_RATE packet=NAV hz=20", "stages": [...]}

Refused before anything is sent (``stage`` REFUSED, ``final``): UNKNOWN_VEHICLE,
BAD_REQUEST, BAD_COMMAND (the dictionary), CONFIRMATION_REQUIRED, NOT_ALLOWED (the
vehicle's mode, from its last HK), NO_KEY, KEY_MISMATCH, COUNTER_EXHAUSTED, LINK_DOWN.

What must survive a restart of the gateway (:class:`GatewayState`, one JSON file written by
rename): the pending verifications and the ids of recent requests, so that a request
delivered again is not sent again. Counters are the :class:`~ground.keys.CounterFile` of
each vehicle, as ``lander cmd`` uses them.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas import commands

from ..commander import CommanderCore, ConfirmationRequired, KeyMismatch
from ..decoder import Packet
from ..history import CommandHistory, HistoryError
from ..keys import CounterExhausted, CounterFile, CounterSource, KeyFileError, VehicleKey
from ..telecommand import Telecommand
from ..verifier import Stage, StageReport, StageTimeouts, Verification

__all__ = ["Request", "Ack", "CommandGateway", "GatewayState", "parse_request"]

#: request ids remembered after their command ended (a late copy of one is not sent again)
REMEMBERED = 10000


@dataclass(frozen=True)
class Request:
    id: str
    vehicle: str
    requester: str
    command: str
    args: dict[str, Any]
    confirm: bool = False


@dataclass(frozen=True)
class Ack:
    """One message for ``cmd/ack/<request id>`` of ``vehicle``."""

    vehicle: str
    request_id: str
    body: dict[str, Any]


class BadRequest(ValueError):
    pass


def parse_request(vehicle: str, requester: str, payload: bytes) -> Request:
    """A Request from a message; BadRequest says what is wrong with it."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("a request is a JSON object") from None
    if not isinstance(doc, dict):
        raise BadRequest("a request is a JSON object")
    request_id = doc.get("id")
    if not isinstance(request_id, str) or not request_id or "/" in request_id or "+" in request_id:
        raise BadRequest("a request needs an id (a string without / or +)")
    command, args = doc.get("command"), doc.get("args", {})
    if not isinstance(command, str) or not isinstance(args, dict):
        raise BadRequest("a request needs a command (a name) and args (an object)")
    return Request(request_id, vehicle, requester, command, args, bool(doc.get("confirm")))


def request_id_of(payload: bytes) -> str | None:
    """The id of a request that may be malformed (to refuse it where its sender listens)."""
    try:
        doc = json.loads(payload)
        rid = doc.get("id") if isinstance(doc, dict) else None
    except (ValueError, UnicodeDecodeError):
        return None
    return rid if isinstance(rid, str) and rid and "/" not in rid and "+" not in rid else None


@dataclass
class _Pending:
    request: Request
    verification: Verification
    link: str


@dataclass
class GatewayState:
    """What survives a restart: pending verifications, recent request ids (a JSON file)."""

    path: Path | None
    pending: list[dict[str, Any]] = field(default_factory=list)
    done: deque[str] = field(default_factory=lambda: deque(maxlen=REMEMBERED))

    @classmethod
    def load(cls, path: Path | None) -> GatewayState:
        state = cls(path)
        if path is None or not path.exists():
            return state
        try:
            doc = json.loads(path.read_text("utf-8"))
            state.pending = list(doc["pending"])
            state.done.extend(str(i) for i in doc["done"])
        except (OSError, ValueError, KeyError, TypeError):
            raise KeyFileError(
                f"gateway state {path} is unreadable: move it away to start without "
                "the pending verifications it holds"
            ) from None
        return state

    def save(self, pending: Iterable[_Pending]) -> None:
        if self.path is None:
            return
        self.pending = [_pending_to_dict(p) for p in pending]
        doc = {"pending": self.pending, "done": list(self.done)}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc), "utf-8")
        os.replace(tmp, self.path)


def _pending_to_dict(p: _Pending) -> dict[str, Any]:
    v, tc, r = p.verification, p.verification.telecommand, p.request
    return {
        "request": {
            "id": r.id,
            "vehicle": r.vehicle,
            "requester": r.requester,
            "command": r.command,
            "args": r.args,
            "confirm": r.confirm,
        },
        "link": p.link,
        "tc": {
            "name": tc.name,
            "raw_args": list(tc.raw_args),
            "key_id": tc.key_id,
            "counter": tc.counter,
            "seq": tc.seq,
            "packet": tc.packet.hex(),
        },
        "released": v.released,
        "timeouts": [v.timeouts.accepted, v.timeouts.started, v.timeouts.completed],
        "stages": [
            {
                "stage": s.stage,
                "reason": s.reason,
                "at": s.at,
                "after": s.after,
                "vehicle_time": s.vehicle_time,
                "context": s.context,
            }
            for s in v.stages
        ],
        "awaiting": v.awaiting.name,
        "deadline": v.deadline,
    }


class CommandGateway:
    """Requests to telecommands, telemetry to stages; every step as an :class:`Ack`.

    ``keys(vehicle)`` gives a vehicle's key (KeyFileError when there is none) and
    ``counters(vehicle)`` its counter source. ``now`` is wall-clock time (``time.time()``):
    deadlines saved before a restart still mean the same instant after it.
    """

    def __init__(
        self,
        *,
        keys: Callable[[str], VehicleKey],
        counters: Callable[[str], CounterSource] = CounterFile.for_vehicle,
        state: GatewayState | None = None,
        history: CommandHistory | None = None,
        dictionary: commands.CommandDictionary | None = None,
        timeouts: StageTimeouts | None = None,
    ) -> None:
        self.dictionary = dictionary if dictionary is not None else commands.load()
        self.timeouts = timeouts or StageTimeouts()
        self._keys = keys
        self._counters = counters
        self.state = state if state is not None else GatewayState(None)
        self.history = history
        self.history_error: HistoryError | None = None
        #: called with each command whose verification ended, its request and its link
        #: (``lander ground`` keeps it in the archive of the vehicle's link)
        self.on_done: Callable[[Verification, Request, str], None] | None = None
        self._cores: dict[str, CommanderCore] = {}
        self._mode: dict[str, int] = {}  # the raw HK.mode last seen per vehicle
        self._pending: dict[Verification, _Pending] = {}
        self._restored = list(self.state.pending)
        self._keyless: set[str] = set()
        #: the last Ack of recent requests, for a client that asks again
        self._last: OrderedDict[str, Ack] = OrderedDict()

    # --- the vehicles -------------------------------------------------------------

    def core(self, vehicle: str) -> CommanderCore:
        """The vehicle's commander core (KeyFileError when the ground holds no key)."""
        core = self._cores.get(vehicle)
        if core is None:
            core = CommanderCore(
                self._keys(vehicle),
                self._counters(vehicle),
                dictionary=self.dictionary,
                timeouts=self.timeouts,
            )
            self._cores[vehicle] = core
            self._restore(vehicle, core)
        return core

    def restored_vehicles(self) -> set[str]:
        """Vehicles with verifications pending from before a restart."""
        return {str(p["request"]["vehicle"]) for p in self._restored}

    def _restore(self, vehicle: str, core: CommanderCore) -> None:
        for doc in [p for p in self._restored if p["request"]["vehicle"] == vehicle]:
            self._restored.remove(doc)
            t = doc["tc"]
            tc = Telecommand(
                self.dictionary[t["name"]],
                tuple(t["raw_args"]),
                int(t["key_id"]),
                int(t["counter"]),
                int(t["seq"]),
                bytes.fromhex(t["packet"]),
            )
            v = core.release(tc, float(doc["released"]), StageTimeouts(*doc["timeouts"]))
            v.stages.extend(
                StageReport(
                    s["stage"], s["reason"], s["at"], s["after"], s["vehicle_time"], s["context"]
                )
                for s in doc["stages"]
            )
            v.awaiting = Stage[doc["awaiting"]]
            v.deadline = float(doc["deadline"])
            self._pending[v] = _Pending(Request(**doc["request"]), v, str(doc["link"]))

    # --- requests -----------------------------------------------------------------

    def seen(self, request_id: str) -> bool:
        """Whether this request was taken already (a copy delivered again is dropped)."""
        return (
            request_id in self.state.done
            or any(p.request.id == request_id for p in self._pending.values())
            or any(p["request"]["id"] == request_id for p in self._restored)
        )

    def refuse(self, request: Request, reason: str, message: str) -> Ack:
        self._remember(request.id)
        return self._ack(request, "REFUSED", reason, final=True, message=message)

    def request(self, request: Request, *, known: bool) -> Ack | Telecommand:
        """Check a request; its REFUSED Ack, or the signed Telecommand to send (then call
        :meth:`released`). ``known``: whether the ground owns or hears the vehicle."""
        if not known:
            return self.refuse(
                request,
                "UNKNOWN_VEHICLE",
                f"this ground neither owns nor hears a vehicle {request.vehicle}",
            )
        try:
            core = self.core(request.vehicle)
        except KeyFileError as exc:
            return self.refuse(request, "NO_KEY", str(exc))
        try:
            command = core.check(request.command, request.args)
        except (commands.ArgumentError, KeyError) as exc:
            return self.refuse(request, "BAD_COMMAND", str(exc).strip("'\""))
        mode = self._mode.get(request.vehicle)
        if command.modes and mode is not None and mode not in command.modes:
            allowed = ", ".join(command.modes.values())
            return self.refuse(
                request,
                "NOT_ALLOWED",
                f"{command.name} is allowed in mode {allowed}; {request.vehicle} is in mode "
                f"{self._mode_name(mode)}",
            )
        try:
            return core.prepare(request.command, request.args, confirm=request.confirm)
        except ConfirmationRequired as exc:
            return self.refuse(request, "CONFIRMATION_REQUIRED", str(exc))
        except KeyMismatch as exc:
            return self.refuse(request, "KEY_MISMATCH", str(exc))
        except CounterExhausted as exc:
            return self.refuse(request, "COUNTER_EXHAUSTED", str(exc))
        except KeyFileError as exc:
            return self.refuse(request, "NO_KEY", str(exc))

    def released(self, request: Request, tc: Telecommand, now: float, link: str) -> Ack:
        """``tc`` went out at ``now``: follow it; the SENT Ack."""
        v = self.core(request.vehicle).release(tc, now)
        self._pending[v] = _Pending(request, v, link)
        self._save()
        return self._progress(self._pending[v], "SENT", "", final=False)

    def not_sent(self, request: Request, tc: Telecommand, why: str) -> Ack:
        return self.refuse(request, "LINK_DOWN", f"{tc.name} was signed but not sent: {why}")

    # --- telemetry and time -------------------------------------------------------

    def receive(self, vehicle: str, packets: list[Packet], now: float) -> list[Ack]:
        """A vehicle's decoded packets: learn its mode and counter, follow verifications."""
        for packet in packets:
            if packet.name == "HK":
                self._mode[vehicle] = packet.raw_values["mode"]
        core = self._cores.get(vehicle)
        if core is None:
            # an HK tells the vehicle's counter before the first request needs it
            wanted = vehicle in self.restored_vehicles() or any(p.name == "HK" for p in packets)
            if not wanted or vehicle in self._keyless:
                return []
            try:
                core = self.core(vehicle)
            except KeyFileError:
                self._keyless.add(vehicle)  # a request says why; telemetry does not ask again
                return []
        return self._updates(core.receive(packets, now))

    def expire(self, now: float) -> list[Ack]:
        acks: list[Ack] = []
        for core in self._cores.values():
            acks += self._updates(core.expire(now))
        return acks

    def next_deadline(self) -> float | None:
        return min((p.verification.deadline for p in self._pending.values()), default=None)

    @property
    def pending(self) -> list[Verification]:
        return list(self._pending)

    # --- acknowledgements ---------------------------------------------------------

    def _updates(self, updates: list[tuple[Verification, StageReport]]) -> list[Ack]:
        acks = []
        changed = False
        for verification, report in updates:
            pending = self._pending.get(verification)
            if pending is None:
                continue  # a command of another ground on the same vehicle
            changed = True
            acks.append(self._progress(pending, report.stage, report.why, final=report.final))
            if report.final:
                del self._pending[verification]
                self._remember(pending.request.id)
                self._record(pending)
                if self.on_done is not None:
                    self.on_done(verification, pending.request, pending.link)
        if changed:
            self._save()
        return acks

    def _progress(self, pending: _Pending, stage: str, reason: str, *, final: bool) -> Ack:
        v = pending.verification
        tc = v.telecommand
        return self._ack(
            pending.request,
            stage,
            reason,
            final=final,
            counter=tc.counter,
            describe=tc.describe(),
            stages=[s.to_dict() for s in v.stages],
        )

    def _ack(self, request: Request, stage: str, reason: str, **extra: Any) -> Ack:
        body = {
            "id": request.id,
            "vehicle": request.vehicle,
            "requester": request.requester,
            "command": request.command,
            "stage": stage,
            "reason": reason,
            **extra,
        }
        ack = Ack(request.vehicle, request.id, body)
        self._last[request.id] = ack
        self._last.move_to_end(request.id)
        if len(self._last) > REMEMBERED:
            self._last.popitem(last=False)
        return ack

    def last_ack(self, request_id: str) -> Ack | None:
        """The latest step of a recent request (None: unknown, or from before a restart)."""
        return self._last.get(request_id)

    def _remember(self, request_id: str) -> None:
        self.state.done.append(request_id)
        self._save()

    def _save(self) -> None:
        self.state.save(self._pending.values())

    def _record(self, pending: _Pending) -> None:
        if self.history is None:
            return
        try:
            self.history.record(
                pending.verification,
                link=pending.link,
                vehicle=pending.request.vehicle,
                released_ago=_span(pending.verification),
                requester=pending.request.requester,
            )
        except HistoryError as exc:
            self.history_error = exc

    def _mode_name(self, mode: int) -> str:
        from schemas import model

        try:
            states = model.load()["HK"].field("mode").states or {}
        except (KeyError, AttributeError):
            states = {}
        return str(states.get(mode, mode))


def _span(verification: Verification) -> float:
    """Seconds from the release to the last stage (the history dates the record by it)."""
    return verification.stages[-1].at - verification.released if verification.stages else 0.0
