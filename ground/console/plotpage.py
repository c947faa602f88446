"""Live plots of chosen parameters over a sliding window, with their limit lines.

Type ``NAV.rate_x`` in the box to add a plot, ``-NAV.rate_x`` to remove it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Input
from textual_plotext import PlotextPlot

from .series import Series
from .state import ConsoleState

__all__ = ["PlotsPage"]

_LIMIT_COLOURS = (
    ("red_low", "red"),
    ("yellow_low", "orange"),
    ("yellow_high", "orange"),
    ("red_high", "red"),
)


class PlotsPage(Vertical):
    DEFAULT_CSS = """
    PlotsPage Input { height: 1; border: none; padding: 0 1; background: $boost; }
    PlotsPage Grid { grid-size: 2; height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="add a plot: NAV.rate_x  (remove: -NAV.rate_x)",
            id="plot-choose",
            classes="line",
        )
        yield Grid(id="plot-grid")

    def place_plots(self, state: ConsoleState) -> None:
        """One plot widget per chosen series."""
        grid = self.query_one("#plot-grid", Grid)
        wanted = [s.label for s in state.plots.series]
        have = [w.id for w in grid.query(PlotextPlot)]
        if [_id(label) for label in wanted] == have:
            return
        grid.remove_children()
        grid.styles.grid_size_columns = 1 if len(wanted) < 2 else 2
        grid.mount_all(PlotextPlot(id=_id(label)) for label in wanted)

    _plotted = 0.0

    def replot(self) -> None:
        """Draw the plot at the next redraw (its points changed beyond the live ones)."""
        self._plotted = 0.0

    def show(self, state: ConsoleState, now: float) -> None:
        self.place_plots(state)
        if now - self._plotted < 0.5:  # plotext is slow: at most twice a second
            return
        self._plotted = now
        for series in state.plots.series:
            try:
                widget = self.query_one(f"#{_id(series.label)}", PlotextPlot)
            except Exception:  # noqa: BLE001 (mounted at the next refresh)
                continue
            draw(widget, series, now)


def _id(label: str) -> str:
    return "plot-" + "".join(c if c.isalnum() else "-" for c in label)


def draw(widget: PlotextPlot, series: Series, now: float) -> None:
    plt = widget.plt
    plt.clear_data()
    plt.clear_figure()
    plt.title(series.title(now))
    xs, ys = series.visible(now)
    if xs:
        plt.plot(xs, ys, marker="braille")
    limits = series.field.limits
    if limits is not None:
        for name, colour in _LIMIT_COLOURS:
            value = getattr(limits, name)
            if value is not None and ys and min(ys) - abs(value) * 0.5 <= value:
                plt.hline(value, colour)
    plt.xlim(-series.window, 0)
    widget.refresh()
