"""Command history: what was sent, by whom, when, and every verification stage.

One JSON object per line, appended when a command's verification ends (completed, failed,
timed out, or abandoned when the link closed), to ``$LANDER_HISTORY`` or
``~/.local/share/lander/history.jsonl``. It will move into the archive when there is one; the
record's fields are meant to stay. The key never appears in it: only its id.

A record::

    {"time": "2026-11-28T04:21:07.120Z", "user": "ops", "host": "gs1", "vehicle": "LANDER-1",
     "link": "serial:///dev/ttyACM0", "command": "SET_TM_RATE", "code": 16,
     "args": {"packet": "NAV", "hz": 20.0}, "key_id": 1, "counter": 17, "seq": 17,
     "packet": "1900c011...", "outcome": "COMPLETED", "reason": "",
     "stages": [{"stage": "ACCEPTED", "reason": "NONE", "after_s": 0.011, "vehicle_time": 12.3},
                ...]}
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import OperationFailed
from .verifier import Verification

__all__ = ["CommandHistory", "HistoryError", "default_path"]


class HistoryError(OperationFailed):
    """The history file cannot be written (a full disk, a folder, no permission)."""


def default_path() -> Path:
    """$LANDER_HISTORY, else $XDG_DATA_HOME/lander/history.jsonl (~/.local/share/...)."""
    if env := os.environ.get("LANDER_HISTORY"):
        return Path(env)
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "lander" / "history.jsonl"


def operator() -> str:
    """Who is commanding: the operating-system user (its uid where it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return str(os.getuid())


class CommandHistory:
    """Appends one line per command; ``records()`` reads them back."""

    def __init__(
        self, path: Path | None = None, *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path if path is not None else default_path()
        self._user = operator()
        self._host = socket.gethostname()
        self._wall = wall_clock

    def record(
        self,
        verification: Verification,
        *,
        link: str,
        vehicle: str,
        released_ago: float = 0.0,
        requester: str | None = None,
    ) -> dict[str, Any]:
        """Append the record of a verification (its outcome so far) and return it;
        HistoryError when the file cannot take it.

        ``released_ago``: seconds since the release (stage times are on the commander's
        monotonic clock; the record is dated on the wall clock).
        ``requester``: who asked, when a command gateway sent it for someone (their broker
        account); ``user`` and ``host`` are then the gateway's.
        """
        tc = verification.telecommand
        entry = {
            "time": _iso(self._wall() - released_ago),
            "user": self._user,
            "host": self._host,
            "vehicle": vehicle,
            "link": link,
            "command": tc.name,
            "code": tc.code,
            "args": tc.args,
            "key_id": tc.key_id,
            "counter": tc.counter,
            "seq": tc.seq,
            "packet": tc.packet.hex(),
            "outcome": verification.outcome or "UNVERIFIED",
            "reason": verification.reason,
            "stages": [s.to_dict() for s in verification.stages],
        }
        if requester is not None:
            entry["requester"] = requester
        line = json.dumps(entry, allow_nan=False, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
        except OSError as exc:
            raise HistoryError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return entry

    def records(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _iso(seconds: float) -> str:
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
