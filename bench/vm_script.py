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
app = App({"autostart": True, "seed": 3, "halt_on_landing": True})
app.start()
gc.collect()
used = gc.mem_alloc()
total = used + gc.mem_free()
# A whole nominal descent, cycle by cycle, as the control task runs it (telemetry included).
low = gc.mem_free()
cycles = 0
busiest = 0
worst = 0
slot_us = [0] * 5
# Heap allocated by a cycle (every float a computation makes is a heap object the collector
# must reclaim): one cycle in 50, with the collector held off; a cycle that collects is left out.
alloc_sum = 0
alloc_n = 0
t0 = time.ticks_us()
while not app.halted:
    sample = cycles % 50 == 17
    if sample:
        gc.disable()
        m0 = gc.mem_alloc()
    c0 = time.ticks_us()
    app.cycle()
    dt = time.ticks_diff(time.ticks_us(), c0)
    if sample:
        m1 = gc.mem_alloc()
        gc.enable()
        if m1 >= m0:
            alloc_sum += m1 - m0
            alloc_n += 1
    slot_us[app.flight.tick % 5] += dt
    worst = max(worst, dt)
    cycles += 1
    if app.clock.ms == 0:
        low = min(low, app.points[P.HK].heap_free)
us_cycle = time.ticks_diff(time.ticks_us(), t0) / cycles
us_busiest = max(slot_us) / (cycles / 5)
gc.collect()
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
for i in range(50):
    body = struct.pack(">HHHHHH", 0x0820, 0xC000 | i, 59, 0, 0, 0) + struct.pack(
        ">ffBBffffffffffff", nav.altitude, nav.lrf_range, nav.lrf_valid, nav.nav_mode,
        nav.vel_vertical, nav.vel_horizontal, nav.q_w, nav.q_x, nav.q_y, nav.q_z,
        nav.rate_x, nav.rate_y, nav.rate_z, nav.accel_x, nav.accel_y, nav.accel_z)
    c = crc16(body, len(body))
    pkt = body + bytes((c >> 8, c & 0xFF))
alloc_naive = (gc.mem_alloc() - a0) / 50
gc.enable()
fields = (alloc / N, alloc_naive, us / N, us_cycle, us_busiest, worst, cycles, used,
          total - low, total, alloc_sum / max(alloc_n, 1))
sys.stderr.write("BENCH alloc_per_frame=%f alloc_naive=%f us_per_frame=%f "
                 "us_per_cycle=%f us_busiest=%f us_worst=%d cycles=%d heap_used=%d heap_peak=%d "
                 "heap_total=%d alloc_per_cycle=%f\n" % fields)
"""
