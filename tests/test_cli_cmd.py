"""`lander cmd` as an operator runs it: the command list; one line for every mistake, before
anything is sent (the link named here does not exist, so opening it would fail); the prompt
for a critical command at a terminal; commands through a virtual board."""

from __future__ import annotations

import getpass
import json
import os
import pty
import subprocess
import sys

import pytest

from schemas import commands

from . import tmgen

LANDER = [sys.executable, "-m", "ground.cli"]
NO_BOARD = "serial:///dev/ttyNOPE0"


@pytest.fixture
def env(tmp_path):
    return os.environ | {
        "LANDER_KEY_DIR": str(tmp_path / "keys"),
        "LANDER_HISTORY": str(tmp_path / "history.jsonl"),
    }


def lander(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LANDER, *args], capture_output=True, text=True, timeout=60, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_list_shows_every_command_with_arguments_types_ranges_and_help(env):
    result = lander(env, "cmd", "--list")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for command in commands.load():
        assert command.name in out and command.description in out
        for a in command.args:
            assert a.description in out
    lines = out.splitlines()
    words = [line.split() for line in lines]
    assert ["hz=", "f32", "0..50", "Hz"] in [w[:4] for w in words]
    assert ["packet=", "u16", "HK|NAV|PROP|POWER"] in [w[:3] for w in words]
    assert any(line.startswith("ABORT") and "CRITICAL" in line for line in lines)
    assert any(line.startswith("ARM") and "modes NOMINAL" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("FLY",), "lander cmd: unknown command 'FLY' (known: NOOP, PING,"),
        (("SET_TM_RATE", "packet=NAV", "hz=500"), "hz='500' is out of range (f32, 0..50 Hz)"),
        (("SET_TM_RATE", "packet=NAV"), "SET_TM_RATE: missing argument hz (f32, 0..50 Hz)"),
        (("SET_TM_RATE", "packet=EVENT", "hz=1"), "packet='EVENT' is not one of HK|NAV|PROP|POWER"),
        (("SET_TM_RATE", "packet=NAV", "20"), "SET_TM_RATE: '20' is not NAME=VALUE"),
        (("PING", "token=abc"), "PING: token='abc' is not a whole number (u32, 0..4294967295)"),
        (("ABORT",), "lander cmd: ABORT is critical: add --confirm to send it"),
    ],
)  # fmt: skip
def test_mistakes_get_one_line_before_anything_is_sent(env, args, message):
    result = lander(env, "cmd", "--link", NO_BOARD, *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert result.stdout == ""


def test_missing_name_or_link_and_an_open_key_file_get_one_line(env, tmp_path):
    assert "name a command" in lander(env, "cmd", "--link", NO_BOARD).stderr
    assert "--link URL is needed" in lander(env, "cmd", "NOOP").stderr
    key = tmp_path / "LANDER-1.key"
    key.write_text("{}")
    key.chmod(0o644)
    result = lander(env, "cmd", "--link", NO_BOARD, "--key-file", str(key), "NOOP")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"lander cmd: key file {key} is open to other users: chmod 600 {key}"
    )


@pytest.mark.pty
@pytest.mark.parametrize(
    ("answer", "code", "message"), [("n", 1, "ABORT not sent"), ("y", 3, NO_BOARD[9:])]
)
def test_a_critical_command_asks_at_a_terminal(env, answer, code, message):
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*LANDER, "cmd", "--link", NO_BOARD, "ABORT"],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        os.write(master, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert "Send ABORT to LANDER-1? [y/N]" in out
    assert "ABORT is critical: Abort the powered descent." in err
    assert proc.returncode == code and message in err, err


SIL = "sil://?autostart=0&time_warp=10"


@pytest.mark.vm
@pytest.mark.pty
def test_a_command_through_a_virtual_board_prints_its_stages_and_is_recorded(env, tmp_path):
    result = lander(env, "cmd", "--link", SIL, "PING", "token=42")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "PING token=42  -> LANDER-1 (counter 1)"
    assert [line.split() for line in lines if "PONG" in line] == [["PONG", "token=42"]]
    stages = [line for line in lines[1:] if "PONG" not in line]
    assert [line.split()[0] for line in stages] == ["ACCEPTED", "STARTED", "COMPLETED"]
    assert all(line.split()[1].startswith("+") for line in stages)
    [record] = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert record["command"] == "PING" and record["args"] == {"token": 42}
    assert record["user"] == getpass.getuser() and record["outcome"] == "COMPLETED"
    key = json.loads((tmp_path / "keys" / "LANDER-1.key").read_text())["key"]
    assert key not in result.stdout + result.stderr + (tmp_path / "history.jsonl").read_text()


@pytest.mark.vm
@pytest.mark.pty
def test_a_refused_command_exits_1_with_its_reason(env):
    result = lander(env, "cmd", "--link", SIL, "ABORT", "--confirm")  # idle: nothing to abort
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].split()[0] == "FAILED"
    assert result.stdout.splitlines()[-1].endswith("NOT_ALLOWED in phase IDLE, mode NOMINAL")
    assert (
        result.stderr.strip()
        == "lander cmd: ABORT failed: NOT_ALLOWED in phase IDLE, mode NOMINAL (after STARTED, "
        "counter 1)"
    )


@pytest.mark.parametrize("history", ["/dev/full", "a folder"])
def test_an_unwritable_history_is_reported_after_the_outcome_and_lander_cmd_exits(
    env, tmp_path, history
):
    if history == "a folder":
        history = str(tmp_path)
    result = lander(env, "cmd", "--link", SIL, "--history", history, "PING", "token=7")
    assert "Traceback" not in result.stderr
    stages = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert stages == ["ACCEPTED", "STARTED", "PONG", "COMPLETED"]
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    lost = "lander cmd: PING completed but was not recorded: cannot write"
    assert line.startswith(f"{lost} {history}:")


def test_a_restored_ground_learns_the_counter_from_hk_and_loses_no_command(env, tmp_path):
    link = f"{SIL}&flash={tmp_path / 'board'}"  # the vehicle keeps its flash between runs
    first = lander(env, "cmd", "--link", link, "PING", "token=1")
    assert first.returncode == 0, first.stderr
    (tmp_path / "keys" / "LANDER-1.counter").unlink()  # a new ground machine with the key
    again = lander(env, "cmd", "--link", link, "PING", "token=2")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == "PING token=2  -> LANDER-1 (counter 2)"


def test_a_missing_key_file_is_an_error_never_a_new_key(env, tmp_path):
    missing = tmp_path / "typo.key"
    result = lander(env, "cmd", "--link", SIL, "--key-file", str(missing), "NOOP")
    assert result.returncode == 2
    assert result.stderr.strip() == f"lander cmd: no key file {missing}: name an existing key file"
    assert not missing.exists() and not (tmp_path / "keys").exists()


def test_a_capture_file_is_refused_before_a_counter_is_spent(env, tmp_path):
    capture = tmp_path / "capture.bin"
    capture.write_bytes(b"".join(tmgen.sequence("HK", 5)))
    for link in (f"file://{capture}", str(capture)):
        result = lander(env, "cmd", "--link", link, "NOOP")
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == (
            f"lander cmd: --link {link}: a capture file is read-only; commands need a live "
            "link (serial://, tcp:// or sil://)"
        )
    assert not (tmp_path / "keys").exists()  # no key made, no counter spent


def test_a_negative_counter_file_is_one_line(env, tmp_path):
    (tmp_path / "keys").mkdir(mode=0o700)
    counter = tmp_path / "keys" / "LANDER-1.counter"
    counter.write_text("-3\n")
    result = lander(env, "cmd", "--link", SIL, "NOOP")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"lander cmd: counter file {counter} is malformed (it must hold the last counter used, "
        "0 to 4294967295): delete it and the ground learns the vehicle's from HK"
    ]
