"""The README's examples work as written: the Python examples of "Commanding" and "Ground
segment", extracted from README.md and run verbatim against a virtual board (`sil://`),
directly or through a `lander ground`."""

from __future__ import annotations

import json
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


COMMANDED = ("ARM", "START_DESCENT", "ABORT", "SAFE")  # the phase triggers a command fires

PHASE_TABLE = """
import json, phases, packets as P
names = [n for n in dir(P) if n.startswith("PHASE_")]
phase = {getattr(P, n): n[6:] for n in names}
out = {}
for t in %(triggers)r:
    trigger = getattr(P, "TRIGGER_" + t)
    for p, name in phase.items():
        nxt = phases._NEXT.get(p * %(n_triggers)d + trigger)
        if nxt is not None:
            out.setdefault(t, []).append([name, phase[nxt]])
print(json.dumps(out))
"""


def readme_phase_rows() -> set[tuple[str, str, str]]:
    """(from, command, to) of every row of the README's phase table that a command fires."""
    text = README.read_text()
    start = text.index("| from | trigger | to |")
    rows = set()
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        froms, triggers, to = (cell.strip() for cell in line.strip("|").split("|"))
        for trigger in re.findall(r"\b[A-Z_]+\b", triggers):
            if trigger in COMMANDED:
                for phase in froms.split(","):
                    rows.add((phase.strip(), trigger, to.split()[0].rstrip(":")))
    return rows


@pytest.mark.vm
def test_the_phase_table_and_the_commands_help_agree_with_the_firmware():
    from ground.firmware import source_dir
    from hil import vm
    from schemas import commands

    source = (source_dir() / "phases.py").read_text()
    n_triggers = int(re.search(r"_N_TRIGGERS = const\((\d+)\)", source).group(1))  # folded
    result = vm.run(PHASE_TABLE % {"triggers": COMMANDED, "n_triggers": n_triggers})
    firmware = {
        (src, trigger, dst)
        for trigger, pairs in json.loads(result.stdout).items()
        for src, dst in pairs
    }
    assert readme_phase_rows() == firmware
    start = commands.load()["START_DESCENT"].description
    allowed = sorted(src for src, t, _ in firmware if t == "START_DESCENT")
    assert start.endswith(f"(from {' or '.join(allowed)})")


@pytest.mark.vm
@pytest.mark.pty
def test_the_ground_segment_example_runs_as_written(tmp_path):
    # The README's RemoteCommander example against a `lander ground` owning a virtual
    # board, its embedded broker on a free port instead of 1883 (the one change)
    from tests.brokers import free_port, lander_ground

    code = python_example("Ground segment")
    assert "127.0.0.1:1883" in code
    port = free_port()
    link = f"sil://?time_warp=10&flash={tmp_path / 'flash'}"
    ground = lander_ground(port, link, tmp_path / "gateway.json")
    try:
        result = subprocess.run(
            [sys.executable, "-c", code.replace("127.0.0.1:1883", f"127.0.0.1:{port}")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    finally:
        ground.terminate()
        ground.wait(20)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['ACCEPTED', 'STARTED', 'COMPLETED']\n"
