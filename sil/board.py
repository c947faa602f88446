"""A virtual Raspberry Pi Pico: the real MicroPython unix VM behind a pseudo-terminal.

Why: with no board at hand, the ground tools must still open a serial port and find a Pico
there. pyserial, mpremote and terminals open the pty's slave path (`VirtualBoard.port`)
exactly as they open /dev/ttyACM0, and get a Pico's behaviour: main.py runs at boot and its
output (binary telemetry included) flows verbatim to the port, Ctrl-C stops it and leaves a
REPL, mpremote drives the raw REPL, a soft reset starts a fresh interpreter, and the flash
filesystem is a folder.

How: a background thread runs one poll loop over the pty master, the VM's three pipes and a
wake-up pipe. The REPL is a pure state machine (sil/repl.py) whose actions this loop carries
out; the VM runs sil/agent.py, which executes jobs and reports on stderr (sil/control.py).
One VM process serves one boot: a soft reset kills it and starts another.

Serial behaviour copied from the rp2 port's USB-CDC stack:
- output written while no program has the port open is dropped (like a Pico without DTR),
  and output the reader does not take within 500 ms is dropped (MICROPY_HW_USB_CDC_TX_TIMEOUT;
  `tx_timeout=None` waits for the reader instead, for a harness that is its own reader);
  otherwise the VM is slowed down, as a USB write would block;
- the keyboard-interrupt character (3 unless the code called `micropython.kbd_intr`) is not
  data while code runs: it interrupts the code (SIGINT to the VM) and drops unread input;
- break-in with kbd_intr(-1): serial RX goes to the code in chunks that end at each 0x03;
  after one, the rest waits up to 300 ms for the code to stop (firmware stops itself on a
  Ctrl-C no telecommand frame can carry, then calls kbd_intr(3) and raises
  KeyboardInterrupt), so mpremote's following b"\\r\\x01" reaches the REPL; or until the
  code says the 0x03 was data (`@vb rx`), as a telecommand's may be;
- a watchdog started by the firmware (`@vb wdt <ms>`, fed by `@vb feed`) hard-resets the
  board when it starves; like the RP2040's, it keeps running across soft resets.

Faults on demand (a full or failing flash, a pulled cable, a reset when the port opens) are
in sil/faults.py; the VM process in sil/vm.py; the messages the VM sends in sil/control.py.
"""

from __future__ import annotations

import collections
import logging
import os
import select
import threading
import time
import tty
from pathlib import Path
from types import TracebackType

from schemas import model

from .control import (
    Done,
    Hello,
    KbdIntr,
    Led,
    MachineReset,
    Malformed,
    Message,
    Output,
    RxWasData,
    Started,
    WatchdogFeed,
    WatchdogStart,
)
from .faults import PICO_FLASH_BYTES, Cable, Faults
from .repl import (
    SOFT_REBOOT,
    Action,
    Feed,
    Interrupt,
    Job,
    Outcome,
    Repl,
    Run,
    Send,
    SoftReset,
    State,
    cook,
)
from .vm import BoardError, VmProcess, agent_argv, find_micropython

log = logging.getLogger("sil")

FILES = (Job.BOOT, Job.MAIN)  # jobs whose source is a file on flash

BREAK_IN_WAIT = 0.3  # s: serial RX after a Ctrl-C waits this long for the code to stop
TX_TIMEOUT = 0.5  # s: output the reader does not take is dropped after this
RECONNECT_POLL = 0.05  # s: how often a closed port is checked for a new reader
CRASH_BACKOFF = 1.0  # s: least time between boots after the VM died on its own
BOOT_TIMEOUT = 10.0  # s: for the VM to come up
QUEUE_LIMIT = 1 << 16  # bytes queued towards the port or the VM before reading pauses
__all__ = ["BoardError", "VirtualBoard", "find_micropython"]


class VirtualBoard:
    """A Raspberry Pi Pico made of the MicroPython unix VM and a pseudo-terminal.

    Example:
        with VirtualBoard("flash") as board:
            serial.Serial(board.port)  # or: mpremote connect <board.port> ls
    """

    def __init__(
        self,
        flash_dir: str | os.PathLike[str],
        *,
        heap: str | None = None,
        micropython: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        autorun: bool = True,
        flash_size: int | None = PICO_FLASH_BYTES,
        bad_flash: bool = False,
        unplug_after: int | None = None,
        reset_on_open: bool = False,
        reset_after: int | None = None,
        tx_timeout: float | None = TX_TIMEOUT,
    ) -> None:
        self.flash_dir = Path(flash_dir).resolve()
        #: seconds after which output the reader does not take is dropped, as a Pico's USB
        #: stack does; None: it waits for the reader (the VM is slowed down meanwhile)
        self.tx_timeout = tx_timeout
        self.flash_dir.mkdir(parents=True, exist_ok=True)
        self.faults = Faults(flash_size, bad_flash, unplug_after, reset_on_open, reset_after)
        exe = find_micropython(micropython)
        heap = heap or model.load().heapsize  # the flight computer's, from the dictionary
        self._argv, agent_env = agent_argv(exe, heap, self.flash_dir)
        self._argv += self.faults.agent_args()
        self._cable = Cable(self.faults)
        self._env = {**os.environ, **(env or {}), **agent_env}
        self.led = False
        self._repl = Repl(autorun=autorun)
        self._port: str | None = None
        self._master = -1
        self._wake = (-1, -1)
        self._requests: collections.deque[str] = collections.deque()
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._boots = 0  # VMs started
        self._ready = 0  # the last boot that got past boot.py
        self._failure: str | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        # owned by the board thread
        self._vm: VmProcess | None = None
        self._tx = bytearray()  # for the port
        self._tx_since = 0.0  # last progress writing _tx
        self._rx = bytearray()  # from the port, not yet taken by the REPL
        self._connected = False
        self._check_at = 0.0
        self._hold_until: float | None = None
        self._wdt_ms: int | None = None
        self._wdt_until: float | None = None
        self._restart_at: float | None = None
        self._power_cycle = True  # whether the VM starting up is a hard reset

    # -- public API ------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The serial port's path (the pty slave), e.g. /dev/pts/7."""
        if self._port is None:
            raise BoardError("the board is not started")
        return self._port

    def start(self) -> VirtualBoard:
        """Create the port, boot the VM (main.py runs) and wait until it is up."""
        if self._thread is not None or self._boots:
            raise BoardError("a virtual board starts once")
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no newline translation
        self._port = os.ttyname(slave)
        os.close(slave)  # from now on a hang-up on the master means nobody has the port open
        os.set_blocking(master, False)
        self._master = master
        self._wake = os.pipe()
        os.set_blocking(self._wake[0], False)
        self._requests.append("power")
        self._thread = threading.Thread(target=self._run, name=f"sil {self._port}", daemon=True)
        self._thread.start()
        try:
            self.wait_booted(BOOT_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        log.info("virtual Pico on %s, flash %s", self._port, self.flash_dir)
        return self

    def stop(self) -> None:
        """Kill the VM, end the thread, close the port. The board can not be restarted."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._request("stop")
            thread.join(10)
            if thread.is_alive():
                log.error("virtual board thread did not stop")
                return
        for fd in (self._master, *self._wake):
            if fd >= 0:
                os.close(fd)
        self._master, self._wake, self._port = -1, (-1, -1), None

    def wait_booted(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until the latest boot is over: boot.py has run, main.py runs or the REPL waits."""
        with self._cond:
            if not self._cond.wait_for(
                lambda: self._failure or 0 < self._boots <= self._ready, timeout
            ):
                raise TimeoutError(f"the virtual board did not boot within {timeout} s")
            if self._failure:
                raise BoardError(self._failure)

    def reset(self, hard: bool = True) -> None:
        """Hard reset (a power cycle: main.py runs) or soft reset; returns once rebooted."""
        if self._thread is None:
            raise BoardError("the board is not started")
        with self._cond:
            target = self._boots + 1
        self._request("power" if hard else "soft")
        with self._cond:
            if not self._cond.wait_for(lambda: self._failure or self._ready >= target, 10):
                raise TimeoutError("the virtual board did not reboot")
            if self._failure:
                raise BoardError(self._failure)

    def __enter__(self) -> VirtualBoard:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _request(self, what: str) -> None:
        self._requests.append(what)
        try:
            os.write(self._wake[1], b"!")
        except OSError:
            pass

    # -- the board thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while self._serve_requests():
                self._poll()
                self._pump()
                self._note_booted()
        except Exception as e:  # a bug here must not leave a VM running or a caller waiting
            log.exception("virtual board failed")
            self._fail(f"virtual board failed: {e!r}")
        finally:
            if self._vm is not None:
                self._vm.kill()
                self._vm = None

    def _serve_requests(self) -> bool:
        while self._requests:
            what = self._requests.popleft()
            if what == "stop":
                return False
            if what == "unplug":
                self._unplug()
                return False
            if what == "soft":
                self._repl.halt()
                self._send(SOFT_REBOOT)
            self._boot(hard=what == "power")
        return True

    def _poll(self) -> None:
        vm, now = self._vm, time.monotonic()
        poller = select.poll()
        poller.register(self._wake[0], select.POLLIN)
        if self._connected:
            room = len(self._rx) < QUEUE_LIMIT and (vm is None or len(vm.inbox) < QUEUE_LIMIT)
            poller.register(
                self._master,
                (select.POLLIN if room else 0) | (select.POLLOUT if self._tx else 0),
            )
        if vm is not None:
            poller.register(vm.stderr, select.POLLIN)
            if vm.out_open and len(self._tx) < QUEUE_LIMIT:
                poller.register(vm.stdout, select.POLLIN)
            if vm.inbox:
                poller.register(vm.stdin, select.POLLOUT)
        deadlines = [self._hold_until, self._wdt_until, self._restart_at]
        tx = self.tx_timeout
        deadlines.append(self._tx_since + tx if self._tx and tx is not None else None)
        deadlines.append(None if self._connected else self._check_at)
        soonest = min((d for d in deadlines if d is not None), default=None)
        timeout = None if soonest is None else max(0, int((soonest - now) * 1000) + 1)
        events = dict(poller.poll(timeout))

        if events.get(self._wake[0]):
            try:
                os.read(self._wake[0], 512)
            except BlockingIOError:
                pass
        # control messages first: a "@vb kbd" must be known before serial RX is judged
        if vm is not None and events.get(vm.stderr):
            self._read_stderr(vm)
        if vm is self._vm and vm is not None and events.get(vm.stdout):
            self._read_stdout(vm)
        if self._connected and events.get(self._master):
            self._read_port(events[self._master])
            if self._connected and self._tx:
                self._write_port()
        if self._vm is not None and self._vm.inbox and events.get(self._vm.stdin):
            self._write_vm(self._vm)
        self._timers(time.monotonic())

    def _timers(self, now: float) -> None:
        if not self._connected and now >= self._check_at:
            self._check_connected()
        timeout = self.tx_timeout
        if self._tx and timeout is not None and now >= self._tx_since + timeout:
            log.debug("serial TX not taken for %.1f s: %d bytes dropped", timeout, len(self._tx))
            self._tx.clear()
        if self._hold_until is not None and now >= self._hold_until:
            self._repl.release()
            self._hold_until = None
        if self._wdt_until is not None and now >= self._wdt_until:
            log.warning("watchdog not fed for %d ms: hard reset", self._wdt_ms)
            self._boot(hard=True)
        if self._restart_at is not None and now >= self._restart_at:
            self._boot(hard=True)

    def _pump(self) -> None:
        """Give held serial RX to the REPL, in whatever state it is now."""
        while self._rx and self._repl.state is not State.RESET and not self._repl.holding:
            n, actions = self._repl.receive(bytes(self._rx))
            del self._rx[:n]
            self._perform(actions)
            if n == 0:
                break
        if not self._repl.holding:
            self._hold_until = None
        elif self._hold_until is None:
            self._hold_until = time.monotonic() + BREAK_IN_WAIT

    def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            vm = self._vm
            match action:
                case Send(data):
                    self._send(data)
                case Run(job, source) if job in FILES and not self._exists(source):
                    self._perform(self._repl.finished(Outcome.OK))  # nothing to run
                case Run(job, source) if vm is not None:
                    vm.send_job(job, source)
                    self._write_vm(vm)
                case Feed(data) if vm is not None:
                    vm.inbox += data
                    self._write_vm(vm)
                case Interrupt() if vm is not None:
                    vm.drop_input()  # the rp2 USB stack empties its RX buffer on Ctrl-C
                    vm.interrupt()
                case SoftReset():
                    self._boot(hard=False)

    def _exists(self, name: bytes) -> bool:
        return (self.flash_dir / name.decode()).is_file()

    def _note_booted(self) -> None:
        """A boot is over once boot.py has run: main.py runs or the REPL waits for input."""
        vm, repl = self._vm, self._repl
        if vm is None or not vm.hello or vm.boot <= self._ready or repl.state is State.RESET:
            return
        if repl.state is not State.RUNNING or repl.job is not Job.BOOT:
            with self._cond:
                self._ready = vm.boot
                self._cond.notify_all()

    def _boot(self, hard: bool) -> None:
        """Start a fresh VM: a power cycle (hard) or a soft reset."""
        if self._vm is not None:
            self._vm.kill()
            self._vm = None
        self._restart_at = None
        self.led = False
        if hard:
            self._wdt_ms = self._wdt_until = None
        try:
            vm = VmProcess(self._argv, self._env, self._boots + 1)
        except OSError as e:
            self._repl.halt()
            self._fail(f"cannot start {self._argv[0]}: {e}")
            return
        with self._cond:
            self._boots = vm.boot
        self._vm = vm
        self._power_cycle = hard
        self._repl.halt()  # serial RX waits until the VM is up

    def _fail(self, why: str) -> None:
        with self._cond:
            self._failure = why
            self._cond.notify_all()

    # -- the VM's pipes --------------------------------------------------------------------

    def _read_stdout(self, vm: VmProcess) -> None:
        """Serial TX: forwarded verbatim (cooked only for a person at the friendly REPL)."""
        while True:
            try:
                data = os.read(vm.stdout, QUEUE_LIMIT)
            except BlockingIOError:
                return
            if not data:
                vm.out_open = False
                return
            self._send(cook(data) if self._repl.cooked else data)

    def _read_stderr(self, vm: VmProcess) -> None:
        while True:
            try:
                data = os.read(vm.stderr, QUEUE_LIMIT)
            except BlockingIOError:
                return
            if not data:
                self._vm_exited(vm)
                return
            for message in vm.control.feed(data):
                self._message(vm, message)
                if self._vm is not vm:  # the message rebooted the board
                    return

    def _message(self, vm: VmProcess, message: Message) -> None:
        match message:
            case Output(text):
                self._stderr_tail.append(text)
                log.info("%s: %s", self._port, text)
            case Hello(version):
                vm.hello = True
                self._cable.booted()
                self._repl.version = version
                self._perform(self._repl.power_on() if self._power_cycle else self._repl.boot())
            case Started():
                vm.running = True
                if vm.interrupt_pending:
                    vm.interrupt_pending = False
                    vm.interrupt()
            case Done(outcome, traceback):
                self._read_stdout(vm)  # all it printed before it ended is in the pipe
                vm.running = vm.interrupt_pending = False
                self._perform(self._repl.finished(outcome, traceback))
            case RxWasData():  # the 0x03 that made the board hold serial RX was data: go on
                if self._repl.holding:
                    self._repl.release()
                    self._pump()
            case KbdIntr(char):
                self._repl.set_interrupt_char(char)
            case WatchdogStart(ms):
                self._wdt_ms = ms
                self._wdt_until = time.monotonic() + ms / 1000
                log.info("%s: watchdog started, %d ms", self._port, ms)
            case WatchdogFeed():
                if self._wdt_ms is not None:
                    self._wdt_until = time.monotonic() + self._wdt_ms / 1000
            case Led(on):
                self.led = on
                log.debug("%s: LED %s", self._port, "on" if on else "off")
            case MachineReset():
                self._read_stdout(vm)
                log.info("%s: machine.reset()", self._port)
                self._boot(hard=True)
            case Malformed(line):
                log.warning("bad message from the VM: %r", line)

    def _vm_exited(self, vm: VmProcess) -> None:
        """The VM closed stderr: it is exiting although nobody killed it."""
        self._read_stdout(vm)
        code = vm.kill()
        self._vm = None
        self._repl.halt()
        tail = "\n".join(self._stderr_tail)
        if not vm.hello and vm.boot == 1:
            self._fail(f"MicroPython exited with code {code} before it was up:\n{tail}")
            return
        log.error("%s: MicroPython exited with code %s; rebooting", self._port, code)
        self._restart_at = max(time.monotonic(), vm.started + CRASH_BACKOFF)

    def _write_vm(self, vm: VmProcess) -> None:
        vm.write_pending()  # a VM exiting takes no more; _vm_exited will follow

    # -- the serial port -------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if not data:
            return
        if not self._connected:
            self._check_connected()
            if not self._connected:
                return  # nobody has the port open: a Pico drops its output too
        if not self._tx:
            self._tx_since = time.monotonic()
        self._tx += data
        self._write_port()

    def _write_port(self) -> None:
        while self._tx:
            try:
                n = os.write(self._master, self._tx[:QUEUE_LIMIT])
            except BlockingIOError:
                return
            except OSError:
                self._disconnected()
                return
            del self._tx[:n]
            self._tx_since = time.monotonic()

    def _read_port(self, revents: int) -> None:
        try:
            data = os.read(self._master, QUEUE_LIMIT)
        except BlockingIOError:
            if revents & select.POLLHUP:
                self._disconnected()
            return
        except OSError:  # EIO: the last program that had the port open closed it
            self._disconnected()
            return
        if not data:
            self._disconnected()
            return
        kept = self._cable.receive(data)
        if kept is None:
            self._requests.append("unplug")
            return
        self._rx += kept
        if self._cable.reset_due:  # reboot at the loop's next turn; deaf until then
            self._cable.reset_due = False
            self._requests.append("power")

    def _check_connected(self) -> None:
        probe = select.poll()
        probe.register(self._master, select.POLLIN)
        hangup = any(ev & select.POLLHUP for _, ev in probe.poll(0))
        self._check_at = time.monotonic() + RECONNECT_POLL
        if not hangup:
            self._connected = True
            log.debug("%s opened", self._port)
            if self._cable.opened():  # reboot at the loop's next turn; deaf until then
                self._requests.append("power")

    def _unplug(self) -> None:
        """The cable is pulled: the VM dies and the port goes away under whoever has it open."""
        log.info("%s: unplugged after %d bytes", self._port, self._cable.received)
        if self._vm is not None:
            self._vm.kill()
            self._vm = None
        os.close(self._master)
        self._master = -1
        self._connected = False
        self._fail("the board was unplugged")

    def _disconnected(self) -> None:
        self._connected = False
        self._tx.clear()
        self._check_at = time.monotonic() + RECONNECT_POLL
        log.debug("%s closed", self._port)
