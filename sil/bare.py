"""A board without MicroPython: a pty whose far end runs something else.

Why: `lander flash` must tell a user whose Pico runs other firmware (an Arduino sketch, a
C program, a fresh board's blink) how to install MicroPython, instead of failing with
mpremote's "could not enter raw repl". Such a board answers on its serial port, but never
with a REPL prompt: this one prints a sensor reading every PERIOD seconds whoever listens,
and reads and ignores what it is sent, Ctrl-C and Ctrl-A included.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from types import TracebackType

__all__ = ["BareBoard"]

PERIOD = 0.1  # s between two lines of the sketch's output


class BareBoard:
    """A serial port with a non-MicroPython program behind it.

    Example:
        with BareBoard() as board:
            serial.Serial(board.port)  # reads "temp=21.5 count=3" lines, never ">>> "
    """

    def __init__(self) -> None:
        self.port = ""
        self._master = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> BareBoard:
        master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        self._thread = threading.Thread(target=self._run, name=f"bare {self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._master >= 0:
            os.close(self._master)
            self._master = -1

    def __enter__(self) -> BareBoard:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        count = 0
        while not self._stop.wait(PERIOD):
            count += 1
            readable, _, _ = select.select([self._master], [], [], 0)
            try:
                if readable:
                    os.read(self._master, 4096)  # not a REPL: input is ignored
                os.write(self._master, f"temp=21.5 count={count}\r\n".encode())
            except OSError:  # nobody has the port open (EIO) or the buffer is full
                continue
