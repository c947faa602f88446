"""Links by URL: types register themselves; the ground imports no link type it does not own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from ground.links import LinkError, link_factory, link_schemes, open_link, register_link

GROUND = Path(__file__).resolve().parent.parent / "ground"


def test_sil_comes_from_its_package_through_the_lander_links_entry_point():
    assert "sil" in link_schemes()
    factory = link_factory("sil")
    assert factory is not None and factory.__module__ == "sil.link"


def test_the_ground_core_and_its_links_do_not_import_the_virtual_board():
    code = (
        "import sys, ground.links, ground.bus, ground.commander, ground.monitor\n"
        "print(sorted(m for m in sys.modules if m == 'sil' or m.startswith('sil.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_module_of_the_ground_names_sil():
    offenders = []
    for path in GROUND.rglob("*.py"):
        if "flash" in path.relative_to(GROUND).parts:
            continue  # the flasher still takes the firmware's sources from sil.firmware
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "sil"]
    assert offenders == []


def test_a_link_type_registered_in_process_opens_by_its_scheme():
    opened = []

    def factory(url: str):
        opened.append(url)
        return open_link("loop://")

    register_link("bench", factory)
    link = open_link("bench://rig-3?rate=5")
    link.close()
    assert opened == ["bench://rig-3?rate=5"]
    assert "bench" in link_schemes()


def test_an_unknown_scheme_is_one_line_naming_the_known_ones():
    with pytest.raises(LinkError, match=r"unknown link 'gopher://x'.*sil://"):
        open_link("gopher://x")
