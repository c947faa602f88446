"""The HIL harness as a pytest plugin (entry point ``pytest11``): options, markers, fixtures.

Options (group ``lander-hil``): ``--target URL`` (a virtual board by default), ``--flash``,
``--time-warp N``, ``--seed N``, ``--report DIR`` (JUnit XML, an HTML page, plots and the
raw telemetry of every test).

Fixtures:

- ``hil_target`` (session): the target. Under pytest-xdist every worker is a session of
  its own, so each has its own virtual board and nothing is shared between workers.
- ``ground`` (test): a ground connected to the target (:class:`~hil.station.Ground`),
  through link faults when the test is marked ``link_faults(...)``.
- ``vehicle`` (test): the procedures API (:class:`~hil.procedures.Vehicle`) on that ground.
  By default the vehicle is reset before the test and boots with the test's configuration
  (``@pytest.mark.vehicle(scenario=..., autostart=..., seed=..., time_warp=...,
  config={...}, reset=True)``); ``reset=False`` takes it as the previous test left it.

Whatever happens to a test (a failure, a pytest-timeout), the ground is closed and the
session's boards are stopped and their folders removed when the session ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from ground.commander import CommanderCore
from ground.errors import LanderError, UsageError

from .linkfaults import LinkFaults
from .options import add_options
from .procedures import BOOT_TIMEOUT, Vehicle
from .station import Ground
from .target import NeedsFlash, Target, check_target, open_target

__all__ = ["check_board", "vehicle_config"]

MARKERS = (
    "campaign: the mission campaign (lander hil runs it)",
    "vehicle(scenario=None, autostart=False, seed=None, time_warp=None, config=None, "
    "reset=True): how the vehicle boots for this test",
    "link_faults(drop=0, ber=0, duplicate=0, delay=0, uplink_drop=0, seed=0): faults on the "
    "link between the target and the ground",
)
REPORT_KEY = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser.getgroup("lander-hil", "lander HIL harness").addoption)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    try:
        check_board(config.getoption("--target", None), config.getoption("--flash", False))
    except LanderError as exc:
        raise pytest.UsageError(str(exc)) from None
    directory = config.getoption("--report", None)
    if directory:
        from .report import Report

        report = Report(Path(directory).resolve(), worker=hasattr(config, "workerinput"))
        config.stash[REPORT_KEY] = report
        if not report.worker:  # the page is written where the outcomes arrive
            config.pluginmanager.register(report, "lander-hil-report")
        if getattr(config.option, "xmlpath", None) is None:
            config.option.xmlpath = str(report.directory / "junit.xml")  # pytest's junitxml


def check_board(url: str | None, flash: bool) -> None:
    """UsageError for a bad --target or a board's port that is not there: one line before
    any test (rather than the same error, and a firmware build, in every test)."""
    if check_target(url, flash=flash) != "serial":
        return
    from ground.flash.ports import why_unavailable

    assert url is not None
    parts = urlsplit(url if "://" in url else f"serial://{url}")  # as SerialTarget reads it
    port = unquote(parts.netloc + parts.path)
    if port.startswith("/") and not os.path.exists(port):
        raise UsageError(why_unavailable(port))


def _report(config: pytest.Config) -> Any:
    return config.stash.get(REPORT_KEY, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test on the target runs the VM behind a pty (``vm``, ``pty``), a campaign test takes
    seconds (``slow``): where the project declares those markers, they are set."""
    declared = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    for item in items:
        if "hil_target" not in getattr(item, "fixturenames", ()):  # the fixtures' closure
            continue
        wanted = ["vm", "pty"] + (["slow"] if item.get_closest_marker("campaign") else [])
        for name in wanted:
            if name in declared:
                item.add_marker(name)


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def hil_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The vehicle under test (one per pytest-xdist worker)."""
    option = request.config.getoption
    try:
        target = open_target(option("--target"), flash=option("--flash"))
    except LanderError as exc:
        raise pytest.UsageError(str(exc)) from None
    try:
        yield target
    finally:
        target.close()


def vehicle_config(
    target: Target, marker: pytest.Mark | None, *, seed: int, time_warp: float | None
) -> dict[str, Any]:
    """config.json for a test: the session's seed and warp, the marker's scenario and config."""
    kwargs = dict(marker.kwargs) if marker else {}
    warp = kwargs.get("time_warp") or time_warp or target.time_warp
    seed = kwargs.get("seed", seed)
    config: dict[str, Any] = {"seed": seed, "time_warp": warp}
    if kwargs.get("scenario"):
        from sil.scenarios import scenario_config

        config = scenario_config(kwargs["scenario"], seed=seed, time_warp=warp, halt=False)
    config.update(kwargs.get("config") or {})
    config["autostart"] = bool(kwargs.get("autostart", False))
    return config


@pytest.fixture
def hil_config(request: pytest.FixtureRequest, hil_target: Target) -> dict[str, Any] | None:
    """The config.json this test's vehicle boots with, put in place before the ground
    connects (a board is flashed through its port); None when it is not reset."""
    marker = request.node.get_closest_marker("vehicle")
    if marker is not None and not marker.kwargs.get("reset", True):
        return None
    option = request.config.getoption
    config = vehicle_config(
        hil_target, marker, seed=option("--seed"), time_warp=option("--time-warp")
    )
    try:
        hil_target.prepare(config)
    except NeedsFlash as exc:
        pytest.skip(str(exc))
    except LanderError as exc:
        failure = str(exc)
    else:
        return config
    pytest.fail(failure, pytrace=False)  # outside the except: the error once, not chained


@pytest.fixture
def ground(
    request: pytest.FixtureRequest, hil_target: Target, hil_config: dict[str, Any] | None
) -> Iterator[Ground]:
    """A ground connected to the target: a telemetry bus on its link."""
    marker = request.node.get_closest_marker("link_faults")
    faults = LinkFaults(**marker.kwargs) if marker else None
    report = _report(request.config)
    record = report.test_dir(request.node.nodeid) / "telemetry.bin" if report else None
    archive = str(report.directory / "archive.sqlite") if report else None
    station = Ground(
        hil_target.open(),
        faults=faults,
        record=record,
        archive=archive,
        vehicle=hil_target.key.vehicle,
    ).start()
    try:
        yield station
    finally:
        station.close()


@pytest.fixture
def vehicle(
    request: pytest.FixtureRequest,
    hil_target: Target,
    hil_config: dict[str, Any] | None,
    ground: Ground,
) -> Iterator[Vehicle]:
    """The vehicle under test, booted for this test (see the ``vehicle`` marker)."""
    core = CommanderCore(hil_target.key, hil_target.counter)
    vehicle = Vehicle(ground.bus, core)
    try:
        if hil_config is not None:
            # a target slower to boot than a board (an emulated Pico) says how slow
            boot = getattr(hil_target, "boot_timeout", BOOT_TIMEOUT)
            vehicle.reset_with(lambda: hil_target.reset(vehicle), boot)
        if ground.faults is not None:
            # Every periodic packet has come once since the boot (its sequence count starts
            # again): from here on the ground's counters and the injector's compare.
            vehicle.wait(1.5)
            ground.start_faults()
        yield vehicle
    finally:
        vehicle.close()
        report = _report(request.config)
        if report is not None:
            report.record(request.node, vehicle, ground)
