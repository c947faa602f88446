"""Who owns a serial port: one process per port, and a clear word to the second opener.

Two programs reading one port each get half the bytes and corrupt both streams, so the
ground opens ports exclusively (an advisory ``flock``, which pyserial takes with
``exclusive=True``, as mpremote does). When that fails, the holder is named from what Linux
shows: ``/proc/locks`` gives the process that holds the lock on the device's inode, and
``/proc/<pid>/fd`` the processes that merely have it open; ``/proc/<pid>/cmdline`` says
what they are (``lander monitor --link ...``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["holders", "lock_holder", "describe", "busy_message", "GROUND_HINT"]

GROUND_HINT = (
    "use `lander ground --link {link}` and connect clients with "
    "--link mqtt://127.0.0.1:1883/<vehicle>"
)


def lock_holder(port: str) -> int | None:
    """The pid holding a ``flock`` on the device ``port`` (None if none or unknown)."""
    try:
        st = os.stat(port)
        locks = Path("/proc/locks").read_text()
    except OSError:
        return None
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in locks.splitlines():
        words = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 00:1a:7 0 EOF" (a blocked waiter has "->")
        if len(words) >= 6 and words[1] == "FLOCK" and words[5] == inode:
            try:
                return int(words[4])
            except ValueError:
                continue
    return None


def holders(port: str) -> list[tuple[int, str]]:
    """(pid, program) of the other processes that have ``port`` open, as far as /proc shows."""
    try:
        target = os.path.realpath(port)
    except OSError:
        return []
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        pid = int(fd_dir.parent.name)
        if pid == os.getpid():
            continue
        try:
            if any(os.readlink(fd) == target for fd in fd_dir.iterdir()):
                name = (fd_dir.parent / "comm").read_text().strip()
                found.append((pid, name))
        except OSError:  # another user's process, or it just ended
            continue
    return sorted(found)


def describe(pid: int) -> str:
    """What process ``pid`` is, as its user typed it: ``lander monitor --link ...``."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    words = [a.decode(errors="replace") for a in argv if a]
    if not words:
        return ""
    # python -m ground.cli ... and .../bin/lander ... are both `lander ...`
    if "-m" in words and words[words.index("-m") + 1 :][:1] == ["ground.cli"]:
        words = ["lander", *words[words.index("-m") + 2 :]]
    elif len(words) > 1 and os.path.basename(words[1]) == "lander":
        words = ["lander", *words[2:]]
    elif os.path.basename(words[0]) == "lander":
        words = ["lander", *words[1:]]
    else:
        words[0] = os.path.basename(words[0])
    text = " ".join(words)
    return text if len(text) <= 80 else text[:77] + "..."


def busy_message(port: str, link: str) -> str:
    """One line for the second opener of ``port``: who has it, and what to do instead."""
    pid = lock_holder(port)
    if pid is not None:
        what = describe(pid)
        who = f"{what} (pid {pid})" if what else f"pid {pid}"
    else:
        others = holders(port)
        who = ", ".join(f"{name} (pid {pid})" for pid, name in others) or "another process"
    return f"{port} is in use by {who}: one process owns a port; " + GROUND_HINT.format(link=link)
