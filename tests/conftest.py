"""Fixtures every test module shares.

Every test is kept away from the user's own ground files: keys, counters, history, boards'
flash and builds go to the test's temporary folder (a `sil://` board or `lander sil` makes a
key on first use). Tests that run the VM or open a pty must leave no process behind.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.keys import write_key
from ground.links import Link, open_link
from hil.target import VirtualTarget
from hil.telecommands import KEY

SIL = "sil://?autostart=0&time_warp=10&seed=3"


#: fixtures that bring a VM or a pty with them, and the marks their tests get
FIXTURE_MARKS = {"board_link": ("vm", "pty"), "virtual_target": ("vm", "pty"), "pty": ("pty",)}


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as a user's terminal gives it. Tests stop `lander` processes with SIGINT; a
    shell that starts the suite in the background (`make test &` in a script) ignores SIGINT
    for it, every process the tests start inherits that, and Python then never turns it into
    KeyboardInterrupt: each of those tests would wait out its timeout and fail."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test is marked with what its fixtures need (a virtual board: the VM and a pty)."""
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            for mark in FIXTURE_MARKS.get(fixture, ()):
                item.add_marker(mark)


@pytest.fixture(autouse=True)
def private_ground_files(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("ground")
    monkeypatch.setenv("LANDER_KEY_DIR", str(home / "keys"))
    monkeypatch.setenv("LANDER_HISTORY", str(home / "history.jsonl"))
    # Archiving is on by default in every tool that owns a link; tests of the archive turn
    # it on where they look at it (tests/test_archive*.py), the others keep their output.
    monkeypatch.setenv("LANDER_ARCHIVE", "off")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    # The silicon board's binaries: ../shared/rp2 beside the checkout (never downloaded here).
    shared = Path(__file__).resolve().parent.parent.parent / "shared" / "rp2"
    if "LANDER_RP2_DIR" not in os.environ and shared.is_dir():
        monkeypatch.setenv("LANDER_RP2_DIR", str(shared))


def children() -> set[int]:
    """Processes (zombies included) whose parent is this process."""
    me, found = os.getpid(), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.add(int(stat.parent.name))
    return found


@pytest.fixture(autouse=True)
def no_processes_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that runs the VM or opens a pty leaves no child process (nor zombie) behind."""
    if not any(request.node.get_closest_marker(m) for m in ("vm", "pty")):
        yield
        return
    before = children()
    yield
    assert children() - before == set()


# Named apart from the HIL plugin's `ground` and `vehicle` (a Ground, the procedures API),
# which tests of the plugin use in the procedures files they run.


@pytest.fixture
def ground_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ground's own files: the key folder holding the bench key for LANDER-1, and the
    command history; both under tmp_path."""
    key_dir = tmp_path / "keys"
    write_key(KEY, key_dir / f"{KEY.vehicle}.key")
    monkeypatch.setenv("LANDER_KEY_DIR", str(key_dir))
    monkeypatch.setenv("LANDER_HISTORY", str(tmp_path / "history.jsonl"))
    return tmp_path


@pytest.fixture
def board_link(ground_home: Path) -> Iterator[Link]:
    """A link to an idle virtual board with the bench key; its flash is ground_home/flash."""
    link = open_link(f"{SIL}&flash={ground_home / 'flash'}")
    try:
        yield link
    finally:
        link.close()


@pytest.fixture
def virtual_target() -> Iterator[VirtualTarget]:
    """The HIL harness's virtual target (a board of its own, in a folder removed after)."""
    target = VirtualTarget()
    try:
        yield target
    finally:
        target.close()
