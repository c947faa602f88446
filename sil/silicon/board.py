"""A silicon board: MicroPython's rp2 port on an emulated RP2040, behind a pseudo-terminal.

Why: the virtual board (sil/board.py) runs the firmware on the unix port, so the rp2 branch
of the hardware layer, a Pico's heap and its speed stay untested. Here the real boot ROM
starts the real MicroPython image for the Pico on an instruction-level RP2040 (npm
``rp2040js``, driven by sil/silicon/runner.mjs), and its USB-CDC console is a pty that
pyserial, mpremote and ``lander flash`` open as they open /dev/ttyACM0, and optionally a TCP
port (``socket://127.0.0.1:PORT``). The flash is a 2 MiB file, kept across runs: a board
started on the same file finds its filesystem as it left it.

How: the runner is a node process; one thread here moves bytes between it and the ports
(frames on its stdin/stdout, see sil/silicon/wire.py) and follows its events (a boot, the
USB console up). Like a Pico's USB-CDC: what the board sends while no program has the port
open is dropped; what a program sends waits in the runner until the board reads it.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from . import wire
from .images import BOOTROM, MICROPYTHON, locate

__all__ = ["SiliconBoard", "SiliconError", "find_node", "RUNNER", "FLASH_BYTES"]

log = logging.getLogger("sil.silicon")

RUNNER = Path(__file__).resolve().with_name("runner.mjs")
FLASH_BYTES = 2 * 1024 * 1024  # a Pico's W25Q16 flash
BOOT_TIMEOUT = 30.0  # s: for the USB console to come up after a reset
QUEUE_LIMIT = 1 << 16  # bytes queued towards the runner before the ports are not read
TX_TIMEOUT = 0.5  # s: console output a reader does not take is dropped after this
RECONNECT_POLL = 0.05  # s: how often a closed pty is checked for a new reader

_prctl: Callable[..., int] | None
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


class SiliconError(RuntimeError):
    """The silicon board cannot run (no node, no runner packages, no binaries, ...)."""


def find_node() -> str:
    """The node executable, with the runner's packages installed beside runner.mjs."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise SiliconError(
            "node is not installed: the silicon board runs the RP2040 emulator on node "
            "(apt-get install nodejs npm, then `make silicon`)"
        )
    if not (RUNNER.parent / "node_modules" / "rp2040js" / "package.json").is_file():
        raise SiliconError(
            f"the RP2040 emulator is not installed in {RUNNER.parent}: run `make silicon` "
            f"(npm ci --prefix {RUNNER.parent})"
        )
    return node


def _die_with_parent() -> None:
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no emulator outlives its host


class _Pty:
    """One end of a serial line as a pty: the master side, and whether a program has the
    slave open (a hang-up on the master means nobody has)."""

    def __init__(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        self.fd = master
        self.connected = False
        self.check_at = 0.0
        self.tx = bytearray()
        self.tx_since = 0.0

    def check(self, now: float) -> None:
        probe = select.poll()
        probe.register(self.fd, select.POLLIN)
        self.connected = not any(ev & select.POLLHUP for _, ev in probe.poll(0))
        self.check_at = now + RECONNECT_POLL

    def send(self, data: bytes, now: float) -> None:
        if not self.connected:
            self.check(now)
            if not self.connected:
                return  # nobody has the port open: the board's output is lost, as on a Pico
        if not self.tx:
            self.tx_since = now
        self.tx += data
        self.flush(now)

    def flush(self, now: float) -> None:
        while self.tx:
            try:
                n = os.write(self.fd, self.tx[:QUEUE_LIMIT])
            except BlockingIOError:
                break
            except OSError:
                self.hang_up(now)
                return
            del self.tx[:n]
            self.tx_since = now
        if self.tx and now - self.tx_since > TX_TIMEOUT:
            self.tx.clear()  # the reader stopped reading

    def read(self, now: float) -> bytes:
        try:
            data = os.read(self.fd, QUEUE_LIMIT)
        except BlockingIOError:
            return b""
        except OSError:  # EIO: the last program that had it open closed it
            self.hang_up(now)
            return b""
        if not data:
            self.hang_up(now)
        return data

    def hang_up(self, now: float) -> None:
        self.connected = False
        self.tx.clear()
        self.check_at = now + RECONNECT_POLL

    def close(self) -> None:
        os.close(self.fd)


class SiliconBoard:
    """A Raspberry Pi Pico made of an emulated RP2040, MicroPython's rp2 port and a pty.

    Example:
        with SiliconBoard("pico.flash") as board:
            serial.Serial(board.port)  # or: mpremote connect <board.port> ls
    """

    def __init__(
        self,
        flash: str | os.PathLike[str],
        *,
        rp2_dir: str | os.PathLike[str] | None = None,
        install_micropython: bool | None = None,
        tcp: bool = False,
        fast: bool = False,
        temperature: float = 27.0,
        serial_number: str | None = None,
    ) -> None:
        """``flash`` is the board's flash file, made (with MicroPython on it) when missing.
        ``install_micropython`` writes the MicroPython image over it (default: when it is
        new). ``tcp`` also serves the console on a loopback TCP port (``url``). ``fast``
        skips idle time instead of waiting it out: only for runs where no host waits."""
        self.flash = Path(flash).resolve()
        self._rp2_dir = rp2_dir
        self._install = (
            not self.flash.exists() if install_micropython is None else (install_micropython)
        )
        self._tcp = tcp
        self._fast = fast
        self._temperature = temperature
        self._serial = serial_number or hashlib.sha256(bytes(self.flash)).hexdigest()[:16]
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._console: _Pty | None = None
        self._uart: _Pty | None = None
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._wake = (-1, -1)
        self._outbox = bytearray()  # frames for the runner's stdin
        self._deframer = wire.Deframer()
        self._stopping = False
        self.boots = 0  # chips the runner has started (power on, resets, watchdog)
        self.causes: list[str] = []  # why each boot happened: power, run, watchdog
        self._usb = 0  # the last boot whose USB console came up
        self._stats: dict[str, Any] | None = None
        self._failure: str | None = None
        self._stderr_tail: list[str] = []

    # -- public API ------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The USB-CDC console's serial port (the pty slave), e.g. /dev/pts/7."""
        if self._console is None:
            raise SiliconError("the board is not started")
        return self._console.path

    @property
    def uart_port(self) -> str:
        """UART0 (GP0 TX, GP1 RX) as a second pty."""
        if self._uart is None:
            raise SiliconError("the board is not started")
        return self._uart.path

    @property
    def url(self) -> str:
        """The console as a pyserial URL: the TCP port when ``tcp``, else the pty."""
        if self._listener is not None:
            return f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        return self.port

    def start(self, timeout: float = BOOT_TIMEOUT) -> SiliconBoard:
        """Start the emulator and wait until the board's USB console is up."""
        if self._thread is not None:
            raise SiliconError("a silicon board starts once")
        node = find_node()
        argv = [
            node,
            str(RUNNER),
            "--bootrom",
            str(locate(BOOTROM, self._rp2_dir)),
            "--flash",
            str(self.flash),
            "--serial",
            self._serial,
            "--temp",
            str(self._temperature),
        ]
        if self._install:
            argv += ["--uf2", str(locate(MICROPYTHON, self._rp2_dir))]
        if self._fast:
            argv.append("--fast")
        self.flash.parent.mkdir(parents=True, exist_ok=True)
        self._console, self._uart = _Pty(), _Pty()
        if self._tcp:
            self._listener = socket.create_server(("127.0.0.1", 0))
            self._listener.setblocking(False)
        self._wake = os.pipe()
        os.set_blocking(self._wake[0], False)
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._thread = threading.Thread(target=self._run, name=f"silicon {self.port}", daemon=True)
        self._thread.start()
        try:
            self.wait_console(1, timeout)
        except BaseException:
            self.stop()
            raise
        log.info("silicon Pico on %s, flash %s", self.port, self.flash)
        return self

    def stop(self) -> None:
        """Stop the emulator (the flash file keeps what was written) and close the ports."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping = True
            self._poke()
            thread.join(10)
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for f in (proc.stdin, proc.stdout, proc.stderr):
                if f is not None:
                    f.close()
        for pty in (self._console, self._uart):
            if pty is not None:
                pty.close()
        for sock in (self._client, self._listener):
            if sock is not None:
                sock.close()
        for fd in self._wake:
            if fd >= 0:
                os.close(fd)
        self._console = self._uart = None
        self._client = self._listener = None
        self._wake = (-1, -1)

    def wait_console(self, boot: int | None = None, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until boot number ``boot`` (default: the latest) has its USB console up."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: (
                    self._failure or (self._usb >= (boot or self.boots) and self._usb == self.boots)
                ),
                timeout,
            )
            if self._failure:
                raise SiliconError(self._failure)
            if not ok:
                raise TimeoutError(f"the silicon board's USB console was not up in {timeout} s")

    def reset(self, power: bool = False, timeout: float = BOOT_TIMEOUT) -> None:
        """Press the RUN button (or cycle the power): the chip restarts, the flash stays.
        Returns once the console is up again."""
        target = self.boots + 1
        self._control("reset power" if power else "reset run")
        self.wait_console(target, timeout)

    def set_temperature(self, celsius: float) -> None:
        """The die temperature the sensor on ADC 4 reads."""
        self._control(f"temp {celsius}")

    def stats(self, timeout: float = 5.0) -> dict[str, Any]:
        """Emulated time of this boot (``nanos``) and the CPU's busy cycles over all boots."""
        with self._cond:
            self._stats = None
        self._control("stats")
        with self._cond:
            if not self._cond.wait_for(lambda: self._stats or self._failure, timeout):
                raise TimeoutError("the silicon runner did not answer")
            if self._failure:
                raise SiliconError(self._failure)
            assert self._stats is not None
            return self._stats

    def __enter__(self) -> SiliconBoard:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _control(self, line: str) -> None:
        if self._thread is None:
            raise SiliconError("the board is not started")
        with self._cond:
            self._outbox += wire.frame(wire.CONTROL, line.encode())
        self._poke()

    def _poke(self) -> None:
        try:
            os.write(self._wake[1], b"!")
        except OSError:
            pass

    # -- the board's thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping and self._turn():
                pass
        except Exception as e:  # a bug here must not leave a caller waiting
            log.exception("silicon board failed")
            self._fail(f"silicon board failed: {e!r}")

    def _turn(self) -> bool:
        proc, console, uart = self._proc, self._console, self._uart
        assert proc and proc.stdin and proc.stdout and proc.stderr and console and uart
        now = time.monotonic()
        poller = select.poll()
        poller.register(self._wake[0], select.POLLIN)
        poller.register(proc.stdout.fileno(), select.POLLIN)
        poller.register(proc.stderr.fileno(), select.POLLIN)
        with self._cond:
            room = len(self._outbox) < QUEUE_LIMIT
            if self._outbox:
                poller.register(proc.stdin.fileno(), select.POLLOUT)
        for pty in (console, uart):
            if pty.connected:
                poller.register(
                    pty.fd, (select.POLLIN if room else 0) | (select.POLLOUT * bool(pty.tx))
                )
        if self._listener is not None and self._client is None:
            poller.register(self._listener.fileno(), select.POLLIN)
        if self._client is not None and room:
            poller.register(self._client.fileno(), select.POLLIN)
        idle = [p.check_at for p in (console, uart) if not p.connected]
        idle += [p.tx_since + TX_TIMEOUT for p in (console, uart) if p.tx]
        timeout = max(0, int((min(idle) - now) * 1000) + 1) if idle else None
        events = dict(poller.poll(timeout))
        now = time.monotonic()
        if events.get(self._wake[0]):
            try:
                os.read(self._wake[0], 512)
            except BlockingIOError:
                pass
        if events.get(proc.stderr.fileno()):
            self._read_stderr(proc)
        if events.get(proc.stdout.fileno()):
            data = os.read(proc.stdout.fileno(), 1 << 16)
            if not data:
                return self._runner_exited(proc)
            for kind, payload in self._deframer.feed(data):
                self._from_runner(kind, payload, now)
        for pty, kind in ((console, wire.CDC), (uart, wire.UART)):
            if not pty.connected and now >= pty.check_at:
                pty.check(now)
            if pty.connected and events.get(pty.fd):
                if data := pty.read(now):
                    self._to_runner(kind, data)
                pty.flush(now)
        self._serve_tcp(events)
        with self._cond:
            if self._outbox:
                try:
                    n = os.write(proc.stdin.fileno(), self._outbox)
                    del self._outbox[:n]
                except BlockingIOError:
                    pass
                except OSError:
                    return self._runner_exited(proc)
        return True

    def _serve_tcp(self, events: dict[int, int]) -> None:
        if self._listener is not None and events.get(self._listener.fileno()):
            try:
                self._client, _ = self._listener.accept()
                self._client.setblocking(False)
            except BlockingIOError:
                pass
        client = self._client
        if client is not None and events.get(client.fileno()):
            try:
                data = client.recv(QUEUE_LIMIT)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if data:
                self._to_runner(wire.CDC, data)
            else:
                client.close()
                self._client = None

    def _to_runner(self, kind: bytes, data: bytes) -> None:
        with self._cond:
            self._outbox += wire.frame(kind, data)

    def _from_runner(self, kind: bytes, payload: bytes, now: float) -> None:
        assert self._console and self._uart
        if kind == wire.CDC:
            self._console.send(payload, now)
            if self._client is not None:
                try:
                    self._client.sendall(payload)
                except OSError:
                    self._client.close()
                    self._client = None
        elif kind == wire.UART:
            self._uart.send(payload, now)
        elif kind == wire.EVENT:
            self._event(json.loads(payload))

    def _event(self, event: dict[str, Any]) -> None:
        with self._cond:
            match event.get("ev"):
                case "boot":
                    self.boots = event["boot"]
                    self.causes.append(event["cause"])
                    log.info("%s: boot %d (%s)", self.port, self.boots, event["cause"])
                case "usb":
                    self._usb = event["boot"]
                case "stats":
                    self._stats = event
            self._cond.notify_all()

    def _read_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr
        data = os.read(proc.stderr.fileno(), 1 << 16)
        for line in data.decode(errors="replace").splitlines():
            self._stderr_tail = [*self._stderr_tail[-19:], line]
            log.debug("%s: %s", self._console.path if self._console else "runner", line)

    def _runner_exited(self, proc: subprocess.Popen[bytes]) -> bool:
        code = proc.wait()
        if not self._stopping:
            tail = "\n".join(self._stderr_tail)
            self._fail(f"the RP2040 emulator exited with code {code}:\n{tail}")
        return False

    def _fail(self, why: str) -> None:
        with self._cond:
            self._failure = why
            self._cond.notify_all()
