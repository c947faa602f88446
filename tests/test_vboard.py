"""The virtual Pico as its users meet it: a serial port that pyserial and mpremote open."""

from __future__ import annotations

import ast
import hashlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from hil.conditions import wait_for
from hil.tools import mpremote
from sil import BoardError, VirtualBoard
from sil.control import MAGIC

pytestmark = [pytest.mark.vm, pytest.mark.pty]

FIRMWARE_WITH_KBD_INTR_DISABLED = """
import micropython, select, sys
micropython.kbd_intr(-1)
sys.stderr.write("@vb kbd -1\\n")
open("up", "w").close()
poll = select.poll()
poll.register(sys.stdin, select.POLLIN)
frame = bytearray()
while True:
    for _ in poll.poll(1000):
        b = sys.stdin.buffer.read(1)[0]
        if b == 3 and len(frame) < 2:  # a Ctrl-C no telecommand frame can carry
            micropython.kbd_intr(3)
            sys.stderr.write("@vb kbd 3\\n")
            raise KeyboardInterrupt
        if b == 0:
            print("frame", bytes(frame))
            frame = bytearray()
        else:
            frame.append(b)
"""

#: 200 KB printed at once: more than the port and the board's queue hold
BURST = "for i in range(20000):\n    print('line', i)\nprint('end')\nsys.stdin.buffer.read(1)\n"

COUNT_BOOTS = """
with open("boots.txt", "a") as f:
    f.write("boot\\n")
"""


@pytest.fixture
def flash(tmp_path: Path) -> Path:
    return tmp_path / "flash"


def write(flash: Path, name: str, text: str) -> None:
    flash.mkdir(parents=True, exist_ok=True)
    (flash / name).write_text(text)


def read_until(port: serial.Serial, marker: bytes, timeout: float = 5) -> bytes:
    data, deadline = b"", time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        data += port.read(1)
    assert marker in data, f"{marker!r} not in {data!r}"
    return data


def boots(flash: Path) -> int:
    path = flash / "boots.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_main_py_output_reaches_a_pyserial_reader(tmp_path: Path):
    flash = tmp_path / "new" / "flash"
    write(flash, "main.py", 'import sys\nfor i in range(3):\n    print("hello", i)\n')
    write(flash, "boot.py", 'import sys\nsys.stderr.write("@vb led 1\\n")\n')
    with VirtualBoard(flash) as board, serial.Serial(board.port, timeout=0.1) as port:
        assert board.port.startswith("/dev/")
        board.reset()  # it booted before the port was open: like a Pico, that output is gone
        out = read_until(port, b"hello 2\nMicroPython v1.")
        assert out.endswith(b"hello 0\nhello 1\nhello 2\nMicroPython v1.")
        out = read_until(port, b">>> ")
        assert out.endswith(b' with RP2040\r\nType "help()" for more information.\r\n>>> ')
        assert board.led is True
        assert board.flash_dir == flash.resolve()
    with pytest.raises(BoardError):
        _ = board.port


@pytest.mark.parametrize(("tx_timeout", "kept"), [(0.5, False), (None, True)])
def test_output_a_reader_leaves_waiting_is_dropped_after_the_tx_timeout(
    flash: Path, tx_timeout: float | None, kept: bool
):
    """A Pico drops what its host does not take within 500 ms; with tx_timeout=None the
    board waits for its reader, however long it pauses, and nothing is lost."""
    write(flash, "main.py", "import sys\nsys.stdin.buffer.read(1)\n" + BURST)
    with VirtualBoard(flash, tx_timeout=tx_timeout) as board:
        with serial.Serial(board.port, timeout=0.1) as port:
            port.write(b"x")
            wait_for(lambda: port.in_waiting > 0, what="the burst")
            time.sleep(2 * (tx_timeout or 0.5))  # the reader pauses (busy elsewhere)
            data, deadline = b"", time.monotonic() + 60
            while not data.endswith(b"end\n") and time.monotonic() < deadline:
                data += port.read(1 << 16)
    lines = data.splitlines()
    assert lines[-1] == b"end"
    assert (lines[:-1] == [b"line %d" % i for i in range(20000)]) is kept, len(lines)


def test_serial_for_url_and_the_friendly_repl(flash: Path):
    with VirtualBoard(flash) as board, serial.serial_for_url(board.port, timeout=0.1) as port:
        port.write(b"\x02")
        assert read_until(port, b">>> ").startswith(b"\r\nMicroPython")
        port.write(b"x = 21\r")
        read_until(port, b">>> ")
        port.write(b"x * 2\r")
        assert read_until(port, b">>> ") == b"x * 2\r\n42\r\n>>> "
        port.write(b"1/0\r")
        out = read_until(port, b">>> ")
        # a Pico's traceback: the line typed, and nothing of the agent that ran it
        assert out == (
            b"1/0\r\nTraceback (most recent call last):\r\n"
            b'  File "<stdin>", line 1, in <module>\r\nZeroDivisionError: divide by zero\r\n>>> '
        )


def test_ctrl_c_stops_main_and_ctrl_d_runs_it_again(flash: Path):
    write(flash, "main.py", "import time\nwhile True:\n    print('alive')\n    time.sleep(0.05)\n")
    with VirtualBoard(flash) as board, serial.Serial(board.port, timeout=0.1) as port:
        read_until(port, b"alive\n")
        port.write(b"\x03")
        out = read_until(port, b">>> ")
        assert re.search(rb'File "main.py", line \d, in <module>\r\nKeyboardInterrupt: \r\n', out)
        port.write(b"\x04")
        out = read_until(port, b"alive\n")
        assert b"\r\nMPY: soft reboot\r\nalive\n" in out


def test_ctrl_c_interrupts_code_running_from_the_raw_repl(flash: Path):
    with VirtualBoard(flash) as board, serial.Serial(board.port, timeout=0.1) as port:
        port.write(b"\r\x03\r\x01")
        read_until(port, b"raw REPL; CTRL-B to exit\r\n>")
        port.write(b"import time\nwhile True:\n    time.sleep(0.01)\n\x04")
        assert read_until(port, b"OK") == b"OK"
        port.write(b"\x03")
        out = read_until(port, b"\x04>")
        assert re.fullmatch(rb"\x04Traceback.*\r\nKeyboardInterrupt: \r\n\x04>", out, re.S)


def test_mpremote_filesystem(flash: Path, tmp_path: Path):
    payload = bytes(range(256)) * 40 + b"\r\n\x00\x03\x04 end"
    (tmp_path / "payload.bin").write_bytes(payload)
    write(flash, "main.py", "print('hi')\n")
    with VirtualBoard(flash) as board:
        result = mpremote(board.port, "cp", str(tmp_path / "payload.bin"), ":payload.bin")
        assert result.returncode == 0, result.stdout + result.stderr
        assert (flash / "payload.bin").read_bytes() == payload
        result = mpremote(board.port, "ls")
        assert re.search(rf"\s{len(payload)} payload\.bin", result.stdout), result.stdout
        result = mpremote(board.port, "sha256sum", ":payload.bin")
        assert hashlib.sha256(payload).hexdigest() in result.stdout
        assert mpremote(board.port, "cat", ":main.py").stdout == "print('hi')\n"


def test_mpremote_exec_and_its_errors(flash: Path):
    with VirtualBoard(flash) as board:
        result = mpremote(board.port, "exec", "print(1+1)")
        assert (result.returncode, result.stdout) == (0, "2\n")
        result = mpremote(board.port, "exec", "import os\nos.stat('missing')")
        assert result.returncode == 1
        assert "OSError: [Errno 2] ENOENT" in result.stdout
        result = mpremote(board.port, "exec", "1/")
        assert result.returncode == 1
        assert 'File "<stdin>", line 1\nSyntaxError: invalid syntax' in result.stdout


def test_globals_persist_within_a_boot_and_not_after_a_soft_reset(flash: Path):
    with VirtualBoard(flash) as board:
        assert mpremote(board.port, "exec", "x = 42", "exec", "print(x)").stdout == "42\n"
        assert mpremote(board.port, "resume", "exec", "print(x)").stdout == "42\n"
        result = mpremote(board.port, "resume", "soft-reset", "exec", "print('x' in globals())")
        assert result.stdout == "False\n"


def test_reset_reboots_and_runs_main_a_soft_reset_from_raw_repl_does_not(flash: Path):
    write(flash, "main.py", COUNT_BOOTS)
    with VirtualBoard(flash) as board:
        wait_for(lambda: boots(flash) == 1)
        assert mpremote(board.port, "soft-reset").returncode == 0
        assert mpremote(board.port, "reset").returncode == 0  # machine.reset()
        wait_for(lambda: boots(flash) == 2)
        board.reset(hard=True)
        wait_for(lambda: boots(flash) == 3)
        board.reset(hard=False)  # the board is in the friendly REPL: main.py runs
        wait_for(lambda: boots(flash) == 4)


def test_mpremote_takes_over_firmware_that_disabled_kbd_intr(flash: Path):
    write(flash, "main.py", FIRMWARE_WITH_KBD_INTR_DISABLED)
    with VirtualBoard(flash) as board:
        wait_for((flash / "up").exists)
        with serial.Serial(board.port, timeout=0.1) as port:
            port.write(b"\x00AB\x03\x01\x02\x04CD\x00")  # control bytes inside a frame are data
            assert b"frame b'AB\\x03\\x01\\x02\\x04CD'" in read_until(port, b"CD'")
        result = mpremote(board.port, "exec", "print('took over')")
        assert (result.returncode, result.stdout) == (0, "took over\n"), result.stderr
        assert mpremote(board.port, "ls").returncode == 0


def test_a_starved_watchdog_resets_the_board(flash: Path):
    write(
        flash,
        "main.py",
        COUNT_BOOTS
        + "import sys, time\nsys.stderr.write('@vb wdt 200\\n')\n"
        + "for i in range(5):\n    time.sleep(0.1)\n    sys.stderr.write('@vb feed\\n')\n"
        + "while True:\n    time.sleep(1)\n",
    )
    with VirtualBoard(flash):
        time.sleep(0.4)
        assert boots(flash) == 1  # fed
        wait_for(lambda: boots(flash) >= 2)


def test_a_vm_that_dies_is_rebooted(flash: Path):
    write(
        flash,
        "main.py",
        COUNT_BOOTS + "import os\nif open('boots.txt').read() == 'boot\\n':\n"
        "    os.system('kill -9 $PPID')\n",
    )
    with VirtualBoard(flash) as board:
        wait_for(lambda: boots(flash) == 2)
        board.wait_booted(5)
        assert mpremote(board.port, "exec", "print('back')").stdout == "back\n"


def test_heap_is_the_picos(flash: Path):
    with VirtualBoard(flash, heap="64K") as board:
        result = mpremote(board.port, "exec", "b = bytearray(100_000)")
        assert "MemoryError" in result.stdout


def test_missing_micropython_is_a_clear_error(flash: Path):
    with pytest.raises(BoardError, match="not found"):
        VirtualBoard(flash, micropython=flash / "nowhere" / "micropython")


def test_the_agents_framing_matches_the_hosts():
    agent = (Path(__file__).parents[1] / "sil" / "agent.py").read_text()
    line = re.search(r"^MAGIC = (b\".*\")", agent, re.M)
    assert line is not None and ast.literal_eval(line.group(1)) == MAGIC


def test_python_m_sil_prints_the_port_and_stops_cleanly_on_ctrl_c(flash: Path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sil", "--flash", str(flash)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[1],
    )
    try:
        assert proc.stdout is not None
        port_path = proc.stdout.readline().decode().strip()
        with serial.Serial(port_path, timeout=0.1) as port:
            port.write(b"\x02")
            read_until(port, b">>> ")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
