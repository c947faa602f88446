"""Ports: which serial port is the board, and why one cannot be opened.

A Pico running MicroPython enumerates as USB CDC 2E8A:0005; `find_pico` picks it out of
pyserial's list. mpremote's SerialTransport opens the port exclusively and, when it cannot,
says only "failed to access PORT"; `why_unavailable` finds the reason a user can act on
(no such port, no permission, in use and by which program).
"""

from __future__ import annotations

import errno
import os

import serial
import serial.tools.list_ports

from ..portowner import holders
from .errors import FlashError

__all__ = ["PICO_VID", "PICO_PID", "find_pico", "why_unavailable", "holders"]

PICO_VID, PICO_PID = 0x2E8A, 0x0005  # Raspberry Pi, MicroPython's USB CDC on the rp2 port


def find_pico() -> str:
    """The serial port of the one Pico running MicroPython that is plugged in."""
    found: list[str] = sorted(
        str(p.device)
        for p in serial.tools.list_ports.comports()
        if (p.vid, p.pid) == (PICO_VID, PICO_PID)
    )
    if not found:
        raise FlashError(
            f"no board found: no Pico running MicroPython (USB {PICO_VID:04X}:{PICO_PID:04X}) "
            "is plugged in; plug it in or pass --port (a Pico without MicroPython: --uf2)"
        )
    if len(found) > 1:
        raise FlashError(f"{len(found)} Picos found ({', '.join(found)}): pick one with --port")
    return found[0]


def why_unavailable(port: str) -> str:
    """One line on why ``port`` cannot be opened exclusively."""
    if "://" not in port and not os.path.exists(port):
        return (
            f"no serial port {port}: is the board plugged in? "
            "(`python -m serial.tools.list_ports` lists the ports)"
        )
    try:
        probe = serial.serial_for_url(port, do_not_open=True, exclusive=True)
        probe.open()
        probe.close()
    except serial.SerialException as exc:
        code = exc.errno or _errno_in(exc)
        if code in (errno.EACCES, errno.EPERM):
            return f"no permission to open {port}: add yourself to the dialout group"
        if code in (errno.EAGAIN, errno.EBUSY, errno.EWOULDBLOCK):
            who = ", ".join(f"{pid} {name}" for pid, name in holders(port))
            return (
                f"{port} is busy: another program has it open"
                + (f" (process {who})" if who else "")
                + "; close it (a terminal, mpremote, Thonny, lander monitor) and try again"
            )
        return f"cannot open {port}: {str(exc).splitlines()[0]}"
    return f"cannot open {port} (it may be in use by another program)"


def _errno_in(exc: Exception) -> int | None:
    # pyserial wraps the OSError of its lock or open call in the message text only
    for code in (errno.EAGAIN, errno.EACCES, errno.EBUSY, errno.EPERM):
        if f"[Errno {code}]" in str(exc):
            return code
    return None
