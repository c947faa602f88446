"""The firmware fits a Pico's heap and its telemetry frame path allocates nothing."""

from __future__ import annotations

import re

import pytest

from ground.decoder import TelemetryDecoder
from hil import vm

pytestmark = [pytest.mark.vm]

#: free heap a descent must leave, after a collection (see the test)
HEAP_MARGIN = 52 * 1024

CYCLES = r"""
import gc, micropython
import hal, packets as P
from app import App
hal.configure({})
app = App({"autostart": True, "seed": 3})
app.start()
gc.collect()
low = gc.mem_free()
for i in range(1000):
    app.cycle()
    if i % 25 == 0:
        gc.collect()
        low = min(low, gc.mem_free())
gc.collect()
micropython.heap_lock()
for i in range(400):
    app.down.send(i % 4)
micropython.heap_unlock()
sys.stderr.write("RESULT free=%d low=%d sent=%d\n" % (gc.mem_free(), low, app.down.sent))
"""


def test_thousand_cycles_in_192k_heap_with_allocation_free_frames():
    # The VM runs with -X heapsize=192K; under heap_lock() any allocation raises MemoryError
    # and the run fails, so finishing proves the frame path allocates nothing.
    result = vm.run(CYCLES)
    match = re.search(rb"RESULT free=(\d+) low=(\d+) sent=(\d+)", result.stderr)
    assert match, result.stderr
    free, low, sent = (int(x) for x in match.groups())
    # The room the virtual Pico W needs beside the flight model to log in over TLS (its MQTT
    # modules and the TLS handshake live in this heap): it came online with 55 KB free here
    # and did not with 46 KB. A change that takes more must be paid for elsewhere.
    assert low > HEAP_MARGIN, f"only {low} bytes of heap left"
    decoder = TelemetryDecoder()
    packets = decoder.decode_all(result.stdout)
    assert len(packets) == sent
    assert decoder.stats.bad_frames == 0
    assert decoder.stats.gaps == 0
    names = {p.name for p in packets}
    assert {"HK", "NAV", "PROP", "POWER", "EVENT"} <= names
