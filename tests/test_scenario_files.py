"""Scenario files are data checked against the project's definitions, and Monte Carlo runs
report an outcome distribution."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sil import scenarios


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def test_every_shipped_scenario_loads_and_its_commands_are_raw_dictionary_values():
    loaded = scenarios.load_all()
    assert {"nominal", "m1", "m1_unprotected", "m2", "m2_unprotected", "im1"} <= set(loaded)
    m2 = loaded["m2"]
    assert m2.config["commands"] == [
        {"at_s": 0.0, "name": "INJECT_FAULT", "args": [1, 5, 900.0]}  # LRF, DEGRADED_RANGE
    ]
    assert loaded["m2_unprotected"].expect == "FAILS"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('description = "x"\n[[commands]]\nname = "WARP_DRIVE"\n', "WARP_DRIVE"),
        (
            'description = "x"\n[[commands]]\nname = "INJECT_FAULT"\n'
            'args = { target = "CAMERA", kind = "STUCK", magnitude = 1.0 }\n',
            "target='CAMERA' is not one of",
        ),
        (
            'description = "x"\n[[commands]]\nname = "INJECT_FAULT"\n'
            'args = { target = "IMU", kind = "INHIBIT", magnitude = 0.0 }\n',
            "IMU has no fault INHIBIT",
        ),
        (
            'description = "x"\n[[commands]]\nname = "INJECT_FAULT"\n'
            'args = { target = "LRF", kind = "DEGRADED_RANGE", magnitude = 2.0 }\n',
            "magnitude=2 is out of range",
        ),
        ('description = "x"\n[config]\ncraft = { warp_factor = 9.0 }\n', "craft.warp_factor"),
        ('description = "x"\n[config]\nfdir = { disable = ["LRF_LAET"] }\n', "'LRF_LAET'"),
        ('description = "x"\n[config]\nhyperdrive = 1\n', "no setting 'hyperdrive'"),
        ('description = "x"\nexpect = "MAYBE"\n', "expect must be one of"),
        ('expect = "LANDED"\n', "needs a description"),
        ('description = "x"\n[[commands]]\nat_s = -1\nname = "ARM"\n', "at_s must be"),
        ("description = \n", "not valid TOML"),
    ],
)
def test_a_bad_scenario_file_is_refused_with_one_line_naming_file_and_entry(
    tmp_path: Path, text: str, message: str
):
    with pytest.raises(scenarios.ScenarioError) as exc:
        scenarios.load(_write(tmp_path, text))
    assert message in str(exc.value)
    assert str(exc.value).startswith("bad.toml: ") and "\n" not in str(exc.value)


@pytest.mark.timeout(900)
def test_monte_carlo_from_the_command_line_prints_the_outcome_distribution():
    run = subprocess.run(
        [sys.executable, "-m", "ground.cli", "scenario", "nominal", "--runs", "2", "--seed", "4"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "nominal: 2 runs (seeds 4..5), expected LANDED: 2/2 (100 %)" in out
    assert "outcomes: LANDED 2 (100 %)" in out
    assert "touchdown vertical:" in out and "propellant left:" in out


def test_monte_carlo_refuses_out_with_runs():
    run = subprocess.run(
        [sys.executable, "-m", "ground.cli", "scenario", "nominal", "--runs", "2", "--out", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "--out" in run.stderr and "Traceback" not in run.stderr
