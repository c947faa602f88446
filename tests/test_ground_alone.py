"""The ground stands alone: no ground module loads the virtual board, and the flasher builds
the firmware with the virtual board not installed at all."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import ground

BLOCK_SIL = "import sys; sys.modules['sil'] = None  # import sil now fails\n"


def test_importing_any_ground_module_loads_no_sil_module():
    modules = pkgutil.walk_packages(ground.__path__, "ground.")
    names = [m.name for m in modules if not m.name.endswith(".__main__")]
    assert "ground.flash.command" in names and "ground.firmware" in names
    probe = "import importlib, sys\n"
    probe += f"for name in {names!r}: importlib.import_module(name)\n"
    probe += "print(sorted(m for m in sys.modules if m == 'sil' or m.startswith('sil.')))\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.vm
def test_the_flasher_builds_with_the_virtual_board_unavailable(tmp_path):
    run = BLOCK_SIL + "import argparse\nfrom ground.cli import flash\n"
    run += "parser = argparse.ArgumentParser()\nflash.register(parser.add_subparsers())\n"
    run += f"args = parser.parse_args(['flash', '--build-only', '--out', {str(tmp_path)!r}])\n"
    run += "sys.exit(args.func(args))\n"
    result = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "manifest.json").is_file() and (tmp_path / "main.py").is_file()
