"""The README's examples work as written: the Python example of "Commanding", extracted from
README.md and run verbatim against a virtual board (`sil://`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_example(section: str) -> str:
    text = README.read_text()
    start = text.index(f"### {section}\n")
    end = text.index("\n#", start + 4)
    [code] = re.findall(r"```python\n(.*?)```", text[start:end], re.S)
    return code


@pytest.mark.vm
@pytest.mark.pty
def test_the_commanding_example_runs_as_written(tmp_path):
    code = python_example("Commanding")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['ACCEPTED', 'STARTED', 'COMPLETED']\n"
