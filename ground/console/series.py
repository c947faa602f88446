"""Sliding windows of chosen parameters for the live plots."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from schemas import model

__all__ = ["Series", "PlotSet", "parse_parameter"]


def parse_parameter(dictionary: model.Dictionary, text: str) -> tuple[str, model.Field]:
    """``NAV.altitude`` -> (packet, field); KeyError with one line naming what is wrong."""
    packet, dot, name = text.partition(".")
    if not dot:
        raise KeyError(f"{text!r}: name a parameter as PACKET.field, e.g. NAV.altitude")
    definition = dictionary[packet.upper()]
    f = definition.field(name)
    if f.states:
        raise KeyError(f"{text}: a state ({'|'.join(f.states.values())}) cannot be plotted")
    return definition.name, f


@dataclass
class Series:
    """Values of one parameter over the last ``window`` seconds of ground time."""

    packet: str
    field: model.Field
    window: float = 60.0
    points: deque[tuple[float, float]] = dataclass_field(
        default_factory=lambda: deque(maxlen=20000)
    )
    #: ground time of the newest point that came from the archive, not live
    archived_until: float | None = None

    @property
    def label(self) -> str:
        unit = f" [{self.field.unit}]" if self.field.unit else ""
        return f"{self.packet}.{self.field.name}{unit}"

    def add(self, t: float, value: float) -> None:
        if isinstance(value, int | float) and math.isfinite(value):
            self.points.append((t, float(value)))

    def backfill(self, points: list[tuple[float, float]]) -> int:
        """Put older points (from the archive) before the live ones; returns how many.

        Only points older than the first live one are taken: the live ones are the same
        packets, and they stay."""
        first = self.points[0][0] if self.points else math.inf
        older = [(t, v) for t, v in points if t < first]
        if older:
            self.points = deque(older + list(self.points), maxlen=self.points.maxlen)
            self.archived_until = older[-1][0]
        return len(older)

    def title(self, now: float) -> str:
        """The label, and where in the window the archive ends and live values begin."""
        until = self.archived_until
        if until is None or until < now - self.window:
            return f"{self.label}  (s)"
        return f"{self.label}  (s; archived until {until - now:.0f} s)"

    def visible(self, now: float) -> tuple[list[float], list[float]]:
        """(seconds before now, values) of the points in the window."""
        start = now - self.window
        while self.points and self.points[0][0] < start:
            self.points.popleft()
        return [t - now for t, _ in self.points], [v for _, v in self.points]


class PlotSet:
    """The parameters chosen for plotting, fed from every packet."""

    def __init__(self, dictionary: model.Dictionary, window: float = 60.0) -> None:
        self.dictionary = dictionary
        self.window = window
        self.series: list[Series] = []

    def choose(self, text: str) -> Series:
        packet, f = parse_parameter(self.dictionary, text)
        for s in self.series:
            if s.packet == packet and s.field is f:
                return s
        series = Series(packet, f, self.window)
        self.series.append(series)
        return series

    def remove(self, text: str) -> None:
        packet, f = parse_parameter(self.dictionary, text)
        self.series = [s for s in self.series if not (s.packet == packet and s.field is f)]

    def add(self, packet: str, values: dict[str, float], t: float) -> None:
        for s in self.series:
            if s.packet == packet:
                s.add(t, values[s.field.name])
