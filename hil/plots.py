"""Plots for the report: parameters against vehicle time, with the flight phases marked."""

from __future__ import annotations

from pathlib import Path

from .procedures import Plot, Sample

__all__ = ["draw"]


def draw(path: Path, samples: list[Sample], plot: Plot) -> bool:
    """Draw ``plot`` from ``samples`` into ``path`` (PNG); False if none of it was received."""
    series = {}
    for spec in plot.specs:
        packet, _, name = spec.partition(".")
        points = [
            (s.vtime, s.packet.values[name])
            for s in samples
            if s.packet.name == packet and isinstance(s.packet.values[name], int | float)
        ]
        if points:
            series[spec] = points
    if not series:
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(9, 3.6), dpi=90)
    try:
        for spec, points in series.items():
            axes.plot([t for t, _ in points], [v for _, v in points], label=spec, linewidth=1)
        for s in samples:
            if s.packet.name == "EVENT" and s.packet.values["event_id"] in (
                "PHASE_CHANGE",
                "BOOT",
            ):
                event = s.packet.event
                label = str(event.args.get("to", event.name)) if event else ""
                axes.axvline(s.vtime, color="grey", linewidth=0.6, linestyle=":")
                axes.annotate(
                    label,
                    (s.vtime, 1.0),
                    xycoords=("data", "axes fraction"),
                    rotation=90,
                    fontsize=7,
                    va="top",
                    ha="right",
                    color="grey",
                )
        axes.set_xlabel("vehicle time (s)")
        axes.set_title(plot.title, fontsize=10)
        axes.legend(fontsize=8, loc="best")
        axes.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(path)
    finally:
        pyplot.close(figure)
    return True
