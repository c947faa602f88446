"""The outcome distribution of a Monte Carlo run (``lander scenario NAME --runs N``).

Each seed flies a different vehicle (the dispersions of ``schemas/craft.toml``: mass,
propellant, thrust, Isp, sensor biases), different sensor noise, terrain and initial state
errors. The report says how often the flight software achieved what the scenario expects,
the touchdown speeds and propellant left, and the fault-protection events that decided the
flights: the picture a review board asks for.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from .scenarios import OUTCOMES, Scenario

__all__ = ["report", "row", "TABLE_HEADER"]

#: Events that are the flight's ordinary course, not a decision.
_ROUTINE = {"BOOT", "PHASE_CHANGE", "MODE_CHANGE", "LRF_BIT_PASSED", "TOUCHDOWN", "SAFE_ENTERED"}


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f} %"


def _spread(values: list[float], unit: str) -> str:
    if not values:
        return "-"
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    median = statistics.median(values)
    return f"median {median:.2f}, 95th pct {p95:.2f}, max {values[-1]:.2f} {unit}"


def report(scenario: Scenario, results: list[dict[str, Any]]) -> str:
    n = len(results)
    outcomes = Counter(r["outcome"] for r in results)
    ok = sum(scenario.succeeded(r["outcome"]) for r in results)
    tds = [r["touchdown"] for r in results if r["touchdown"]]
    events: Counter[str] = Counter()
    for r in results:
        seen = {
            f"{e.name}/{e.response}" if e.response != "NONE" else e.name
            for e in r["events"]
            if e.name not in _ROUTINE
        }
        events.update(seen)
    lines = [
        f"{scenario.name}: {n} runs (seeds {results[0]['seed']}..{results[-1]['seed']}), "
        f"expected {scenario.expect}: {ok}/{n} ({_pct(ok, n)})",
        "  outcomes: "
        + ", ".join(f"{o} {outcomes[o]} ({_pct(outcomes[o], n)})" for o in OUTCOMES if outcomes[o]),
    ]
    if tds:
        lines += [
            "  touchdown vertical:   " + _spread([t["vertical"] for t in tds], "m/s"),
            "  touchdown horizontal: " + _spread([abs(t["horizontal"]) for t in tds], "m/s"),
            "  propellant left:      " + _spread([t["propellant"] for t in tds], "kg"),
        ]
    if events:
        lines.append("  events (runs with them):")
        lines += [f"    {name:<40} {count}" for name, count in events.most_common()]
    failed = [r["seed"] for r in results if not scenario.succeeded(r["outcome"])]
    if failed:
        lines.append("  seeds not as expected: " + " ".join(map(str, failed)))
    return "\n".join(lines)


TABLE_HEADER = (
    "| scenario | expected | as expected | landed | hard | crashed | safe | airborne "
    "| touchdown vertical, median / max (m/s) | propellant left, median (kg) |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def row(scenario: Scenario, results: list[dict[str, Any]]) -> str:
    """One line of the README's Monte Carlo table."""
    n = len(results)
    c = Counter(r["outcome"] for r in results)
    ok = sum(scenario.succeeded(r["outcome"]) for r in results)
    tds = [r["touchdown"] for r in results if r["touchdown"]]
    vz = sorted(t["vertical"] for t in tds)
    td = f"{statistics.median(vz):.2f} / {vz[-1]:.2f}" if vz else "-"
    prop = f"{statistics.median(t['propellant'] for t in tds):.1f}" if tds else "-"
    cells = [scenario.name, scenario.expect, f"{ok}/{n}"] + [str(c[o]) for o in OUTCOMES]
    return "| " + " | ".join(cells + [td, prop]) + " |"


def main(argv: list[str] | None = None) -> int:
    """``python -m sil.montecarlo [--runs N] [NAME ...]``: the README's table (``make
    montecarlo``), every scenario by default, flown N seeds each."""
    import argparse

    from .scenarios import SCENARIOS, monte_carlo

    parser = argparse.ArgumentParser(prog="python -m sil.montecarlo")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("names", nargs="*", metavar="NAME")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SCENARIOS]
    if unknown or args.runs < 1:
        parser.error(f"unknown scenario {unknown[0]!r}" if unknown else "--runs must be >= 1")
    print(TABLE_HEADER, flush=True)
    for name in args.names or SCENARIOS:
        print(row(SCENARIOS[name], monte_carlo(name, args.runs)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
