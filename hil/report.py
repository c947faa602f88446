"""The run's report: an HTML page, and per test its record, plots and raw telemetry.

Where each test runs (a pytest-xdist worker, or the one process), the ``vehicle`` fixture's
teardown writes ``DIR/tests/<test>/``: ``record.json`` (commands with their verification
stages, events, link counters, injected faults), the plots and ``telemetry.bin``, every byte
the ground received (``lander decode DIR/tests/<test>/telemetry.bin`` replays it). Where
the outcomes arrive (the controller), ``DIR/index.html`` is written at the end from them and
the records. pytest's JUnit XML goes to ``DIR/junit.xml``.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from .procedures import Plot, Vehicle
from .station import Ground

__all__ = ["Report"]

RECORD = "record.json"


def slug(nodeid: str) -> str:
    """A folder name for a test."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.replace("::", "__"))[-150:]


class Report:
    """The report of one run; registered as a plugin where the outcomes arrive."""

    def __init__(self, directory: Path, *, worker: bool) -> None:
        self.directory = directory
        self.worker = worker
        self.outcomes: dict[str, dict[str, Any]] = {}
        if not worker:  # before any worker starts: a clean folder for this run
            shutil.rmtree(directory / "tests", ignore_errors=True)
            directory.mkdir(parents=True, exist_ok=True)

    def test_dir(self, nodeid: str) -> Path:
        path = self.directory / "tests" / slug(nodeid)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- where the test ran ------------------------------------------------------------

    def record(self, item: pytest.Item, vehicle: Vehicle, ground: Ground) -> None:
        """Write what the test sent and saw, and draw its plots."""
        folder = self.test_dir(item.nodeid)
        samples = vehicle.samples
        doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
        record: dict[str, Any] = {
            "nodeid": item.nodeid,
            "doc": " ".join(doc.split()),
            "packets": len(samples),
            "boots": vehicle.boots,
            "vehicle_time": [samples[0].vtime, samples[-1].vtime] if samples else None,
            "link": ground.bus.url,
            "stats": ground.stats.as_dict(),
            "commands": [_command(v) for v in vehicle.commands],
            "events": [
                {
                    "time": round(s.vtime, 3),
                    "severity": event.severity,
                    "text": event.sentence,
                }
                for s in samples
                if (event := s.packet.event) is not None
            ],
            "telemetry": "telemetry.bin" if ground.telemetry_file else None,
        }
        if ground.faults is not None:
            injected = dataclasses.asdict(ground.faults.injected)
            injected.pop("lost")
            injected.pop("first_delivered")
            injected.pop("last_delivered")
            record["link_faults"] = {
                "model": dataclasses.asdict(ground.faults.faults),
                "injected": injected,
            }
        if ground.recorder is not None and ground.recorder.writer is not None:
            from ground.cli.cmd import archive_command

            for verification in vehicle.commands:
                archive_command(ground.recorder.writer, verification, time.monotonic)
            record["archive"] = {"session": ground.recorder.writer.session}
        plots = vehicle.plots or [Plot(("NAV.altitude", "TRUTH.altitude"), "altitude")]
        from .plots import draw

        record["plots"] = []
        for i, plot in enumerate(plots, start=1):
            name = f"plot-{i}.png"
            if draw(folder / name, samples, plot):
                record["plots"].append({"file": name, "title": plot.title})
        (folder / RECORD).write_text(json.dumps(record, indent=1))

    # --- where the outcomes arrive (a plugin) ------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.outcomes.setdefault(
            report.nodeid, {"outcome": "passed", "duration": 0.0, "longrepr": ""}
        )
        entry["duration"] += report.duration
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["longrepr"] += report.longreprtext
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
            entry["longrepr"] = (
                str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
            )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.finish()

    def finish(self) -> Path:
        page = self.directory / "index.html"
        page.write_text(self.render())
        return page

    def render(self) -> str:
        rows, sections = [], []
        counts: dict[str, int] = {}
        for nodeid, outcome in self.outcomes.items():
            counts[outcome["outcome"]] = counts.get(outcome["outcome"], 0) + 1
            folder = self.directory / "tests" / slug(nodeid)
            record = _load(folder / RECORD)
            anchor = slug(nodeid)
            rows.append(
                f'<tr class="{outcome["outcome"]}"><td><a href="#{anchor}">{_e(nodeid)}</a></td>'
                f"<td>{outcome['outcome']}</td><td>{outcome['duration']:.1f} s</td>"
                f"<td>{len(record.get('commands', []))}</td>"
                f"<td>{len(record.get('events', []))}</td></tr>"
            )
            sections.append(_section(anchor, nodeid, outcome, record, f"tests/{anchor}"))
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no tests"
        return _PAGE.format(
            summary=_e(summary),
            rows="\n".join(rows),
            sections="\n".join(sections),
        )


def _command(v: Any) -> dict[str, Any]:
    tc = v.telecommand
    return {
        "name": tc.name,
        "args": {
            k: (v if isinstance(v, int | float | str) else str(v)) for k, v in tc.args.items()
        },
        "counter": tc.counter,
        "outcome": v.outcome,
        "reason": v.reason,
        "stages": [s.to_dict() for s in v.stages],
    }


def _load(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _e(text: object) -> str:
    return html.escape(str(text))


def _section(
    anchor: str, nodeid: str, outcome: dict[str, Any], record: dict[str, Any], folder: str
) -> str:
    parts = [f'<section id="{anchor}" class="{outcome["outcome"]}">']
    parts.append(
        f"<h2>{_e(nodeid)} <small>{outcome['outcome']}, {outcome['duration']:.1f} s</small></h2>"
    )
    if record.get("doc"):
        parts.append(f"<p>{_e(record['doc'])}</p>")
    if outcome["longrepr"]:
        parts.append(f"<pre class=failure>{_e(outcome['longrepr'][-6000:])}</pre>")
    if record.get("vehicle_time"):
        start, end = record["vehicle_time"]
        stats = record.get("stats", {})
        parts.append(
            f"<p>{record['packets']} packets, vehicle time {start:.1f} to {end:.1f} s, "
            f"{record['boots']} boot(s); link: "
            + ", ".join(f"{k} {v}" for k, v in stats.items())
            + "</p>"
        )
    if record.get("link_faults"):
        faults = record["link_faults"]
        model = ", ".join(f"{k}={v}" for k, v in faults["model"].items() if v)
        injected = ", ".join(f"{k} {v}" for k, v in faults["injected"].items())
        parts.append(f"<p>link faults {_e(model)}: {_e(injected)}</p>")
    if record.get("commands"):
        parts.append(
            "<h3>Commands</h3><table><tr><th>command</th><th>counter</th>"
            "<th>stages</th><th>outcome</th></tr>"
        )
        for c in record["commands"]:
            args = " ".join(f"{k}={v}" for k, v in c["args"].items())
            stages = ", ".join(
                f"{s['stage']} +{s['after_s']:.3f} s"
                + (f" {s['reason']}" if s["reason"] not in ("", "NONE") else "")
                for s in c["stages"]
            )
            parts.append(
                f"<tr><td>{_e(c['name'])} {_e(args)}</td><td>{c['counter']}</td>"
                f"<td>{_e(stages)}</td><td>{_e(c['outcome'])} {_e(c['reason'])}</td></tr>"
            )
        parts.append("</table>")
    if record.get("events"):
        parts.append("<h3>Events</h3><table>")
        for ev in record["events"]:
            parts.append(
                f'<tr class="{_e(ev["severity"])}"><td>{ev["time"]:.1f} s</td>'
                f"<td>{_e(ev['severity'])}</td><td>{_e(ev['text'])}</td></tr>"
            )
        parts.append("</table>")
    for plot in record.get("plots", []):
        parts.append(
            f'<figure><img src="{folder}/{plot["file"]}" alt="{_e(plot["title"])}">'
            f"<figcaption>{_e(plot['title'])}</figcaption></figure>"
        )
    if record.get("telemetry"):
        path = f"{folder}/{record['telemetry']}"
        parts.append(
            f'<p>raw telemetry: <a href="{path}">{path}</a> (<code>lander decode {path}</code>)</p>'
        )
    if record.get("archive"):
        parts.append(
            f"<p>archived from session {record['archive']['session']} on: "
            "<code>lander archive --archive archive.sqlite list</code></p>"
        )
    parts.append("</section>")
    return "\n".join(parts)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HIL campaign report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; font-size: 90%; }}
tr.failed td, tr.error td, section.failed h2, section.error h2 {{ color: #b00; }}
tr.passed td:nth-child(2), section.passed h2 small {{ color: #070; }}
tr.WARNING td {{ background: #fff6d5; }} tr.ERROR td, tr.CRITICAL td {{ background: #fdd; }}
pre.failure {{ background: #fee; padding: 0.5em; overflow-x: auto; }}
section {{ border-top: 1px solid #999; margin-top: 2em; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>HIL campaign report</h1>
<p>{summary}; JUnit XML in <a href="junit.xml">junit.xml</a>.</p>
<table><tr><th>test</th><th>outcome</th><th>duration</th><th>commands</th><th>events</th></tr>
{rows}
</table>
{sections}
</body></html>
"""
