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
# The collections the control cycle schedules (app.gc_us, the idle time after a cycle) apart
# from the cycles' own time; a collection the heap forces (an allocation that finds it full)
# shows as less allocated than 100 ms before, though none was scheduled in between
# (gc.mem_alloc() reads the whole allocation table: not every cycle).
gcs = [0, 0, 0]  # count, total us, longest us
forced = 0
worst_gc = 0
busy = 0
a0 = gc.mem_alloc()
collected = False
# Heap allocated by a cycle (every float a computation makes is a heap object the collector
# must reclaim): one cycle in 50, with the collector held off; a cycle that collects is left out.
alloc_sum = 0
alloc_n = 0
while not app.halted:
    sample = cycles % 50 == 17
    if sample:
        gc.disable()
        m0 = gc.mem_alloc()
    c0 = time.ticks_us()
    app.run_cycle()
    worst_gc = max(worst_gc, time.ticks_diff(time.ticks_us(), c0))
    dt = app.cycle_us
    if sample:
        m1 = gc.mem_alloc()
        gc.enable()
        if m1 >= m0 and not app.gc_us:
            alloc_sum += m1 - m0
            alloc_n += 1
    busy += dt + app.gc_us
    if app.gc_us:
        gcs[0] += 1
        gcs[1] += app.gc_us
        gcs[2] = max(gcs[2], app.gc_us)
        collected = True
    if app.flight.tick % 5 == 0:
        a1 = gc.mem_alloc()
        if a1 < a0 and not collected:
            forced += 1
        a0 = a1
        collected = False
    slot_us[app.flight.tick % 5] += dt
    worst = max(worst, dt)
    cycles += 1
    if app.clock.ms == 0:
        low = min(low, app.points[P.HK].heap_free)
us_cycle = busy / cycles  # the cycles and the collections
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
          total - low, total, worst_gc, gcs[1] / max(1, gcs[0]), gcs[2], gcs[0], forced,
          app.overruns, alloc_sum / max(alloc_n, 1))
sys.stderr.write("BENCH alloc_per_frame=%f alloc_naive=%f us_per_frame=%f "
                 "us_per_cycle=%f us_busiest=%f us_worst=%d cycles=%d heap_used=%d heap_peak=%d "
                 "heap_total=%d us_worst_gc=%d us_gc=%f us_gc_worst=%d gcs=%d gcs_forced=%d "
                 "overruns=%d alloc_per_cycle=%f\n" % fields)
"""
