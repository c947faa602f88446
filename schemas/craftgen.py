"""Generate the firmware's vehicle parameters (``firmware/craft.py``) from ``craft.toml``.

The simulated vehicle and its flight software read the same data sheet: the truth side
draws the real vehicle around it (the dispersions), the flight software knows only the
nominal values. A test renders the file again and fails when the committed one is stale;
``make generate`` rewrites it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .model import SchemaError

__all__ = ["Param", "load", "render", "source_path", "target_path"]


@dataclass(frozen=True)
class Param:
    name: str  # section_key, as the firmware and config.json name it
    value: float
    unit: str
    source: str
    dispersion: float = 0.0
    relative: bool = False


def source_path() -> Path:
    return Path(__file__).resolve().parent / "craft.toml"


def target_path() -> Path:
    return Path(__file__).resolve().parent.parent / "firmware" / "craft.py"


def load(path: Path | None = None) -> list[Param]:
    """The parameters in file order; SchemaError names the first bad entry."""
    data = tomllib.loads((path or source_path()).read_text())
    out = []
    for section, entries in data.items():
        for key, entry in entries.items():
            name = f"{section}_{key}"
            if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
                raise SchemaError(f"craft.toml: {section}.{key} needs a value and a source")
            value = entry["value"]
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise SchemaError(f"craft.toml: {section}.{key} is not a number")
            out.append(
                Param(
                    name,
                    value,
                    str(entry.get("unit", "")),
                    str(entry["source"]),
                    float(entry.get("dispersion", 0.0)),
                    entry.get("dispersion_unit") == "rel",
                )
            )
    return out


def render(params: list[Param]) -> str:
    lines = [
        "# The lander's parameters, generated from schemas/craft.toml by `make generate`",
        "# (python -m schemas.codegen). Do not edit: edit craft.toml, which gives each one's",
        "# unit and source.",
        "",
        "# name: nominal value (the data sheet the flight software knows)",
        "NOMINAL = {",
    ]
    lines += [f"    {p.name!r}: {p.value!r},  # {p.unit}" for p in params]
    lines += [
        "}",
        "",
        "# (name, one-sigma spread, relative): how far the real vehicle may be from it",
        "DISPERSION = (",
    ]
    lines += [f"    ({p.name!r}, {p.dispersion!r}, {p.relative})," for p in params if p.dispersion]
    lines += [")", ""]
    return "\n".join(lines)
