"""Where the console's telemetry comes from: the ground's telemetry bus."""

from __future__ import annotations

from ..bus import Event, LinkState, LinkStatistics, Received, TelemetryBus

__all__ = ["Event", "LinkState", "LinkStatistics", "Received", "TelemetryBus"]
