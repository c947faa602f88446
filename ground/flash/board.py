"""Board: a MicroPython board driven through mpremote's SerialTransport and its raw REPL.

Taking over a running board is where plain mpremote fails most often with "could not enter
raw repl" (micropython#13504, #7417): it sends Ctrl-C and Ctrl-A once, then waits for the
banner. A board that resets when the port opens loses those bytes while it boots; firmware
that floods the port buries the answer (and mpremote's own read_until never times out while
bytes keep coming). `take_over` instead repeats: interrupt (Ctrl-C), poll for a prompt, ask
for the raw REPL (Ctrl-A) and read with its own deadline, until the banner comes or
TAKEOVER_TIMEOUT has passed. It then soft-resets in the raw REPL, so everything after runs
in a fresh VM with main.py stopped, and hands the port to mpremote: `exec`, `fs_writefile`.

Files are hashed on the board with hashlib.sha256 in 256-byte reads, as mpremote's
`sha256sum` does, but every file of a question in one exec rather than two per file.
"""

from __future__ import annotations

import ast
import errno
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import serial
from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from .errors import BoardLost, FlashError, NoSpace
from .ports import why_unavailable

__all__ = ["Board", "BoardInfo", "Survey", "INSTALL_HINT", "TAKEOVER_TIMEOUT"]

TAKEOVER_TIMEOUT = 5.0  # s: a board resetting on open boots within this
PROMPT_WAIT = 0.5  # s: for the friendly prompt after a Ctrl-C
BANNER_WAIT = 1.0  # s: for the raw REPL's banner after a Ctrl-A
REBOOT_WAIT = 15.0  # s: for a soft reset (boot.py runs; a slow or emulated board too)
EXEC_TIMEOUT = 30.0  # s of silence before mpremote gives up (long execs on a slow board)
POLL = 0.05  # s: one read of the port while waiting
CHUNK = 1024  # bytes per raw-REPL write of a file (mpremote's cp uses 256)
HEARD_LIMIT = 1 << 16  # bytes of the board's output kept for a diagnosis
FLOOD_LIMIT = 1 << 16  # bytes the board may send mpremote between two writes
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
INSTALL_HINT = (
    "install MicroPython: hold BOOTSEL while plugging the Pico in, download the UF2 from "
    "https://micropython.org/download/RPI_PICO/ and run `lander flash --uf2 FILE`"
)

# Board-side code. Each prints one Python literal that the host reads back with literal_eval.
_PROBE = """\
import sys, os
m = getattr(sys.implementation, '_machine', '')
if sys.platform == 'rp2' and 'RP2040' in m:
    import machine
    machine.mem32[0x40058000] &= ~(1 << 30)  # pause the watchdog: it survives soft resets
try:
    s = os.statvfs('/')
    fs = (s[0] * s[2], s[0] * s[3])
except (OSError, AttributeError):
    fs = (None, None)
print(repr((sys.implementation.name, sys.version, sys.platform, m,
            getattr(sys.implementation, '_mpy', None)) + fs))
"""
_HASHES = """\
import hashlib, binascii
def _sha(n, b=bytearray(256)):
    h = hashlib.sha256()
    try:
        with open(n, 'rb') as f:
            while True:
                k = f.readinto(b)
                if not k:
                    break
                h.update(memoryview(b)[:k])
    except OSError:
        return None
    return binascii.hexlify(h.digest()).decode()
print(repr({n: _sha(n) for n in %r}))
"""
_SURVEY = """\
import os
def _text(n):
    try:
        with open(n) as f:
            return f.read()
    except OSError:
        return None
print(repr(([e[0] for e in os.ilistdir('/') if e[1] == 0x8000], _text(%r))))
"""
_COMMIT = """\
import os
for a, b in %r:
    try:
        os.rename(a, b)
    except OSError:  # a filesystem that will not rename over a file (FAT)
        os.remove(b)
        os.rename(a, b)
for n in %r:
    try:
        os.remove(n)
    except OSError:
        pass
"""


@dataclass(frozen=True)
class BoardInfo:
    """What the board says about itself after the take-over."""

    implementation: str  # "micropython", "circuitpython", ...
    version: str
    platform: str  # "rp2" on a Pico, "linux" on the virtual board
    machine: str
    mpy: int | None  # sys.implementation._mpy: .mpy version | arch << 10
    fs_size: int | None
    fs_free: int | None

    @property
    def mpy_version(self) -> int | None:
        return None if self.mpy is None else self.mpy & 0xFF


@dataclass(frozen=True)
class Survey:
    """The board's flash before the change: its root's files, their hashes, its manifest."""

    files: frozenset[str]
    hashes: dict[str, str | None]
    manifest: str | None


class _Flooded(Exception):
    """The board sent mpremote more than any answer to its command holds."""


class _FloodGuard:
    """The serial port as mpremote sees it: a read that the board floods ends.

    mpremote waits for an answer until 10 s pass without a byte, so a board that reset in
    the middle of a command and now streams its firmware's telemetry kept `lander flash`
    waiting for ever. No answer the flashing asks for comes near FLOOD_LIMIT bytes."""

    def __init__(self, port: serial.Serial) -> None:
        self._port = port
        self._heard = 0  # bytes read since mpremote last wrote

    def write(self, data: bytes) -> int | None:
        self._heard = 0
        written: int | None = self._port.write(data)
        return written

    def read(self, size: int = 1) -> bytes:
        data: bytes = self._port.read(size)
        self._heard += len(data)
        if self._heard > FLOOD_LIMIT:
            raise _Flooded
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def __setattr__(self, name: str, value: Any) -> None:  # mpremote sets dtr, rts
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._port, name, value)


class Board:
    """One open connection to a MicroPython board (the port is held exclusively)."""

    def __init__(self, port: str) -> None:
        self.port = port
        try:
            self._t = SerialTransport(port, baudrate=115200, timeout=EXEC_TIMEOUT)
        except (TransportError, serial.SerialException, OSError):
            raise FlashError(why_unavailable(port)) from None
        self._serial = self._t.serial
        self._t.serial = _FloodGuard(self._serial)

    def close(self) -> None:
        try:
            self._t.close()
        except (serial.SerialException, OSError):  # the port is gone already
            pass

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- taking over -----------------------------------------------------------------------

    def take_over(self, timeout: float = TAKEOVER_TIMEOUT) -> None:
        """Stop whatever runs and leave the board in a fresh raw REPL."""
        heard = 0
        deadline = time.monotonic() + timeout
        with self._talking("stopping its firmware"):
            while True:
                # interrupt whatever runs; the 0x00 first ends a telecommand frame left
                # half-written, inside which the firmware takes a Ctrl-C for data
                self._serial.write(b"\x00\r\x03")
                heard += len(self._read_until(b">>> ", PROMPT_WAIT)[1])
                self._serial.write(b"\r\x01")  # the raw REPL
                found, data = self._read_until(RAW_BANNER + b">", BANNER_WAIT)
                heard += len(data)
                if found:
                    break
                if time.monotonic() >= deadline:
                    answer = "answers, but not with" if heard else "does not answer with"
                    raise FlashError(
                        f"no MicroPython on the board at {self.port} (it {answer} a REPL "
                        f"prompt): {INSTALL_HINT}"
                    )
            self._serial.write(b"\x04")  # soft reset: a fresh VM, and main.py does not run
            for marker in (b"soft reboot\r\n", RAW_BANNER):
                if not self._read_until(marker, REBOOT_WAIT)[0]:
                    raise FlashError(f"the board at {self.port} did not come back from a reset")
        self._t.in_raw_repl = True  # the ">" prompt is left for mpremote's exec to read

    def _read_until(self, marker: bytes, seconds: float) -> tuple[bool, bytes]:
        """Read byte by byte until ``marker`` or ``seconds`` pass, however much arrives."""
        data = bytearray()
        end = time.monotonic() + seconds
        self._serial.timeout = POLL
        try:
            while time.monotonic() < end:
                byte = self._serial.read(1)
                if byte:
                    data += byte
                    if data.endswith(marker):
                        return True, bytes(data)
                    if len(data) > HEARD_LIMIT:
                        del data[: len(data) - len(marker)]
            return False, bytes(data)
        finally:
            self._serial.timeout = EXEC_TIMEOUT

    # -- questions and changes -------------------------------------------------------------

    def probe(self) -> BoardInfo:
        with self._talking("asking what it runs"):
            return BoardInfo(*self._literal(_PROBE))

    def hashes(self, names: list[str]) -> dict[str, str | None]:
        """SHA-256 (hex) of each file, None for a missing one."""
        with self._talking("reading hashes back"):
            hashes: dict[str, str | None] = self._literal(_HASHES % (names,))
        return hashes

    def survey(self, names: list[str], manifest: str) -> Survey:
        with self._talking("looking at its files"):
            files, text = self._literal(_SURVEY % (manifest,))
            hashes = self._literal(_HASHES % (names,))
        return Survey(frozenset(files), hashes, text)

    def write(
        self, name: str, data: bytes, progress: Callable[[int], None], label: str = ""
    ) -> None:
        """Write a file with mpremote; ``progress`` gets the bytes written so far."""
        with self._talking(f"copying {label or name}"):
            try:
                self._t.fs_writefile(
                    name, data, chunk_size=CHUNK, progress_callback=lambda n, _: progress(n)
                )
            except OSError as exc:
                if exc.errno != errno.ENOSPC or isinstance(exc, serial.SerialException):
                    raise
                self._close_open_file()
                raise NoSpace(f"the board's filesystem is full (writing {label or name})") from None

    def _close_open_file(self) -> None:
        # mpremote's fs_writefile leaves `f` open when a write fails
        try:
            self._t.exec("f.close()")
        except TransportExecError:
            pass

    def commit(self, moves: list[tuple[str, str]], removals: list[str]) -> None:
        """Rename each (staged, final) pair, then remove ``removals``, in one exec."""
        with self._talking("switching to the new files"):
            self._t.exec(_COMMIT % (moves, removals))

    def remove(self, names: list[str]) -> None:
        with self._talking("removing files"):
            self._t.exec(_COMMIT % ([], names))

    @property
    def in_raw_repl(self) -> bool:
        return bool(self._t.in_raw_repl)

    def restart(self) -> None:
        """Leave the raw REPL and soft-reset from the friendly one, so main.py runs."""
        with self._talking("restarting it"):
            self._t.exit_raw_repl()
            if not self._read_until(b">>> ", REBOOT_WAIT)[0]:
                raise FlashError(f"the board at {self.port} did not leave the raw REPL")
            self._serial.write(b"\x04")

    def read(self, timeout: float) -> bytes:
        """What the board sends within ``timeout`` seconds (its firmware's output)."""
        with self._talking("listening to it"):
            self._serial.timeout = timeout
            try:
                data: bytes = self._serial.read(max(1, self._serial.in_waiting))
                return data
            finally:
                self._serial.timeout = EXEC_TIMEOUT

    # -- plumbing --------------------------------------------------------------------------

    def _literal(self, code: str) -> Any:
        out = self._t.exec(code)
        try:
            return ast.literal_eval(out.decode().strip())
        except (UnicodeDecodeError, ValueError, SyntaxError):
            # Not the answer asked for: the board reset (watchdog, power) mid-command and
            # what came back is its boot output or telemetry.
            raise BoardLost(
                f"the board at {self.port} answered {out[:40]!r}, not what was asked (a reset?)"
            ) from None

    @contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        """Turn what pyserial and mpremote raise into one line about the board."""
        try:
            yield
        except FlashError:
            raise
        except _Flooded:
            raise BoardLost(
                f"the board at {self.port} sent a stream, not an answer, while {doing} (a "
                "reset, and its firmware running?)"
            ) from None
        except (TransportExecError, UnicodeDecodeError) as exc:
            # Not an error of the command (a traceback) but boot output or telemetry, which
            # mpremote may also fail to decode: the board reset mid-command.
            if isinstance(exc, UnicodeDecodeError) or "Traceback" not in exc.error_output:
                raise BoardLost(
                    f"the board at {self.port} answered something else while {doing} (a reset?)"
                ) from None
            lines = exc.error_output.strip().splitlines() or ["(no message)"]
            raise FlashError(f"the board failed while {doing}: {lines[-1]}") from None
        except serial.SerialException:
            raise BoardLost(f"lost the board at {self.port} while {doing} (unplugged?)") from None
        except TransportError:
            raise BoardLost(f"the board at {self.port} stopped answering while {doing}") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise BoardLost(f"lost the board at {self.port} while {doing} ({reason})") from None
