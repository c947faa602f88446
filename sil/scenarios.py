"""Flight scenarios: data files checked against the dictionaries, and a runner that flies one
in the real MicroPython VM.

A scenario is a TOML file in ``sil/scenarios.d/`` (the file name is its name)::

    description = "what it shows"
    expect = "LANDED"          # what the flight software should achieve (see OUTCOMES)
    halt_s = 900               # vehicle seconds after which a headless run stops
    [config]                   # config.json settings: craft, truth, terrain, nav, fdir, ...
    [[commands]]               # telecommands the scenario sends, at vehicle times
    at_s = 200
    name = "INJECT_FAULT"
    args = { target = "IMU", kind = "DROPOUT", magnitude = 1.0 }

Loading checks everything against the project's definitions, with the error naming the file
and the entry: commands and their arguments against ``schemas/commands.toml`` (the ground's
own checks of an uplinked command, the fault table included), ``craft``/``truth`` names
against ``schemas/craft.toml``, fault-protection rows against the dictionary's FDIR_ROW.
On board, the scheduled commands go through the same checks and verification as uplinked
ones (``Commanding.scheduled``), so a TC_VERIFY answers each.

``lander sil --scenario NAME`` boots a virtual board with one; ``lander scenario NAME`` (and
the tests) fly it headless with :func:`fly`: the board's own ``main.py`` in the VM with a
Pico's heap, the time warp at its maximum, stopping two vehicle seconds after touchdown.
:func:`outcome` says what a flight came to; :func:`monte_carlo` flies many seeds in parallel.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas import commands as command_dictionary
from schemas import craftgen, model

from .board import find_micropython
from .firmware import install_sources

__all__ = [
    "Scenario",
    "ScenarioError",
    "SCENARIOS",
    "SCENARIO_DIR",
    "PHASES",
    "OUTCOMES",
    "load",
    "load_all",
    "scenario_config",
    "fly",
    "summary",
    "outcome",
    "monte_carlo",
]

#: the dictionary's range of SET_TIME_WARP, and the flight computer's heap
MAX_WARP = int(command_dictionary.load()["SET_TIME_WARP"].arg("factor").high)
HEAP = model.load().heapsize
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios.d"

#: HK.phase (and PHASE_CHANGE's arguments): raw value -> name
PHASES = model.load()["HK"].field("phase").states

#: What a flight can come to, and what a scenario may expect:
#: LANDED within the design limits; HARD (touchdown beyond the design limits, within the
#: test limits); CRASHED; SAFE (stayed in orbit, safe); AIRBORNE (still flying at halt_s).
#: ``expect = "FAILS"`` (an unprotected case): anything but LANDED.
OUTCOMES = ("LANDED", "HARD", "CRASHED", "SAFE", "AIRBORNE")

_TOP_KEYS = {"description", "expect", "halt_s", "source", "config", "commands"}
_CONFIG_KEYS = {
    "craft",
    "truth",
    "terrain",
    "nav",
    "fdir",
    "payloads",
    "cycle_budget_us",
    "pdi_lead_s",
    "dispersions",
}
_COMMAND_KEYS = {"at_s", "name", "args"}


class ScenarioError(ValueError):
    """A scenario file is not valid: one line naming the file and the entry."""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    #: config.json settings (commands included, as raw dictionary values)
    config: dict[str, Any] = field(default_factory=dict)
    halt_s: int = 900
    expect: str = "LANDED"
    source: str = ""

    def succeeded(self, result: str) -> bool:
        """Whether a flight's outcome is what the scenario expects of the flight software."""
        if self.expect == "FAILS":
            return result != "LANDED"
        return result == self.expect


def _check_config(where: str, config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise ScenarioError(f"{where}: [config] must be a table")
    unknown = set(config) - _CONFIG_KEYS
    if unknown:
        raise ScenarioError(
            f"{where}: config has no setting {sorted(unknown)[0]!r} "
            f"(known: {', '.join(sorted(_CONFIG_KEYS))})"
        )
    params = {p.name for p in craftgen.load()}
    for part in ("craft", "truth"):
        for name, value in (config.get(part) or {}).items():
            if name not in params:
                raise ScenarioError(f"{where}: {part}.{name} is not in schemas/craft.toml")
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ScenarioError(f"{where}: {part}.{name} must be a number")
    rows = set(model.load().enums["FDIR_ROW"].states.values())
    for row in (config.get("fdir") or {}).get("disable", ()):
        if row not in rows:
            raise ScenarioError(f"{where}: fdir.disable names no fault-protection row {row!r}")
    return dict(config)


def _check_commands(where: str, entries: Any) -> list[dict[str, Any]]:
    if not isinstance(entries, list):
        raise ScenarioError(f"{where}: commands must be an array of tables ([[commands]])")
    dictionary = command_dictionary.load()
    out = []
    for n, entry in enumerate(entries, 1):
        at = f"{where}: command {n}"
        if not isinstance(entry, dict) or set(entry) - _COMMAND_KEYS or "name" not in entry:
            raise ScenarioError(f"{at}: needs name, at_s and args only")
        at_s = entry.get("at_s", 0)
        if not isinstance(at_s, int | float) or isinstance(at_s, bool) or at_s < 0:
            raise ScenarioError(f"{at}: at_s must be a time in vehicle seconds, >= 0")
        try:
            command = dictionary[str(entry["name"]).upper()]
            raw = command.raw_values(entry.get("args") or {})
        except (KeyError, command_dictionary.ArgumentError) as exc:
            raise ScenarioError(f"{at}: {exc.args[0]}") from None
        out.append({"at_s": float(at_s), "name": command.name, "args": list(raw)})
    return out


def load(path: Path) -> Scenario:
    """One scenario file, checked; :class:`ScenarioError` says what is wrong and where."""
    where = path.name
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{where}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: not valid TOML ({exc})") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    if not isinstance(data.get("description"), str):
        raise ScenarioError(f"{where}: needs a description")
    expect = data.get("expect", "LANDED")
    if expect not in OUTCOMES + ("FAILS",):
        raise ScenarioError(f"{where}: expect must be one of {', '.join(OUTCOMES)} or FAILS")
    halt_s = data.get("halt_s", 900)
    if not isinstance(halt_s, int) or halt_s <= 0:
        raise ScenarioError(f"{where}: halt_s must be a whole number of seconds > 0")
    config = _check_config(where, data.get("config", {}))
    config["commands"] = _check_commands(where, data.get("commands", []))
    return Scenario(
        path.stem, data["description"], config, halt_s, expect, str(data.get("source", ""))
    )


def load_all(folder: Path = SCENARIO_DIR) -> dict[str, Scenario]:
    """Every scenario in ``folder``, by name, in name order."""
    return {p.stem: load(p) for p in sorted(folder.glob("*.toml"))}


SCENARIOS: dict[str, Scenario] = load_all()


def scenario_config(
    name: str, seed: int = 1, time_warp: float = MAX_WARP, halt: bool = True
) -> dict[str, Any]:
    """config.json of a named scenario; KeyError names the known ones."""
    try:
        scenario = SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise KeyError(f"unknown scenario {name!r} (known: {known})") from None
    config: dict[str, Any] = {"autostart": True, "seed": seed, "time_warp": time_warp}
    if halt:
        config.update({"halt_on_landing": True, "halt_s": scenario.halt_s})
    config.update(scenario.config)
    return config


def fly(config: dict[str, Any], timeout: float = 300) -> bytes:
    """Boot the firmware with ``config`` in the VM until it halts; return its telemetry.

    ``config`` should halt the run (``halt_on_landing``, ``halt_s``), as
    :func:`scenario_config` does.
    """
    with tempfile.TemporaryDirectory(prefix="lander-flight-") as flash:
        install_sources(Path(flash), config)
        proc = subprocess.run(
            [find_micropython(), "-X", f"heapsize={HEAP}", "main.py"],
            cwd=flash,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError("the firmware stopped with an error:\n" + "\n".join(tail))
    return proc.stdout


def summary(packets: list[Any]) -> dict[str, Any]:
    """What a flight came to: last phase, touchdown (its EVENT, and its figures: time,
    descent rate and horizontal speed in m/s, propellant in kg) and the events in order
    (:class:`ground.events.Event`)."""
    events = []
    touchdown = None
    phase = None
    for p in packets:
        if p.name == "HK":
            phase = p.values["phase"]
            continue
        event = p.event
        if event is None:
            continue
        events.append(event)
        if event.name == "TOUCHDOWN":
            touchdown = {"time": event.time, "event": event, **event.args}
        elif event.name == "PHASE_CHANGE":
            phase = event.args["to"]
    return {"phase": phase, "touchdown": touchdown, "events": events}


def outcome(result: dict[str, Any]) -> str:
    """One of OUTCOMES for a :func:`summary`."""
    td = result["touchdown"]
    if result["phase"] == "CRASHED":
        return "CRASHED"
    if td is not None:
        return "LANDED" if td["event"].severity == "INFO" else "HARD"
    return "SAFE" if result["phase"] == "SAFE" else "AIRBORNE"


def _fly_one(name: str, seed: int) -> dict[str, Any]:
    from ground.decoder import TelemetryDecoder

    result = summary(TelemetryDecoder().decode_all(fly(scenario_config(name, seed=seed))))
    result["seed"] = seed
    result["outcome"] = outcome(result)
    return result


def monte_carlo(
    name: str, runs: int, first_seed: int = 1, workers: int | None = None
) -> list[dict[str, Any]]:
    """Fly ``runs`` seeds of a scenario (each a different vehicle, terrain, sensors and
    initial state: the dispersions of schemas/craft.toml), one VM per core; the
    :func:`summary` of each with its seed and outcome, in seed order."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    workers = workers or os.cpu_count() or 1
    seeds = range(first_seed, first_seed + runs)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda s: _fly_one(name, s), seeds))
