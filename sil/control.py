"""The virtual board's control protocol with the VM, pure: jobs out, messages in.

Why: the board (sil/board.py) and the agent inside the VM (sil/agent.py, and the firmware's
hal.py on the unix port) talk over the VM's pipes. Like sil/repl.py this module does no I/O,
so every byte of that protocol is tested without a process.

To the VM's stdin go jobs, each framed so that serial bytes the code left unread are skipped:
    MAGIC (8 bytes) | kind (1 byte: f=file, x=exec, s=single) | length (4 bytes BE) | body
From the VM's stderr come lines; those starting with ``@vb `` are messages, any other line
is the VM's own output (a traceback of the agent, a print to stderr), kept for the log:
    @vb hello <banner>            the VM is up, flash mounted
    @vb run                       a job started: a Ctrl-C may now interrupt it (SIGINT)
    @vb done ok|exit|exc <hex>    the job ended; exc carries the traceback text, hex-encoded
    @vb rx                        the 0x03 serial RX is held after was data (firmware/hal.py)
    @vb kbd <c>                   micropython.kbd_intr(c) was called
    @vb wdt <ms>                  the firmware started the watchdog
    @vb feed                      ... and fed it
    @vb led <0|1>                 the LED
    @vb reset                     machine.reset(): the host does a hard reset
"""

from __future__ import annotations

from dataclasses import dataclass

from .repl import Job, Outcome

__all__ = [
    "MAGIC",
    "LINE_LIMIT",
    "job_frame",
    "ControlReader",
    "Message",
    "Hello",
    "Started",
    "Done",
    "RxWasData",
    "KbdIntr",
    "WatchdogStart",
    "WatchdogFeed",
    "Led",
    "MachineReset",
    "Output",
    "Malformed",
]

MAGIC = b"\xf0\x9fVB\x1d\xe4\x8b\xc7"  # must equal MAGIC in sil/agent.py
KINDS = {Job.BOOT: b"f", Job.MAIN: b"f", Job.LINE: b"s", Job.PASTE: b"x", Job.RAW: b"x"}
OUTCOMES = {b"ok": Outcome.OK, b"exc": Outcome.EXC, b"exit": Outcome.EXIT}
LINE_LIMIT = 1 << 16  # no message is longer: a longer line is the VM's output, cut there
LOST = b"(the board lost this error)\n"  # the traceback of a garbled `done exc`


def job_frame(job: Job, source: bytes) -> bytes:
    """A job for the agent: MAGIC, kind, 4-byte big-endian length, body."""
    return MAGIC + KINDS[job] + len(source).to_bytes(4, "big") + source


@dataclass(frozen=True)
class Hello:
    version: bytes  # the banner's version text, as the REPL shows it


@dataclass(frozen=True)
class Started:
    """A job started running."""


@dataclass(frozen=True)
class Done:
    outcome: Outcome
    traceback: bytes = b""


@dataclass(frozen=True)
class RxWasData:
    """The 0x03 that made the board hold serial RX was data: go on."""


@dataclass(frozen=True)
class KbdIntr:
    char: int  # -1: no interrupt character


@dataclass(frozen=True)
class WatchdogStart:
    ms: int


@dataclass(frozen=True)
class WatchdogFeed:
    pass


@dataclass(frozen=True)
class Led:
    on: bool


@dataclass(frozen=True)
class MachineReset:
    pass


@dataclass(frozen=True)
class Output:
    """A stderr line that is no message."""

    text: str


@dataclass(frozen=True)
class Malformed:
    """A message the board cannot understand; logged, never acted on."""

    line: bytes


Message = (
    Hello
    | Started
    | Done
    | RxWasData
    | KbdIntr
    | WatchdogStart
    | WatchdogFeed
    | Led
    | MachineReset
    | Output
    | Malformed
)


def parse(line: bytes) -> Message:
    """One stderr line (without its newline) as a message."""
    if not line.startswith(b"@vb "):
        return Output(line.decode(errors="replace"))
    what, _, arg = line[4:].rstrip(b"\r").partition(b" ")
    try:
        match what:
            case b"hello":
                return Hello(arg)
            case b"run":
                return Started()
            case b"done":
                status, _, hexed = arg.partition(b" ")
                if status not in OUTCOMES:
                    return Done(Outcome.EXC, LOST)
                return Done(OUTCOMES[status], bytes.fromhex(hexed.decode()))
            case b"rx":
                return RxWasData()
            case b"kbd":
                return KbdIntr(int(arg))
            case b"wdt":
                return WatchdogStart(max(1, int(arg)))
            case b"feed":
                return WatchdogFeed()
            case b"led":
                return Led(arg.strip() not in (b"0", b"", b"False", b"off"))
            case b"reset":
                return MachineReset()
    except ValueError:
        if what == b"done":
            return Done(Outcome.EXC, LOST)
    return Malformed(line)


class ControlReader:
    """The VM's stderr, fed in whatever pieces the pipe gives, as messages."""

    def __init__(self) -> None:
        self._line = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._line += data
        if len(self._line) > LINE_LIMIT and b"\n" not in self._line:
            self._line += b"\n"  # no line that long is a message: log it as it is
        messages = []
        while (end := self._line.find(b"\n")) >= 0:
            messages.append(parse(bytes(self._line[:end])))
            del self._line[: end + 1]
        return messages
