# The flight software's top level: loads config.json, builds the telemetry points, the
# downlink, the uplink and the lander model, and runs them as asyncio tasks.
#
# One control task owns the vehicle clock: each cycle (App.cycle) advances simulated time by
# CYCLE_MS, steps the flight model and sends the telemetry that is due; the task runs the
# cycles whose real-time deadline (CYCLE_MS / time_warp apart) has passed, several per wake
# at high warp, then sleeps until the next one. Everything on the downlink is a function of
# the seed, config.json and the commands received, not of how fast the host runs:
#   - the heap is collected at a fixed point of vehicle time (once a vehicle second), so
#     HK.heap_free is the same number in every run of the same inputs;
#   - a loop overrun is a cycle whose own computation took more than its budget, whatever
#     the warp: 20 ms on a Pico, its real deadline. The virtual board's host is not the
#     flight computer (it is many times faster, and its scheduler may preempt the VM at
#     any time), so there the budget is off unless config.json sets "cycle_budget_us" to
#     emulate a slow computer; seeded runs stay byte-identical. A host that cannot keep up
#     with the warp asked for is not an overrun either: the loop slips (simulated time runs
#     slower than asked) and telemetry does not change.
import asyncio
import gc
import json
import time

import commands as C
import hal
import identity
import packets as P
from clock import Clock
from commanding import Commanding
from downlink import Downlink
from flight import Flight
from micropython import const
from uplink import Break, Uplink

CYCLE_MS = const(20)
CYCLE_US = const(20000)
DT = CYCLE_MS / 1000
WATCHDOG_MS = const(8000)
MAX_WARP = C.SET_TIME_WARP_FACTOR_MAX   # the dictionary's range of SET_TIME_WARP
MAX_BURST = const(10)       # cycles per wake before the uplink gets its turn
DEFAULT_BUDGET_US = CYCLE_US if hal.PORT == "rp2" else 0

DEFAULTS = {"vehicle": "LANDER-1", "seed": 1, "time_warp": 1, "autostart": False, "rates": {}}


def load_config(path="config.json"):
    cfg = dict(DEFAULTS)
    try:
        with open(path) as f:
            cfg.update(json.load(f))
    except OSError:
        pass
    except ValueError:
        print("config.json is not valid JSON; using defaults")
    return cfg


class App:
    def __init__(self, cfg):
        self.cfg = cfg
        self.points = P.new_points()
        self.clock = Clock(cfg.get("epoch", 0))
        self.down = Downlink(self.points, self.clock)
        self.commanding = Commanding(self, cfg)
        self.up = Uplink(self.commanding.on_frame)
        self.mqtt = None
        if cfg.get("mqtt"):
            from mqttlink import MqttLink

            self.mqtt = MqttLink(cfg, cfg.get("vehicle", "LANDER-1"), self.commanding.on_packet)
            self.down.mqtt = self.mqtt
        gc.collect()    # the flight model's objects are the biggest: room for them in one go
        self.flight = Flight(self.points, self.event, cfg.get("seed", 1), cfg)
        if self.mqtt is not None:
            self.mqtt.allocate()  # once the flight model has its room
        self.flight.shed_telemetry = self.shed_telemetry
        self.flight.downlink = self.down
        self.warp = 1
        self.period_us = CYCLE_US
        if self.set_time_warp(cfg.get("time_warp", 1)):
            print("config.json: time_warp must be 1..%d; using 1" % MAX_WARP)
        self.overruns = 0
        self.budget_us = int(cfg.get("cycle_budget_us", DEFAULT_BUDGET_US))
        self.schedule = _schedule(cfg)
        self.halt_ms = int(cfg.get("halt_s", 0)) * 1000
        self.halt_on_landing = cfg.get("halt_on_landing", False)
        self.halted = False
        for name, hz in cfg.get("rates", {}).items():
            if name in P.NAMES:
                self.down.set_rate_mhz(P.NAMES.index(name), int(hz * 1000))
        self.points[P.HK].mode = P.MODE_NOMINAL

    def event(self, event_id, severity, arg1=0, arg2=0, arg3=0, response=0):
        ev = self.points[P.EVENT]
        ev.event_id = event_id
        ev.severity = severity
        ev.arg1 = arg1
        ev.arg2 = arg2
        ev.arg3 = arg3
        ev.response = response
        self.down.send(P.EVENT)

    def set_time_warp(self, factor):
        # SET_TIME_WARP: simulated time runs `factor` times faster than real time (1..10000).
        # Returns 0, or the TC_VERIFY reason why not.
        try:
            factor = float(factor)
        except (TypeError, ValueError):
            return P.REASON_BAD_ARGUMENTS
        if not 1.0 <= factor <= MAX_WARP:
            return P.REASON_OUT_OF_RANGE
        self.warp = int(factor) if factor == int(factor) else factor
        self.period_us = max(1, int(CYCLE_US / factor))
        return 0

    def shed_telemetry(self):
        # Fault protection's answer to loop overruns: NAV at 2 Hz, TRUTH at 0.5 Hz.
        for index, mhz in ((P.NAV, 2000), (P.TRUTH, 500)):
            self.down.set_rate_mhz(index, mhz)
            self.event(P.EVENT_ID_TM_RATE_CHANGED, P.SEVERITY_WARNING, P.APIDS[index], mhz, 0)

    def update_hk(self):
        hk = self.points[P.HK]
        hk.uptime = self.clock.sec
        hk.tm_sent = self.down.sent
        hk.board_temp = hal.temp_raw()
        hk.loop_overruns = self.overruns

    def start(self):
        # Boot: count it, say who we are (IDENT first, so that every packet after it can be
        # traced to this vehicle, boot, build and dictionary), announce, apply what
        # config.json schedules for time 0, then autostart.
        boot = identity.next_boot()
        identity.fill(self.points[P.IDENT], self.cfg, boot)
        self.down.send(P.IDENT)
        self.down.due_ms[P.IDENT] = self.down.period_ms[P.IDENT]
        gc.collect()
        self.points[P.HK].heap_free = gc.mem_free()
        self.event(P.EVENT_ID_BOOT, P.SEVERITY_INFO, self.flight.rng.x & 0xFFFF, int(self.warp),
                   boot)
        self.run_schedule(0)
        if self.cfg.get("autostart"):
            self.flight.arm()
            self.flight.start_descent()

    def run_schedule(self, now_ms):
        # The commands config.json schedules (faults are INJECT_FAULT and CLEAR_FAULT), with
        # the checks and verification of uplinked ones (Commanding.scheduled).
        sched = self.schedule
        while sched and sched[0][0] <= now_ms:
            _, name, args = sched.pop(0)
            self.commanding.scheduled(name, args)

    def cycle(self):
        # One control cycle: the same on every port and at every time warp.
        clock = self.clock
        clock.advance(CYCLE_MS)
        now = clock.now_ms()
        if self.schedule and self.schedule[0][0] <= now:
            self.run_schedule(now)
        flight = self.flight
        flight.step(DT)
        if clock.ms == 0:
            # Collect at a fixed instant of vehicle time: heap_free is then reproducible,
            # and the collection never lands in the middle of a frame.
            gc.collect()
            self.points[P.HK].heap_free = gc.mem_free()
        self.update_hk()
        self.down.run_due(now)
        if self.halt_ms and now >= self.halt_ms:
            self.halted = True
        elif (self.halt_on_landing and flight.phase in (P.PHASE_LANDED, P.PHASE_CRASHED)
              and flight.phase_ticks >= 100):
            self.halted = True

    async def control(self):
        next_us = time.ticks_us()
        while not self.halted:
            burst = 0
            while time.ticks_diff(time.ticks_us(), next_us) >= 0:
                t0 = time.ticks_us()
                self.cycle()
                used = time.ticks_diff(time.ticks_us(), t0)
                if self.budget_us and used > self.budget_us:
                    self.overruns += 1
                    self.flight.note_overrun(used)
                next_us = time.ticks_add(next_us, self.period_us)
                burst += 1
                if burst >= MAX_BURST or self.halted:
                    break
            late = time.ticks_diff(time.ticks_us(), next_us)
            if late > MAX_BURST * self.period_us:
                # The host cannot keep up with this warp: drop the backlog and go on from
                # now, as fast as it can.
                next_us = time.ticks_us()
                late = 0
            await asyncio.sleep_ms(max(0, -late) // 1000)

    async def housekeeping(self):
        # The hardware watchdog starts when the vehicle leaves IDLE: from then on a hung loop
        # must reset the board. Not before, because an RP2040 watchdog cannot be stopped and
        # survives a soft reset: on the bench it would reset the board under mpremote or
        # `lander flash` 8 s after a break-in. (The heap is collected by the control cycle.)
        on = False
        watchdog = False
        while not self.halted:
            if not watchdog and self.flight.phase != P.PHASE_IDLE:
                hal.wdt_start(WATCHDOG_MS)
                watchdog = True
            if watchdog:
                hal.wdt_feed()
            on = not on
            hal.led(on)
            await asyncio.sleep_ms(500)

    async def uplink(self):
        mqtt = self.mqtt
        while not self.halted:
            self.up.poll()
            if mqtt is not None:
                mqtt.service()
            await asyncio.sleep_ms(10)

    async def main(self):
        self.start()
        asyncio.create_task(self.control())
        asyncio.create_task(self.housekeeping())
        await self.uplink()


def _schedule(cfg):
    # config.json "commands": [{"at_s": s, "name": "INJECT_FAULT", "args": [raw values]}]
    # (names and arguments as schemas/commands.toml defines them; sil/scenarios.py writes
    # them from a scenario file), as a list of (vehicle ms, name, arguments) in time order.
    out = []
    for f in cfg.get("faults", ()):
        # the short form of INJECT_FAULT (and CLEAR_FAULT at clear_s), as hil/schedule.py
        # writes it: {"target", "kind", "magnitude", "at_s", "clear_s"}
        args = (f.get("target", 0), f.get("kind", 0), f.get("magnitude", 0.0))
        out.append((int(f.get("at_s", 0) * 1000), "INJECT_FAULT", args))
        if "clear_s" in f:
            out.append((int(f["clear_s"] * 1000), "CLEAR_FAULT", (f.get("target", 0),)))
    for c in cfg.get("commands", ()):
        out.append((int(c.get("at_s", 0) * 1000), c.get("name", ""), c.get("args", ())))
    out.sort(key=lambda e: e[0])
    return out


def main():
    cfg = load_config()
    hal.configure(cfg)
    app = App(cfg)
    hal.set_break(False)
    try:
        asyncio.run(app.main())
    except Break:
        app.event(P.EVENT_ID_BREAK_IN, P.SEVERITY_WARNING)
        hal.set_break(True)
        raise KeyboardInterrupt
    finally:
        hal.set_break(True)
        if app.mqtt is not None:
            app.mqtt.close()  # offline at once, rather than when the broker notices
