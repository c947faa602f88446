"""One owner per serial port: the second opener is told who has it and what to do instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ground.links import PortBusy, open_link
from hil.conditions import wait_for
from hil.tools import Lander
from sil.board import VirtualBoard
from sil.firmware import install_sources

pytestmark = [pytest.mark.vm, pytest.mark.pty]


@pytest.mark.vm
@pytest.mark.pty
def test_monitor_then_cmd_on_one_port_the_second_is_told_who_owns_it(ground_home: Path):
    install_sources(ground_home / "flash", {"autostart": True, "time_warp": 5})
    with VirtualBoard(ground_home / "flash") as board:
        link = f"serial://{board.port}"
        monitor = Lander("monitor", "--link", link)
        try:
            monitor.wait_for_output(r"packets [1-9]")
            cmd = subprocess.run(
                [sys.executable, "-m", "ground.cli", "cmd", "NOOP", "--link", link],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert cmd.returncode == 3, cmd.stderr
            (line,) = cmd.stderr.strip().splitlines()
            holder = f"lander monitor --link {link} (pid {monitor.pid})"
            assert f"{board.port} is in use by {holder}" in line
            assert f"use `lander ground --link {link}`" in line
            assert "--link mqtt://127.0.0.1:1883/<vehicle>" in line
            before = monitor.out.count("packets")
            wait_for(lambda: monitor.out.count("packets") > before + 1, what="monitor goes on")
        finally:
            assert monitor.stop() == 0, monitor.err
        assert "crc errors 0" in monitor.out  # its stream was not shared
        # Nothing holds the port now: mpremote (lander flash) takes the board over.
        run = subprocess.run(
            [sys.executable, "-m", "mpremote", "connect", board.port, "exec", "print(6*7)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.stdout.strip().endswith("42"), run.stdout + run.stderr


@pytest.mark.pty
def test_a_second_opener_in_the_same_process_is_refused_too():
    master, slave = os.openpty()
    try:
        port = os.ttyname(slave)
        first = open_link(f"serial://{port}")
        try:
            with pytest.raises(PortBusy, match=f"pid {os.getpid()}"):
                open_link(port)
        finally:
            first.close()
        open_link(port).close()  # released by close()
    finally:
        os.close(master)
        os.close(slave)
