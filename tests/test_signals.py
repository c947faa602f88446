"""SIGTERM (a service manager, `kill`) stops a lander command as cleanly as Ctrl-C."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import termios
from pathlib import Path

import pytest

from ground.portowner import lock_holder
from hil.conditions import wait_for
from hil.tools import Lander

from . import tmgen


def _unread(fd: int) -> int:
    """Bytes waiting in a tty's input queue (nobody has read them yet)."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


@pytest.mark.pty
def test_capture_keeps_every_byte_it_received_when_terminated(tmp_path: Path):
    master, slave = os.openpty()
    port = os.ttyname(slave)
    out = tmp_path / "capture.bin"
    capture = Lander("capture", "--link", f"serial://{port}", "--out", str(out))
    try:
        wait_for(lambda: lock_holder(port) == capture.pid, what="capture to open the port")
        sent = b"".join(tmgen.sequence("NAV", 30))  # less than a file buffer
        os.write(master, sent)
        wait_for(lambda: _unread(slave) == 0, what="capture to read the bytes")
        assert capture.stop(signal.SIGTERM) == 0, capture.err
    finally:
        capture.stop(signal.SIGKILL)
        os.close(master)
        os.close(slave)
    assert out.read_bytes() == sent
    assert capture.err.strip() == f"captured {len(sent)} bytes to {out}"


@pytest.mark.vm
@pytest.mark.pty
def test_sigterm_on_a_sil_link_leaves_no_copy_of_the_vehicle_key(tmp_path: Path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monitor = Lander(
        "monitor", "--link", "sil://?time_warp=5", env=os.environ | {"TMPDIR": str(tmp)}
    )
    try:
        monitor.wait_for_output(r"packets [1-9]")
        (flash,) = tmp.glob("lander-vboard-*")
        assert any("key" in p.name for p in flash.iterdir())  # the copy the test is about
        code = monitor.stop(signal.SIGTERM)
    finally:
        monitor.stop(signal.SIGKILL)
    assert code == 0, monitor.err
    assert "Traceback" not in monitor.err
    assert list(tmp.iterdir()) == []
