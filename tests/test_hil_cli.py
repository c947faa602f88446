"""`lander hil` as a user runs it: the campaign (or part of it) with its report, and one
line for a wrong option; the README's procedures, run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hil.tools import lander

pytestmark = [pytest.mark.vm, pytest.mark.pty]


def test_lander_hil_runs_the_selected_procedures_and_writes_the_report(tmp_path):
    report = tmp_path / "report"
    done = lander("hil", "-k", "wrong_key or replayed", "--workers", "1", "--report", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert done.stderr.strip().endswith(f"report: {report}/index.html")
    page = (report / "index.html").read_text()
    assert "test_a_command_signed_with_the_wrong_key_is_refused" in page
    assert "BAD_MAC" in page and "REPLAY" in page
    assert (report / "junit.xml").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "ftp://x"], "--target ftp://x: give sil:// (a virtual board) or serial"),
        (["--flash"], "--flash is for a board (--target serial://...)"),
        (["no_such_file.py"], "no such procedure file or folder: no_such_file.py"),
        (["--target", "serial:///dev/ttyACM0", "--workers", "2"], "one board takes one worker"),
        (["--target", "/dev/ttyACM9", "--flash"], "no serial port /dev/ttyACM9: is the board"),
    ],
)
def test_a_wrong_option_is_one_line(args, message):
    done = lander("hil", *args)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("lander hil: ") and message in line, line


def test_the_readme_procedures_run_as_written(tmp_path):
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = text.index("### HIL campaigns\n")
    [code] = re.findall(r"```python\n(.*?)```", text[start : text.index("\n## ", start)], re.S)
    (tmp_path / "test_readme_procedures.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed" in done.stdout
