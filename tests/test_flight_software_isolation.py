"""The flight software cannot reach the simulation's truth: a structural proof.

The flight-software modules (firmware/fsw.py and what it imports) see the vehicle only
through the bus (firmware/bus.py); the truth model is vehicle.py, terrain.py, sensors.py,
world.py and the testbed around them (flight.py, faults.py, noise.py). Following every
import of the flight software, transitively, must never arrive at a truth module.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ground.firmware import source_dir

FIRMWARE_DIR = source_dir()
FLIGHT_SOFTWARE = {"fsw", "nav", "guidance", "engine", "fdir", "phases", "bus"}
TRUTH = {"vehicle", "terrain", "sensors", "world", "flight", "faults", "noise"}


def _imports(module: str) -> set[str]:
    tree = ast.parse((FIRMWARE_DIR / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return {m for m in found if (FIRMWARE_DIR / f"{m}.py").exists()}


def _reachable(start: set[str]) -> dict[str, str]:
    """Firmware modules reachable from ``start``, each with the module that imports it."""
    seen = {m: "" for m in start}
    todo = list(start)
    while todo:
        module = todo.pop()
        for imported in _imports(module):
            if imported not in seen:
                seen[imported] = module
                todo.append(imported)
    return seen


def test_no_flight_software_module_imports_the_truth_model_even_indirectly():
    reached = _reachable(FLIGHT_SOFTWARE)
    leaks = {m: f"imported by {reached[m]}" for m in reached if m in TRUTH}
    assert not leaks
    # What the flight software does reach: itself, the generated dictionary and nothing else.
    assert set(reached) <= FLIGHT_SOFTWARE | {"packets"}


def test_the_truth_side_is_where_the_flight_software_is_joined_to_it():
    # The check above would pass vacuously if the names were wrong: the testbed does import
    # both sides, and the world does import the vehicle.
    assert {"fsw", "world", "bus"} <= _imports("flight")
    assert {"vehicle", "sensors", "terrain"} <= _imports("world")


def test_flight_software_modules_never_name_truth_objects():
    # No attribute path into the simulation either: the flight software's source never
    # mentions the world, the vehicle's truth or its sensor models.
    for module in FLIGHT_SOFTWARE:
        source = (FIRMWARE_DIR / f"{module}.py").read_text()
        tree = ast.parse(source)
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not ({"world", "vehicle", "terrain", "lrf", "imu"} & (names | attrs)), module


def test_every_firmware_module_is_on_one_side():
    modules = {p.stem for p in Path(FIRMWARE_DIR).glob("*.py")}
    assert FLIGHT_SOFTWARE | TRUTH <= modules
