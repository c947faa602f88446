"""The HIL harness as a team uses it: a procedures file run by pytest with the plugin, on a
virtual board; failure messages that say what was seen; the report; nothing left behind
after a failure or a timeout; one board per pytest-xdist worker; a board on a serial port,
flashed by the harness (proven here through a virtual board's pty)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hil.tools import lander
from sil.board import VirtualBoard

pytest_plugins = ["pytester"]

PROCEDURES = '''
import time
import pytest


def test_a_command_is_verified(vehicle):
    """PING answered with its token."""
    verification = vehicle.send("PING", token=99)
    assert [s.stage for s in verification.stages] == ["ACCEPTED", "STARTED", "COMPLETED"]
    vehicle.await_telemetry("PONG.token", 99, within=5)


def test_an_event_that_never_comes(vehicle):
    vehicle.await_event("TOUCHDOWN", within=3)


def test_a_value_that_never_comes(vehicle):
    vehicle.await_telemetry("HK.phase", "LANDED", within=3)
'''


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


# A session of two workers and boards, then five lander commands: 40 s on an idle machine,
# more than the suite's 120 s at a load of 20 on two cores.
@pytest.mark.timeout(600)
def test_failures_say_what_was_seen_and_the_report_has_every_test(pytester):
    """Two workers, two boards: a failed wait says what was seen instead; the report has
    every test with its commands, events, plots and raw telemetry."""
    pytester.makepyfile(test_procedures=PROCEDURES)
    report = pytester.path / "report"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--report", str(report), "--seed", "4"
    )
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*ProcedureFailed: no EVENT TOUCHDOWN within 3 vehicle s (from * s to * s)",
            "*seen: * packets, 1 events, 1 boots",
            "*0.0 s  BOOT #*, time warp 10000, noise state *",
            "*last HK: phase IDLE, mode NOMINAL",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ProcedureFailed: no HK.phase == LANDED within 3 vehicle s*",
            "*last HK.phase: IDLE (* s), IDLE (* s)*",
        ]
    )
    suite = ET.parse(report / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    page = (report / "index.html").read_text()
    assert "1 passed" in page and "2 failed" in page
    assert "PING token=99" in page and "COMPLETED" in page
    assert "time warp 10000, noise state" in page
    assert "no EVENT TOUCHDOWN within 3 vehicle s" in page
    records = [json.loads(p.read_text()) for p in report.glob("tests/*/record.json")]
    assert len(records) == 3
    # One virtual board per worker: two workers, two boards.
    assert len({r["link"] for r in records}) == 2
    for folder in report.glob("tests/*"):
        # The default plot is the altitude: every test sees NAV once its vehicle has booted.
        assert (folder / "plot-1.png").is_file(), (
            f"no plot for {folder.name}; it saw:\n"
            + lander("decode", str(folder / "telemetry.bin")).stdout[:3000]
        )
        assert (folder / "plot-1.png").read_bytes().startswith(b"\x89PNG")
    replay = lander("decode", str(folder / "telemetry.bin"))
    assert replay.returncode == 0, replay.stderr
    assert "HK" in replay.stdout and "EVENT" in replay.stdout
    # The archive has every test's telemetry, a session per boot, and its commands.
    archive = str(report / "archive.sqlite")
    sessions = lander("archive", "--archive", archive, "list")
    assert sessions.returncode == 0, sessions.stderr
    assert sessions.stdout.count("LANDER-1") >= 3
    commands = lander("archive", "--archive", archive, "commands")
    assert "PING" in commands.stdout and "COMPLETED" in commands.stdout


def test_nothing_is_left_behind_after_a_failure_or_a_timeout(pytester, tmp_path, monkeypatch):
    pytester.makepyfile(
        test_procedures="""
import time

def test_fails(vehicle):
    vehicle.send("NOOP")
    assert False, "a procedure that fails"

def test_hangs(vehicle):
    time.sleep(120)
"""
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--timeout", "30")
    outcomes = result.parseoutcomes()
    # On a loaded machine the timeout may come while the vehicle boots: an error, not a fail.
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 2, outcomes
    result.stdout.fnmatch_lines(["*Timeout*"])
    assert not list(tmp.glob("lander-hil-*"))
    assert not _processes_mentioning(str(tmp))


def test_a_board_on_a_serial_port_is_flashed_and_tested(pytester, tmp_path):
    """A board with MicroPython and nothing else (a virtual one: its pty is the serial
    port): --flash puts the firmware on it, and a test that asks for another config.json
    gets it."""
    pytester.makepyfile(
        test_procedures="""
import pytest

def test_commands_over_the_serial_port(vehicle):
    vehicle.send("PING", token=7)
    vehicle.await_telemetry("PONG.token", 7, within=5)

@pytest.mark.vehicle(time_warp=50)
def test_a_config_of_its_own(vehicle):
    boot = vehicle.events("BOOT")[0]
    assert boot.event.args["time_warp"] == 50
"""
    )
    with VirtualBoard(tmp_path / "flash") as board:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--target", f"serial://{board.port}", "--flash"
        )
        result.assert_outcomes(passed=2)
        names = {p.name for p in (tmp_path / "flash").iterdir()}
        assert {"main.py", "app.mpy", "config.json", "tc.key"} <= names
        assert json.loads((tmp_path / "flash" / "config.json").read_text())["time_warp"] == 50


def test_a_wrong_target_is_one_line(pytester):
    pytester.makepyfile(test_procedures=PROCEDURES)
    result = pytester.runpytest_subprocess("--target", "ftp://x", "-k", "verified")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--target ftp://x: give sil:// (a virtual board) or serial*"])
    assert "Traceback" not in result.stderr.str()
