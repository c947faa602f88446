"""Commanding through the ground segment: requests to the command gateway, no key here.

:class:`RemoteCommander` is what :class:`~ground.commander.Commander` is on a direct link,
for ``mqtt://host:port/<vehicle>``: ``await commander.send("SET_TM_RATE", packet="NAV",
hz=20)`` returns when the command completed and raises the same
:class:`~ground.commander.CommandFailed`, :class:`~ground.commander.CommandTimeout` or
:class:`~ground.commander.ConfirmationRequired`, plus :class:`CommandRefused` for what the
gateway refused before sending (an unknown vehicle, a mode that forbids it). The gateway
signs with the vehicle's key and counter; this side only asks.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..commander import CommandError, CommandFailed, CommandTimeout, ConfirmationRequired
from . import topics
from .address import connect, parse

__all__ = ["RemoteCommander", "RemoteVerification", "CommandRefused"]

#: s to wait for the gateway's first answer (SENT or REFUSED)
ANSWER_TIMEOUT = 15.0
#: s to wait for the end of a command once sent (beyond its own stage windows)
END_TIMEOUT = 60.0


class CommandRefused(CommandError):
    """The gateway refused the request before anything was sent (the reason says why)."""


@dataclass
class RemoteVerification:
    """A command's verification as the gateway published it."""

    request_id: str
    command: str
    vehicle: str = ""
    counter: int | None = None
    describe: str = ""
    outcome: str | None = None  # COMPLETED, FAILED, TIMEOUT or REFUSED once over
    reason: str = ""
    stages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.outcome is not None


StageCallback = Callable[[RemoteVerification, dict[str, Any]], None]


class _Wait:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        verification: RemoteVerification,
        on_stage: StageCallback | None,
    ) -> None:
        self.loop = loop
        self.verification = verification
        self.on_stage = on_stage
        self.sent = asyncio.Event()
        self.done: asyncio.Future[RemoteVerification] = loop.create_future()
        self.shown = 0  # stages handed to on_stage (an answer asked again repeats them)
        self.request: str | None = None  # the request as published


class RemoteCommander:
    """``async with RemoteCommander("mqtt://ops:pw@host:1883/LANDER-1") as c:``"""

    def __init__(self, url: str) -> None:
        self.address = parse(url, need_vehicle=True)
        self.url = self.address.url
        self.vehicle = self.address.vehicle
        self._waits: dict[str, _Wait] = {}
        self._lock = threading.Lock()
        self._client: Any = None
        self._subacks: dict[int, Callable[[], None]] = {}
        self._early: set[int] = set()
        self._request_topic = topics.cmd_request(self.vehicle, self.address.account)

    async def __aenter__(self) -> RemoteCommander:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        if self._client is None:
            self._client = await asyncio.to_thread(
                connect,
                self.address,
                "cmd",
                on_connect=self._resubscribe,
                on_message=self._message,
            )
            self._client.on_subscribe = self._subscribed

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)
        for wait in self._waits.values():
            if not wait.done.done():
                wait.done.set_exception(CommandError("the commander was closed"))

    def _resubscribe(self, client: Any) -> None:
        """After a reconnection: listen again, and ask again where each command is (the
        gateway answers a request id it knows with its latest step, never sends it twice)."""
        with self._lock:
            waits = [w for w in self._waits.values() if w.request is not None]
        for wait in waits:
            client.subscribe(topics.cmd_ack(self.vehicle, wait.verification.request_id), qos=1)
            client.publish(self._request_topic, wait.request, qos=1)

    def _message(self, client: Any, userdata: Any, message: Any) -> None:
        request_id = message.topic.rsplit("/", 1)[-1]
        with self._lock:
            wait = self._waits.get(request_id)
        if wait is None or not message.payload:
            return
        try:
            body = json.loads(message.payload)
        except ValueError:
            return
        wait.loop.call_soon_threadsafe(self._ack, wait, body)

    def _ack(self, wait: _Wait, body: dict[str, Any]) -> None:
        v = wait.verification
        if v.done:
            return
        stage = str(body.get("stage", ""))
        v.counter = body.get("counter", v.counter)
        v.describe = body.get("describe", v.describe)
        v.vehicle = str(body.get("vehicle", v.vehicle))
        if stage == "REFUSED":
            v.stages = [{"stage": stage, "reason": body.get("reason", ""), "after_s": 0.0}]
        else:
            v.stages = list(body.get("stages", v.stages))
        wait.sent.set()
        if wait.on_stage is not None:
            if stage == "SENT" and wait.shown == 0:
                wait.shown = -1  # SENT shown once, before any stage
                wait.on_stage(v, {"stage": "SENT", "reason": "", "after_s": 0.0})
            start = max(wait.shown, 0)
            for report in v.stages[start:]:
                wait.on_stage(v, report)
            wait.shown = max(len(v.stages), wait.shown)
        if body.get("final"):
            v.outcome = stage if stage == "REFUSED" else str(v.stages[-1]["stage"])
            v.reason = str(body.get("reason", ""))
            message = body.get("message", "")
            error = _error(v, message)
            if error is None:
                wait.done.set_result(v)
            else:
                wait.done.set_exception(error)

    async def send(
        self,
        name: str,
        /,
        *,
        confirm: bool = False,
        on_stage: StageCallback | None = None,
        request_id: str | None = None,
        **args: Any,
    ) -> RemoteVerification:
        """Ask the gateway to send a command; its verification once completed."""
        await self.start()
        client = self._client
        request_id = request_id or uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        wait = _Wait(loop, RemoteVerification(request_id, name.upper()), on_stage)
        with self._lock:
            self._waits[request_id] = wait
        try:
            subscribed = asyncio.Event()
            result, mid = client.subscribe(topics.cmd_ack(self.vehicle, request_id), qos=1)

            def acknowledged() -> None:
                loop.call_soon_threadsafe(subscribed.set)

            self._on_suback(mid, acknowledged)
            await asyncio.wait_for(subscribed.wait(), ANSWER_TIMEOUT)
            request = {"id": request_id, "command": name, "args": args, "confirm": confirm}
            wait.request = json.dumps(request, default=str)
            client.publish(self._request_topic, wait.request, qos=1)
            try:
                await asyncio.wait_for(wait.sent.wait(), ANSWER_TIMEOUT)
            except TimeoutError:
                raise CommandTimeout(
                    f"{name}: no answer from a command gateway on {self.url} within "
                    f"{ANSWER_TIMEOUT:g} s: is `lander ground` running there?"
                ) from None
            try:
                return await asyncio.wait_for(asyncio.shield(wait.done), END_TIMEOUT)
            except TimeoutError:
                raise CommandTimeout(
                    f"{name}: the gateway said nothing more within {END_TIMEOUT:g} s"
                ) from None
        finally:
            with self._lock:
                self._waits.pop(request_id, None)
            if self._client is not None:
                self._client.unsubscribe(topics.cmd_ack(self.vehicle, request_id))

    def _subscribed(self, client: Any, userdata: Any, mid: int, *rest: Any) -> None:
        with self._lock:
            callback = self._subacks.pop(mid, None)
            if callback is None:
                self._early.add(mid)  # came before send() registered it
        if callback is not None:
            callback()

    def _on_suback(self, mid: int, callback: Callable[[], None]) -> None:
        with self._lock:
            if mid not in self._early:
                self._subacks[mid] = callback
                return
            self._early.discard(mid)
        callback()


def _error(v: RemoteVerification, message: str) -> CommandError | None:
    if v.outcome == "COMPLETED":
        return None
    if v.outcome == "REFUSED":
        if v.reason == "CONFIRMATION_REQUIRED":
            return ConfirmationRequired(message)
        return CommandRefused(f"the gateway refused {v.command}: {v.reason}: {message}")
    last = v.stages[-1] if v.stages else {}
    if v.outcome == "TIMEOUT":
        return CommandTimeout(
            f"{v.command}: no {last.get('reason', '')} in time (counter {v.counter})"
        )
    why = last.get("reason", "")
    if last.get("context"):
        why = f"{why} {last['context']}"
    return CommandFailed(f"{v.command} failed: {why} (counter {v.counter})")
