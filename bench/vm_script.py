"""The firmware half of the benchmark, run inside the MicroPython VM."""

FIRMWARE_BENCH = r"""
import gc, time, struct
import hal, packets as P
from app import App, CYCLE_MS
from framing import crc16, cobs_encode

class Null:
    def write(self, buf, n=None):
        return n
hal._out = Null()
hal.configure({})
app = App({"autostart": True, "seed": 3})
app.flight.start_descent()
t0 = time.ticks_us()
for i in range(500):
    app.clock.advance(CYCLE_MS)
    app.flight.step(CYCLE_MS / 1000)
    app.update_hk()
    app.down.run_due(app.clock.now_ms())
us_cycle = time.ticks_diff(time.ticks_us(), t0) / 500
gc.collect()
used = gc.mem_alloc()
total = used + gc.mem_free()
N = 2000
gc.disable()
a0 = gc.mem_alloc()
t0 = time.ticks_us()
for i in range(N):
    app.down.send(P.NAV)
us = time.ticks_diff(time.ticks_us(), t0)
alloc = gc.mem_alloc() - a0
gc.enable()
gc.collect()
# Baseline: the obvious way, struct.pack and bytes concatenation.
nav = app.points[P.NAV]
gc.disable()
a0 = gc.mem_alloc()
for i in range(200):
    body = struct.pack(">HHHHHH", 0x0820, 0xC000 | i, 59, 0, 0, 0) + struct.pack(
        ">ffBBffffffffffff", nav.altitude, nav.lrf_range, nav.lrf_valid, nav.nav_mode,
        nav.vel_vertical, nav.vel_horizontal, nav.q_w, nav.q_x, nav.q_y, nav.q_z,
        nav.rate_x, nav.rate_y, nav.rate_z, nav.accel_x, nav.accel_y, nav.accel_z)
    c = crc16(body, len(body))
    pkt = body + bytes((c >> 8, c & 0xFF))
alloc_naive = (gc.mem_alloc() - a0) / 200
gc.enable()
fields = (alloc / N, alloc_naive, us / N, us_cycle, used, total)
sys.stderr.write("BENCH alloc_per_frame=%f alloc_naive=%f us_per_frame=%f "
                 "us_per_cycle=%f heap_used=%d heap_total=%d\n" % fields)
"""
