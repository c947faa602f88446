"""The team's commands: every request the ground segment's command gateway answers for the
vehicle, whoever asked, so that an operator sees another's ARM as it goes out.

Sans-I/O: the gateway's acknowledgements (the JSON it publishes on ``cmd/ack/<id>``) go in,
one :class:`~ground.console.state.CommandRecord` per request comes out, named by who asked.
The requests this console made itself are left to its own path (they are already shown).
"""

from __future__ import annotations

from typing import Any

from ..verifier import StageReport
from .state import CommandRecord

__all__ = ["TeamCommands", "stage_report"]


def stage_report(report: dict[str, Any], now: float) -> StageReport:
    """A stage as the gateway publishes it (``StageReport.to_dict``), received at ``now``."""
    return StageReport(
        str(report.get("stage", "")),
        str(report.get("reason", "")),
        now,
        float(report.get("after_s", 0.0)),
        None,
        str(report.get("context", "")),
    )


class TeamCommands:
    """Other operators' requests, by request id."""

    def __init__(self) -> None:
        self.records: dict[str, CommandRecord] = {}
        #: ids of the requests this console made (shown by their own path)
        self.own: set[str] = set()

    def ack(self, body: dict[str, Any], now: float) -> tuple[CommandRecord, bool] | None:
        """One acknowledgement; the record it updated and whether it is new, or None when
        it is not another operator's (or not an acknowledgement at all)."""
        request = body.get("id")
        if not isinstance(request, str) or request in self.own or "stage" not in body:
            return None
        record = self.records.get(request)
        new = record is None
        requester = str(body.get("requester", "?"))
        what = str(body.get("describe") or body.get("command", "?"))
        if record is None:
            record = self.records[request] = CommandRecord(
                f"{requester}: {what}", now, gateway=True
            )
        record.text = f"{requester}: {what}"
        record.counter = body.get("counter", record.counter)
        stage = str(body["stage"])
        if stage == "REFUSED":
            record.gateway_outcome = "REFUSED"
            record.refused = f"{body.get('reason', '')}: {body.get('message', '')}"
            return record, new
        stages = body.get("stages")
        if isinstance(stages, list):
            known = len(record.gateway_stages)
            record.gateway_stages += [stage_report(s, now) for s in stages[known:]]
        if body.get("final") and record.gateway_stages:
            record.gateway_outcome = record.gateway_stages[-1].stage
        return record, new
