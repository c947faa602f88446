"""Benchmark of the operator console: input rate against redraw latency.

A real descent (the ``nominal`` scenario flown in the MicroPython VM) is replayed into the
telemetry bus at a fixed rate of packets per second, and the console runs headless (Textual's
own compositor, no terminal) on the flight director page and on the parameters page. For each
rate: the rate achieved, packets lost between the bus and the console (must be 0: drawing is
throttled, input is not), redraws per second, and how long packets waited between their
ground receive time and the end of the redraw that showed them (the newest and the oldest
packet of each redraw; median and 95th percentile). The lowest rate is the baseline.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from ground.console.app import ConsoleApp
from ground.console.source import TelemetryBus
from ground.links import LinkClosed

RATES = (20, 200, 1000)  # packets per second; the first is the baseline
SECONDS = 6.0
SIZE = (120, 40)


class PacedLink:
    """A link that delivers the frames of a capture at ``rate`` frames per second, looping."""

    reconnectable = False

    def __init__(self, capture: bytes, rate: float) -> None:
        self.url = f"bench://{rate:g}"
        self.frames = [f + b"\x00" for f in capture.split(b"\x00") if f]
        self.rate = rate
        self.sent = 0
        self.start = time.monotonic()
        self.closed = False

    def read(self, timeout: float = 0.1) -> bytes:
        if self.closed:
            raise LinkClosed("closed")
        due = int((time.monotonic() - self.start) * self.rate)
        if due <= self.sent:
            time.sleep(min(timeout, (self.sent + 1 - due) / self.rate))
            due = int((time.monotonic() - self.start) * self.rate)
        chunk = [self.frames[i % len(self.frames)] for i in range(self.sent, due)]
        self.sent = max(self.sent, due)
        return b"".join(chunk)

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def measure(capture: bytes, rate: float, page: str) -> dict[str, float]:
    link = PacedLink(capture, rate)
    bus = TelemetryBus(link, reconnect=False)
    app = ConsoleApp(bus, vehicle="BENCH", refresh_hz=5.0)

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press({"flight": "f1", "parameters": "f2"}[page])
            link.start = time.monotonic()  # the first read is due now, not at construction
            bus.start()
            await asyncio.sleep(SECONDS)
            bus.close()
            await pilot.pause(0.3)
            app.drain()

    asyncio.run(run())
    m = app.metrics
    newest = sorted(m.newest_wait)
    oldest = sorted(m.oldest_wait)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    received = app.state.received
    return {
        "rate": received / SECONDS,
        "lost": bus.stats.packets - received,
        "redraws": m.redraws / SECONDS,
        "newest50": statistics.median(newest) if newest else float("nan"),
        "newest95": pct(newest, 0.95),
        "oldest50": statistics.median(oldest) if oldest else float("nan"),
        "oldest95": pct(oldest, 0.95),
    }


def bench_console() -> None:
    from sil import scenarios

    capture = scenarios.fly(scenarios.scenario_config("nominal"))
    print(
        f"console (headless {SIZE[0]}x{SIZE[1]}, redraw 5 Hz, {SECONDS:g} s per rate; "
        "wait = ground receipt to end of the redraw showing it):"
    )
    for page in ("flight", "parameters"):
        base: dict[str, float] | None = None
        for rate in RATES:
            r = measure(capture, rate, page)
            base = base or r
            print(
                f"  {page:<10} input {rate:>5} pkt/s: got {r['rate']:7.1f}/s lost {r['lost']:.0f}"
                f"  redraws {r['redraws']:4.1f}/s  wait newest p50 {r['newest50'] * 1e3:5.0f} ms"
                f" p95 {r['newest95'] * 1e3:5.0f} ms  oldest p50 {r['oldest50'] * 1e3:5.0f} ms"
                f" p95 {r['oldest95'] * 1e3:5.0f} ms  ({r['oldest95'] / base['oldest95']:.2f}x"
                f" baseline p95)"
            )


if __name__ == "__main__":
    bench_console()
