"""The ground's telemetry bus, as the harness uses it: the one place that names it."""

from ground.bus import Event, LinkState, LinkStatistics, Received, TelemetryBus

__all__ = ["Event", "LinkState", "LinkStatistics", "Received", "TelemetryBus"]
