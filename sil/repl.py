"""The Pico's REPL as a pure state machine: bytes and VM outcomes in, actions out.

Why: the MicroPython unix VM has no raw REPL, yet mpremote, pyserial users and people at a
terminal expect exactly what a Raspberry Pi Pico says on its USB serial port (rp2 port,
shared/runtime/pyexec.c and shared/readline/readline.c). So the host speaks the REPL and the
VM only executes. Like h11, this module does no I/O and reads no clock: the board
(sil/board.py) feeds it serial bytes with `receive`, tells it how code it ran ended with
`finished`, and carries out the returned actions (send bytes, run code in the VM, feed serial
bytes to running code, interrupt it, soft-reset). That keeps every byte of the protocol
testable without processes or a pty.

States:
    RUNNING    code runs in the VM (boot.py, main.py, a REPL line, a raw-REPL block);
               serial RX is its stdin, except the keyboard-interrupt character
    FRIENDLY   the ">>> " prompt with line editing
    PASTE      friendly paste mode (Ctrl-E)
    RAW        the raw REPL mpremote drives: collect bytes until Ctrl-D
    RAW_PASTE  raw-paste mode: flow-controlled upload, ends with Ctrl-D
    RESET      between two VMs (a soft reset under way); consumes nothing
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import Enum

CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E = 1, 2, 3, 4, 5
CR, BS, TAB, ESC, DEL = 13, 8, 9, 27, 127

PS1 = b">>> "
PS2 = b"... "
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT = b"MPY: soft reboot\r\n"
PASTE_BANNER = b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "
RAW_PASTE_WINDOW = 128  # half of MICROPY_REPL_STDIN_BUFFER_MAX (256), as pyexec.c announces
MACHINE = b"Raspberry Pi Pico (virtual) with RP2040"
COMPOUND = (b"if", b"while", b"for", b"try", b"with", b"def", b"class", b"async")


class State(Enum):
    RUNNING = "running"
    FRIENDLY = "friendly"
    PASTE = "paste"
    RAW = "raw"
    RAW_PASTE = "raw-paste"
    RESET = "reset"


class Mode(Enum):
    """Which REPL the board returns to; survives a soft reset, a hard reset clears it."""

    FRIENDLY = "friendly"
    RAW = "raw"


class Job(Enum):
    BOOT = "boot.py"
    MAIN = "main.py"
    LINE = "line"  # one friendly-REPL input, compiled in 'single' mode
    PASTE = "paste"  # a friendly paste-mode block
    RAW = "raw"  # a raw or raw-paste block


class Outcome(Enum):
    OK = "ok"
    EXC = "exc"  # an exception, with its traceback text
    EXIT = "exit"  # SystemExit: a soft reset on the rp2 port


@dataclass(frozen=True)
class Send:
    """Bytes for the serial port (TX)."""

    data: bytes


@dataclass(frozen=True)
class Run:
    """Run code in the VM: a file name for BOOT/MAIN, source text otherwise."""

    job: Job
    source: bytes


@dataclass(frozen=True)
class Feed:
    """Serial RX for the running code's stdin."""

    data: bytes


@dataclass(frozen=True)
class Interrupt:
    """The keyboard-interrupt character arrived while code runs."""


@dataclass(frozen=True)
class SoftReset:
    """Start a fresh VM, then call `Repl.boot()`."""


Action = Send | Run | Feed | Interrupt | SoftReset


def continues(src: bytes) -> bool:
    """Whether a friendly-REPL input needs another line (py/repl.c's rules)."""
    if not src:
        return False
    word = re.match(rb"\w*", src)
    compound = src.startswith(b"@") or (word is not None and word.group() in COMPOUND)
    depth, quote, i = 0, b"", 0
    while i < len(src):
        c = src[i : i + 1]
        if c in (b"'", b'"'):
            triple = src[i : i + 3] == c * 3
            if not quote and triple:
                quote, i = c * 3, i + 2
            elif quote == c * 3 and triple:
                quote, i = b"", i + 2
            elif not quote:
                quote = c
            elif quote == c:
                quote = b""
        elif c == b"\\" and quote and src[i + 1 : i + 2] in (b"'", b'"', b"\\"):
            i += 1
        elif not quote and c in b"([{":
            depth += 1
        elif not quote and c in b")]}":
            depth -= 1
        i += 1
    if len(quote) == 3 or (depth > 0 and not quote) or src.endswith(b"\\"):
        return True
    return compound and not src.endswith(b"\n")


def auto_indent(text: bytes) -> bytes:
    """Indentation readline offers after `text` (which ends with a newline)."""
    lines = text.split(b"\n")[:-1]
    last = lines[-1]
    if len(lines) > 1 and not last.strip(b" ") and not lines[-2].strip(b" "):
        return b""  # two blank lines end the auto-indent
    depth = (len(last) - len(last.lstrip(b" "))) // 4 + last.endswith(b":")
    return b"    " * depth


def cook(data: bytes) -> bytes:
    """Newlines as a Pico's cooked stdout writes them."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Repl:
    """The REPL of one board. Attributes are read by the board, changed only by methods."""

    def __init__(self, *, autorun: bool = True) -> None:
        self.autorun = autorun
        self.version = b"MicroPython"  # the board sets it from the VM's hello
        self.mode = Mode.FRIENDLY
        self.state = State.RESET
        self.job: Job | None = None
        self.interrupt_char: int | None = CTRL_C
        self.holding = False  # a break-in is waiting for the code to stop
        self._line = bytearray()  # the line being edited
        self._lines = b""  # earlier lines of a compound statement
        self._esc = 0  # position in an escape sequence being skipped
        self._block = bytearray()  # raw REPL / paste mode input
        self._window = RAW_PASTE_WINDOW
        self._handlers = {
            State.FRIENDLY: self._friendly,
            State.PASTE: self._paste,
            State.RAW: self._raw,
            State.RAW_PASTE: self._raw_paste,
        }

    @property
    def banner(self) -> bytes:
        return self.version + b"; " + MACHINE + b'\r\nType "help()" for more information.\r\n'

    @property
    def cooked(self) -> bool:
        """Whether the running code's stdout is for a person at the friendly REPL."""
        return self.state is State.RUNNING and self.job in (Job.LINE, Job.PASTE)

    # -- events from the board -------------------------------------------------------------

    def power_on(self) -> list[Action]:
        """A hard reset: a fresh VM is up. The board forgets raw mode."""
        self.mode = Mode.FRIENDLY
        return self.boot()

    def boot(self) -> list[Action]:
        """A fresh VM is up: run boot.py (then main.py in friendly mode)."""
        self.holding = False
        return [self._run(Job.BOOT, b"boot.py")]

    def halt(self) -> None:
        """The VM is gone and no new one runs yet."""
        self.state, self.job, self.holding = State.RESET, None, False

    def release(self) -> None:
        """The break-in wait is over and the code still runs: pass serial RX on to it."""
        self.holding = False

    def set_interrupt_char(self, char: int | None) -> None:
        self.interrupt_char = char if char is not None and 0 <= char <= 255 else None

    def receive(self, data: bytes) -> tuple[int, list[Action]]:
        """Serial RX. Returns how many bytes were consumed (fewer while holding or in RESET)."""
        out: list[Action] = []
        i = 0
        while i < len(data) and not self.holding and self.state is not State.RESET:
            if self.state is State.RUNNING:
                i = self._running(data, i, out)
            else:
                self._handlers[self.state](data[i], out)
                i += 1
        return i, out

    def finished(self, outcome: Outcome, text: bytes = b"") -> list[Action]:
        """The code the VM ran has ended; `text` is its traceback for Outcome.EXC."""
        if self.state is not State.RUNNING:
            return []
        job, self.job, self.holding = self.job, None, False
        text = cook(text)
        out: list[Action] = []
        if job is Job.RAW:
            out.append(Send(b"\x04" + text + b"\x04"))
            if outcome is Outcome.EXIT:
                self._soft_reset(out)
            else:
                self.state = State.RAW
                out.append(Send(b">"))
            return out
        if text:
            out.append(Send(text))
        if outcome is Outcome.EXIT:
            self._soft_reset(out)
        elif job is Job.BOOT and self.mode is Mode.FRIENDLY and self.autorun:
            out.append(self._run(Job.MAIN, b"main.py"))
        elif job in (Job.BOOT, Job.MAIN):
            self._enter_repl(out)
        else:
            self._prompt(out)
        return out

    # -- RUNNING: serial RX goes to the code ----------------------------------------------

    def _running(self, data: bytes, i: int, out: list[Action]) -> int:
        # The interrupt character (rp2 USB-CDC semantics) is not data: it interrupts the code.
        # A 0x03 that is data ends a chunk too: the firmware may stop on it by itself, and the
        # bytes after it (mpremote's b"\r\x01") must reach the REPL, not the stopped code.
        # Either way the board then holds the rest until the code stops or a timeout passes.
        stops = [j for j in (data.find(bytes([c]), i) for c in self._breaks()) if j >= 0]
        if not stops:
            out.append(Feed(data[i:]))
            return len(data)
        j = min(stops)
        if data[j] == self.interrupt_char:
            if j > i:
                out.append(Feed(data[i:j]))
            out.append(Interrupt())
        else:
            out.append(Feed(data[i : j + 1]))
        self.holding = True
        return j + 1

    def _breaks(self) -> set[int]:
        return {CTRL_C} if self.interrupt_char is None else {CTRL_C, self.interrupt_char}

    # -- FRIENDLY: readline and pyexec_friendly_repl --------------------------------------

    def _friendly(self, c: int, out: list[Action]) -> None:
        if self._esc:
            self._escape(c)
        elif c == CTRL_C:
            out.append(Send(b"\r\n"))
            self._prompt(out)
        elif CTRL_A <= c <= CTRL_E and not self._line:
            self._control(c, out)
        elif c == CR:
            out.append(Send(b"\r\n"))
            self._enter(out)
        elif c in (BS, DEL):
            if self._line:
                n = 4 if len(self._line) >= 4 and not self._line.strip(b" ") else 1
                del self._line[-n:]
                out.append(Send(b"\b" * n + b"\x1b[K"))
        elif c == ESC:
            self._esc = 1
        elif c == TAB:
            if (self._lines + self._line)[-1:] in (b" ", b"\n"):
                self._type(b"    ", out)
        elif 32 <= c <= 126:
            self._type(bytes([c]), out)

    def _control(self, c: int, out: list[Action]) -> None:
        """Ctrl-A/B/D/E on an empty line."""
        if self._lines:  # a continuation line: only Ctrl-D (finish the statement) counts
            if c == CTRL_D:
                self._execute(Job.LINE, self._lines.rstrip(b"\n"), out)
        elif c == CTRL_A:
            self.mode = Mode.RAW
            out.append(Send(b"\r\n"))
            self._enter_repl(out)
        elif c == CTRL_B:
            out.append(Send(b"\r\n"))
            self._enter_repl(out)
        elif c == CTRL_D:
            out.append(Send(b"\r\n"))
            self._soft_reset(out)
        elif c == CTRL_E:
            self.state = State.PASTE
            self._block.clear()
            out.append(Send(PASTE_BANNER))

    def _enter(self, out: list[Action]) -> None:
        src = self._lines + bytes(self._line)
        if not src:
            self._prompt(out)
        elif continues(src):
            self._lines, self._line = src + b"\n", bytearray()
            out.append(Send(PS2))
            self._type(auto_indent(self._lines), out)
        else:
            self._execute(Job.LINE, src, out)

    def _escape(self, c: int) -> None:
        # Arrow keys, Home, End, Delete: recognised and skipped (no cursor movement/history).
        if self._esc == 1:
            self._esc = {ord("["): 2, ord("O"): 4}.get(c, 0)
        elif self._esc == 2 and 48 <= c <= 57:
            self._esc = 3
        else:
            self._esc = 0

    def _type(self, text: bytes, out: list[Action]) -> None:
        if text:
            self._line += text
            out.append(Send(text))

    def _prompt(self, out: list[Action]) -> None:
        self.state = State.FRIENDLY
        self._line, self._lines, self._esc = bytearray(), b"", 0
        out.append(Send(PS1))

    def _paste(self, c: int, out: list[Action]) -> None:
        if c == CTRL_C:
            out.append(Send(b"\r\n"))
            self._prompt(out)
        elif c == CTRL_D:
            out.append(Send(b"\r\n"))
            src = bytes(self._block).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            self._execute(Job.PASTE, src, out)
        else:
            self._block.append(c)
            out.append(Send(b"\r\n=== " if c == CR else bytes([c])))

    # -- RAW and RAW_PASTE: pyexec_raw_repl -----------------------------------------------

    def _raw(self, c: int, out: list[Action]) -> None:
        if c == CTRL_A:
            if len(self._block) == 2 and self._block[0] == CTRL_E:
                if self._block[1] == ord("A"):
                    self.state = State.RAW_PASTE
                    self._window = RAW_PASTE_WINDOW
                    out.append(Send(b"R\x01" + struct.pack("<H", RAW_PASTE_WINDOW) + b"\x01"))
                else:
                    out.append(Send(b"R\x00>"))
            else:
                out.append(Send(RAW_BANNER + b">"))
            self._block.clear()
        elif c == CTRL_B:
            self.mode = Mode.FRIENDLY
            self._block.clear()
            out.append(Send(b"\r\n"))
            self._enter_repl(out)
        elif c == CTRL_C:
            self._block.clear()
        elif c == CTRL_D and not self._block:
            out.append(Send(b"OK\r\n"))
            self._soft_reset(out)
        elif c == CTRL_D:
            out.append(Send(b"OK"))
            self._execute(Job.RAW, bytes(self._block), out)
        else:
            self._block.append(c)

    def _raw_paste(self, c: int, out: list[Action]) -> None:
        if c == CTRL_D:
            out.append(Send(b"\x04"))
            self._execute(Job.RAW, bytes(self._block), out)
        elif c == CTRL_C:
            # the reader raises KeyboardInterrupt while "compiling": no traceback lines
            self.state = State.RAW
            self._block.clear()
            out.append(Send(b"\x04\x04KeyboardInterrupt: \r\n\x04>"))
        else:
            self._block.append(c)
            self._window -= 1
            if self._window == 0:
                self._window = RAW_PASTE_WINDOW
                out.append(Send(b"\x01"))

    # -- transitions ----------------------------------------------------------------------

    def _run(self, job: Job, source: bytes) -> Run:
        # pyexec enables Ctrl-C for every execution, whatever kbd_intr said before
        self.state, self.job, self.interrupt_char = State.RUNNING, job, CTRL_C
        return Run(job, source)

    def _execute(self, job: Job, source: bytes, out: list[Action]) -> None:
        self._block.clear()
        self._line, self._lines = bytearray(), b""
        out.append(self._run(job, source))

    def _enter_repl(self, out: list[Action]) -> None:
        if self.mode is Mode.RAW:
            self.state = State.RAW
            self._block.clear()
            out.append(Send(RAW_BANNER + b">"))
        else:
            out.append(Send(self.banner))
            self._prompt(out)

    def _soft_reset(self, out: list[Action]) -> None:
        self.halt()
        out.append(Send(SOFT_REBOOT))
        out.append(SoftReset())
