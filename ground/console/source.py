"""Where the console's telemetry comes from: the telemetry bus, imported from one place."""

from __future__ import annotations

from .linkreader import Event, LinkState, LinkStatistics, Received, TelemetryBus

__all__ = ["Event", "LinkState", "LinkStatistics", "Received", "TelemetryBus"]
